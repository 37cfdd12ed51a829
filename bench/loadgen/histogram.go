package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// The histogram's bucket layout is HdrHistogram's log-linear one, in
// nanoseconds: values below 2^subBits are counted exactly; above, every
// power of two [2^k, 2^(k+1)) is cut into subHalf equal buckets of width
// 2^(k-subBits+1). Reporting a bucket's midpoint is then off by at most
// half a width, 1/2^subBits of the value (0.39%).
const (
	subBits    = 8
	subCount   = 1 << subBits // values below are exact
	subHalf    = subCount / 2 // buckets per power of two above subCount
	maxBits    = 36           // values up to 2^36-1 ns (68.7 s) are resolved
	numBuckets = subCount + (maxBits-subBits)*subHalf

	// MaxTrackable is the largest latency the histogram resolves within its
	// error bound. Larger values are counted in the top bucket; Max still
	// reports them exactly.
	MaxTrackable = time.Duration(1<<maxBits - 1)

	// RelativeError bounds |Quantile(q) - exact| / exact for every value
	// from 256 ns to MaxTrackable; below 256 ns values are exact.
	RelativeError = 1.0 / subCount
)

// Histogram records latencies in log-linear buckets: 1 ns resolution up to
// 256 ns and at most RelativeError (0.39%) relative error up to
// MaxTrackable. Min, Max and Mean are exact. It takes 30 KiB, does not
// allocate after creation and its zero value is an empty histogram ready
// to use.
//
// A Histogram is not safe for concurrent use: give each goroutine its own
// and Merge them afterwards. Do not copy a Histogram that is in use; pass
// a pointer.
type Histogram struct {
	counts [numBuckets]uint64
	total  uint64
	sum    uint64 // nanoseconds; overflows after 584 years of latency
	min    int64
	max    int64
}

// bucketOf returns the index of the bucket that counts v (0 ≤ v ≤
// MaxTrackable).
func bucketOf(v int64) int {
	if v < subCount {
		return int(v)
	}
	k := bits.Len64(uint64(v)) - 1 // 2^k ≤ v < 2^(k+1), subBits ≤ k < maxBits
	shift := k - subBits + 1
	return subCount + (k-subBits)*subHalf + int(v>>shift) - subHalf
}

// bucketRange returns the smallest value bucket i counts and its width.
func bucketRange(i int) (lo, width int64) {
	if i < subCount {
		return int64(i), 1
	}
	j := i - subCount
	shift := j/subHalf + 1
	return int64(subHalf+j%subHalf) << shift, 1 << shift
}

// Record adds one latency. Negative durations count as 0.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	if h.total == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.total++
	h.sum += uint64(v)
	h.counts[bucketOf(min(v, int64(MaxTrackable)))]++
}

// Merge adds every value recorded in o to h. o is not modified.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.total += o.total
	h.sum += o.sum
	for i, n := range o.counts {
		h.counts[i] += n
	}
}

// Reset empties h.
func (h *Histogram) Reset() { *h = Histogram{} }

// Count returns the number of recorded values.
func (h *Histogram) Count() int64 { return int64(h.total) }

// Min returns the smallest recorded value, 0 when h is empty.
func (h *Histogram) Min() time.Duration { return time.Duration(h.min) }

// Max returns the largest recorded value, 0 when h is empty.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean returns the arithmetic mean of the recorded values, 0 when h is
// empty.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / h.total)
}

// Quantile returns the value below or at which a fraction q (0 ≤ q ≤ 1) of
// the recorded values fall: the value of rank ⌈q·Count⌉ (at least 1),
// within RelativeError, and never outside [Min, Max]. Quantile(0) is Min,
// Quantile(1) is Max; it returns 0 when h is empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	switch {
	case !(q > 0): // also NaN
		return time.Duration(h.min)
	case q >= 1:
		return time.Duration(h.max)
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = min(max(rank, 1), h.total)
	var seen uint64
	for i, n := range h.counts {
		seen += n
		if seen >= rank {
			lo, width := bucketRange(i)
			mid := lo + (width-1)/2
			return time.Duration(min(max(mid, h.min), h.max))
		}
	}
	return time.Duration(h.max) // unreachable: the counts sum to total
}

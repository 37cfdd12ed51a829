package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// exactQuantile returns the value of rank ⌈q·n⌉ of sorted, the definition
// Histogram.Quantile approximates.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

func TestBucketLayout(t *testing.T) {
	// Every bucket's range maps back to it, the ranges tile [0, MaxTrackable]
	// and widths stay within the relative error bound.
	next := int64(0)
	for i := range numBuckets {
		lo, width := bucketRange(i)
		if lo != next {
			t.Fatalf("bucket %d starts at %d, want %d", i, lo, next)
		}
		if bucketOf(lo) != i || bucketOf(lo+width-1) != i {
			t.Fatalf("bucket %d [%d, %d]: bucketOf gives %d, %d", i, lo, lo+width-1, bucketOf(lo), bucketOf(lo+width-1))
		}
		if width > 1 && float64(width/2)/float64(lo) > RelativeError {
			t.Fatalf("bucket %d: half width %d is more than %.2f%% of %d", i, width/2, 100*RelativeError, lo)
		}
		next = lo + width
	}
	if next-1 != int64(MaxTrackable) {
		t.Fatalf("buckets end at %d, want %d", next-1, int64(MaxTrackable))
	}
}

func TestHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		gen  func() time.Duration
	}{
		{"constant 1ms", func() time.Duration { return time.Millisecond }},
		{"uniform 0-10ms", func() time.Duration { return time.Duration(rng.Int64N(int64(10 * time.Millisecond))) }},
		{"exponential mean 1ms", func() time.Duration { return time.Duration(rng.ExpFloat64() * float64(time.Millisecond)) }},
		{"log-uniform 1µs-60s", func() time.Duration {
			return time.Duration(math.Exp(math.Log(1e3) + rng.Float64()*(math.Log(60e9)-math.Log(1e3))))
		}},
		{"small exact 0-300ns", func() time.Duration { return time.Duration(rng.IntN(300)) }},
		{"bimodal 50µs and 20ms", func() time.Duration {
			if rng.IntN(100) < 97 {
				return 50*time.Microsecond + time.Duration(rng.IntN(5000))
			}
			return 20*time.Millisecond + time.Duration(rng.IntN(1e6))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h Histogram
			vals := make([]time.Duration, 100_000)
			var sum time.Duration
			for i := range vals {
				vals[i] = tc.gen()
				sum += vals[i]
				h.Record(vals[i])
			}
			slices.Sort(vals)
			if h.Count() != int64(len(vals)) || h.Min() != vals[0] || h.Max() != vals[len(vals)-1] {
				t.Fatalf("count %d min %v max %v, want %d %v %v", h.Count(), h.Min(), h.Max(), len(vals), vals[0], vals[len(vals)-1])
			}
			if want := sum / time.Duration(len(vals)); h.Mean() != want {
				t.Errorf("mean %v, want %v", h.Mean(), want)
			}
			for _, q := range []float64{0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1} {
				got, want := h.Quantile(q), exactQuantile(vals, q)
				if err := math.Abs(float64(got-want)) / float64(want); want < subCount && got != want || want != 0 && err > 0.01 {
					t.Errorf("q%v = %v, want %v (error %.3f%%)", q, got, want, 100*err)
				} else if want >= subCount && err > RelativeError {
					t.Errorf("q%v = %v, want %v: error %.3f%% beyond the %.2f%% bound", q, got, want, 100*err, 100*RelativeError)
				}
			}
		})
	}
}

func TestHistogramEdges(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Mean() != 0 || h.Min() != 0 || h.Max() != 0 {
		t.Error("empty histogram: want zeros")
	}
	h.Record(-5) // counts as 0
	h.Record(2 * time.Minute)
	if h.Min() != 0 || h.Max() != 2*time.Minute {
		t.Errorf("min %v max %v", h.Min(), h.Max())
	}
	// Beyond MaxTrackable the top bucket counts it; Max stays exact.
	if got := h.Quantile(1); got != 2*time.Minute {
		t.Errorf("q1 = %v", got)
	}
	if got := h.Quantile(0.99); got < MaxTrackable*99/100 || got > 2*time.Minute {
		t.Errorf("q0.99 = %v, want about MaxTrackable", got)
	}
	if got := h.Quantile(math.NaN()); got != 0 {
		t.Errorf("q NaN = %v, want Min", got)
	}
	h.Reset()
	if h.Count() != 0 {
		t.Error("Reset left values")
	}
}

func TestHistogramMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var all Histogram
	parts := make([]Histogram, 4)
	for i := range 50_000 {
		d := time.Duration(rng.ExpFloat64() * float64(2*time.Millisecond))
		all.Record(d)
		parts[i%len(parts)].Record(d)
	}
	var merged Histogram
	merged.Merge(&Histogram{}) // empty: no effect
	for i := range parts {
		merged.Merge(&parts[i])
	}
	if merged != all {
		t.Fatalf("merged histogram differs: count %d/%d min %v/%v max %v/%v mean %v/%v",
			merged.Count(), all.Count(), merged.Min(), all.Min(), merged.Max(), all.Max(), merged.Mean(), all.Mean())
	}
	// Merging into a histogram whose minimum is larger takes the other's.
	var a, b Histogram
	a.Record(time.Second)
	b.Record(time.Millisecond)
	a.Merge(&b)
	if a.Min() != time.Millisecond || a.Max() != time.Second || a.Count() != 2 {
		t.Errorf("min %v max %v count %d", a.Min(), a.Max(), a.Count())
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	vals := make([]time.Duration, 1024)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range vals {
		vals[i] = time.Duration(rng.ExpFloat64() * float64(time.Millisecond))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		h.Record(vals[i&1023])
		i++
	}
}

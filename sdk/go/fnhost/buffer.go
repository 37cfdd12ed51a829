package fnhost

// scratch is the reusable buffer for copy-out calls. An instance runs one
// invocation at a time and the SDK never nests copy-outs, so one is enough.
var scratch []byte

const (
	scratchInit = 512
	scratchKeep = 64 << 10 // a larger buffer is dropped after use
)

// appendOut appends the value of the copy-out host call f to dst and returns
// the extended slice. It follows the ABI's (buf, cap) -> len convention: when
// the value does not fit in the spare capacity of dst, it grows dst to the
// reported length and calls f again. A negative result is returned as an
// error and dst is returned unchanged.
func appendOut(dst []byte, f func(buf []byte) int32) ([]byte, error) {
	for try := 0; ; try++ {
		spare := dst[len(dst):cap(dst)]
		n := f(spare)
		if n < 0 {
			return dst, errno(int64(n))
		}
		if int(n) <= len(spare) {
			return dst[:len(dst)+int(n)], nil
		}
		if try == 3 { // the value keeps growing: a host bug
			return dst, ErrInvalid
		}
		grown := make([]byte, len(dst), len(dst)+int(n))
		copy(grown, dst)
		dst = grown
	}
}

// getString returns the value of the copy-out host call f as a string, using
// the scratch buffer.
func getString(f func(buf []byte) int32) (string, error) {
	if scratch == nil {
		scratch = make([]byte, 0, scratchInit)
	}
	b, err := appendOut(scratch[:0], f)
	if err != nil {
		return "", err
	}
	s := string(b)
	keepScratch(b)
	return s, nil
}

// keepScratch makes b, a possibly grown scratch buffer, the scratch buffer
// unless it grew too large.
func keepScratch(b []byte) {
	if cap(b) <= scratchKeep {
		scratch = b[:0]
	}
}

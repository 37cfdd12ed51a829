package instrument

import lebdec "github.com/fnhost/fnhost/host/internal/leb"

// The decoders below take the buffer and a position and return the new
// position; ok is false when the encoding is malformed or runs past the end
// of b. Callers slice b to the end of the enclosing section or body, so an
// encoding can never be read across that boundary.
//
// Only lengths matter for values we do not interpret (constants, most
// indices): any two decoders that both accept an LEB128 encoding agree on its
// length, because the length is given by the continuation bits alone.

// u32, skip and s33 are package leb's decoders under short local names.
func u32(b []byte, p int) (uint32, int, bool) { return lebdec.U32(b, p) }
func skip(b []byte, p, max int) (int, bool)   { return lebdec.Skip(b, p, max) }
func s33(b []byte, p int) (int64, int, bool)  { return lebdec.S33(b, p) }

// appendU32 appends v as canonical unsigned LEB128.
func appendU32(dst []byte, v uint32) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// u32Len is the length of v as canonical unsigned LEB128.
func u32Len(v uint32) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// appendS32 appends v as a signed LEB128.
func appendS32(dst []byte, v int32) []byte {
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && b&0x40 == 0) || (v == -1 && b&0x40 != 0) {
			return append(dst, b)
		}
		dst = append(dst, b|0x80)
	}
}

// Package leb decodes the LEB128 integers of the WebAssembly binary format
// exactly as wazero v1.12 does, for fnhost's two readers of untrusted
// modules: the pre-validator and the deadline rewriter must accept the same
// encodings with the same lengths.
//
// Every decoder takes the buffer and a position and returns the new
// position; ok is false when the encoding is malformed or runs past the end
// of b. Callers slice b to the end of the enclosing section or body, so an
// encoding is never read across that boundary. Only lengths matter for
// values a caller does not interpret: any two decoders that accept an
// encoding agree on its length, which the continuation bits alone give.
package leb

// U32 decodes an unsigned LEB128 value of at most 32 bits, with the same
// acceptance rule as wazero's leb128.LoadUint32.
func U32(b []byte, p int) (v uint32, np int, ok bool) {
	if p < len(b) && b[p] < 0x80 { // the common case: one byte
		return uint32(b[p]), p + 1, true
	}
	var shift uint
	for i := 0; i < 5; i++ {
		if p >= len(b) {
			return 0, p, false
		}
		c := b[p]
		p++
		if c < 0x80 {
			if i == 4 && c&0xf0 != 0 {
				return 0, p, false
			}
			return v | uint32(c)<<shift, p, true
		}
		v |= uint32(c&0x7f) << shift
		shift += 7
	}
	return 0, p, false
}

// Skip skips an LEB128 value (signed or unsigned) of at most max bytes.
func Skip(b []byte, p, max int) (np int, ok bool) {
	if p < len(b) && b[p] < 0x80 { // the common case: one byte
		return p + 1, true
	}
	end := p + max
	if end > len(b) {
		end = len(b)
	}
	for ; p < end; p++ {
		if b[p] < 0x80 {
			return p + 1, true
		}
	}
	return p, false
}

// S33 decodes a signed 33-bit LEB128 value (block types, heap types) as
// wazero's leb128.DecodeInt33AsInt64 does, including its quirk of stopping
// after five bytes even when the fifth has its continuation bit set: a
// conforming decoder rejects such an encoding, so mirroring wazero can only
// make us accept what wazero accepts, with the same length.
func S33(b []byte, p int) (v int64, np int, ok bool) {
	var shift uint
	var c byte
	n := 0
	for shift < 35 {
		if p >= len(b) {
			return 0, p, false
		}
		c = b[p]
		p++
		n++
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			break
		}
	}
	if shift < 33 && c&0x40 != 0 {
		v |= (1<<33 - 1) << shift
	}
	v &= 1<<33 - 1
	if v&(1<<32) != 0 {
		v -= 1 << 33
	}
	if n == 5 {
		if unused := c & 0x20; (v < 0 && unused == 0) || (v >= 0 && unused != 0) {
			return 0, p, false
		}
	}
	return v, p, true
}

package instrument

// The decoders below take the buffer and a position and return the new
// position; ok is false when the encoding is malformed or runs past the end
// of b. Callers slice b to the end of the enclosing section or body, so an
// encoding can never be read across that boundary.
//
// Only lengths matter for values we do not interpret (constants, most
// indices): any two decoders that both accept an LEB128 encoding agree on its
// length, because the length is given by the continuation bits alone.

// u32 decodes an unsigned LEB128 value of at most 32 bits, with the same
// acceptance rule as wazero's leb128.LoadUint32.
func u32(b []byte, p int) (v uint32, np int, ok bool) {
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

// skip skips an LEB128 value (signed or unsigned) of at most max bytes.
func skip(b []byte, p, max int) (np int, ok bool) {
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

// s33 decodes a signed 33-bit LEB128 value (block types, heap types) exactly
// as wazero's leb128.DecodeInt33AsInt64 does, including its quirk of stopping
// after five bytes even when the fifth has its continuation bit set. A
// conforming decoder rejects such an encoding, so mirroring wazero here can
// only make us accept what wazero accepts, with the same length.
func s33(b []byte, p int) (v int64, np int, ok bool) {
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

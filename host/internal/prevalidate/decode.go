package prevalidate

import "github.com/fnhost/fnhost/host/internal/leb"

// The decoders below take the buffer and a position and return the new
// position; ok is false when the encoding is malformed or runs past the end
// of b. Callers slice b to the end of the enclosing section or body. They
// accept exactly what package instrument's decoders accept (and so what
// wazero v1.12 accepts), with the same lengths.

// u32, skip and s33 are package leb's decoders under short local names.
func u32(b []byte, p int) (uint32, int, bool) { return leb.U32(b, p) }
func skip(b []byte, p, max int) (int, bool)   { return leb.Skip(b, p, max) }
func s33(b []byte, p int) (int64, int, bool)  { return leb.S33(b, p) }

// oneByteType marks the value types encoded in one byte: i32, i64, f32,
// f64, v128, funcref, externref, exnref. Loops test it before calling
// valType, which is not inlined.
var oneByteType = [256]bool{0x7f: true, 0x7e: true, 0x7d: true, 0x7c: true, 0x7b: true, 0x70: true, 0x6f: true, 0x69: true}

// valType skips a value type: a one-byte type or a (ref null? heaptype).
func valType(b []byte, p int) (int, bool) {
	if p >= len(b) {
		return p, false
	}
	switch b[p] {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f, 0x69:
		return p + 1, true
	case 0x63, 0x64:
		return heapType(b, p+1)
	}
	return p, false
}

// refType is valType restricted to reference types.
func refType(b []byte, p int) (int, bool) {
	if p >= len(b) {
		return p, false
	}
	switch b[p] {
	case 0x70, 0x6f, 0x69:
		return p + 1, true
	case 0x63, 0x64:
		return heapType(b, p+1)
	}
	return p, false
}

func heapType(b []byte, p int) (int, bool) {
	v, p, ok := s33(b, p)
	// func, extern, exn, or a type index.
	return p, ok && (v == -16 || v == -17 || v == -23 || v >= 0)
}

// blockType skips a block type: an s33 that is the empty type, a value
// type, a (ref null? heaptype) or a type index.
func blockType(b []byte, p int) (int, bool) {
	v, p, ok := s33(b, p)
	if !ok {
		return p, false
	}
	switch {
	case v >= 0: // type index
	case v == -64: // empty (0x40)
	case v >= -5 && v <= -1: // i32, i64, f32, f64, v128
	case v == -16 || v == -17 || v == -23: // funcref, externref, exnref
	case v == -29 || v == -28: // (ref null ht), (ref ht)
		return heapType(b, p)
	default:
		return p, false
	}
	return p, true
}

// memarg skips alignment and offset. Alignments of 32 and up are refused,
// as wazero does, so a multi-memory encoding is never misread.
func memarg(b []byte, p int) (int, bool) {
	align, p, ok := u32(b, p)
	if !ok || align >= 32 {
		return p, false
	}
	return skip(b, p, 5)
}

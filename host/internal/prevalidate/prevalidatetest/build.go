// Package prevalidatetest builds WebAssembly modules for tests and
// benchmarks of the pre-validator and the runtime: a small binary-format
// builder and a catalogue of compile bombs. It is for tests only.
package prevalidatetest

import "bytes"

// Section ids.
const (
	SecCustom    = 0
	SecType      = 1
	SecImport    = 2
	SecFunction  = 3
	SecTable     = 4
	SecMemory    = 5
	SecGlobal    = 6
	SecExport    = 7
	SecStart     = 8
	SecElement   = 9
	SecCode      = 10
	SecData      = 11
	SecDataCount = 12
)

// Preamble is the magic number and version 1.
var Preamble = []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}

// U32 appends v as unsigned LEB128. It takes a uint64 so tests can encode
// values of any width; the encoding is canonical.
func U32(dst []byte, v uint64) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// Name appends a length-prefixed name.
func Name(dst []byte, s string) []byte {
	return append(U32(dst, uint64(len(s))), s...)
}

// Section appends a section with id and content, size-prefixed.
func Section(dst []byte, id byte, content []byte) []byte {
	dst = append(dst, id)
	dst = U32(dst, uint64(len(content)))
	return append(dst, content...)
}

// Vec returns a vector: the count n, then the concatenated entries. n may
// differ from len(entries) on purpose.
func Vec(n uint64, entries ...[]byte) []byte {
	b := U32(nil, n)
	for _, e := range entries {
		b = append(b, e...)
	}
	return b
}

// Repeat returns n copies of entry as one vector.
func Repeat(n int, entry []byte) []byte {
	b := U32(make([]byte, 0, 5+n*len(entry)), uint64(n))
	return append(b, bytes.Repeat(entry, n)...)
}

// Body returns a function body, size prefix included: the locals groups
// (count, type pairs) then code, which must end with 0x0b.
func Body(locals [][2]uint64, code []byte) []byte {
	b := U32(nil, uint64(len(locals)))
	for _, l := range locals {
		b = U32(b, l[0])
		b = append(b, byte(l[1]))
	}
	b = append(b, code...)
	return append(U32(make([]byte, 0, len(b)+5), uint64(len(b))), b...)
}

// Void is the function type () -> ().
var Void = []byte{0x60, 0x00, 0x00}

// Module assembles a module of n functions of type () -> () with the given
// bodies (repeated cyclically when fewer than n are given), plus an
// exported memory of memPages pages when memPages > 0, then extra sections
// appended verbatim (already framed).
func Module(n int, bodies [][]byte, memPages uint64, extra ...[]byte) []byte {
	m := append([]byte(nil), Preamble...)
	m = Section(m, SecType, Vec(1, Void))
	fs := make([]byte, 0, n+5)
	fs = U32(fs, uint64(n))
	for i := 0; i < n; i++ {
		fs = append(fs, 0x00)
	}
	m = Section(m, SecFunction, fs)
	if memPages > 0 {
		m = Section(m, SecMemory, Vec(1, U32([]byte{0x00}, memPages)))
		m = Section(m, SecExport, Vec(1, append(Name(nil, "memory"), 0x02, 0x00)))
	}
	size := 0
	for i := 0; i < n; i++ {
		size += len(bodies[i%len(bodies)])
	}
	code := U32(make([]byte, 0, size+5), uint64(n))
	for i := 0; i < n; i++ {
		code = append(code, bodies[i%len(bodies)]...)
	}
	m = Section(m, SecCode, code)
	for _, e := range extra {
		m = append(m, e...)
	}
	return m
}

// Nest returns depth nested blocks of the given opcode (0x02 block,
// 0x03 loop, 0x04 if with an i32.const 0 condition before each) closed
// again, followed by the function's final end.
func Nest(depth int, op byte) []byte {
	open := []byte{op, 0x40}
	if op == 0x04 {
		open = []byte{0x41, 0x00, 0x04, 0x40}
	}
	b := make([]byte, 0, depth*(len(open)+1)+1)
	for i := 0; i < depth; i++ {
		b = append(b, open...)
	}
	for i := 0; i < depth; i++ {
		b = append(b, 0x0b)
	}
	return append(b, 0x0b)
}

// BrTable returns code with one br_table of n labels (all 0) inside a
// block, then the function's final end.
func BrTable(n int) []byte {
	b := make([]byte, 0, n+16)
	b = append(b, 0x02, 0x40, 0x41, 0x00, 0x0e)
	b = U32(b, uint64(n))
	for i := 0; i <= n; i++ { // n labels and the default
		b = append(b, 0x00)
	}
	return append(b, 0x0b, 0x0b)
}

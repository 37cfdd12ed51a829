package prevalidatetest

import "bytes"

// Bomb is a generated module that the pre-validator must refuse.
type Bomb struct {
	Name string
	// Limit is the name of the prevalidate.Limits field the module
	// exceeds, or "" when it is malformed (a *prevalidate.FormatError).
	Limit string
	// Cost says what the module costs without the pre-validator, where
	// that was measured (2-core VM, wazero v1.12.0, compiler).
	Cost string
	// Build returns the module; the large ones are built on demand.
	Build func() []byte
}

const max32 = 1<<32 - 1

// one returns a module with one function of type () -> () and the given
// body (size-prefixed), plus extra sections.
func one(body []byte, extra ...[]byte) []byte {
	return Module(1, [][]byte{body}, 0, extra...)
}

// code returns a function body without locals.
func code(c []byte) []byte { return Body(nil, c) }

// countOnly returns a module whose section id holds only a count.
func countOnly(id byte, count uint64) []byte {
	return Section(append([]byte(nil), Preamble...), id, U32(nil, count))
}

// repeatOpen repeats unit n times, then closes with the function's end.
func repeatOpen(unit []byte, n int, prefix ...byte) []byte {
	c := append(append([]byte(nil), prefix...), bytes.Repeat(unit, n)...)
	return c
}

// Bombs returns the catalogue of compile and decode bombs.
func Bombs() []Bomb {
	return []Bomb{
		{Name: "locals 100M (29 bytes)", Limit: "Locals", Cost: "6.5 s, 2.5 GB RSS",
			Build: func() []byte { return one(Body([][2]uint64{{100_000_000, 0x7f}}, []byte{0x0b})) }},
		{Name: "locals groups summing past 2^32", Limit: "Locals", Cost: "wazero: too many locals (after summing)",
			Build: func() []byte {
				return one(Body([][2]uint64{{max32, 0x7f}, {max32, 0x7e}, {max32, 0x7d}}, []byte{0x0b}))
			}},
		{Name: "locals 2 groups of 40,000", Limit: "Locals",
			Build: func() []byte { return one(Body([][2]uint64{{40_000, 0x7f}, {40_000, 0x7e}}, []byte{0x0b})) }},
		{Name: "locals 41 functions x 50,000", Limit: "TotalLocals", Cost: "about 16 MB and 20 ms per 40 functions; unbounded without a module total",
			Build: func() []byte { return Module(41, [][]byte{Body([][2]uint64{{50_000, 0x7f}}, []byte{0x0b})}, 0) }},
		{Name: "nested blocks 40k", Limit: "Nesting", Cost: "5.9 s (100k: 53 s)",
			Build: func() []byte { return one(code(Nest(40_000, 0x02))) }},
		{Name: "nested ifs 10,001", Limit: "Nesting",
			Build: func() []byte { return one(code(Nest(10_001, 0x04))) }},
		{Name: "sequential blocks 40k", Limit: "Branches", Cost: "11 s (160k: 318 s)",
			Build: func() []byte { return one(code(append(repeatOpen([]byte{0x02, 0x40, 0x0b}, 40_000), 0x0b))) }},
		{Name: "nested 1,000 deep x 40", Limit: "Branches", Cost: "6 s (x 340, a 1 MiB body: over 14 min)",
			Build: func() []byte {
				n := Nest(1_000, 0x02)
				return one(code(append(repeatOpen(n[:len(n)-1], 40), 0x0b)))
			}},
		{Name: "br_if 30k", Limit: "Branches", Cost: "about 11 s (10k: 1.3 s, 40k: 20 s)",
			Build: func() []byte {
				return one(code(append(repeatOpen([]byte{0x41, 0x00, 0x0d, 0x00}, 30_000, 0x02, 0x40), 0x0b, 0x0b)))
			}},
		{Name: "loops 10k", Limit: "Branches", Cost: "loops with the rewrite's checks cost 5 branches each",
			Build: func() []byte { return one(code(append(repeatOpen([]byte{0x03, 0x40, 0x0b}, 10_000), 0x0b))) }},
		{Name: "3 functions x 20,000 br_if", Limit: "BranchCost", Cost: "about 5 s per function",
			Build: func() []byte {
				b := code(append(repeatOpen([]byte{0x41, 0x00, 0x0d, 0x00}, 19_998, 0x02, 0x40), 0x0b, 0x0b))
				return Module(3, [][]byte{b}, 0)
			}},
		{Name: "br_table 100k targets", Limit: "BrTableTargets", Cost: "2 s, 242 MB (1M: over 100 s; 65,536: 3 s)",
			Build: func() []byte { return one(code(BrTable(100_000))) }},
		{Name: "br_table count 2^32-1", Limit: "BrTableTargets",
			Build: func() []byte {
				return one(code([]byte{0x02, 0x40, 0x41, 0x00, 0x0e, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x0b, 0x0b}))
			}},
		{Name: "functions 100k", Limit: "Functions", Cost: "0.54 s, 39 MB",
			Build: func() []byte { return Module(100_000, [][]byte{code([]byte{0x0b})}, 0) }},
		{Name: "function count 2^32-1", Limit: "Functions",
			Build: func() []byte { return countOnly(SecFunction, max32) }},
		{Name: "code count 2^32-1", Limit: "Functions",
			Build: func() []byte { return countOnly(SecCode, max32) }},
		{Name: "type count 2^32-1", Limit: "Types",
			Build: func() []byte { return countOnly(SecType, max32) }},
		{Name: "type with 100k params", Limit: "Params",
			Build: func() []byte {
				t := append(U32([]byte{0x60}, 100_000), bytes.Repeat([]byte{0x7f}, 100_000)...)
				return Section(append([]byte(nil), Preamble...), SecType, Vec(1, append(t, 0x00)))
			}},
		{Name: "import count 2^32-1", Limit: "Imports",
			Build: func() []byte { return countOnly(SecImport, max32) }},
		{Name: "global count 2^32-1", Limit: "Globals",
			Build: func() []byte { return countOnly(SecGlobal, max32) }},
		{Name: "export count 2^32-1", Limit: "Exports",
			Build: func() []byte { return countOnly(SecExport, max32) }},
		{Name: "table count 2^32-1", Limit: "Tables",
			Build: func() []byte { return countOnly(SecTable, max32) }},
		{Name: "table minimum 2^27", Limit: "TableSize", Cost: "1 GiB per instance",
			Build: func() []byte {
				return Section(append([]byte(nil), Preamble...), SecTable, Vec(1, U32([]byte{0x70, 0x00}, 1<<27)))
			}},
		{Name: "table.grow on a table without maximum", Limit: "TableSize", Cost: "table.grow 0x7fffffff: fatal error: out of memory (process killed)",
			Build: func() []byte {
				m := append([]byte(nil), Preamble...)
				m = Section(m, SecType, Vec(1, Void))
				m = Section(m, SecFunction, Vec(1, []byte{0}))
				m = Section(m, SecTable, Vec(1, []byte{0x70, 0x00, 0x00}))
				c := []byte{0xd0, 0x70, 0x41, 0xff, 0xff, 0xff, 0xff, 0x07, 0xfc, 0x0f, 0x00, 0x1a, 0x0b}
				return Section(m, SecCode, Vec(1, code(c)))
			}},
		{Name: "element segment count 2^32-1", Limit: "ElementSegments",
			Build: func() []byte { return countOnly(SecElement, max32) }},
		{Name: "element items 2^32-1", Limit: "ElementItems",
			Build: func() []byte {
				// passive, funcref indices (flags 1, elemkind 0), count
				return Section(append([]byte(nil), Preamble...), SecElement, Vec(1, U32([]byte{0x01, 0x00}, max32)))
			}},
		{Name: "data segment count 2^32-1", Limit: "DataSegments",
			Build: func() []byte { return countOnly(SecData, max32) }},
		{Name: "data count section 2^32-1", Limit: "DataSegments",
			Build: func() []byte { return countOnly(SecDataCount, max32) }},
		{Name: "data 20 MiB", Limit: "DataBytes", Cost: "8 MB: 15 ms compile, 31 MB",
			Build: func() []byte {
				seg := append([]byte{0x00, 0x41, 0x00, 0x0b}, U32(nil, 20<<20)...)
				seg = append(seg, make([]byte, 20<<20)...)
				return Module(1, [][]byte{code([]byte{0x0b})}, 320, Section(nil, SecData, Vec(1, seg)))
			}},
		{Name: "memory minimum 65,537 pages", Limit: "MemoryPages",
			Build: func() []byte {
				return Section(append([]byte(nil), Preamble...), SecMemory, Vec(1, U32([]byte{0x00}, 65_537)))
			}},
		{Name: "memory maximum 2^32-1 pages", Limit: "MemoryPages",
			Build: func() []byte {
				return Section(append([]byte(nil), Preamble...), SecMemory, Vec(1, U32([]byte{0x01, 0x01}, max32)))
			}},
		{Name: "function body of 1 MiB of loads", Limit: "BodyBytes", Cost: "4.1 s, 723 MB heap (as 8 functions: 1.0 s, 103 MB)",
			Build: func() []byte {
				return Module(1, [][]byte{code(append(bytes.Repeat([]byte{0x41, 0x00, 0x28, 0x02, 0x00, 0x1a}, 170_000), 0x0b))}, 1)
			}},
		{Name: "module 33 MiB", Limit: "ModuleBytes",
			Build: func() []byte {
				return Section(append([]byte(nil), Preamble...), SecCustom, append(Name(nil, "big"), make([]byte, 33<<20)...))
			}},
		{Name: "custom sections 17 MiB", Limit: "CustomBytes",
			Build: func() []byte {
				m := append([]byte(nil), Preamble...)
				for i := 0; i < 17; i++ {
					m = Section(m, SecCustom, append(Name(nil, "x"), make([]byte, 1<<20)...))
				}
				return m
			}},
		{Name: "10M empty custom sections", Limit: "CustomSections", Cost: "2.8 s, 861 MB",
			Build: func() []byte {
				return append(append([]byte(nil), Preamble...), bytes.Repeat([]byte{0x00, 0x01, 0x00}, 10_000_000)...)
			}},
		{Name: "name section: 2^32-1 function names (22 bytes)", Limit: "Functions", Cost: "wazero allocates 96 GiB: fatal error: out of memory (process killed)",
			Build: func() []byte {
				return nameSection(0x01, U32(nil, max32))
			}},
		{Name: "name section: 2^28 function names", Limit: "Functions", Cost: "6 GiB allocated in 40 ms",
			Build: func() []byte {
				return nameSection(0x01, U32(nil, 1<<28))
			}},
		{Name: "name section: 2^32-1 local names", Limit: "TotalLocals", Cost: "wazero allocates 96 GiB",
			Build: func() []byte {
				// one function, index 0, then its local names count
				return nameSection(0x02, append([]byte{0x01, 0x00}, U32(nil, max32)...))
			}},
		{Name: "section size past the end", Limit: "",
			Build: func() []byte { return append(append([]byte(nil), Preamble...), SecType, 0x10, 0x00) }},
		{Name: "section size 2^32-1", Limit: "",
			Build: func() []byte {
				return append(append([]byte(nil), Preamble...), SecCode, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00)
			}},
		{Name: "section size LEB128 over 32 bits", Limit: "",
			Build: func() []byte {
				return append(append([]byte(nil), Preamble...), SecCode, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00)
			}},
		{Name: "count past the section", Limit: "",
			Build: func() []byte { return countOnly(SecFunction, 1000) }},
		{Name: "truncated count", Limit: "",
			Build: func() []byte {
				return append(append([]byte(nil), Preamble...), SecFunction, 0x02, 0x80, 0x80)
			}},
		{Name: "truncated code section", Limit: "",
			Build: func() []byte {
				m := append([]byte(nil), Preamble...)
				m = Section(m, SecType, Vec(1, Void))
				m = Section(m, SecFunction, Vec(1, []byte{0}))
				b := code(Nest(10, 0x02))
				return Section(m, SecCode, Vec(1, b[:len(b)-5])) // the body's size says 5 more bytes
			}},
		{Name: "32 MiB of nops, nesting at the very end", Limit: "Nesting", Cost: "worst case for the pass: it reads everything",
			Build: func() []byte { return maxSizeCode(Nest(10_001, 0x02)[:10_001*2]) }},
		{Name: "32 MiB of nops, truncated at the very end", Limit: "",
			Build: func() []byte { return maxSizeCode([]byte{0x41}) }},
	}
}

// nameSection returns a module with only a name section holding one
// subsection.
func nameSection(id byte, content []byte) []byte {
	sub := append(U32([]byte{id}, uint64(len(content))), content...)
	return Section(append([]byte(nil), Preamble...), SecCustom, append(Name(nil, "name"), sub...))
}

// maxSizeCode returns a module just under 32 MiB: 255 functions of 128 KiB
// of nops each, then one more whose body ends with tail.
func maxSizeCode(tail []byte) []byte {
	const size = 128<<10 - 16
	nops := code(append(bytes.Repeat([]byte{0x01}, size), 0x0b))
	last := code(append(bytes.Repeat([]byte{0x01}, size-len(tail)-1<<10), tail...))
	bodies := make([][]byte, 256)
	for i := range bodies {
		bodies[i] = nops
	}
	bodies[255] = last
	return Module(256, bodies, 0)
}

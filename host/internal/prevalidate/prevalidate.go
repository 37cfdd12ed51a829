// Package prevalidate rejects WebAssembly modules that would be expensive
// to decode or compile, before anything else reads them.
//
// wazero's compiler does not honour a deadline, its time is quadratic in
// the number of blocks and branches of a function, and its decoder
// allocates what a module declares before reading it: a 29-byte function
// declaring 100M locals costs 6.5 s and 2.5 GB; a 22-byte module whose
// name section declares 2^32-1 function names makes the decoder allocate
// 96 GiB, which kills the process ("fatal error: out of memory" cannot be
// recovered). The figures, measured on a 2-core VM with wazero v1.12.0,
// are in the comments of Limits and in package prevalidatetest's bombs.
//
// Check makes one linear pass over the binary, allocating nothing but the
// error it returns, and rejects a module as soon as a declared count, size
// or depth passes one of its Limits. A count is compared with its limit,
// and with the bytes left in its section, as soon as it is read: a count of
// 2^32-1 costs nothing.
//
// Check decodes sections and instructions as package instrument does
// (which follows wazero v1.12 with api.CoreFeaturesV2), so that it sees the
// same instruction boundaries, and so the same nesting and branches, as
// the compiler will. It is a filter, not a validator: accepting a module
// says only that it is within the limits and framed well enough to count;
// wazero still validates it.
package prevalidate

import (
	"errors"
	"fmt"
)

// Limits bounds what a module may contain. A zero field means the default
// given in its comment; DefaultLimits returns them all. Values are the
// largest accepted: a module with exactly Functions functions passes.
type Limits struct {
	// ModuleBytes bounds the module's size: 32 MiB. The management API's
	// upload limit (20 MiB) is lower; this is the runtime's own bound.
	ModuleBytes int
	// Types bounds the type section's entries (each member of a
	// recursion group counts): 10,000.
	Types int
	// Params bounds the parameters, and separately the results, of one
	// function type: 1,000 (wasmparser's limit).
	Params int
	// Imports bounds the import section's entries: 1,000. Only fnhost_v1
	// and wasi_snapshot_preview1 may be imported, and they export fewer
	// than 100 functions between them; the runtime checks the names.
	Imports int
	// Functions bounds imported plus defined functions: 50,000. Also
	// bounds the entries of the name section's function and local names.
	Functions int
	// Tables bounds imported plus defined tables: 100 (wasmparser's).
	Tables int
	// TableSize bounds every table's minimum: 1,000,000 entries (8 MB for
	// each instance). When the code uses table.grow, every table must also
	// declare a maximum within it: wazero grows a table by appending, up to
	// 2^32-1 entries (32 GiB).
	TableSize int
	// MemoryPages bounds the minimum and the maximum of every memory, in
	// 64 KiB pages: 65,536, the wasm32 maximum. The runtime then checks
	// the minimum against each function's own memory limit.
	MemoryPages int
	// Globals bounds imported plus defined globals: 10,000.
	Globals int
	// Exports bounds the export section's entries: 10,000.
	Exports int
	// ElementSegments bounds the element section's entries: 10,000.
	ElementSegments int
	// ElementItems bounds the items of all element segments together:
	// 1,000,000.
	ElementItems int
	// DataSegments bounds the data section's entries, and the data count
	// section's value: 100,000 (wasmparser's).
	DataSegments int
	// DataBytes bounds the bytes of all data segments together: 16 MiB.
	DataBytes int
	// BodyBytes bounds one function body, locals included: 128 KiB (as
	// wasmparser). wazero's cost grows faster than the body: a 1 MiB
	// function of loads took 4.1 s and 723 MB of heap, the same code as 8
	// functions 1.0 s and 103 MB. The Go guests' largest is 45 KB, cmd/go's
	// 62 KB.
	BodyBytes int
	// Locals bounds the locals one function declares: 50,000 (wasmparser's,
	// and what abi/ABI.md promises).
	Locals int
	// TotalLocals bounds the locals all functions declare together, and
	// the entries of the name section's local names: 2,000,000. wazero
	// allocates per declared local, so 50,000 functions of 50,000 locals
	// each would be a bomb that passes Locals.
	TotalLocals int
	// Nesting bounds the depth of nested block, loop and if instructions
	// in one function: 10,000. Go nests one block per call site of a
	// function (its resume points): the guests reach 549, cmd/go built for
	// wasip1 (28 MB) 1,152. Compile time depends on the number of blocks,
	// which Branches bounds, rather than on their depth: 4,000 nested
	// blocks took 66 ms, 5,000 in sequence 95 ms, and 10,000 took 0.4 s
	// nested 1,000 deep and 0.7 s in sequence.
	Nesting int
	// BrTableTargets bounds the labels of one br_table, not counting the
	// default: 16,384. Compile time is quadratic in it (16,384 took
	// 0.2-0.3 s, 65,536 took 3 s).
	BrTableTargets int
	// Branches bounds the control instructions of one function: block,
	// loop, if, else, br, br_if, and each label of a br_table (default
	// included), plus the if and else of each check the runtime's rewrite
	// (package instrument) inserts, at every loop and at the entry of a
	// function that calls: 20,000. wazero's compile time is quadratic in this
	// number, whatever the nesting (10,000 empty blocks in sequence took
	// 0.7 s, 40,000 took 11 s, 160,000 took 318 s; 40,000 br_if took 20 s).
	// The Go guests have at most 2,181, cmd/go 4,281.
	Branches int
	// BranchCost bounds the sum, over all functions, of the square of
	// their Branches count: 1,000,000,000. It bounds compile time across
	// functions, as Branches does within one: at the worst measured rate
	// (br_if, about 13 ns per unit) 10^9 is some 13 s. nethttp-go, which
	// compiles in 1.7 s, uses 73 million; cmd/go built for wasip1 (28 MB,
	// 10.3 s to compile) uses 496 million.
	BranchCost int
	// CustomBytes bounds the contents of all custom sections together,
	// names included: 16 MiB.
	CustomBytes int
	// CustomSections bounds the number of custom sections: 1,000. wazero
	// keeps each (for DWARF): 10 million empty ones (30 MB) cost it
	// 861 MB and 2.8 s.
	CustomSections int
}

// DefaultLimits returns the limits that zero fields stand for.
func DefaultLimits() Limits {
	return Limits{
		ModuleBytes:     32 << 20,
		Types:           10_000,
		Params:          1_000,
		Imports:         1_000,
		Functions:       50_000,
		Tables:          100,
		TableSize:       1_000_000,
		MemoryPages:     65_536,
		Globals:         10_000,
		Exports:         10_000,
		ElementSegments: 10_000,
		ElementItems:    1_000_000,
		DataSegments:    100_000,
		DataBytes:       16 << 20,
		BodyBytes:       128 << 10,
		Locals:          50_000,
		TotalLocals:     2_000_000,
		Nesting:         10_000,
		BrTableTargets:  16_384,
		Branches:        20_000,
		BranchCost:      1_000_000_000,
		CustomBytes:     16 << 20,
		CustomSections:  1_000,
	}
}

// LimitError reports a module over one of the Limits.
type LimitError struct {
	// Limit is the name of the Limits field, e.g. "Locals".
	Limit string
	// Value is what the module has. Counts and sizes are exact; totals
	// (TotalLocals, DataBytes, ElementItems, CustomBytes, Branches,
	// BranchCost) are what Check had counted when it stopped, so a lower
	// bound.
	Value uint64
	// Max is the limit.
	Max uint64
	// Where locates the excess: a section, a function index, an offset.
	Where string
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s: %d exceeds the limit of %d %s", e.Where, e.Value, e.Max, limitUnits[e.Limit])
}

// limitUnits completes LimitError messages: "… exceeds the limit of 50000
// locals per function".
var limitUnits = map[string]string{
	"ModuleBytes":     "bytes per module",
	"Types":           "types per module",
	"Params":          "parameters or results per function type",
	"Imports":         "imports per module",
	"Functions":       "functions per module (imported and defined)",
	"Tables":          "tables per module",
	"TableSize":       "entries per table (minimum, or maximum when the code uses table.grow)",
	"MemoryPages":     "64 KiB pages per memory",
	"Globals":         "globals per module",
	"Exports":         "exports per module",
	"ElementSegments": "element segments per module",
	"ElementItems":    "element segment items per module",
	"DataSegments":    "data segments per module",
	"DataBytes":       "data segment bytes per module",
	"BodyBytes":       "bytes per function body",
	"Locals":          "locals per function",
	"TotalLocals":     "locals per module",
	"Nesting":         "nested blocks per function",
	"BrTableTargets":  "br_table targets per instruction",
	"Branches":        "blocks and branches per function",
	"BranchCost":      "branch cost per module (the sum over functions of their blocks and branches squared)",
	"CustomBytes":     "custom section bytes per module",
	"CustomSections":  "custom sections per module",
}

// FormatError reports bytes that are not a module Check can count: bad
// framing, a truncated or malformed encoding, an unknown opcode. wazero
// would reject them too.
type FormatError struct {
	Where  string // the section and, in code, the function
	Offset int    // offset in the module
	Msg    string
}

func (e *FormatError) Error() string {
	if e.Offset < 0 {
		return e.Where + ": " + e.Msg
	}
	return fmt.Sprintf("%s: %s at offset %d", e.Where, e.Msg, e.Offset)
}

// IsLimit reports whether err is, or wraps, a *LimitError.
func IsLimit(err error) bool {
	var le *LimitError
	return errors.As(err, &le)
}

// Check reports whether wasm is within lim, returning a *LimitError or a
// *FormatError when it is not. It is safe for concurrent use, reads wasm
// without keeping or modifying it, never panics, and runs in time linear in
// len(wasm) (when wasm is over lim.ModuleBytes, in constant time).
func Check(wasm []byte, lim Limits) error {
	c := checker{in: wasm}
	c.setLimits(lim)
	return c.module()
}

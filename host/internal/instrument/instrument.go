// Package instrument rewrites untrusted WebAssembly modules so that the host
// can stop a running invocation cheaply.
//
// wazero can interrupt guests itself (WithCloseOnContextDone), but that makes
// every loop back-edge call into a Go trampoline, which slows tight loops
// 10-20x and costs a goroutine and allocations per call. Instead, Instrument
// adds two mutable i32 globals, a stop flag (exported as StopExport) and a
// yield counter, and a function $yield, and inserts a check at every loop
// header and at the entry of every function that contains a call or
// call_indirect. The check decrements the counter and, when it reaches zero,
// calls $yield, which resets it, exits to Go (memory.grow 0: compiled wasm
// has no preemption points of its own, so this is what lets the Go runtime
// stop the world for a GC while a guest spins) and traps (unreachable) if the
// flag is non-zero. The host sets the flag to 1 from a timer when a deadline
// passes; the guest then traps within yieldEvery (1000) checks.
//
// A function without calls needs no entry check: it cannot be on a cycle of
// calls, and outside its loops (which keep their checks) it runs each of its
// instructions at most once. Every function on a cycle of calls contains a
// call, so each trip round the cycle passes a check. What runs between two
// checks is bounded by the module's size, not linearly though: a function
// may call a call-free function once per call instruction in its body, and
// returns are not checked, so a deep stack can unwind through long
// stretches of straight-line code. Hosts should bound module size.
//
// $yield is appended to the end of the function index space (so no function
// is renumbered) with a new type () -> () appended to the type section. It is
// not exported; a guest calling it only makes itself yield sooner.
//
// The guest must not be able to write the flag or the counter, so every
// instruction and constant expression is decoded and any reference to the
// new globals' indexes is rejected. Decoding follows wazero v1.12 with
// api.CoreFeaturesV2, the feature set fnhost compiles with: wherever wazero
// departs from the specification in a way that could make the two disagree
// about instruction boundaries (so that bytes we take for an immediate would
// run as code), the input is rejected rather than guessed at.
//
// What the host must do with a Result:
//   - when HasStart, call StartExport right after instantiation, under the
//     same deadline, before anything else (instantiation no longer runs it);
//   - tell a deadline from a guest's own trap by reading the flag after the
//     call fails: both surface as wazero's "unreachable" error;
//   - set the flag back to 0 before reusing an instance, or discard it;
//   - not let other modules import from the instance: an importer of
//     StopExport could clear it.
//
// Calls into host functions and single bulk-memory instructions are not
// interrupted; the deadline only takes effect when a later check calls $yield.
package instrument

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

// Names of the exports that Instrument adds.
const (
	// StopExport is the added mutable i32 global, initially 0. Setting it to
	// any non-zero value makes the guest trap with "unreachable" the next
	// time its yield counter runs out, at most yieldEvery checks later.
	StopExport = "fnhost.stop"
	// StartExport is the module's start function, exported when the input
	// had a start section (which Instrument removes).
	StartExport = "fnhost.start"
)

// Version identifies the rewrite. It changes whenever Instrument's output
// for some input changes, so that rewrites cached by the host under an older
// version are not reused.
const Version = 2

// maxLocals bounds the locals a single function may declare. Valid modules
// use a few hundred at most; wazero allocates per declared local, so a module
// declaring hundreds of millions costs gigabytes before it is rejected.
const maxLocals = 50000

// Result is a rewritten module.
type Result struct {
	// Wasm is the rewritten module. It is newly allocated; the input is not
	// modified.
	Wasm []byte
	// HasStart reports that the input had a start section. The section was
	// removed and its function exported as StartExport: instantiation no
	// longer runs it, so the host must call it after instantiation, under
	// a deadline, before calling anything else.
	HasStart bool
	// Checks is the number of checks inserted: one per loop plus one per
	// defined function that contains a call or call_indirect. The added
	// $yield function is not counted.
	Checks int
}

// rejection is an error for an input refused on purpose rather than for
// being malformed: such an input may be valid WebAssembly that wazero would
// compile.
type rejection struct{ msg string }

func (e *rejection) Error() string { return e.msg }

func reject(format string, args ...any) error {
	return &rejection{msg: fmt.Sprintf(format, args...)}
}

// IsRejection reports whether err (from Instrument) refuses an input that
// could be valid WebAssembly: it references the global index Instrument
// adds, exports StopExport or StartExport itself, declares too many locals,
// has no room for the added function, or uses an encoding that wazero
// decodes differently from the specification.
// Other errors mean the input is not a valid module.
func IsRejection(err error) bool {
	var r *rejection
	return errors.As(err, &r)
}

var preamble = []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}

// Section ids.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
)

var sectionNames = [...]string{
	"custom section", "type section", "import section", "function section",
	"table section", "memory section", "global section", "export section",
	"start section", "element section", "code section", "data section",
	"data count section",
}

// rank gives the position a non-custom section must have in a module; the
// data count section (12) sits between element (9) and code (10).
func rank(id byte) int {
	switch {
	case id == secDataCount:
		return 10
	case id == secCode || id == secData:
		return int(id) + 1
	default:
		return int(id)
	}
}

type section struct {
	id         byte
	hdr        int // offset of the id byte
	start, end int // content
}

type rewriter struct {
	in        []byte
	sections  []section
	funcs     uint32 // imported functions, to number functions in errors
	globals   uint32 // G: imported plus defined globals of the input
	types     uint32 // types of the input; the index of $yield's type
	defined   uint32 // defined functions of the input (function section)
	hasStart  bool
	startFunc uint32
	hasMemory bool   // memory 0 exists, so $yield can use memory.grow
	check     []byte // the inserted check sequence
	checks    int

	// Code section layout, filled by scanCode and used by appendCode.
	bodies []body
	loops  []int // input offsets at which a check is inserted, in order
}

type body struct {
	start, locals, end int  // size-prefix end, locals end, body end
	loops              int  // index into rewriter.loops past this body's loops
	entry              bool // contains a call, so gets an entry check
}

// maxFunctions is wazero's limit on imported plus defined functions
// (wasm.MaximumFunctionIndex); $yield must fit under it.
const maxFunctions = 1 << 27

// Instrument rewrites wasm as described in the package documentation.
//
// The input is untrusted: any byte sequence yields a Result or an error,
// never a panic, and the work is linear in len(wasm). Use IsRejection to
// tell refusals of possibly valid modules from malformed input.
func Instrument(wasm []byte) (*Result, error) {
	r := &rewriter{in: wasm}
	if err := r.scanSections(); err != nil {
		return nil, err
	}
	// The added globals' and function's indexes must be known before any
	// constant expression or body is checked, and a table's may come before
	// the global section.
	for _, s := range r.sections {
		var err error
		switch s.id {
		case secType:
			r.types, err = r.scanTypes(s)
		case secImport:
			err = r.scanImports(s)
		case secFunction:
			r.defined, err = r.scanFunctions(s)
		case secGlobal:
			var n uint32
			if n, err = r.cursor(s).count("global"); uint64(r.globals)+uint64(n) > 1<<32-3 {
				err = errors.New("global section: too many globals")
			}
			r.globals += n
		case secMemory:
			var n uint32
			n, err = r.cursor(s).count("memory")
			r.hasMemory = r.hasMemory || n > 0
		}
		if err != nil {
			return nil, err
		}
	}
	if uint64(r.funcs)+uint64(r.defined) >= maxFunctions {
		return nil, reject("module has %d functions, leaving no room for one more (wazero allows %d)", uint64(r.funcs)+uint64(r.defined), maxFunctions)
	}
	r.check = r.buildCheck()

	// Sections the output needs, which the input may lack. Each is added
	// before the first later section or, failing that, right after the last
	// non-custom section, so that custom sections at the end stay at the end:
	// wazero reads a name section that is last up to the end of the module,
	// whatever its size says, so nothing may follow one that was last.
	var missing []byte
	for _, id := range []byte{secType, secFunction, secGlobal, secExport, secCode} {
		if !slices.ContainsFunc(r.sections, func(s section) bool { return s.id == id }) {
			missing = append(missing, id)
		}
	}
	last := -1 // the last non-custom section
	for i, s := range r.sections {
		if s.id != secCustom {
			last = i
		}
	}
	out := make([]byte, 0, len(wasm)+len(wasm)/16+128)
	out = append(out, preamble...)
	if last < 0 {
		for _, id := range missing {
			out = r.appendMissing(out, id)
		}
	}
	for i, s := range r.sections {
		if s.id != secCustom {
			for len(missing) > 0 && rank(missing[0]) < rank(s.id) {
				out = r.appendMissing(out, missing[0])
				missing = missing[1:]
			}
		}
		var err error
		switch s.id {
		case secType:
			out = r.rewriteTypes(out, s)
		case secFunction:
			out = r.rewriteFunctions(out, s)
		case secGlobal:
			out, err = r.rewriteGlobals(out, s)
		case secExport:
			out, err = r.rewriteExports(out, s)
		case secStart:
			// Dropped; see Result.HasStart.
		case secCode:
			if err = r.scanCode(s); err == nil {
				out, err = r.appendCode(out)
			}
		default:
			err = r.scanConstExprs(s)
			out = append(out, wasm[s.hdr:s.end]...)
		}
		if err != nil {
			return nil, err
		}
		if i == last {
			for _, id := range missing {
				out = r.appendMissing(out, id)
			}
		}
	}
	return &Result{Wasm: out, HasStart: r.hasStart, Checks: r.checks}, nil
}

// appendMissing appends section id, absent from the input, with only what
// Instrument adds.
func (r *rewriter) appendMissing(out []byte, id byte) []byte {
	switch id {
	case secType:
		return appendVecSection(out, secType, nil, 0, yieldType, 1)
	case secFunction:
		return appendVecSection(out, secFunction, nil, 0, appendU32(nil, r.types), 1)
	case secGlobal:
		return appendVecSection(out, secGlobal, nil, 0, addedGlobals, 2)
	case secExport:
		return r.appendExportSection(out, nil, 0)
	case secCode:
		out, _ = r.appendCode(out) // no input bodies: cannot fail
		return out
	}
	panic("instrument: no section to add with id " + sectionNames[id])
}

// appendVecSection appends a section whose content is a vector: the n
// entries in entries, then the m entries in extra. The caller ensures that
// n+m fits in a u32.
func appendVecSection(out []byte, id byte, entries []byte, n uint32, extra []byte, m uint32) []byte {
	out = append(out, id)
	out = appendU32(out, uint32(u32Len(n+m)+len(entries)+len(extra)))
	out = appendU32(out, n+m)
	out = append(out, entries...)
	return append(out, extra...)
}

// scanSections checks the preamble and section framing and order, and reads
// the start section, whose function the export section (which comes first)
// must export.
func (r *rewriter) scanSections() error {
	in := r.in
	if len(in) < len(preamble) || !bytes.Equal(in[:4], preamble[:4]) {
		return errors.New("not a WebAssembly module: bad magic number")
	}
	if !bytes.Equal(in[4:8], preamble[4:]) {
		return fmt.Errorf("unsupported WebAssembly binary version %x", in[4:8])
	}
	last := 0
	for p := len(preamble); p < len(in); {
		hdr, id := p, in[p]
		if id > secDataCount {
			return fmt.Errorf("unknown section id %d at offset %d", id, hdr)
		}
		size, q, ok := u32(in, p+1)
		if !ok {
			return fmt.Errorf("%s: malformed size at offset %d", sectionNames[id], p+1)
		}
		if uint64(size) > uint64(len(in)-q) {
			return fmt.Errorf("%s: size %d at offset %d runs past the end of the module", sectionNames[id], size, p+1)
		}
		s := section{id: id, hdr: hdr, start: q, end: q + int(size)}
		p = s.end
		if id == secCustom {
			// The name is all a custom section must have; its content is
			// copied unchanged.
			n, q, ok := u32(in[:s.end], s.start)
			if !ok || uint64(n) > uint64(s.end-q) {
				return fmt.Errorf("custom section: malformed name at offset %d", s.start)
			}
		} else {
			if rank(id) <= last {
				return fmt.Errorf("%s at offset %d is duplicate or out of order", sectionNames[id], hdr)
			}
			last = rank(id)
		}
		if id == secDataCount {
			// wazero reads the count without regard to the section's end
			// and, at the end of the module, takes a missing or truncated
			// count for what it read; Instrument may have to add a code
			// section after it.
			_, q, ok := u32(in[:s.end], s.start)
			if !ok {
				return reject("data count section at offset %d has a truncated count (wazero accepts that only at the end of a module)", hdr)
			}
			if q != s.end {
				return fmt.Errorf("data count section: %d unexpected bytes at the end of the section at offset %d", s.end-q, q)
			}
		}
		if id == secStart {
			f, q, ok := u32(in[:s.end], s.start)
			if !ok || q != s.end {
				return fmt.Errorf("start section: malformed function index at offset %d", s.start)
			}
			r.hasStart, r.startFunc = true, f
		}
		r.sections = append(r.sections, s)
	}
	return nil
}

// site names where something sits in a section, for error messages. It is
// formatted only when there is an error, so scanning does not allocate.
type site struct {
	kind string // "global", "element segment", ...
	i    uint32
	role string // "initializer", "offset", "item" or empty
	j    uint32 // item index
}

func (s site) String() string {
	switch s.role {
	case "":
		return fmt.Sprintf("%s %d", s.kind, s.i)
	case "item":
		return fmt.Sprintf("%s %d item %d", s.kind, s.i, s.j)
	}
	return fmt.Sprintf("%s %d %s", s.kind, s.i, s.role)
}

// cursor reads one section's content, reporting errors with the section's
// name and the absolute input offset.
type cursor struct {
	b     []byte // the input, sliced to the end of the section
	p     int
	where string
}

func (r *rewriter) cursor(s section) *cursor {
	return &cursor{b: r.in[:s.end], p: s.start, where: sectionNames[s.id]}
}

func (c *cursor) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: %s at offset %d", c.where, fmt.Sprintf(format, args...), c.p)
}

func (c *cursor) u32(what string) (uint32, error) {
	v, p, ok := u32(c.b, c.p)
	if !ok {
		return 0, c.errorf("truncated or malformed %s", what)
	}
	c.p = p
	return v, nil
}

func (c *cursor) byte(what string) (byte, error) {
	if c.p >= len(c.b) {
		return 0, c.errorf("truncated %s", what)
	}
	c.p++
	return c.b[c.p-1], nil
}

// bytes reads a length-prefixed byte vector (a name or a data segment).
func (c *cursor) bytes(what string) ([]byte, error) {
	n, p, ok := u32(c.b, c.p)
	if !ok {
		return nil, c.errorf("truncated or malformed %s length", what)
	}
	if c.p = p; uint64(n) > uint64(len(c.b)-c.p) {
		return nil, c.errorf("%s of %d bytes runs past the end of the section", what, n)
	}
	c.p += int(n)
	return c.b[c.p-int(n) : c.p], nil
}

// count reads a vector length. Every element takes at least one byte, so a
// count larger than what is left is malformed; checking it up front keeps
// error messages clear.
func (c *cursor) count(what string) (uint32, error) {
	n, p, ok := u32(c.b, c.p)
	if !ok {
		return 0, c.errorf("truncated or malformed %s count", what)
	}
	if c.p = p; uint64(n) > uint64(len(c.b)-c.p) {
		return 0, c.errorf("%s count %d exceeds the section size", what, n)
	}
	return n, nil
}

func (c *cursor) done() error {
	if c.p != len(c.b) {
		return c.errorf("%d unexpected bytes at the end of the section", len(c.b)-c.p)
	}
	return nil
}

func (c *cursor) valType(s site) error {
	p, ok := valType(c.b, c.p)
	if !ok {
		return c.errorf("%s has an invalid type", s)
	}
	c.p = p
	return nil
}

// valType skips a value type as wazero decodes it: a one-byte type or a
// (ref null? heaptype) form.
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

func (c *cursor) limits() error {
	flag, err := c.byte("limits flag")
	if err != nil {
		return err
	}
	if flag > 3 {
		c.p--
		return c.errorf("invalid limits flag 0x%02x", flag)
	}
	if _, err := c.u32("limits minimum"); err != nil {
		return err
	}
	if flag&1 != 0 {
		_, err = c.u32("limits maximum")
	}
	return err
}

// table skips a table type, with the optional initializer (0x40 0x00 prefix)
// that wazero's decoder accepts.
func (r *rewriter) table(c *cursor, s site) error {
	init := c.p < len(c.b) && c.b[c.p] == 0x40
	if init {
		if c.p+1 >= len(c.b) || c.b[c.p+1] != 0x00 {
			return c.errorf("%s has an invalid type", s)
		}
		c.p += 2
	}
	p, ok := refType(c.b, c.p)
	if !ok {
		return c.errorf("%s has an invalid element type", s)
	}
	c.p = p
	if err := c.limits(); err != nil {
		return err
	}
	if init {
		s.role = "initializer"
		return r.constExpr(c, s)
	}
	return nil
}

// scanConstExprs checks the constant expressions of sections copied
// unchanged.
func (r *rewriter) scanConstExprs(s section) error {
	switch s.id {
	case secTable:
		return r.scanTables(s)
	case secElement:
		return r.scanElements(s)
	case secData:
		return r.scanData(s)
	}
	return nil
}

func (r *rewriter) scanImports(s section) error {
	c := r.cursor(s)
	n, err := c.count("import")
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		if _, err := c.bytes("import module name"); err != nil {
			return err
		}
		if _, err := c.bytes("import name"); err != nil {
			return err
		}
		kind, err := c.byte("import kind")
		if err != nil {
			return err
		}
		switch kind {
		case 0x00:
			_, err = c.u32("imported function type")
			r.funcs++
		case 0x01:
			err = r.table(c, site{kind: "import", i: i})
		case 0x02:
			err = c.limits()
			r.hasMemory = true
		case 0x03:
			if err = c.valType(site{kind: "import", i: i}); err == nil {
				err = c.mutability()
			}
			r.globals++
		default:
			c.p--
			err = c.errorf("import %d has unsupported kind 0x%02x", i, kind)
		}
		if err != nil {
			return err
		}
	}
	return c.done()
}

func (c *cursor) mutability() error {
	m, err := c.byte("global mutability")
	if err == nil && m > 1 {
		c.p--
		err = c.errorf("invalid global mutability 0x%02x", m)
	}
	return err
}

func (r *rewriter) scanTables(s section) error {
	c := r.cursor(s)
	n, err := c.count("table")
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		if err := r.table(c, site{kind: "table", i: i}); err != nil {
			return err
		}
	}
	return c.done()
}

// addedGlobals are the stop flag S (i32, mutable, 0) and the yield counter
// T (i32, mutable, yieldEvery), with indexes G and G+1.
var addedGlobals = append([]byte{0x7f, 0x01, 0x41, 0x00, 0x0b, 0x7f, 0x01},
	append(appendS32([]byte{0x41}, yieldEvery), 0x0b)...)

// yieldType is the type of $yield, () -> ().
var yieldType = []byte{0x60, 0x00, 0x00}

// yieldEvery is how many checks run between two calls of $yield, that is
// between two exits to Go. An exit is what lets the Go scheduler preempt the
// goroutine (compiled wasm has no preemption points, so a stop-the-world
// would otherwise wait for the guest) and what reads the stop flag. 1000
// checks take about a microsecond in a tight loop, while an exit costs tens
// of nanoseconds.
const yieldEvery = 1000

// buildCheck returns the sequence inserted at loop headers and function
// entries, for counter T and $yield:
//
//	global.get T; i32.const -1; i32.add; global.set T   ;; T--
//	global.get T
//	if; else; call $yield; end                          ;; call when T is 0
//
// Only the call is out of the common path, and $yield holds the rest of the
// slow path once per module, which keeps compiled code (and so compile time
// and wazero's cache) small. wazevo keeps T in a register between the set
// and the get, so the common path is a load, an add, a store and a branch.
// The empty then-branch is deliberate: with "i32.eqz; if; call $yield; end"
// wazevo lays the call out as the fall-through and reloads the values it
// spilled around it at the join, on the common path; with the call in the
// else-branch the reloads stay on the call's path. For the Go guest that is
// about 120 bytes less machine code per check and fewer loads per loop
// iteration, for the same 14 bytes of wasm (plus the call's index).
func (r *rewriter) buildCheck() []byte {
	tick, yield := r.globals+1, r.funcs+r.defined
	var b []byte
	b = appendU32(append(b, 0x23), tick)
	b = append(b, 0x41, 0x7f, 0x6a) // i32.const -1; i32.add
	b = appendU32(append(b, 0x24), tick)
	b = appendU32(append(b, 0x23), tick)
	b = append(b, 0x04, 0x40, 0x05) // if; else
	b = appendU32(append(b, 0x10), yield)
	return append(b, 0x0b) // end
}

// yieldBody returns the body of $yield, size prefix included, for stop flag
// S and counter T:
//
//	i32.const 0; memory.grow 0; drop      ;; exit to Go: a preemption point
//	i32.const yieldEvery; global.set T
//	global.get S; if; unreachable; end    ;; stop when the flag is set
//
// A module without a memory (which the host rejects anyway) gets the flag
// test without the exit.
func (r *rewriter) yieldBody() []byte {
	stop, tick := r.globals, r.globals+1
	b := []byte{0x00} // no locals
	if r.hasMemory {
		b = append(b, 0x41, 0x00, 0x40, 0x00, 0x1a) // i32.const 0; memory.grow 0; drop
	}
	b = appendS32(append(b, 0x41), yieldEvery)
	b = appendU32(append(b, 0x24), tick)
	b = appendU32(append(b, 0x23), stop)
	b = append(b, 0x04, 0x40, 0x00, 0x0b, 0x0b) // if; unreachable; end; end
	return append(appendU32(nil, uint32(len(b))), b...)
}

// scanTypes checks the type section and returns the number of types it
// defines, counting each member of a recursion group (0x4e, which wazero
// accepts) as wazero does, since that number is the index of $yield's type.
func (r *rewriter) scanTypes(s section) (uint32, error) {
	c := r.cursor(s)
	n, err := c.count("type")
	if err != nil {
		return 0, err
	}
	var types uint64
	for i := uint32(0); i < n; i++ {
		m := uint32(1)
		if c.p < len(c.b) && c.b[c.p] == 0x4e {
			c.p++
			if m, err = c.count("recursion group type"); err != nil {
				return 0, err
			}
		}
		for j := uint32(0); j < m; j++ {
			if err := c.funcType(i); err != nil {
				return 0, err
			}
		}
		types += uint64(m)
	}
	// Every entry takes two bytes or more and every type three, so neither
	// count can reach 2^32-1 in a section: the type added still fits.
	return uint32(types), c.done()
}

// funcType skips a function type, 0x60 then parameter and result types.
func (c *cursor) funcType(i uint32) error {
	if b, err := c.byte("function type"); err != nil {
		return err
	} else if b != 0x60 {
		c.p--
		return c.errorf("type %d has invalid form 0x%02x", i, b)
	}
	for k := 0; k < 2; k++ {
		n, err := c.count("value type")
		if err != nil {
			return err
		}
		for j := uint32(0); j < n; j++ {
			if err := c.valType(site{kind: "type", i: i}); err != nil {
				return err
			}
		}
	}
	return nil
}

// scanFunctions checks the function section and returns its length.
func (r *rewriter) scanFunctions(s section) (uint32, error) {
	c := r.cursor(s)
	n, err := c.count("function")
	if err != nil {
		return 0, err
	}
	for i := uint32(0); i < n; i++ {
		if _, err := c.u32("function type index"); err != nil {
			return 0, err
		}
	}
	return n, c.done()
}

// rewriteTypes appends the type section with $yield's type at the end. The
// section was checked by scanTypes.
func (r *rewriter) rewriteTypes(out []byte, s section) []byte {
	n, p, _ := u32(r.in[:s.end], s.start)
	return appendVecSection(out, secType, r.in[p:s.end], n, yieldType, 1)
}

// rewriteFunctions appends the function section with $yield's entry at the
// end. The section was checked by scanFunctions.
func (r *rewriter) rewriteFunctions(out []byte, s section) []byte {
	n, p, _ := u32(r.in[:s.end], s.start)
	return appendVecSection(out, secFunction, r.in[p:s.end], n, appendU32(nil, r.types), 1)
}

func (r *rewriter) rewriteGlobals(out []byte, s section) ([]byte, error) {
	c := r.cursor(s)
	n, err := c.count("global")
	if err != nil {
		return nil, err
	}
	entries := c.p
	for i := uint32(0); i < n; i++ {
		if err := c.valType(site{kind: "global", i: i}); err != nil {
			return nil, err
		}
		if err := c.mutability(); err != nil {
			return nil, err
		}
		if err := r.constExpr(c, site{kind: "global", i: i, role: "initializer"}); err != nil {
			return nil, err
		}
	}
	if err := c.done(); err != nil {
		return nil, err
	}
	return appendVecSection(out, secGlobal, r.in[entries:s.end], n, addedGlobals, 2), nil
}

func (r *rewriter) rewriteExports(out []byte, s section) ([]byte, error) {
	c := r.cursor(s)
	n, err := c.count("export")
	if err != nil {
		return nil, err
	}
	entries := c.p
	for i := uint32(0); i < n; i++ {
		name, err := c.bytes("export name")
		if err != nil {
			return nil, err
		}
		if string(name) == StopExport || string(name) == StartExport {
			return nil, reject("export section: the module already exports %q, a name reserved for the host", name)
		}
		kind, err := c.byte("export kind")
		if err != nil {
			return nil, err
		}
		if kind > 0x04 {
			c.p--
			return nil, c.errorf("export %q has invalid kind 0x%02x", name, kind)
		}
		idx, err := c.u32("export index")
		if err != nil {
			return nil, err
		}
		if kind == 0x03 && idx >= r.globals {
			return nil, reject("export section: export %q refers to global %d; the module has %d globals", name, idx, r.globals)
		}
	}
	if err := c.done(); err != nil {
		return nil, err
	}
	return r.appendExportSection(out, r.in[entries:s.end], n), nil
}

// appendExportSection appends an export section made of the n entries in
// entries followed by the host's exports.
func (r *rewriter) appendExportSection(out, entries []byte, n uint32) []byte {
	extra := make([]byte, 0, 32)
	extra = appendExport(extra, StopExport, 0x03, r.globals)
	n++
	if r.hasStart {
		extra = appendExport(extra, StartExport, 0x00, r.startFunc)
		n++
	}
	size := u32Len(n) + len(entries) + len(extra)
	out = append(out, secExport)
	out = appendU32(out, uint32(size))
	out = appendU32(out, n)
	out = append(out, entries...)
	return append(out, extra...)
}

func appendExport(dst []byte, name string, kind byte, idx uint32) []byte {
	dst = appendU32(dst, uint32(len(name)))
	dst = append(dst, name...)
	dst = append(dst, kind)
	return appendU32(dst, idx)
}

// scanElements checks the constant expressions of all eight element segment
// forms (flags 0-7) for references to the stop global.
func (r *rewriter) scanElements(s section) error {
	c := r.cursor(s)
	n, err := c.count("element segment")
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		flags, err := c.u32("element segment flags")
		if err != nil {
			return err
		}
		if flags > 7 {
			return c.errorf("element segment %d has invalid flags %d", i, flags)
		}
		// Bit 0: passive or declarative; bit 1: explicit table index (when
		// active) or declarative; bit 2: expressions instead of indices.
		active := flags&1 == 0
		if active && flags&2 != 0 {
			if _, err := c.u32("element segment table index"); err != nil {
				return err
			}
		}
		if active {
			if err := r.constExpr(c, site{kind: "element segment", i: i, role: "offset"}); err != nil {
				return err
			}
		}
		exprs := flags&4 != 0
		if flags&3 != 0 { // element kind or reference type
			if exprs {
				p, ok := refType(c.b, c.p)
				if !ok {
					return c.errorf("element segment %d has an invalid reference type", i)
				}
				c.p = p
			} else {
				k, err := c.byte("element kind")
				if err != nil {
					return err
				}
				if k != 0x00 {
					c.p--
					return c.errorf("element segment %d has invalid element kind 0x%02x", i, k)
				}
			}
		}
		m, err := c.count("element")
		if err != nil {
			return err
		}
		for j := uint32(0); j < m; j++ {
			if exprs {
				err = r.constExpr(c, site{kind: "element segment", i: i, role: "item", j: j})
			} else {
				_, err = c.u32("element function index")
			}
			if err != nil {
				return err
			}
		}
	}
	return c.done()
}

// scanData checks the offsets of data segments (flags 0, 1, 2).
func (r *rewriter) scanData(s section) error {
	c := r.cursor(s)
	n, err := c.count("data segment")
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		flags, err := c.u32("data segment flags")
		if err != nil {
			return err
		}
		switch flags {
		case 0, 2:
			if flags == 2 {
				if _, err := c.u32("data segment memory index"); err != nil {
					return err
				}
			}
			if err := r.constExpr(c, site{kind: "data segment", i: i, role: "offset"}); err != nil {
				return err
			}
		case 1:
		default:
			return c.errorf("data segment %d has invalid flags %d", i, flags)
		}
		if _, err := c.bytes("data segment"); err != nil {
			return err
		}
	}
	return c.done()
}

// constExpr skips a constant expression, rejecting a global.get of the stop
// global. It accepts what wazero's decoder accepts with CoreFeaturesV2, plus
// the extended-const arithmetic, which has no immediates.
func (r *rewriter) constExpr(c *cursor, what site) error {
	b := c.b
	for {
		if c.p >= len(b) {
			return c.errorf("%s: missing end", what)
		}
		op := b[c.p]
		at := c.p
		p, ok := c.p+1, true
		switch op {
		case 0x0b: // end
			c.p = p
			return nil
		case 0x41: // i32.const
			p, ok = skip(b, p, 5)
		case 0x42: // i64.const
			p, ok = skip(b, p, 10)
		case 0x43: // f32.const
			p += 4
			ok = p <= len(b)
		case 0x44: // f64.const
			p += 8
			ok = p <= len(b)
		case 0x23: // global.get
			var idx uint32
			idx, p, ok = u32(b, p)
			if ok && idx >= r.globals {
				return reject("%s: %s references global %d; the module has %d globals", c.where, what, idx, r.globals)
			}
		case 0xd0: // ref.null: an abstract type byte, else a type index
			if p < len(b) && (b[p] == 0x70 || b[p] == 0x6f || b[p] == 0x69) {
				p++
			} else {
				_, p, ok = u32(b, p)
			}
		case 0xd2: // ref.func
			_, p, ok = u32(b, p)
		case 0xfd: // only v128.const, which wazero reads as one opcode byte
			ok = p < len(b) && b[p] == 0x0c
			p += 17
			ok = ok && p <= len(b)
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // extended-const add, sub, mul
		default:
			return c.errorf("%s: opcode 0x%02x is not allowed in a constant expression", what, op)
		}
		if !ok {
			c.p = at
			return c.errorf("%s: truncated or malformed immediate of opcode 0x%02x", what, op)
		}
		c.p = p
	}
}

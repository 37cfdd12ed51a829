// Package instrument rewrites untrusted WebAssembly modules so that the host
// can stop a running invocation cheaply.
//
// wazero can interrupt guests itself (WithCloseOnContextDone), but that makes
// every loop back-edge call into a Go trampoline, which slows tight loops
// 10-20x and costs a goroutine and allocations per call. Instead, Instrument
// adds a mutable i32 global, exported as StopExport, and makes every function
// entry and every loop header test it and trap (unreachable) when it is
// non-zero. The host sets it to 1 from a timer when a deadline passes; the
// guest then traps at its next call or loop iteration.
//
// The guest must not be able to clear the flag, so every instruction and
// constant expression is decoded and any reference to the new global's index
// is rejected. Decoding follows wazero v1.12 with api.CoreFeaturesV2, the
// feature set fnhost compiles with: wherever wazero departs from the
// specification in a way that could make the two disagree about instruction
// boundaries (so that bytes we take for an immediate would run as code), the
// input is rejected rather than guessed at.
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
// interrupted; the deadline only takes effect when the guest next enters a
// function or loop.
package instrument

import (
	"bytes"
	"errors"
	"fmt"
)

// Names of the exports that Instrument adds.
const (
	// StopExport is the added mutable i32 global, initially 0. Setting it to
	// any non-zero value makes the guest trap with "unreachable" at its next
	// function entry or loop iteration.
	StopExport = "fnhost.stop"
	// StartExport is the module's start function, exported when the input
	// had a start section (which Instrument removes).
	StartExport = "fnhost.start"
)

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
	// Checks is the number of checks inserted: one per defined function
	// plus one per loop.
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
// or uses an encoding that wazero decodes differently from the specification.
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
	hasStart  bool
	startFunc uint32
	hasMemory bool   // memory 0 exists, so the check can use memory.grow
	check     []byte // the inserted check sequence
	checks    int

	// Code section layout, filled by scanCode and used by appendCode.
	bodies []body
	loops  []int // input offsets at which a check is inserted, in order
}

type body struct {
	start, locals, end int // size-prefix end, locals end, body end
	loops              int // index into rewriter.loops past this body's loops
}

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
	// The stop global's index must be known before any constant expression
	// is checked, and a table's may come before the global section.
	for _, s := range r.sections {
		var err error
		switch s.id {
		case secImport:
			err = r.scanImports(s)
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
	out := make([]byte, 0, len(wasm)+len(wasm)/8+64)
	out = append(out, preamble...)
	var haveGlobal, haveExport bool
	for _, s := range r.sections {
		if s.id != secCustom {
			if !haveGlobal && rank(s.id) > secGlobal {
				out, haveGlobal = r.appendGlobalSection(out, nil, 0), true
			}
			if !haveExport && rank(s.id) > secExport {
				out, haveExport = r.appendExportSection(out, nil, 0), true
			}
		}
		var err error
		switch s.id {
		case secGlobal:
			out, err = r.rewriteGlobals(out, s)
			haveGlobal = true
		case secExport:
			out, err = r.rewriteExports(out, s)
			haveExport = true
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
	}
	if !haveGlobal {
		out = r.appendGlobalSection(out, nil, 0)
	}
	if !haveExport {
		out = r.appendExportSection(out, nil, 0)
	}
	return &Result{Wasm: out, HasStart: r.hasStart, Checks: r.checks}, nil
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

// addedGlobals are the stop flag (i32, mutable, 0) and the yield counter
// (i32, mutable, yieldEvery).
var addedGlobals = append([]byte{0x7f, 0x01, 0x41, 0x00, 0x0b, 0x7f, 0x01},
	append(appendS32([]byte{0x41}, yieldEvery), 0x0b)...)

// yieldEvery is how many checks run between two exits to Go. An exit is
// what lets the Go scheduler preempt the goroutine (compiled wasm has no
// preemption points, so a stop-the-world would otherwise wait for the guest)
// and what reads the stop flag. 1000 checks take about a microsecond in a
// tight loop, while an exit costs tens of nanoseconds.
const yieldEvery = 1000

// buildCheck returns the sequence inserted at function entries and loop
// headers, for stop flag S and counter T:
//
//	global.get T; i32.const -1; i32.add; global.set T   ;; T--
//	global.get T; i32.eqz
//	if
//	  i32.const 0; memory.grow 0; drop                    ;; exit to Go: a preemption point
//	  i32.const yieldEvery; global.set T
//	  global.get S; if; unreachable; end                  ;; stop when the flag is set
//	end
//
// wazevo keeps T in a register between the set and the get, so the common
// path is a load, an add, a store and a branch. A module without a memory
// (which the host rejects anyway) gets the flag test without the exit.
func (r *rewriter) buildCheck() []byte {
	stop, tick := r.globals, r.globals+1
	var b []byte
	b = appendU32(append(b, 0x23), tick)
	b = append(b, 0x41, 0x7f, 0x6a) // i32.const -1; i32.add
	b = appendU32(append(b, 0x24), tick)
	b = appendU32(append(b, 0x23), tick)
	b = append(b, 0x45, 0x04, 0x40) // i32.eqz; if
	if r.hasMemory {
		b = append(b, 0x41, 0x00, 0x40, 0x00, 0x1a) // i32.const 0; memory.grow 0; drop
	}
	b = appendS32(append(b, 0x41), yieldEvery)
	b = appendU32(append(b, 0x24), tick)
	b = appendU32(append(b, 0x23), stop)
	b = append(b, 0x04, 0x40, 0x00, 0x0b) // if; unreachable; end
	return append(b, 0x0b)                // end
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
	return r.appendGlobalSection(out, r.in[entries:s.end], n), nil
}

// appendGlobalSection appends a global section made of the n entries in
// entries followed by the added globals, and builds the check sequence now
// that their indexes are known.
func (r *rewriter) appendGlobalSection(out, entries []byte, n uint32) []byte {
	r.check = r.buildCheck()
	size := u32Len(n+2) + len(entries) + len(addedGlobals)
	out = append(out, secGlobal)
	out = appendU32(out, uint32(size))
	out = appendU32(out, n+2)
	out = append(out, entries...)
	return append(out, addedGlobals...)
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

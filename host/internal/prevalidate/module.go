package prevalidate

import (
	"bytes"
	"fmt"
)

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

// rank gives the position a non-custom section must have; the data count
// section (12) sits between element (9) and code (10).
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

// limits are Limits resolved against the defaults, as uint64 so that
// comparisons with decoded values cannot overflow.
type limits struct {
	moduleBytes, types, params, imports, functions, tables, tableSize,
	memoryPages, globals, exports, elementSegments, elementItems,
	dataSegments, dataBytes, bodyBytes, locals, totalLocals, nesting,
	brTableTargets, branches, branchCost, customBytes, customSections uint64
}

func (c *checker) setLimits(l Limits) {
	d := DefaultLimits()
	pick := func(v, def int) uint64 {
		if v <= 0 {
			return uint64(def)
		}
		return uint64(v)
	}
	c.lim = limits{
		moduleBytes:     pick(l.ModuleBytes, d.ModuleBytes),
		types:           pick(l.Types, d.Types),
		params:          pick(l.Params, d.Params),
		imports:         pick(l.Imports, d.Imports),
		functions:       pick(l.Functions, d.Functions),
		tables:          pick(l.Tables, d.Tables),
		tableSize:       pick(l.TableSize, d.TableSize),
		memoryPages:     pick(l.MemoryPages, d.MemoryPages),
		globals:         pick(l.Globals, d.Globals),
		exports:         pick(l.Exports, d.Exports),
		elementSegments: pick(l.ElementSegments, d.ElementSegments),
		elementItems:    pick(l.ElementItems, d.ElementItems),
		dataSegments:    pick(l.DataSegments, d.DataSegments),
		dataBytes:       pick(l.DataBytes, d.DataBytes),
		bodyBytes:       pick(l.BodyBytes, d.BodyBytes),
		locals:          pick(l.Locals, d.Locals),
		totalLocals:     pick(l.TotalLocals, d.TotalLocals),
		nesting:         pick(l.Nesting, d.Nesting),
		brTableTargets:  pick(l.BrTableTargets, d.BrTableTargets),
		branches:        pick(l.Branches, d.Branches),
		branchCost:      pick(l.BranchCost, d.BranchCost),
		customBytes:     pick(l.CustomBytes, d.CustomBytes),
		customSections:  pick(l.CustomSections, d.CustomSections),
	}
}

// checker holds the state of one pass. Besides what the checks need, it
// keeps maxima (the stats fields) for tests and for choosing limits.
type checker struct {
	in  []byte
	lim limits

	// Totals so far.
	imports, funcs, tables, globals  uint64
	elemItems, dataBytes, customSize uint64
	customCount                      uint64
	totalLocals, branchCost          uint64
	importedFuncs                    uint64
	growLimit                        uint64 // the largest table maximum, 2^32-1 when one has none
	hasName                          bool

	stats
}

// stats describes the largest things a module has; tests read it.
type stats struct {
	types, exports, dataSegments, elemSegments, bodies      uint64
	maxBody, maxLocals, maxNesting, maxBrTable, maxBranches uint64
	brTables, brTargets, maxTableMin, maxParams             uint64
	tableGrow                                               bool
}

func (c *checker) tooMany(limit string, value, lim uint64, where string) error {
	return &LimitError{Limit: limit, Value: value, Max: lim, Where: where}
}

func (c *checker) module() error {
	in := c.in
	if uint64(len(in)) > c.lim.moduleBytes {
		return c.tooMany("ModuleBytes", uint64(len(in)), c.lim.moduleBytes, "module")
	}
	if len(in) < len(preamble) || !bytes.Equal(in[:4], preamble[:4]) {
		return &FormatError{Where: "module", Offset: -1, Msg: "not a WebAssembly module: bad magic number"}
	}
	if !bytes.Equal(in[4:8], preamble[4:]) {
		return &FormatError{Where: "module", Offset: -1, Msg: fmt.Sprintf("unsupported WebAssembly binary version %x", in[4:8])}
	}
	last := 0
	for p := len(preamble); p < len(in); {
		hdr, id := p, in[p]
		if id > secDataCount {
			return &FormatError{Where: "module", Offset: hdr, Msg: fmt.Sprintf("unknown section id %d", id)}
		}
		where := sectionNames[id]
		size, q, ok := u32(in, p+1)
		if !ok {
			return &FormatError{Where: where, Offset: p + 1, Msg: "truncated or malformed section size"}
		}
		if uint64(size) > uint64(len(in)-q) {
			return &FormatError{Where: where, Offset: p + 1, Msg: fmt.Sprintf("size %d runs past the end of the module", size)}
		}
		p = q + int(size)
		if id != secCustom {
			if rank(id) <= last {
				return &FormatError{Where: where, Offset: hdr, Msg: "duplicate or out of order"}
			}
			last = rank(id)
		}
		r := &reader{b: in[:p], p: q, where: where}
		var err error
		switch id {
		case secCustom:
			err = c.custom(r)
		case secType:
			err = c.typeSection(r)
		case secImport:
			err = c.importSection(r)
		case secFunction:
			err = c.functionSection(r)
		case secTable:
			err = c.tableSection(r)
		case secMemory:
			err = c.memorySection(r)
		case secGlobal:
			err = c.globalSection(r)
		case secExport:
			err = c.exportSection(r)
		case secStart:
			_, err = r.u32("start function index")
		case secElement:
			err = c.elementSection(r)
		case secCode:
			err = c.codeSection(r)
		case secData:
			err = c.dataSection(r)
		case secDataCount:
			var n uint32
			if n, err = r.u32("data count"); err == nil && uint64(n) > c.lim.dataSegments {
				err = c.tooMany("DataSegments", uint64(n), c.lim.dataSegments, where)
			}
		}
		if err == nil {
			err = r.done()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// reader reads one section's content (or a part of it): b ends where the
// section does, so nothing is read across its end.
type reader struct {
	b     []byte
	p     int
	where string
}

func (r *reader) errorf(at int, format string, args ...any) error {
	return &FormatError{Where: r.where, Offset: at, Msg: fmt.Sprintf(format, args...)}
}

func (r *reader) u32(what string) (uint32, error) {
	v, p, ok := u32(r.b, r.p)
	if !ok {
		return 0, r.errorf(r.p, "truncated or malformed %s", what)
	}
	r.p = p
	return v, nil
}

func (r *reader) byte(what string) (byte, error) {
	if r.p >= len(r.b) {
		return 0, r.errorf(r.p, "truncated %s", what)
	}
	r.p++
	return r.b[r.p-1], nil
}

// skipBytes skips a length-prefixed byte vector (a name or a data
// segment) and returns its length.
func (r *reader) skipBytes(what string) (uint32, error) {
	n, p, ok := u32(r.b, r.p)
	if !ok {
		return 0, r.errorf(r.p, "truncated or malformed %s length", what)
	}
	if uint64(n) > uint64(len(r.b)-p) {
		return 0, r.errorf(r.p, "%s of %d bytes runs past the end of the section", what, n)
	}
	r.p = p + int(n)
	return n, nil
}

// count reads a vector length and checks it, first against the limit
// (limit == "" for none), then against the bytes left: every entry takes
// at least minSize bytes. Either way a huge count is refused before any
// entry is read.
func (r *reader) count(what, limit string, prior, lim uint64, minSize int) (uint32, error) {
	at := r.p
	n, p, ok := u32(r.b, r.p)
	if !ok {
		return 0, r.errorf(at, "truncated or malformed %s count", what)
	}
	r.p = p
	if limit != "" && prior+uint64(n) > lim {
		return 0, &LimitError{Limit: limit, Value: prior + uint64(n), Max: lim, Where: r.where}
	}
	if uint64(n)*uint64(minSize) > uint64(len(r.b)-r.p) {
		return 0, r.errorf(at, "%s count %d exceeds the section size", what, n)
	}
	return n, nil
}

func (r *reader) done() error {
	if r.p != len(r.b) {
		return r.errorf(r.p, "%d unexpected bytes at the end of the section", len(r.b)-r.p)
	}
	return nil
}

func (r *reader) valType(what string, i uint32) error {
	p, ok := valType(r.b, r.p)
	if !ok {
		return r.errorf(r.p, "%s %d has an invalid value type", what, i)
	}
	r.p = p
	return nil
}

func (c *checker) typeSection(r *reader) error {
	n, err := r.count("type", "Types", 0, c.lim.types, 2)
	if err != nil {
		return err
	}
	var types uint64
	for i := uint32(0); i < n; i++ {
		m := uint32(1)
		if r.p < len(r.b) && r.b[r.p] == 0x4e { // a recursion group
			r.p++
			if m, err = r.count("recursion group type", "Types", types, c.lim.types, 3); err != nil {
				return err
			}
		}
		if types += uint64(m); types > c.lim.types {
			return c.tooMany("Types", types, c.lim.types, r.where)
		}
		for j := uint32(0); j < m; j++ {
			if err := c.funcType(r, uint32(types)-m+j); err != nil {
				return err
			}
		}
	}
	c.types = types
	return nil
}

// funcType skips a function type, 0x60 then parameter and result types.
func (c *checker) funcType(r *reader, i uint32) error {
	if r.p >= len(r.b) || r.b[r.p] != 0x60 {
		return r.errorf(r.p, "type %d is not a function type", i)
	}
	r.p++
	for k := 0; k < 2; k++ {
		at := r.p
		n, err := r.u32("value type count")
		if err != nil {
			return err
		}
		if uint64(n) > c.lim.params {
			return c.tooMany("Params", uint64(n), c.lim.params, fmt.Sprintf("%s: type %d", r.where, i))
		}
		if uint64(n) > uint64(len(r.b)-r.p) {
			return r.errorf(at, "type %d value type count %d exceeds the section size", i, n)
		}
		c.maxParams = max(c.maxParams, uint64(n))
		for j := uint32(0); j < n; j++ {
			if r.p < len(r.b) && oneByteType[r.b[r.p]] {
				r.p++
			} else if err := r.valType("type", i); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *checker) importSection(r *reader) error {
	// module name, name, kind, index: at least 4 bytes
	n, err := r.count("import", "Imports", 0, c.lim.imports, 4)
	if err != nil {
		return err
	}
	c.imports = uint64(n)
	for i := uint32(0); i < n; i++ {
		if _, err := r.skipBytes("import module name"); err != nil {
			return err
		}
		if _, err := r.skipBytes("import name"); err != nil {
			return err
		}
		kind, err := r.byte("import kind")
		if err != nil {
			return err
		}
		switch kind {
		case 0x00:
			if c.funcs++; c.funcs > c.lim.functions {
				return c.tooMany("Functions", c.funcs, c.lim.functions, r.where)
			}
			_, err = r.u32("imported function type")
		case 0x01:
			err = c.table(r, site{kind: "import", i: i})
		case 0x02:
			err = c.memory(r)
		case 0x03:
			if c.globals++; c.globals > c.lim.globals {
				return c.tooMany("Globals", c.globals, c.lim.globals, r.where)
			}
			if err = r.valType("import", i); err == nil {
				err = r.mutability()
			}
		default:
			err = r.errorf(r.p-1, "import %d has unsupported kind 0x%02x", i, kind)
		}
		if err != nil {
			return err
		}
	}
	c.importedFuncs = c.funcs
	return nil
}

func (r *reader) mutability() error {
	m, err := r.byte("global mutability")
	if err == nil && m > 1 {
		err = r.errorf(r.p-1, "invalid global mutability 0x%02x", m)
	}
	return err
}

func (c *checker) functionSection(r *reader) error {
	n, err := r.count("function", "Functions", c.funcs, c.lim.functions, 1)
	if err != nil {
		return err
	}
	c.funcs += uint64(n)
	for i := uint32(0); i < n; i++ {
		if _, err := r.u32("function type index"); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) tableSection(r *reader) error {
	n, err := r.count("table", "Tables", c.tables, c.lim.tables, 3)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		if err := c.table(r, site{kind: "table", i: i}); err != nil {
			return err
		}
	}
	return nil
}

// table skips a table type, with the optional initializer (0x40 0x00
// prefix) that wazero accepts, and counts it.
func (c *checker) table(r *reader, what site) error {
	if c.tables++; c.tables > c.lim.tables {
		return c.tooMany("Tables", c.tables, c.lim.tables, r.where)
	}
	init := r.p < len(r.b) && r.b[r.p] == 0x40
	if init {
		if r.p+1 >= len(r.b) || r.b[r.p+1] != 0x00 {
			return r.errorf(r.p, "%s has an invalid type", what)
		}
		r.p += 2
	}
	p, ok := refType(r.b, r.p)
	if !ok {
		return r.errorf(r.p, "%s has an invalid element type", what)
	}
	r.p = p
	lo, hi, hasMax, err := r.limits()
	if err != nil {
		return err
	}
	if uint64(lo) > c.lim.tableSize {
		return c.tooMany("TableSize", uint64(lo), c.lim.tableSize, fmt.Sprintf("%s: %s minimum", r.where, what))
	}
	c.maxTableMin = max(c.maxTableMin, uint64(lo))
	if !hasMax {
		hi = 1<<32 - 1
	}
	c.growLimit = max(c.growLimit, uint64(hi))
	if init {
		what.role = "initializer"
		return c.constExpr(r, what)
	}
	return nil
}

func (c *checker) memorySection(r *reader) error {
	n, err := r.count("memory", "", 0, 0, 2)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		if err := c.memory(r); err != nil {
			return err
		}
	}
	return nil
}

// memory checks a memory type's limits.
func (c *checker) memory(r *reader) error {
	lo, hi, hasMax, err := r.limits()
	if err != nil {
		return err
	}
	if uint64(lo) > c.lim.memoryPages {
		return c.tooMany("MemoryPages", uint64(lo), c.lim.memoryPages, r.where+": memory minimum")
	}
	if hasMax && uint64(hi) > c.lim.memoryPages {
		return c.tooMany("MemoryPages", uint64(hi), c.lim.memoryPages, r.where+": memory maximum")
	}
	return nil
}

// limits reads a limits flag (0-3: bit 0 a maximum follows, bit 1 shared),
// a minimum and an optional maximum.
func (r *reader) limits() (lo, hi uint32, hasMax bool, err error) {
	flag, err := r.byte("limits flag")
	if err != nil {
		return 0, 0, false, err
	}
	if flag > 3 {
		return 0, 0, false, r.errorf(r.p-1, "invalid limits flag 0x%02x", flag)
	}
	if lo, err = r.u32("limits minimum"); err != nil {
		return 0, 0, false, err
	}
	if flag&1 != 0 {
		hi, err = r.u32("limits maximum")
		hasMax = true
	}
	return lo, hi, hasMax, err
}

func (c *checker) globalSection(r *reader) error {
	// type, mutability, at least one byte of initializer.
	n, err := r.count("global", "Globals", c.globals, c.lim.globals, 3)
	if err != nil {
		return err
	}
	c.globals += uint64(n)
	for i := uint32(0); i < n; i++ {
		if err := r.valType("global", i); err != nil {
			return err
		}
		if err := r.mutability(); err != nil {
			return err
		}
		if err := c.constExpr(r, site{kind: "global", i: i, role: "initializer"}); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) exportSection(r *reader) error {
	n, err := r.count("export", "Exports", 0, c.lim.exports, 3)
	if err != nil {
		return err
	}
	c.exports = uint64(n)
	for i := uint32(0); i < n; i++ {
		if _, err := r.skipBytes("export name"); err != nil {
			return err
		}
		kind, err := r.byte("export kind")
		if err != nil {
			return err
		}
		if kind > 0x04 {
			return r.errorf(r.p-1, "export %d has invalid kind 0x%02x", i, kind)
		}
		if _, err := r.u32("export index"); err != nil {
			return err
		}
	}
	return nil
}

// elementSection checks all eight element segment forms (flags 0-7).
func (c *checker) elementSection(r *reader) error {
	n, err := r.count("element segment", "ElementSegments", 0, c.lim.elementSegments, 2)
	if err != nil {
		return err
	}
	c.elemSegments = uint64(n)
	for i := uint32(0); i < n; i++ {
		flags, err := r.u32("element segment flags")
		if err != nil {
			return err
		}
		if flags > 7 {
			return r.errorf(r.p-1, "element segment %d has invalid flags %d", i, flags)
		}
		// Bit 0: passive or declarative; bit 1: explicit table index (when
		// active) or declarative; bit 2: expressions instead of indices.
		active := flags&1 == 0
		if active && flags&2 != 0 {
			if _, err := r.u32("element segment table index"); err != nil {
				return err
			}
		}
		if active {
			if err := c.constExpr(r, site{kind: "element segment", i: i, role: "offset"}); err != nil {
				return err
			}
		}
		exprs := flags&4 != 0
		if flags&3 != 0 { // element kind or reference type
			if exprs {
				p, ok := refType(r.b, r.p)
				if !ok {
					return r.errorf(r.p, "element segment %d has an invalid reference type", i)
				}
				r.p = p
			} else {
				k, err := r.byte("element kind")
				if err != nil {
					return err
				}
				if k != 0x00 {
					return r.errorf(r.p-1, "element segment %d has invalid element kind 0x%02x", i, k)
				}
			}
		}
		m, err := r.count("element", "ElementItems", c.elemItems, c.lim.elementItems, 1)
		if err != nil {
			return err
		}
		c.elemItems += uint64(m)
		for j := uint32(0); j < m; j++ {
			if exprs {
				err = c.constExpr(r, site{kind: "element segment", i: i, role: "item"})
			} else {
				_, err = r.u32("element function index")
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *checker) dataSection(r *reader) error {
	n, err := r.count("data segment", "DataSegments", 0, c.lim.dataSegments, 2)
	if err != nil {
		return err
	}
	c.dataSegments = uint64(n)
	for i := uint32(0); i < n; i++ {
		flags, err := r.u32("data segment flags")
		if err != nil {
			return err
		}
		switch flags {
		case 0, 2:
			if flags == 2 {
				if _, err := r.u32("data segment memory index"); err != nil {
					return err
				}
			}
			if err := c.constExpr(r, site{kind: "data segment", i: i, role: "offset"}); err != nil {
				return err
			}
		case 1:
		default:
			return r.errorf(r.p-1, "data segment %d has invalid flags %d", i, flags)
		}
		at := r.p
		size, err := r.skipBytes("data segment")
		if err != nil {
			return err
		}
		if c.dataBytes += uint64(size); c.dataBytes > c.lim.dataBytes {
			return c.tooMany("DataBytes", c.dataBytes, c.lim.dataBytes, fmt.Sprintf("%s: segment %d at offset %d", r.where, i, at))
		}
	}
	return nil
}

// constExpr skips a constant expression as wazero's decoder accepts it with
// CoreFeaturesV2, plus the extended-const arithmetic (no immediates).
func (c *checker) constExpr(r *reader, what site) error {
	b := r.b
	for {
		if r.p >= len(b) {
			return r.errorf(r.p, "%s: missing end", what)
		}
		op := b[r.p]
		at := r.p
		p, ok := r.p+1, true
		switch op {
		case 0x0b: // end
			r.p = p
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
		case 0x23, 0xd2: // global.get, ref.func
			_, p, ok = u32(b, p)
		case 0xd0: // ref.null: an abstract type byte, else a type index
			if p < len(b) && (b[p] == 0x70 || b[p] == 0x6f || b[p] == 0x69) {
				p++
			} else {
				_, p, ok = u32(b, p)
			}
		case 0xfd: // only v128.const, which wazero reads as one opcode byte
			ok = p < len(b) && b[p] == 0x0c
			p += 17
			ok = ok && p <= len(b)
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // extended-const add, sub, mul
		default:
			return r.errorf(at, "%s: opcode 0x%02x is not allowed in a constant expression", what, op)
		}
		if !ok {
			return r.errorf(at, "%s: truncated or malformed immediate of opcode 0x%02x", what, op)
		}
		r.p = p
	}
}

// site names a place in a section for error messages. It is formatted only
// when there is an error, so that checking does not allocate.
type site struct {
	kind string // "global", "element segment", ...
	i    uint32
	role string // "initializer", "offset", "item" or empty
}

func (s site) String() string {
	if s.role == "" {
		return fmt.Sprintf("%s %d", s.kind, s.i)
	}
	return fmt.Sprintf("%s %d %s", s.kind, s.i, s.role)
}

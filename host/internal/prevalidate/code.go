package prevalidate

import "fmt"

// Immediate layouts of single-byte opcodes, as in package instrument.
const (
	opInvalid = iota
	opNone
	opElse
	opBlock // block, loop, if: a block type, one level deeper
	opEnd
	opIndex  // one u32
	opBr     // br, br_if: one u32, a branch
	opCall   // call: one u32; the rewrite adds a check to the function
	opIndex2 // two u32 (call_indirect)
	opBrTable
	opMemarg
	opZero // memory.size, memory.grow: the reserved byte 0x00
	opI32
	opI64
	opF32
	opF64
	opSelectT
	opRefNull
	opMisc // 0xfc prefix
	opSIMD // 0xfd prefix
)

var opKinds = func() (t [256]uint8) {
	set := func(lo, hi int, k uint8) {
		for i := lo; i <= hi; i++ {
			t[i] = k
		}
	}
	set(0x00, 0x01, opNone) // unreachable, nop
	set(0x02, 0x04, opBlock)
	t[0x05] = opElse
	t[0x0b] = opEnd
	set(0x0c, 0x0d, opBr) // br, br_if
	t[0x0e] = opBrTable
	t[0x0f] = opNone // return
	t[0x10] = opCall
	t[0x11] = opIndex2       // call_indirect
	set(0x1a, 0x1b, opNone)  // drop, select
	t[0x1c] = opSelectT      // select t*
	set(0x20, 0x26, opIndex) // local.get/set/tee, global.get/set, table.get/set
	set(0x28, 0x3e, opMemarg)
	set(0x3f, 0x40, opZero)
	t[0x41] = opI32
	t[0x42] = opI64
	t[0x43] = opF32
	t[0x44] = opF64
	set(0x45, 0xc4, opNone) // numeric and sign-extension operators
	t[0xd0] = opRefNull
	t[0xd1] = opNone  // ref.is_null
	t[0xd2] = opIndex // ref.func
	t[0xfc] = opMisc
	t[0xfd] = opSIMD
	return t
}()

// Immediate layouts of SIMD opcodes (after 0xfd), as in package instrument.
const (
	simdInvalid = iota
	simdNone
	simdMemarg
	simdMemargLane
	simdBytes16 // v128.const, i8x16.shuffle
	simdLane
)

var simdKinds = func() (t [256]uint8) {
	for i := range t {
		t[i] = simdNone
	}
	for i := 0x00; i <= 0x0b; i++ { // loads, v128.store
		t[i] = simdMemarg
	}
	t[0x0c], t[0x0d] = simdBytes16, simdBytes16
	for i := 0x15; i <= 0x22; i++ { // extract_lane, replace_lane
		t[i] = simdLane
	}
	for i := 0x54; i <= 0x5b; i++ { // load_lane, store_lane
		t[i] = simdMemargLane
	}
	t[0x5c], t[0x5d] = simdMemarg, simdMemarg // load32_zero, load64_zero
	for _, op := range []int{0x9a, 0xa2, 0xa5, 0xa6, 0xaf, 0xb0, 0xb2, 0xb3, 0xb4,
		0xbb, 0xc2, 0xc5, 0xc6, 0xcf, 0xd0, 0xd2, 0xd3, 0xd4, 0xe2, 0xee} {
		t[op] = simdInvalid // unassigned
	}
	return t
}()

// checkBranches is what the check that package instrument inserts at each
// loop header, and at the entry of each function that calls, adds to a
// function's Branches: Check counts the code wazero will compile, which is
// the rewritten code. The check is an if/else around a call; measured, a
// loop with its check costs wazero about as much as five br_if (modules at
// the BranchCost limit took 7.5-9 s made of loops, 11.6 s of br_if), so a
// loop counts 1 + 4.
const checkBranches = 4

func (c *checker) codeSection(r *reader) error {
	// A body takes at least 3 bytes: its size, a locals count and end.
	n, err := r.count("function body", "Functions", 0, c.lim.functions, 3)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		at := r.p
		size, err := r.u32("function body size")
		if err != nil {
			return err
		}
		if uint64(size) > c.lim.bodyBytes {
			return c.tooMany("BodyBytes", uint64(size), c.lim.bodyBytes, c.fnWhere(i, at))
		}
		if uint64(size) > uint64(len(r.b)-r.p) {
			return r.errorf(at, "function %d body of %d bytes runs past the end of the section", c.fnIndex(i), size)
		}
		start := r.p
		r.p += int(size)
		c.maxBody = max(c.maxBody, uint64(size))
		if err := c.body(i, start, r.p); err != nil {
			return err
		}
	}
	c.bodies = uint64(n)
	return nil
}

// fnIndex is the function index of the i-th body: bodies follow the
// imported functions.
func (c *checker) fnIndex(i uint32) uint64 { return c.importedFuncs + uint64(i) }

func (c *checker) fnWhere(i uint32, at int) string {
	return fmt.Sprintf("code section: function %d at offset %d", c.fnIndex(i), at)
}

// body checks the body of the i-th defined function, in[start:end]: its
// locals, then every instruction, counting the nesting depth (with a
// counter, not recursion), br_table sizes and branches.
func (c *checker) body(i uint32, start, end int) error {
	b := c.in[:end]
	bodyErr := func(at int, format string, args ...any) error {
		return &FormatError{Where: fmt.Sprintf("code section: function %d", c.fnIndex(i)), Offset: at, Msg: fmt.Sprintf(format, args...)}
	}
	groups, p, ok := u32(b, start)
	if !ok {
		return bodyErr(start, "truncated or malformed locals count")
	}
	// Each group takes at least two bytes.
	if uint64(groups)*2 > uint64(end-p) {
		return bodyErr(start, "locals count %d exceeds the body size", groups)
	}
	// Each group adds less than 2^32 and there are fewer than 2^32 groups,
	// so the sums cannot overflow 64 bits; the loop stops at the first
	// group past a limit anyway.
	var locals uint64
	for g := uint32(0); g < groups; g++ {
		var n uint32
		at := p
		if p+1 < len(b) && b[p] < 0x80 && oneByteType[b[p+1]] { // the common case
			n = uint32(b[p])
			p += 2
		} else {
			if n, p, ok = u32(b, p); ok {
				p, ok = valType(b, p)
			}
			if !ok {
				return bodyErr(at, "truncated or malformed locals declaration")
			}
		}
		locals += uint64(n)
		if locals > c.lim.locals {
			return c.tooMany("Locals", locals, c.lim.locals, c.fnWhere(i, start))
		}
		if c.totalLocals+locals > c.lim.totalLocals {
			return c.tooMany("TotalLocals", c.totalLocals+locals, c.lim.totalLocals, c.fnWhere(i, start))
		}
	}
	c.totalLocals += locals
	c.maxLocals = max(c.maxLocals, locals)

	// branch counts a control instruction, or a br_table's labels.
	var depth, branches uint64
	calls := false
	branch := func(n uint64, at int) error {
		if branches += n; branches > c.lim.branches {
			return c.tooMany("Branches", branches, c.lim.branches, c.fnWhere(i, at))
		}
		return nil
	}
	for p < len(b) {
		op := b[p]
		kind := opKinds[op]
		if kind == opNone { // most instructions: no immediate, no checks
			p++
			continue
		}
		if (kind == opIndex || kind == opI32 || kind == opCall && calls) && p+1 < len(b) && b[p+1] < 0x80 {
			p += 2 // local.get 0, i32.const 0 and the like
			continue
		}
		at := p
		p++
		switch kind {
		case opElse:
			if err := branch(1, at); err != nil {
				return err
			}
		case opBlock:
			if p, ok = blockType(b, p); !ok {
				return bodyErr(at, "invalid block type")
			}
			if depth++; depth > c.lim.nesting {
				return c.tooMany("Nesting", depth, c.lim.nesting, c.fnWhere(i, at))
			}
			c.maxNesting = max(c.maxNesting, depth)
			n := uint64(1)
			if op == 0x03 { // loop: the rewrite adds a check
				n += checkBranches
			}
			if err := branch(n, at); err != nil {
				return err
			}
		case opEnd:
			if depth == 0 {
				if p != end {
					return bodyErr(p, "%d bytes after the final end", end-p)
				}
				// branches < 2^32 (each takes a byte of a body), so its
				// square fits; the sum is checked without overflowing.
				cost := branches * branches
				if cost > c.lim.branchCost-min(c.branchCost, c.lim.branchCost) {
					return c.tooMany("BranchCost", c.branchCost+cost, c.lim.branchCost, c.fnWhere(i, start))
				}
				c.branchCost += cost
				c.maxBranches = max(c.maxBranches, branches)
				return nil
			}
			depth--
		case opIndex:
			p, ok = skip(b, p, 5)
		case opBr:
			if err := branch(1, at); err != nil {
				return err
			}
			p, ok = skip(b, p, 5)
		case opCall:
			if !calls { // the rewrite adds a check at the function's entry
				calls = true
				if err := branch(checkBranches, at); err != nil {
					return err
				}
			}
			p, ok = skip(b, p, 5)
		case opIndex2: // call_indirect
			if !calls {
				calls = true
				if err := branch(checkBranches, at); err != nil {
					return err
				}
			}
			if p, ok = skip(b, p, 5); ok {
				p, ok = skip(b, p, 5)
			}
		case opBrTable:
			var n uint32
			if n, p, ok = u32(b, p); !ok {
				break
			}
			if uint64(n) > c.lim.brTableTargets {
				return c.tooMany("BrTableTargets", uint64(n), c.lim.brTableTargets, c.fnWhere(i, at))
			}
			if err := branch(uint64(n)+1, at); err != nil {
				return err
			}
			// n labels and the default, a byte or more each.
			if uint64(n) >= uint64(end-p) {
				return bodyErr(at, "br_table of %d labels runs past the end of the body", n)
			}
			c.maxBrTable = max(c.maxBrTable, uint64(n))
			c.brTables++
			c.brTargets += uint64(n)
			for j := uint64(0); j <= uint64(n) && ok; j++ {
				p, ok = skip(b, p, 5)
			}
		case opMemarg:
			if p+1 < len(b) && b[p] < 32 && b[p+1] < 0x80 { // one-byte alignment and offset
				p += 2
			} else {
				p, ok = memarg(b, p)
			}
		case opZero:
			ok = p < end && b[p] == 0x00
			p++
		case opI32:
			p, ok = skip(b, p, 5)
		case opI64:
			p, ok = skip(b, p, 10)
		case opF32:
			p += 4
			ok = p <= end
		case opF64:
			p += 8
			ok = p <= end
		case opSelectT:
			var n uint32
			if n, p, ok = u32(b, p); ok {
				if uint64(n) > uint64(end-p) {
					return bodyErr(at, "select type count %d exceeds the body size", n)
				}
				for j := uint32(0); j < n && ok; j++ {
					if p < len(b) && oneByteType[b[p]] {
						p++
					} else {
						p, ok = valType(b, p)
					}
				}
			}
		case opRefNull:
			ok = p < end && (b[p] == 0x70 || b[p] == 0x6f || b[p] == 0x69)
			p++
		case opMisc:
			var sub uint32
			if sub, p, ok = u32(b, p); !ok {
				break
			}
			switch {
			case sub <= 7: // saturating truncations
			case sub == 8: // memory.init data 0x00
				if p, ok = skip(b, p, 5); ok {
					ok = p < end && b[p] == 0x00
					p++
				}
			case sub == 15: // table.grow
				if c.growLimit > c.lim.tableSize {
					return c.tooMany("TableSize", c.growLimit, c.lim.tableSize, c.fnWhere(i, at)+": table.grow on a module whose tables may grow to")
				}
				c.tableGrow = true
				p, ok = skip(b, p, 5)
			case sub == 9 || sub == 13 || sub == 16 || sub == 17:
				// data.drop, elem.drop, table.size, table.fill
				p, ok = skip(b, p, 5)
			case sub == 10: // memory.copy 0x00 0x00
				ok = p+1 < end && b[p] == 0x00 && b[p+1] == 0x00
				p += 2
			case sub == 11: // memory.fill 0x00
				ok = p < end && b[p] == 0x00
				p++
			case sub == 12 || sub == 14: // table.init, table.copy
				if p, ok = skip(b, p, 5); ok {
					p, ok = skip(b, p, 5)
				}
			default:
				return bodyErr(at, "unknown opcode 0xfc 0x%x", sub)
			}
		case opSIMD:
			if p >= end {
				ok = false
				break
			}
			// wazero reads the SIMD opcode as one byte, though it is a u32
			// LEB128; package instrument refuses the encodings on which the
			// two readings disagree, and so does Check.
			sub := b[p]
			p++
			if simdKinds[sub] == simdInvalid {
				return bodyErr(at, "unknown opcode 0xfd 0x%x", sub)
			}
			if sub >= 0x80 {
				if p >= end || b[p] != 0x01 {
					return bodyErr(at, "SIMD opcode not encoded canonically")
				}
				p++
				break // no opcode from 0x80 on has immediates
			}
			switch simdKinds[sub] {
			case simdMemarg:
				p, ok = memarg(b, p)
			case simdMemargLane:
				if p, ok = memarg(b, p); ok {
					ok = p < end
					p++
				}
			case simdBytes16:
				p += 16
				ok = p <= end
			case simdLane:
				ok = p < end
				p++
			}
		default:
			return bodyErr(at, "unknown opcode 0x%02x", op)
		}
		if !ok {
			return bodyErr(at, "truncated or malformed immediate of opcode 0x%02x", op)
		}
	}
	return bodyErr(end, "body ends without its final end")
}

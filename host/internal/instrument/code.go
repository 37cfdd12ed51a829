package instrument

import (
	"errors"
	"fmt"
)

// Immediate layouts of single-byte opcodes.
const (
	opInvalid = iota
	opNone
	opBlock // block, if: a block type
	opLoop  // a block type, then the inserted check
	opEnd
	opIndex  // one u32
	opIndex2 // two u32 (call_indirect)
	opGlobal // global.get, global.set: a u32 checked against the stop global
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
	t[0x02] = opBlock
	t[0x03] = opLoop
	t[0x04] = opBlock
	t[0x05] = opNone // else
	t[0x0b] = opEnd
	set(0x0c, 0x0d, opIndex) // br, br_if
	t[0x0e] = opBrTable
	t[0x0f] = opNone         // return
	t[0x10] = opIndex        // call
	t[0x11] = opIndex2       // call_indirect
	set(0x1a, 0x1b, opNone)  // drop, select
	t[0x1c] = opSelectT      // select t*
	set(0x20, 0x22, opIndex) // local.get, local.set, local.tee
	set(0x23, 0x24, opGlobal)
	set(0x25, 0x26, opIndex) // table.get, table.set
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

// Immediate layouts of SIMD opcodes (after 0xfd), from wazero's opcode list,
// which matches the final SIMD proposal.
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

// scanCode decodes every function body, recording where checks go.
func (r *rewriter) scanCode(s section) error {
	c := r.cursor(s)
	n, err := c.count("function body")
	if err != nil {
		return err
	}
	r.bodies = make([]body, 0, n)
	for i := uint32(0); i < n; i++ {
		fn := uint64(r.funcs) + uint64(i)
		size, p, ok := u32(c.b, c.p)
		if !ok {
			return c.errorf("truncated or malformed size of function %d", fn)
		}
		if c.p = p; uint64(size) > uint64(len(c.b)-c.p) {
			return c.errorf("function %d body of %d bytes runs past the end of the section", fn, size)
		}
		bd := body{start: c.p, end: c.p + int(size)}
		c.p = bd.end
		if bd.locals, bd.entry, err = r.scanBody(fn, bd.start, bd.end); err != nil {
			return err
		}
		bd.loops = len(r.loops)
		if bd.entry {
			r.checks++
		}
		r.bodies = append(r.bodies, bd)
	}
	r.checks += len(r.loops)
	return c.done()
}

// bodyError formats an error in function fn's body at input offset off.
func bodyError(fn uint64, off int, format string, args ...any) error {
	return fmt.Errorf("code section: function %d: %s at offset %d", fn, fmt.Sprintf(format, args...), off)
}

// scanBody decodes the body of function fn, in[start:end], and returns where
// its locals declarations end and whether it contains a call or
// call_indirect (the tail calls are refused as unknown opcodes). Nesting is
// tracked with a counter, not recursion, so deep nesting costs nothing extra.
func (r *rewriter) scanBody(fn uint64, start, end int) (localsEnd int, calls bool, err error) {
	b := r.in[:end]
	p := start
	groups, p, ok := u32(b, p)
	if !ok {
		return 0, false, bodyError(fn, start, "truncated or malformed locals count")
	}
	var locals uint64
	for i := uint32(0); i < groups; i++ {
		var n uint32
		at := p
		if n, p, ok = u32(b, p); ok {
			p, ok = valType(b, p)
		}
		if !ok {
			return 0, false, bodyError(fn, at, "truncated or malformed locals declaration")
		}
		// Each group adds at most 2^32-1 and we stop once past the limit,
		// so the sum cannot overflow.
		if locals += uint64(n); locals > maxLocals {
			return 0, false, reject("code section: function %d declares more than %d locals", fn, maxLocals)
		}
	}
	localsEnd = p
	depth := 1
	for p < end {
		at := p
		op := b[p]
		p++
		switch opKinds[op] {
		case opNone:
		case opBlock, opLoop:
			if p, ok = blockType(b, p); !ok {
				return 0, false, bodyError(fn, at, "invalid block type")
			}
			depth++
			if op == 0x03 {
				r.loops = append(r.loops, p)
			}
		case opEnd:
			if depth--; depth == 0 {
				if p != end {
					return 0, false, bodyError(fn, p, "%d bytes after the final end", end-p)
				}
				return localsEnd, calls, nil
			}
		case opIndex:
			calls = calls || op == 0x10 // call
			p, ok = skip(b, p, 5)
		case opIndex2: // call_indirect
			calls = true
			if p, ok = skip(b, p, 5); ok {
				p, ok = skip(b, p, 5)
			}
		case opGlobal:
			var idx uint32
			if idx, p, ok = u32(b, p); ok && idx >= r.globals {
				return 0, false, reject("code section: function %d references global %d; the module has %d globals", fn, idx, r.globals)
			}
		case opBrTable:
			var n uint32
			// n+1 labels; each takes at least a byte, so a bogus count
			// fails at the end of the body.
			if n, p, ok = u32(b, p); ok {
				for j := uint64(0); j <= uint64(n) && ok; j++ {
					p, ok = skip(b, p, 5)
				}
			}
		case opMemarg:
			p, ok = memarg(b, p)
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
				for j := uint32(0); j < n && ok; j++ {
					p, ok = valType(b, p)
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
			case sub == 9 || sub == 13 || (sub >= 15 && sub <= 17):
				// data.drop, elem.drop, table.grow, table.size, table.fill
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
				return 0, false, bodyError(fn, at, "unknown opcode 0xfc 0x%x", sub)
			}
		case opSIMD:
			if p >= end {
				ok = false
				break
			}
			// wazero reads the SIMD opcode as a single byte, though the
			// specification makes it a u32 LEB128. They agree only when
			// the opcode is one byte below 0x80, or two bytes with the
			// second 0x01 (wazero then runs that 0x01 as a nop). Any other
			// encoding could make the two disagree about where the next
			// instruction starts, so it is refused.
			sub := b[p]
			p++
			if simdKinds[sub] == simdInvalid {
				v, _, _ := u32(b, p-1)
				return 0, false, bodyError(fn, at, "unknown opcode 0xfd 0x%x", v)
			}
			if sub >= 0x80 {
				if p >= end || b[p] != 0x01 {
					return 0, false, reject("code section: function %d: SIMD opcode at offset %d is not encoded canonically (wazero reads SIMD opcodes as one byte)", fn, at)
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
			if op == 0xfe || op == 0xfb {
				v, _, _ := u32(b, p)
				return 0, false, bodyError(fn, at, "unknown opcode 0x%02x 0x%x", op, v)
			}
			return 0, false, bodyError(fn, at, "unknown opcode 0x%02x", op)
		}
		if !ok {
			return 0, false, bodyError(fn, at, "truncated or malformed immediate of opcode 0x%02x", op)
		}
	}
	return 0, false, bodyError(fn, end, "body ends without its final end")
}

// blockType skips a block type as wazero decodes it: an s33 that is an
// empty or value type, a (ref null? heaptype), or a type index.
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

// memarg skips alignment and offset. wazero refuses alignments of 32 and up;
// refusing them here too keeps a multi-memory encoding (alignment bit 6,
// then a memory index) from ever being read with the wrong length.
func memarg(b []byte, p int) (int, bool) {
	align, p, ok := u32(b, p)
	if !ok || align >= 32 {
		return p, false
	}
	return skip(b, p, 5)
}

// appendCode appends the rewritten code section: each body gets a check
// after each loop's block type and, if it contains a call, after its
// locals; $yield's body comes last.
func (r *rewriter) appendCode(out []byte) ([]byte, error) {
	chk := r.check
	yield := r.yieldBody()
	checks := func(bd body, prev int) int {
		n := bd.loops - prev
		if bd.entry {
			n++
		}
		return n
	}
	if uint64(len(r.bodies)) >= 1<<32-1 {
		return nil, errors.New("code section: too many function bodies")
	}
	size := uint64(u32Len(uint32(len(r.bodies)+1))) + uint64(len(yield))
	prev := 0
	for _, bd := range r.bodies {
		n := uint64(bd.end-bd.start) + uint64(checks(bd, prev))*uint64(len(chk))
		if n > 1<<32-1 {
			return nil, fmt.Errorf("code section: function body at offset %d is too large after rewriting", bd.start)
		}
		size += uint64(u32Len(uint32(n))) + n
		prev = bd.loops
	}
	if size > 1<<32-1 {
		return nil, fmt.Errorf("code section: too large after rewriting")
	}
	out = append(out, secCode)
	out = appendU32(out, uint32(size))
	out = appendU32(out, uint32(len(r.bodies)+1))
	in := r.in
	prev = 0
	for _, bd := range r.bodies {
		n := bd.end - bd.start + checks(bd, prev)*len(chk)
		loops := r.loops[prev:bd.loops]
		prev = bd.loops
		out = appendU32(out, uint32(n))
		out = append(out, in[bd.start:bd.locals]...)
		if bd.entry {
			out = append(out, chk...)
		}
		at := bd.locals
		for _, l := range loops {
			out = append(out, in[at:l]...)
			out = append(out, chk...)
			at = l
		}
		out = append(out, in[at:bd.end]...)
	}
	return append(out, yield...), nil
}

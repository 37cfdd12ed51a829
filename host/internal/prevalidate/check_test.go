package prevalidate

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host/internal/instrument"
	pt "github.com/fnhost/fnhost/host/internal/prevalidate/prevalidatetest"
)

// distDir holds the built guests (make guests).
const distDir = "../../../guests/dist"

// rejectWithin is the bound asserted for one rejection. The target is
// 50 ms for a 32 MiB module; the assertion is generous so that a loaded CI
// machine does not flake. TestBombs logs the real figures.
const rejectWithin = 500 * time.Millisecond

// lifted has every limit out of reach, to test decoding alone.
var lifted = Limits{
	ModuleBytes: 1 << 40, Types: 1 << 40, Params: 1 << 40, Imports: 1 << 40,
	Functions: 1 << 40, Tables: 1 << 40, TableSize: 1 << 40, MemoryPages: 1 << 40,
	Globals: 1 << 40, Exports: 1 << 40, ElementSegments: 1 << 40, ElementItems: 1 << 40,
	DataSegments: 1 << 40, DataBytes: 1 << 40, BodyBytes: 1 << 40, Locals: 1 << 40,
	TotalLocals: 1 << 40, Nesting: 1 << 40, BrTableTargets: 1 << 40, Branches: 1 << 40,
	BranchCost: 1 << 62, CustomBytes: 1 << 40, CustomSections: 1 << 40,
}

// TestBombs: every bomb is refused, quickly, with a one-line error naming
// the limit it passes (or a format error for malformed ones).
func TestBombs(t *testing.T) {
	for _, bomb := range pt.Bombs() {
		t.Run(bomb.Name, func(t *testing.T) {
			wasm := bomb.Build()
			start := time.Now()
			err := Check(wasm, Limits{})
			took := time.Since(start)
			if err == nil {
				t.Fatalf("accepted; want a rejection (%s)", bomb.Limit)
			}
			best := took
			for i := 0; i < 4; i++ {
				start := time.Now()
				_ = Check(wasm, Limits{})
				best = min(best, time.Since(start))
			}
			t.Logf("%d bytes: rejected in %v (best of 5: %v): %v", len(wasm), took, best, err)
			if took > rejectWithin {
				t.Errorf("rejection took %v, want < %v", took, rejectWithin)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("message spans lines: %q", err)
			}
			var le *LimitError
			var fe *FormatError
			switch {
			case bomb.Limit == "" && !errors.As(err, &fe):
				t.Errorf("err = %v (%T), want a *FormatError", err, err)
			case bomb.Limit != "" && !errors.As(err, &le):
				t.Errorf("err = %v (%T), want a *LimitError for %s", err, err, bomb.Limit)
			case bomb.Limit != "" && le.Limit != bomb.Limit:
				t.Errorf("limit = %s (%v), want %s", le.Limit, err, bomb.Limit)
			case bomb.Limit != "" && (le.Value <= le.Max || !strings.Contains(err.Error(), limitUnits[bomb.Limit])):
				t.Errorf("message %q: value %d not over max %d, or limit not named", err, le.Value, le.Max)
			}
			if IsLimit(err) != (bomb.Limit != "") {
				t.Errorf("IsLimit = %v", IsLimit(err))
			}
		})
	}
}

func guests(t testing.TB) map[string][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(distDir, "*.wasm"))
	if len(files) == 0 {
		t.Skip("no guests in " + distDir + ": run `make guests`")
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".wasm")] = b
	}
	return out
}

// TestGuests: every real guest passes with the default limits, with room
// to spare on the limits real code comes near.
func TestGuests(t *testing.T) {
	d := DefaultLimits()
	for name, wasm := range guests(t) {
		t.Run(name, func(t *testing.T) {
			c := checker{in: wasm}
			c.setLimits(Limits{})
			start := time.Now()
			err := c.module()
			took := time.Since(start)
			if name == "invalid" {
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("err = %v, want a *FormatError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			t.Logf("%d bytes in %v: %d functions, largest body %d bytes, %d locals, nesting %d, br_table %d, branches %d, branch cost %d",
				len(wasm), took, c.funcs, c.maxBody, c.maxLocals, c.maxNesting, c.maxBrTable, c.maxBranches, c.branchCost)
			// Headroom: a guest twice as large in each respect still fits.
			for _, h := range []struct {
				what     string
				got, lim uint64
			}{
				{"functions", c.funcs, uint64(d.Functions)},
				{"nesting", c.maxNesting, uint64(d.Nesting)},
				{"branches", c.maxBranches, uint64(d.Branches)},
				{"branch cost", c.branchCost, uint64(d.BranchCost) / 4},
				{"body", c.maxBody, uint64(d.BodyBytes)},
			} {
				if 2*h.got > h.lim {
					t.Errorf("%s: %d is over half the limit %d", h.what, h.got, h.lim)
				}
			}
		})
	}
}

// TestAtLimits: a module exactly at a limit passes and one unit more is
// refused for that limit.
func TestAtLimits(t *testing.T) {
	d := DefaultLimits()
	seq := func(n int) []byte { // n empty blocks in sequence
		return pt.Module(1, [][]byte{pt.Body(nil, append(bytes.Repeat([]byte{0x02, 0x40, 0x0b}, n), 0x0b))}, 0)
	}
	cases := []struct {
		limit string
		at    int
		build func(n int) []byte
	}{
		{"Locals", d.Locals, func(n int) []byte {
			return pt.Module(1, [][]byte{pt.Body([][2]uint64{{uint64(n) / 2, 0x7f}, {uint64(n) - uint64(n)/2, 0x7e}}, []byte{0x0b})}, 0)
		}},
		{"Nesting", d.Nesting, func(n int) []byte { return pt.Module(1, [][]byte{pt.Body(nil, pt.Nest(n, 0x02))}, 0) }},
		{"BrTableTargets", d.BrTableTargets, func(n int) []byte { return pt.Module(1, [][]byte{pt.Body(nil, pt.BrTable(n))}, 0) }},
		{"Branches", d.Branches, seq},
		{"Functions", d.Functions, func(n int) []byte { return pt.Module(n, [][]byte{pt.Body(nil, []byte{0x0b})}, 0) }},
		{"MemoryPages", d.MemoryPages, func(n int) []byte {
			return pt.Module(1, [][]byte{pt.Body(nil, []byte{0x0b})}, uint64(n))
		}},
		{"BodyBytes", d.BodyBytes, func(n int) []byte {
			// locals count (1) + i32.const 0 / drop triples + nops + end
			c := bytes.Repeat([]byte{0x41, 0x00, 0x1a}, (n-2)/3)
			c = append(c, bytes.Repeat([]byte{0x01}, n-2-len(c))...)
			return pt.Module(1, [][]byte{pt.Body(nil, append(c, 0x0b))}, 0)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.limit, func(t *testing.T) {
			if err := Check(tc.build(tc.at), Limits{}); err != nil {
				t.Errorf("at the limit (%d): %v", tc.at, err)
			}
			err := Check(tc.build(tc.at+1), Limits{})
			var le *LimitError
			if !errors.As(err, &le) || le.Limit != tc.limit || le.Value != uint64(tc.at+1) {
				t.Errorf("one over the limit: err = %v, want %s with value %d", err, tc.limit, tc.at+1)
			}
		})
	}
}

// TestZeroMeansDefault: a zero field takes the default, a set one applies.
func TestZeroMeansDefault(t *testing.T) {
	wasm := pt.Module(3, [][]byte{pt.Body(nil, []byte{0x0b})}, 0)
	if err := Check(wasm, Limits{}); err != nil {
		t.Fatal(err)
	}
	err := Check(wasm, Limits{Functions: 2})
	if want := "function section: 3 exceeds the limit of 2 functions per module (imported and defined)"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

// TestAgreesWithInstrument: whatever package instrument (and so wazero)
// decodes, Check decodes too: with the limits lifted it accepts every
// module Instrument accepts. The fuzz target checks the same on random
// input.
func TestAgreesWithInstrument(t *testing.T) {
	files, _ := filepath.Glob("../instrument/testdata/*.wasm")
	mods := guests(t)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		mods["instrument/"+filepath.Base(f)] = b
	}
	for name, wasm := range mods {
		if _, err := instrument.Instrument(wasm); err != nil {
			continue
		}
		if err := Check(wasm, lifted); err != nil {
			t.Errorf("%s: Instrument accepts it, Check with no limits refuses it: %v", name, err)
		}
	}
}

// TestLimitsComplete: every Limits field has a default, a resolved value
// and words for its error message.
func TestLimitsComplete(t *testing.T) {
	d := reflect.ValueOf(DefaultLimits())
	var c checker
	c.setLimits(Limits{})
	resolved := reflect.ValueOf(c.lim)
	if resolved.NumField() != d.NumField() {
		t.Errorf("limits has %d fields, Limits %d", resolved.NumField(), d.NumField())
	}
	for i := 0; i < d.NumField(); i++ {
		name := d.Type().Field(i).Name
		if d.Field(i).Int() <= 0 {
			t.Errorf("DefaultLimits().%s = %d", name, d.Field(i).Int())
		}
		f := resolved.FieldByNameFunc(func(s string) bool { return strings.EqualFold(s, name) })
		if !f.IsValid() || f.Uint() != uint64(d.Field(i).Int()) {
			t.Errorf("%s resolves to %v, want the default %d", name, f, d.Field(i).Int())
		}
		if limitUnits[name] == "" {
			t.Errorf("%s has no words in limitUnits", name)
		}
	}
}

package instrument

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

var ctx = context.Background()

// distDir holds the built guests; tests use whatever is there.
const distDir = "../../../guests/dist"

func newRuntime(t testing.TB) wazero.Runtime {
	t.Helper()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
		WithCoreFeatures(api.CoreFeaturesV2).
		WithMemoryLimitPages(4096))
	t.Cleanup(func() { _ = r.Close(ctx) })
	return r
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustInstrument(t testing.TB, wasm []byte) *Result {
	t.Helper()
	res, err := Instrument(wasm)
	if err != nil {
		t.Fatalf("Instrument: %v", err)
	}
	return res
}

// instantiate compiles and instantiates wasm without running any start
// function export. Function imports from modules the runtime does not have
// yet are stubbed (returning zeros); "env" globals come from testdata/env.wasm.
func instantiate(t testing.TB, r wazero.Runtime, wasm []byte) api.Module {
	t.Helper()
	cm, err := r.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return instantiateCompiled(t, r, cm, wasm)
}

func instantiateCompiled(t testing.TB, r wazero.Runtime, cm wazero.CompiledModule, wasm []byte) api.Module {
	t.Helper()
	stubs := map[string]wazero.HostModuleBuilder{}
	for _, d := range cm.ImportedFunctions() {
		mod, name, _ := d.Import()
		if r.Module(mod) != nil {
			continue
		}
		if stubs[mod] == nil {
			stubs[mod] = r.NewHostModuleBuilder(mod)
		}
		n := len(d.ResultTypes())
		stubs[mod].NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) {
			clear(stack[:n])
		}), d.ParamTypes(), d.ResultTypes()).Export(name)
	}
	for mod, b := range stubs {
		if _, err := b.Instantiate(ctx); err != nil {
			t.Fatalf("stub %s: %v", mod, err)
		}
	}
	if r.Module("env") == nil && bytes.Contains(wasm, []byte("\x03env")) {
		if _, err := r.InstantiateWithConfig(ctx, fixture(t, "env.wasm"), wazero.NewModuleConfig().WithName("env")); err != nil {
			t.Fatalf("env: %v", err)
		}
	}
	m, err := r.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithStartFunctions().WithName(""))
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	return m
}

// stopGlobalOf returns the module's stop flag, checking its type.
func stopGlobalOf(t testing.TB, m api.Module) api.MutableGlobal {
	t.Helper()
	g := m.ExportedGlobal(StopExport)
	if g == nil {
		t.Fatalf("no %s export", StopExport)
	}
	mg, ok := g.(api.MutableGlobal)
	if !ok || g.Type() != api.ValueTypeI32 {
		t.Fatalf("%s is %v (mutable %v), want a mutable i32", StopExport, api.ValueTypeName(g.Type()), ok)
	}
	if v := mg.Get(); v != 0 {
		t.Fatalf("%s starts at %d, want 0", StopExport, v)
	}
	return mg
}

func TestFixtures(t *testing.T) {
	tests := []struct {
		name     string
		checks   int
		hasStart bool
	}{
		// Checks: loops, plus functions that contain a call or call_indirect.
		{"loop.wasm", 2, false},
		{"nested.wasm", 2, false},
		{"start.wasm", 1, true},
		{"start-init.wasm", 0, true},
		{"noglobal.wasm", 0, false},
		{"noexport.wasm", 1, false},
		{"imported-globals.wasm", 0, false},
		{"simd.wasm", 1, false},
		{"bulk.wasm", 1, false}, // call_indirect in run
		{"brtable.wasm", 1, false},
		{"multivalue.wasm", 1 + 1, false}, // run calls $swap
		{"select.wasm", 0, false},
		{"reffunc.wasm", 1, false}, // call_indirect in run
		{"fib.wasm", 1, false},
		{"named.wasm", 1, false},
		{"memory.wasm", 2 + 2, false}, // count, indirect; fill, spin
		{"nocode.wasm", 0, false},
		{"mutual.wasm", 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fixture(t, tt.name)
			orig := slices.Clone(in)
			res := mustInstrument(t, in)
			if !bytes.Equal(in, orig) {
				t.Fatal("Instrument modified its input")
			}
			if res.Checks != tt.checks || res.HasStart != tt.hasStart {
				t.Errorf("Checks, HasStart = %d, %v; want %d, %v", res.Checks, res.HasStart, tt.checks, tt.hasStart)
			}
			m := instantiate(t, newRuntime(t), res.Wasm)
			stopGlobalOf(t, m)
			if fn := m.ExportedFunction(StartExport); (fn != nil) != tt.hasStart {
				t.Errorf("%s exported: %v, want %v", StartExport, fn != nil, tt.hasStart)
			}
		})
	}
}

// TestGolden compares outputs with modules written by hand in testdata/*.want.wat.
func TestGolden(t *testing.T) {
	for _, name := range []string{"noglobal", "loop", "start", "memory", "nocode"} {
		t.Run(name, func(t *testing.T) {
			got := mustInstrument(t, fixture(t, name+".wasm")).Wasm
			if want := fixture(t, name+".want.wasm"); !bytes.Equal(got, want) {
				t.Errorf("output differs from %s.want.wasm\n got %x\nwant %x", name, got, want)
			}
		})
	}
}

// TestGuests instruments every built guest: each must compile and instantiate
// with the stop global exported, and Go guests must still initialise.
func TestGuests(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(distDir, "*.wasm"))
	if len(paths) == 0 {
		t.Skip("no guests in " + distDir)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			in, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r := newRuntime(t)
			res, err := Instrument(in)
			var cm wazero.CompiledModule
			if err == nil {
				cm, err = r.CompileModule(ctx, res.Wasm)
			}
			if err != nil {
				// Only invalid guests (invalid.wasm, hugemem.wasm over the
				// memory limit) may fail, and they must be invalid before
				// rewriting too.
				if _, origErr := r.CompileModule(ctx, in); origErr == nil {
					t.Fatalf("the original compiles, but: %v", err)
				}
				t.Logf("invalid guest: %v", err)
				return
			}
			t.Logf("%d bytes -> %d, %d checks, start %v", len(in), len(res.Wasm), res.Checks, res.HasStart)
			if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
				t.Fatal(err)
			}
			m := instantiateCompiled(t, r, cm, res.Wasm)
			stopGlobalOf(t, m)
			if init := m.ExportedFunction("_initialize"); init != nil && strings.HasSuffix(path, "-go.wasm") {
				if _, err := init.Call(ctx); err != nil {
					t.Fatalf("_initialize: %v", err)
				}
				t.Log("_initialize ran")
			}
		})
	}
}

// callUntilStopped calls fn, sets stop after 50ms, and checks that fn traps
// promptly.
func callUntilStopped(t *testing.T, fn api.Function, stop api.MutableGlobal, args ...uint64) {
	t.Helper()
	start := time.Now() // before the timer, which may fire 50ms after it
	timer := time.AfterFunc(50*time.Millisecond, func() { stop.Set(1) })
	defer timer.Stop()
	done := make(chan error, 1)
	go func() {
		_, err := fn.Call(ctx, args...)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "unreachable") {
			t.Fatalf("call returned %v, want an unreachable trap", err)
		}
		if d := time.Since(start); d < 50*time.Millisecond || d > time.Second {
			t.Fatalf("call returned after %v, want between 50ms and 1s", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("call still running 10s after start; the stop flag did not stop it")
	}
}

func TestStopLoop(t *testing.T) {
	m := instantiate(t, newRuntime(t), mustInstrument(t, fixture(t, "loop.wasm")).Wasm)
	callUntilStopped(t, m.ExportedFunction("run"), stopGlobalOf(t, m))
}

func TestStopRecursion(t *testing.T) {
	m := instantiate(t, newRuntime(t), mustInstrument(t, fixture(t, "fib.wasm")).Wasm)
	callUntilStopped(t, m.ExportedFunction("fib"), stopGlobalOf(t, m), 90)
}

// TestStopMutualRecursion stops a cycle of two functions without loops,
// where one call is a call_indirect.
func TestStopMutualRecursion(t *testing.T) {
	m := instantiate(t, newRuntime(t), mustInstrument(t, fixture(t, "mutual.wasm")).Wasm)
	callUntilStopped(t, m.ExportedFunction("fib"), stopGlobalOf(t, m), 90)
}

// TestStopLoopWithMemory stops a loop in a module with a memory, where
// $yield also exits to Go with memory.grow.
func TestStopLoopWithMemory(t *testing.T) {
	m := instantiate(t, newRuntime(t), mustInstrument(t, fixture(t, "memory.wasm")).Wasm)
	callUntilStopped(t, m.ExportedFunction("spin"), stopGlobalOf(t, m), 0)
}

// TestGCWhileSpinning checks that a guest spinning in a tight loop, with the
// stop flag not set, lets the Go runtime stop the world: compiled wasm has
// no preemption points, so without the exits to Go in $yield, runtime.GC
// would wait for the loop to end.
func TestGCWhileSpinning(t *testing.T) {
	m := instantiate(t, newRuntime(t), mustInstrument(t, fixture(t, "memory.wasm")).Wasm)
	stop := stopGlobalOf(t, m)
	// The loop is bounded (a few seconds at 1-3ns an iteration) so that, should
	// the GC wait for it, the test still ends: while the world is being
	// stopped no timer of this test can fire.
	const iterations = 2e9
	done := make(chan error, 1)
	go func() {
		_, err := m.ExportedFunction("spin").Call(ctx, iterations)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the guest enter the loop
	gcTook := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		runtime.GC()
		gcTook <- time.Since(start)
	}()
	if took := <-gcTook; took > time.Second {
		t.Errorf("runtime.GC took %v while the guest spun, want under 1s", took)
		<-done
		return
	}
	select {
	case err := <-done:
		t.Fatalf("the guest returned (%v) before the GC ended: the test proves nothing", err)
	default:
	}
	stop.Set(1)
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "unreachable") {
			t.Fatalf("spin returned %v, want an unreachable trap", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("spin still running 10s after the stop flag was set")
	}
}

func TestStartRemoved(t *testing.T) {
	res := mustInstrument(t, fixture(t, "start.wasm"))
	if !res.HasStart {
		t.Fatal("HasStart false for a module with a start section")
	}
	r := newRuntime(t)
	got := make(chan api.Module, 1)
	go func() { got <- instantiate(t, r, res.Wasm) }()
	var m api.Module
	select {
	case m = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("instantiation still running after 10s: the start function was not removed")
	}
	start := m.ExportedFunction(StartExport)
	if start == nil {
		t.Fatalf("no %s export", StartExport)
	}
	if out, err := m.ExportedFunction("ok").Call(ctx); err != nil || out[0] != 42 {
		t.Fatalf("ok() = %v, %v", out, err)
	}
	callUntilStopped(t, start, stopGlobalOf(t, m))
}

// TestBehaviourPreserved runs functions of the original and the rewrite.
func TestBehaviourPreserved(t *testing.T) {
	tests := []struct {
		file, fn string
		args     []uint64
		want     uint64 // if not 0, also checked against the original
	}{
		{"loop.wasm", "sum", []uint64{100000}, 5000050000},
		{"nested.wasm", "run", []uint64{100}, 4950 * 4950},
		{"fib.wasm", "fib", []uint64{25}, 75025},
		{"brtable.wasm", "run", []uint64{10}, 0},
		{"multivalue.wasm", "run", []uint64{10}, 0},
		{"simd.wasm", "run", []uint64{1000}, 0},
		{"bulk.wasm", "run", nil, 0},
		{"select.wasm", "run", []uint64{1}, 10},
		{"select.wasm", "run", []uint64{0}, 21},
		{"reffunc.wasm", "run", nil, 6},
		{"imported-globals.wasm", "run", nil, 42},
		{"noglobal.wasm", "f", []uint64{41}, 42},
		{"memory.wasm", "count", []uint64{5000}, 5000},
		{"memory.wasm", "indirect", nil, 'x' | 'y'<<8},
		{"memory.wasm", "spin", []uint64{10000}, 0},
		{"mutual.wasm", "fib", []uint64{20}, 6765},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.fn, func(t *testing.T) {
			orig := fixture(t, tt.file)
			call := func(wasm []byte) []uint64 {
				m := instantiate(t, newRuntime(t), wasm)
				out, err := m.ExportedFunction(tt.fn).Call(ctx, tt.args...)
				if err != nil {
					t.Fatalf("%s%v: %v", tt.fn, tt.args, err)
				}
				return out
			}
			want := call(orig)
			if tt.want != 0 && want[0] != tt.want {
				t.Fatalf("original %s%v = %d, want %d", tt.fn, tt.args, want[0], tt.want)
			}
			if got := call(mustInstrument(t, orig).Wasm); !slices.Equal(got, want) {
				t.Errorf("rewritten %s%v = %v, original %v", tt.fn, tt.args, got, want)
			}
		})
	}
}

// Helpers to assemble modules by hand.

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func leb(v uint32) []byte { return appendU32(nil, v) }

func mod(sections ...[]byte) []byte { return cat(preamble, cat(sections...)) }

func sec(id byte, content ...[]byte) []byte {
	c := cat(content...)
	return cat([]byte{id}, leb(uint32(len(c))), c)
}

func vec(items ...[]byte) []byte { return cat(leb(uint32(len(items))), cat(items...)) }

func str(s string) []byte { return cat(leb(uint32(len(s))), []byte(s)) }

// fnBody is a function body: locals declarations then code (which must end
// with 0x0b).
func fnBody(locals []byte, code ...byte) []byte {
	b := cat(locals, code)
	return cat(leb(uint32(len(b))), b)
}

var (
	typeVoid  = sec(secType, vec([]byte{0x60, 0x00, 0x00}))
	oneFunc   = sec(secFunction, vec([]byte{0x00}))
	noLocals  = vec()
	emptyBody = sec(secCode, vec(fnBody(noLocals, 0x0b)))
	oneGlobal = sec(secGlobal, vec([]byte{0x7f, 0x01, 0x41, 0x00, 0x0b}))
	oneMemory = sec(secMemory, vec([]byte{0x00, 0x01}))
	oneTable  = sec(secTable, vec([]byte{0x70, 0x00, 0x01}))
)

func funcModule(locals []byte, code ...byte) []byte {
	return mod(typeVoid, oneFunc, oneGlobal, sec(secCode, vec(fnBody(locals, code...))))
}

func TestRejections(t *testing.T) {
	tests := []struct {
		name      string
		wasm      []byte
		rejection bool   // refused on purpose rather than malformed
		want      string // substring of the error
	}{
		{"global.set of G", fixture(t, "globalref.wasm"), true,
			"code section: function 0 references global 1; the module has 1 globals"},
		{"global.get of G", funcModule(noLocals, 0x23, 0x01, 0x1a, 0x0b), true, "references global 1"},
		{"global.get past G", funcModule(noLocals, 0x23, 0x05, 0x1a, 0x0b), true, "references global 5"},
		{"global init", mod(sec(secGlobal, vec([]byte{0x7f, 0x00, 0x23, 0x01, 0x0b}))), true,
			"global section: global 0 initializer references global 1; the module has 1 globals"},
		{"elem offset", mod(typeVoid, oneFunc, oneTable, sec(secElement, vec(cat([]byte{0x00, 0x23, 0x00, 0x0b}, vec()))), emptyBody), true,
			"element segment 0 offset references global 0; the module has 0 globals"},
		{"elem item", mod(typeVoid, oneFunc, oneGlobal, sec(secElement, vec(cat([]byte{0x05, 0x70}, vec([]byte{0x23, 0x01, 0x0b})))), emptyBody), true,
			"element segment 0 item 0 references global 1"},
		{"data offset", mod(oneMemory, sec(secData, vec(cat([]byte{0x00, 0x23, 0x00, 0x0b}, str("x"))))), true,
			"data section: data segment 0 offset references global 0; the module has 0 globals"},
		{"data offset, flags 2", mod(oneMemory, oneGlobal, sec(secData, vec(cat([]byte{0x02, 0x00, 0x23, 0x01, 0x0b}, str("x"))))), true,
			"data segment 0 offset references global 1"},
		{"table initializer", mod(sec(secTable, vec([]byte{0x40, 0x00, 0x6f, 0x00, 0x01, 0x23, 0x01, 0x0b})), oneGlobal), true,
			"table section: table 0 initializer references global 1; the module has 1 globals"},
		{"export of G", mod(oneGlobal, sec(secExport, vec(cat(str("g"), []byte{0x03, 0x01})))), true,
			`export section: export "g" refers to global 1; the module has 1 globals`},
		{"exports fnhost.stop", fixture(t, "exportstop.wasm"), true, `already exports "fnhost.stop"`},
		{"exports fnhost.start", mod(typeVoid, oneFunc, sec(secExport, vec(cat(str(StartExport), []byte{0x00, 0x00}))), emptyBody), true,
			`already exports "fnhost.start"`},
		{"too many locals", funcModule(vec(cat(leb(40000), []byte{0x7f}), cat(leb(10001), []byte{0x7e})), 0x0b), true,
			"code section: function 0 declares more than 50000 locals"},
		{"locals overflow", funcModule(vec(cat(leb(1<<32-1), []byte{0x7f}), cat(leb(1<<32-1), []byte{0x7f})), 0x0b), true,
			"declares more than 50000 locals"},
		// wazero runs these bytes as i16x8.shr_s; unreachable, but the
		// specification reads v128.const and 16 bytes of immediate.
		{"SIMD opcode as two-byte LEB128 below 0x80", funcModule(noLocals, cat([]byte{0xfd, 0x8c, 0x00}, make([]byte, 16), []byte{0x0b})...), true,
			"SIMD opcode at offset"},
		{"SIMD opcode 0x80 and up, second byte not 1", funcModule(noLocals, 0xfd, 0x80, 0x02, 0x0b), true, "not encoded canonically"},

		{"empty", nil, false, "bad magic number"},
		{"bad magic", []byte("this is not a wasm module\n"), false, "bad magic number"},
		{"bad version", []byte{0x00, 'a', 's', 'm', 0x02, 0x00, 0x00, 0x00}, false, "unsupported WebAssembly binary version"},
		{"section past end", cat(preamble, []byte{0x01, 0x10, 0x00}), false, "type section: size 16 at offset 9 runs past the end"},
		{"section size malformed", cat(preamble, []byte{0x01, 0x80}), false, "type section: malformed size"},
		{"unknown section", cat(preamble, []byte{0x0d, 0x00}), false, "unknown section id 13"},
		{"out of order", mod(oneFunc, typeVoid), false, "type section at offset 12 is duplicate or out of order"},
		{"duplicate", mod(typeVoid, typeVoid), false, "duplicate or out of order"},
		{"data count after code", mod(typeVoid, oneFunc, emptyBody, sec(secDataCount, leb(0))), false, "data count section"},
		{"start malformed", mod(typeVoid, oneFunc, sec(secStart, []byte{0x00, 0x00}), emptyBody), false, "start section: malformed function index"},
		{"custom name past end", cat(preamble, []byte{0x00, 0x01, 0x05}), false, "custom section: malformed name"},
		{"unknown opcode", funcModule(noLocals, 0x06, 0x0b), false, "code section: function 0: unknown opcode 0x06 at offset 31"},
		{"unknown SIMD opcode", funcModule(noLocals, 0xfd, 0x9a, 0x03, 0x0b), false, "unknown opcode 0xfd 0x19a"},
		{"unassigned SIMD opcode", funcModule(noLocals, 0xfd, 0x9a, 0x01, 0x0b), false, "unknown opcode 0xfd 0x9a"},
		{"unknown misc opcode", funcModule(noLocals, 0xfc, 0x12, 0x0b), false, "unknown opcode 0xfc 0x12"},
		{"atomics", funcModule(noLocals, 0xfe, 0x03, 0x00, 0x0b), false, "unknown opcode 0xfe 0x3"},
		{"tail call", funcModule(noLocals, 0x12, 0x00, 0x0b), false, "unknown opcode 0x12"},
		{"no final end", funcModule(noLocals, 0x01), false, "body ends without its final end"},
		{"block not closed", funcModule(noLocals, 0x02, 0x40, 0x0b), false, "body ends without its final end"},
		{"bytes after end", funcModule(noLocals, 0x0b, 0x01), false, "1 bytes after the final end"},
		{"truncated immediate", funcModule(noLocals, 0x41), false, "truncated or malformed immediate of opcode 0x41"},
		{"i32.const too long", funcModule(noLocals, 0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x1a, 0x0b), false, "immediate of opcode 0x41"},
		{"memarg alignment", mod(typeVoid, oneFunc, oneMemory, sec(secCode, vec(fnBody(noLocals, 0x41, 0x00, 0x28, 0x40, 0x00, 0x00, 0x1a, 0x0b)))), false,
			"immediate of opcode 0x28"},
		{"memory.size reserved", funcModule(noLocals, 0x3f, 0x01, 0x1a, 0x0b), false, "immediate of opcode 0x3f"},
		{"bad block type", funcModule(noLocals, 0x02, 0x50, 0x0b, 0x0b), false, "invalid block type"},
		{"bad local type", funcModule(vec([]byte{0x01, 0x40}), 0x0b), false, "malformed locals declaration"},
		{"body past section", mod(typeVoid, oneFunc, sec(secCode, leb(1), leb(10), []byte{0x00, 0x0b})), false, "runs past the end of the section"},
		{"count too large", mod(sec(secGlobal, leb(1000))), false, "global count 1000 exceeds the section size"},
		{"trailing bytes", mod(sec(secGlobal, vec(), []byte{0x00})), false, "1 unexpected bytes at the end of the section"},
		{"const expr opcode", mod(sec(secGlobal, vec([]byte{0x7f, 0x00, 0x01, 0x0b}))), false, "opcode 0x01 is not allowed in a constant expression"},
		{"const expr no end", mod(sec(secGlobal, vec([]byte{0x7f, 0x00, 0x41, 0x00}))), false, "missing end"},
		{"elem flags", mod(sec(secElement, vec([]byte{0x08}))), false, "element segment 0 has invalid flags 8"},
		{"data flags", mod(sec(secData, vec([]byte{0x03}))), false, "data segment 0 has invalid flags 3"},
		{"import kind", mod(sec(secImport, vec(cat(str("m"), str("n"), []byte{0x04, 0x00, 0x00})))), false, "import 0 has unsupported kind 0x04"},
		{"export kind", mod(sec(secExport, vec(cat(str("e"), []byte{0x05, 0x00})))), false, `export "e" has invalid kind 0x05`},
		// wazero takes an empty or truncated data count for what it read,
		// but only at the end of the module, where the code section
		// Instrument adds goes.
		{"empty data count", mod(sec(secDataCount)), true, "data count section at offset 8 has a truncated count"},
		{"truncated data count", mod(sec(secDataCount, []byte{0x89})), true, "data count section at offset 8 has a truncated count"},
		{"data count trailing bytes", mod(sec(secDataCount, []byte{0x00, 0x00})), false, "data count section: 1 unexpected bytes at the end of the section at offset 11"},
		{"type form", mod(sec(secType, vec([]byte{0x5f, 0x00, 0x00}))), false, "type section: type 0 has invalid form 0x5f at offset 11"},
		{"type value type", mod(sec(secType, vec([]byte{0x60, 0x01, 0x40, 0x00}))), false, "type section: type 0 has an invalid type"},
		{"type trailing bytes", mod(sec(secType, vec(), []byte{0x60})), false, "type section: 1 unexpected bytes"},
		{"recursion group truncated", mod(sec(secType, vec([]byte{0x4e, 0x01, 0x60}))), false, "type section: truncated or malformed value type count"},
		{"function type index", mod(sec(secFunction, vec([]byte{0x80}))), false, "function section: truncated or malformed function type index"},
		{"function trailing bytes", mod(sec(secFunction, vec([]byte{0x00}), []byte{0x00})), false, "function section: 1 unexpected bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Instrument(tt.wasm)
			if err == nil {
				t.Fatalf("Instrument succeeded (%d checks), want an error containing %q", res.Checks, tt.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q, want one line containing %q", msg, tt.want)
			}
			if IsRejection(err) != tt.rejection {
				t.Errorf("IsRejection = %v, want %v", IsRejection(err), tt.rejection)
			}
		})
	}
}

// TestAccepted covers valid encodings on the edges of what is accepted.
func TestAccepted(t *testing.T) {
	tests := []struct {
		name string
		wasm []byte
	}{
		{"50000 locals", funcModule(vec(cat(leb(25000), []byte{0x7f}), cat(leb(25000), []byte{0x7c})), 0x0b)},
		{"padded LEB128 global index", funcModule(noLocals, 0x23, 0x80, 0x80, 0x00, 0x1a, 0x0b)},
		{"block type as two-byte s33", funcModule(noLocals, 0x02, 0xc0, 0x7f, 0x0b, 0x0b)},
		{"SIMD opcode 0x80 and up", funcModule(noLocals, 0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfd, 0x80, 0x01, 0x1a, 0x0b)},
		{"only custom sections", cat(preamble, []byte{0x00, 0x03, 0x01, 'x', 'y'})},
		{"empty module", mod()},
		// wazero accepts these forms from the function-references proposal
		// even with CoreFeaturesV2, so they must be decoded.
		{"table with initializer", mod(sec(secTable, vec([]byte{0x40, 0x00, 0x70, 0x00, 0x01, 0xd0, 0x70, 0x0b})))},
		{"(ref null func) types", mod(typeVoid, oneFunc, sec(secTable, vec([]byte{0x63, 0x70, 0x00, 0x01})),
			sec(secGlobal, vec([]byte{0x63, 0x70, 0x00, 0xd0, 0x70, 0x0b})),
			sec(secCode, vec(fnBody(vec([]byte{0x01, 0x63, 0x70}), 0x02, 0x63, 0x70, 0xd0, 0x70, 0x0b, 0x1a, 0x0b))))},
		{"data count", mod(oneMemory, sec(secDataCount, leb(1)), sec(secData, vec(cat([]byte{0x01}, str("ab")))))},
		// A recursion group counts as one entry of the vector but defines
		// two types, so $yield's type has index 2: with 1, its type would
		// take an i32 and "call $yield" in the loop would not validate.
		{"recursion group", mod(sec(secType, vec(cat([]byte{0x4e, 0x02}, []byte{0x60, 0x01, 0x7f, 0x00}, []byte{0x60, 0x00, 0x00}))),
			sec(secFunction, vec([]byte{0x01})), sec(secCode, vec(fnBody(noLocals, 0x03, 0x40, 0x0b, 0x0b))))},
		// wazero reads a name section that is last to the end of the module
		// (here a subsection size of 127 makes it think more follows), so
		// the sections Instrument adds must not follow it.
		{"name section read to the end", cat(preamble, sec(secCustom, str("name"), []byte{0x00, 0x7f, 0x00}))},
		{"type section, then name section read to the end", mod(typeVoid, sec(secCustom, str("name"), []byte{0x00, 0x7f, 0x00}))},
		{"function section, no code section", mod(sec(secFunction, vec()))},
		{"code section, no function section", mod(sec(secCode, vec()))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRuntime(t)
			if _, err := r.CompileModule(ctx, tt.wasm); err != nil {
				t.Fatalf("test module does not compile: %v", err)
			}
			res := mustInstrument(t, tt.wasm)
			stopGlobalOf(t, instantiate(t, r, res.Wasm))
		})
	}
}

// sections splits a module into its sections (id byte through content).
func sections(t *testing.T, wasm []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for p := len(preamble); p < len(wasm); {
		size, q, ok := u32(wasm, p+1)
		if !ok || q+int(size) > len(wasm) {
			t.Fatalf("bad section at %d", p)
		}
		out = append(out, wasm[p:q+int(size)])
		p = q + int(size)
	}
	return out
}

func TestCustomSectionsKept(t *testing.T) {
	custom := func(name, data string) []byte { return sec(secCustom, str(name), []byte(data)) }
	c1, c2, c3 := custom("first", "\x00\x01"), custom("between", "x"), custom("last", "")
	in := sections(t, fixture(t, "loop.wasm")) // type, function, memory, export, code
	wasm := mod(c1, in[0], c2, in[1], in[2], in[3], in[4], c3)
	out := sections(t, mustInstrument(t, wasm).Wasm)
	var ids []byte
	for _, s := range out {
		ids = append(ids, s[0])
	}
	if want := []byte{0, 1, 0, 3, 5, 6, 7, 10, 0}; !bytes.Equal(ids, want) {
		t.Fatalf("section ids %v, want %v", ids, want)
	}
	for i, want := range map[int][]byte{0: c1, 2: c2, 8: c3} {
		if !bytes.Equal(out[i], want) {
			t.Errorf("section %d = %x, want %x", i, out[i], want)
		}
	}
	// The name section of named.wasm is kept too.
	named := fixture(t, "named.wasm")
	in = sections(t, named)
	out = sections(t, mustInstrument(t, named).Wasm)
	if !bytes.Equal(in[len(in)-1], out[len(out)-1]) || in[len(in)-1][0] != secCustom {
		t.Error("name section not kept at the end")
	}
}

// TestLinear feeds deep nesting, many functions and long br_tables; with
// anything quadratic these would take minutes.
func TestLinear(t *testing.T) {
	const n = 1 << 20
	deep := cat(bytes.Repeat([]byte{0x03, 0x40}, n), bytes.Repeat([]byte{0x0b}, n), []byte{0x0b})
	many := bytes.Repeat([]byte{0x00}, n) // n functions of type 0
	bodies := bytes.Repeat(fnBody(noLocals, 0x03, 0x40, 0x0b, 0x0b), n)
	brTable := cat([]byte{0x02, 0x40, 0x41, 0x00, 0x0e}, leb(n), bytes.Repeat([]byte{0x00}, n+1), []byte{0x0b, 0x0b})
	tests := []struct {
		name   string
		wasm   []byte
		checks int
	}{
		{"nesting", funcModule(noLocals, deep...), n},
		{"functions", mod(typeVoid, sec(secFunction, leb(n), many), sec(secCode, leb(n), bodies)), n},
		{"br_table", funcModule(noLocals, brTable...), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res := mustInstrument(t, tt.wasm)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
			if res.Checks != tt.checks {
				t.Errorf("Checks = %d, want %d", res.Checks, tt.checks)
			}
		})
	}
}

func largestGuest(tb testing.TB) []byte {
	paths, _ := filepath.Glob(filepath.Join(distDir, "*.wasm"))
	var best []byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err == nil && len(b) > len(best) {
			if _, err := Instrument(b); err == nil {
				best = b
			}
		}
	}
	if best == nil {
		tb.Skip("no guests in " + distDir)
	}
	return best
}

func BenchmarkInstrument(b *testing.B) {
	wasm := largestGuest(b)
	b.SetBytes(int64(len(wasm)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Instrument(wasm); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileInstrumented compiles hello-go, as is and instrumented,
// the way the host does with a cache directory: cold is a new runtime with
// an empty directory, warm a new runtime (and cache) loading the machine
// code an earlier one stored. It reports the sizes of the module and of the
// cache directory (about the size of the machine code).
func BenchmarkCompileInstrumented(b *testing.B) {
	orig, err := os.ReadFile(filepath.Join(distDir, "hello-go.wasm"))
	if err != nil {
		b.Skip("no hello-go.wasm in " + distDir + "; run make guests")
	}
	variants := []struct {
		name string
		wasm []byte
	}{{"original", orig}, {"instrumented", mustInstrument(b, orig).Wasm}}
	for _, v := range variants {
		b.Run(v.name+"/cold", func(b *testing.B) {
			var dir string
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				dir = b.TempDir()
				b.StartTimer()
				compileWithCache(b, v.wasm, dir)
			}
			b.ReportMetric(float64(len(v.wasm)), "wasm-B")
			b.ReportMetric(float64(dirSize(b, dir)), "cache-B")
		})
		b.Run(v.name+"/warm", func(b *testing.B) {
			dir := b.TempDir()
			compileWithCache(b, v.wasm, dir)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				compileWithCache(b, v.wasm, dir)
			}
		})
	}
}

// compileWithCache times, as part of b, compiling wasm in a new runtime with
// a new cache in dir; closing them is not timed.
func compileWithCache(b *testing.B, wasm []byte, dir string) {
	cache, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
		WithCoreFeatures(api.CoreFeaturesV2).
		WithCompilationCache(cache))
	cm, err := r.CompileModule(ctx, wasm)
	b.StopTimer()
	defer b.StartTimer()
	if err != nil {
		b.Fatal(err)
	}
	_ = cm.Close(ctx)
	_ = r.Close(ctx)
	_ = cache.Close(ctx)
}

func dirSize(tb testing.TB, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			var info os.FileInfo
			if info, err = d.Info(); err == nil {
				n += info.Size()
			}
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// compiles reports whether wazero compiles wasm; a wazero panic counts as
// failure, as the property under test is about Instrument.
func compiles(r wazero.Runtime, wasm []byte) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	cm, err := r.CompileModule(ctx, wasm)
	if err != nil {
		return false
	}
	_ = cm.Close(ctx)
	return true
}

// smallLEB128 reports that every LEB128 value in wasm, wherever it starts,
// is below 2^14 (no two consecutive bytes have the continuation bit). wazero
// allocates from counts and sizes before it checks them against the input,
// so the fuzz target only hands it inputs where those stay small.
func smallLEB128(wasm []byte) bool {
	for i := 1; i < len(wasm); i++ {
		if wasm[i-1]&wasm[i]&0x80 != 0 {
			return false
		}
	}
	return true
}

func FuzzInstrument(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.wasm")
	guests, _ := filepath.Glob(filepath.Join(distDir, "*.wasm"))
	for _, p := range append(seeds, guests...) {
		if b, err := os.ReadFile(p); err == nil && len(b) < 1<<16 {
			f.Add(b)
		}
	}
	f.Add(funcModule(noLocals, 0xfd, 0x80, 0x01, 0x0b))
	f.Add(mod(oneMemory, sec(secDataCount, leb(1)), sec(secData, vec(cat([]byte{0x01}, str("ab"))))))
	r := newRuntime(f)
	f.Fuzz(func(t *testing.T, wasm []byte) {
		res, err := Instrument(wasm)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			if IsRejection(err) || !smallLEB128(wasm) {
				return
			}
			if compiles(r, wasm) {
				t.Fatalf("wazero compiles the input, but Instrument fails: %v", err)
			}
			return
		}
		if !bytes.HasPrefix(res.Wasm, preamble) {
			t.Fatal("output lacks the preamble")
		}
		// The output exports StopExport, so instrumenting it again must be
		// refused.
		if _, err := Instrument(res.Wasm); !IsRejection(err) {
			t.Fatalf("instrumenting the output twice: %v, want a rejection", err)
		}
		if smallLEB128(wasm) && smallLEB128(res.Wasm) && compiles(r, wasm) && !compiles(r, res.Wasm) {
			_, err := r.CompileModule(ctx, res.Wasm)
			t.Fatalf("wazero compiles the input but not the rewrite: %v", err)
		}
	})
}

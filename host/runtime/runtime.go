// Package runtime runs fnhost guests on wazero.
//
// One Runtime per process owns the wazero runtime, the persistent
// compilation cache and the host modules (fnhost_v1 and WASI). Compile turns
// module bytes into a *Module once per sha256 checksum; NewFunction wraps a
// Module with a function's limits and an instance pool; Function.Invoke is
// the one invoke path every caller uses.
//
// Instances are reused by default and discarded after any failure; a
// function in fresh mode, and every WASI command (CGI mode), gets a new
// instance per invocation. Deadlines are enforced by checks that Compile
// inserts into every module (package instrument) and a per-instance timer
// that trips them; see instance.go and RATIONALE.md.
package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/fnhost/fnhost/abi"
	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/internal/instrument"
	"github.com/fnhost/fnhost/host/internal/prevalidate"
)

// Config configures a Runtime. The zero value is usable: an in-memory
// compilation cache, a 4 GiB ceiling on any function's memory, no logging.
type Config struct {
	// CacheDir holds wazero's compiled machine code so a restart does not
	// recompile. Empty means no persistent cache. The directory's content is
	// executable code: it must be private to the host.
	CacheDir string
	// MaxMemoryMB is the ceiling for every function's MemoryMB. Zero means
	// 4096 (the wasm32 maximum).
	MaxMemoryMB int
	// Logger receives the runtime's own events: compiles (debug) and host
	// faults (error). Guest output goes to each invocation's log instead.
	// The zero value discards.
	Logger zerolog.Logger
	// CompileTimeout bounds wazero's compilation of one module. Zero means
	// 30 s. wazero cannot interrupt a compile: past the deadline Compile
	// rejects the module but the compile goroutine runs on until wazero
	// returns (see AbandonedCompiles). Pre-validation keeps the known
	// compile bombs from getting that far.
	CompileTimeout time.Duration
}

// defaultCompileTimeout is Config.CompileTimeout's zero value.
const defaultCompileTimeout = 30 * time.Second

// ModuleKind says how a module is run.
type ModuleKind uint8

const (
	// KindABIv1 modules import from fnhost_v1 and export a handler.
	KindABIv1 ModuleKind = iota + 1
	// KindCGI modules are WASI commands run with the CGI convention.
	KindCGI
)

func (k ModuleKind) String() string {
	switch k {
	case KindABIv1:
		return "abi-v1"
	case KindCGI:
		return "wasi-cgi"
	}
	return "unknown"
}

// Runtime is safe for concurrent use.
type Runtime struct {
	cfg      Config
	log      zerolog.Logger
	wr       wazero.Runtime
	cache    wazero.CompilationCache
	rewrites rewriteCache

	// importable lists, per allowed import module, its functions' types.
	importable map[string]map[string]funcType

	mu       sync.Mutex
	compiled map[[32]byte]*compileEntry
	closed   bool

	// Compiles past CompileTimeout: still running, and ever.
	abandonedRunning, abandonedTotal atomic.Int64
}

type funcType struct{ params, results string }

type compileEntry struct {
	done chan struct{}
	mod  *Module
	err  error
}

// Module is a compiled, validated guest module, shared by every function
// and instance that runs it. It is safe for concurrent use.
type Module struct {
	// Checksum is the hex sha256 of the module bytes.
	Checksum string
	// Kind is detected once, at load.
	Kind ModuleKind
	// Size is the module's length in bytes.
	Size int

	compiled      wazero.CompiledModule
	memMinPages   uint32
	hasInitialize bool
	hasStart      bool // a start function, moved to instrument.StartExport
	exportedFuncs map[string]api.FunctionDefinition
}

// New creates a Runtime. Close it to release compiled code and the cache.
func New(ctx context.Context, cfg Config) (*Runtime, error) {
	if cfg.MaxMemoryMB <= 0 || cfg.MaxMemoryMB > 4096 {
		cfg.MaxMemoryMB = 4096
	}
	if cfg.CompileTimeout <= 0 {
		cfg.CompileTimeout = defaultCompileTimeout
	}
	var cache wazero.CompilationCache
	if cfg.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, &host.Error{Kind: host.KindInternal, Op: "runtime.New", Err: fmt.Errorf("compilation cache in %s: %w", cfg.CacheDir, err)}
		}
		cache = c
	} else {
		cache = wazero.NewCompilationCache()
	}
	rc := wazero.NewRuntimeConfig().
		WithCoreFeatures(api.CoreFeaturesV2).
		WithMemoryLimitPages(uint32(cfg.MaxMemoryMB) * 16).
		WithCompilationCache(cache)
	wr := wazero.NewRuntimeWithConfig(ctx, rc)
	r := &Runtime{cfg: cfg, log: cfg.Logger, wr: wr, cache: cache, rewrites: newRewriteCache(cfg.CacheDir), compiled: map[[32]byte]*compileEntry{}}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, wr); err != nil {
		_ = wr.Close(ctx)
		return nil, &host.Error{Kind: host.KindInternal, Op: "runtime.New", Err: fmt.Errorf("instantiate WASI: %w", err)}
	}
	if err := instantiateHostV1(ctx, wr); err != nil {
		_ = wr.Close(ctx)
		return nil, &host.Error{Kind: host.KindInternal, Op: "runtime.New", Err: fmt.Errorf("instantiate %s: %w", abi.ModuleV1, err)}
	}
	r.importable = map[string]map[string]funcType{}
	for _, name := range []string{wasi_snapshot_preview1.ModuleName, abi.ModuleV1} {
		fns := map[string]funcType{}
		for fn, def := range wr.Module(name).ExportedFunctionDefinitions() {
			fns[fn] = typeOf(def)
		}
		r.importable[name] = fns
	}
	return r, nil
}

// Close closes every instance and compiled module, then the cache.
func (r *Runtime) Close(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	err := r.wr.Close(ctx)
	if cerr := r.cache.Close(ctx); err == nil {
		err = cerr
	}
	return err
}

// Compile validates and compiles wasm, or returns the Module already
// compiled from the same bytes. wasm is borrowed for the call. Concurrent
// calls with the same bytes compile once. A rejection is a *host.Error of
// KindInvalidModule whose message says what is wrong and what was expected.
//
// Before anything else reads the bytes, package prevalidate checks them
// against its default limits in one linear pass (about 10 ms for a 6 MB Go
// guest that takes 1.7 s to compile), so a module that would be costly to
// decode or compile is refused before it is hashed, rewritten or compiled.
// wazero's compile then runs under Config.CompileTimeout.
func (r *Runtime) Compile(ctx context.Context, wasm []byte) (*Module, error) {
	if err := prevalidate.Check(wasm, prevalidate.Limits{}); err != nil {
		if !prevalidate.IsLimit(err) {
			err = fmt.Errorf("not a valid WebAssembly module (expected a WebAssembly 1.0 binary, as clang, Go or wat2wasm produce): %w", err)
		}
		return nil, &host.Error{Kind: host.KindInvalidModule, Op: "runtime.Compile", Err: err}
	}
	sum := sha256.Sum256(wasm)
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, &host.Error{Kind: host.KindClosed, Op: "runtime.Compile"}
	}
	if e, ok := r.compiled[sum]; ok {
		r.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, &host.Error{Kind: host.KindCanceled, Op: "runtime.Compile", Err: ctx.Err()}
		}
		if e.err != nil {
			return nil, e.err
		}
		return e.mod, nil
	}
	e := &compileEntry{done: make(chan struct{})}
	r.compiled[sum] = e
	r.mu.Unlock()

	start := time.Now()
	e.mod, e.err = r.compile(ctx, wasm, sum)
	if e.err == nil {
		r.log.Debug().Str("checksum", e.mod.Checksum).Stringer("kind", e.mod.Kind).
			Int("bytes", len(wasm)).Dur("took", time.Since(start)).Msg("module compiled")
	} else if host.ErrorKind(e.err) == host.KindInternal {
		r.log.Error().Err(e.err).Msg("compile failed")
	}
	if e.err != nil {
		// Failures are not remembered: the next attempt tries again.
		r.mu.Lock()
		delete(r.compiled, sum)
		r.mu.Unlock()
	}
	close(e.done)
	return e.mod, e.err
}

func (r *Runtime) compile(ctx context.Context, wasm []byte, sum [32]byte) (mod *Module, err error) {
	const op = "runtime.Compile"
	defer func() {
		if p := recover(); p != nil {
			mod, err = nil, &host.Error{Kind: host.KindInternal, Op: op, Err: fmt.Errorf("compiler panic: %v", p)}
		}
	}()
	inst, cached := r.rewrites.load(sum)
	var cm wazero.CompiledModule
	if cached {
		if cm, err = r.compileModule(ctx, inst.Wasm); err != nil {
			if e := compileError(err); e != nil {
				return nil, e
			}
			r.log.Warn().Err(err).Str("checksum", hex.EncodeToString(sum[:])).Msg("cached rewrite does not compile; rewriting again")
			r.rewrites.remove(sum)
			cached = false
		}
	}
	if !cached {
		if inst, err = instrument.Instrument(wasm); err != nil {
			if !instrument.IsRejection(err) {
				err = fmt.Errorf("not a valid WebAssembly module (expected a WebAssembly 1.0 binary, as clang, Go or wat2wasm produce): %w", err)
			}
			return nil, &host.Error{Kind: host.KindInvalidModule, Op: op, Err: err}
		}
		if cm, err = r.compileModule(ctx, inst.Wasm); err != nil {
			if e := compileError(err); e != nil {
				return nil, e
			}
			return nil, &host.Error{Kind: host.KindInvalidModule, Op: op, Err: fmt.Errorf("not a valid WebAssembly module: %w", err)}
		}
		if err := r.rewrites.store(sum, inst); err != nil {
			r.log.Warn().Err(err).Msg("cannot cache the rewritten module")
		}
	}
	m := &Module{Checksum: hex.EncodeToString(sum[:]), Size: len(wasm), compiled: cm, exportedFuncs: cm.ExportedFunctions(), hasStart: inst.HasStart}
	if err := r.classify(cm, m); err != nil {
		_ = cm.Close(ctx)
		return nil, &host.Error{Kind: host.KindInvalidModule, Op: op, Err: err}
	}
	return m, nil
}

// compileTimeoutError is compileModule's error when wazero took longer
// than Config.CompileTimeout.
type compileTimeoutError struct{ limit time.Duration }

func (e *compileTimeoutError) Error() string {
	return "compilation took longer than " + e.limit.String()
}

// errCompilerPanic marks a recovered panic in wazero's compiler.
var errCompilerPanic = errors.New("compiler panic")

// compileError maps the compileModule errors that are not wazero's
// rejection of the module (a timeout, a panic) to a *host.Error, or
// returns nil.
func compileError(err error) error {
	var te *compileTimeoutError
	switch {
	case errors.As(err, &te):
		return &host.Error{Kind: host.KindInvalidModule, Op: "runtime.Compile", Err: err}
	case errors.Is(err, errCompilerPanic):
		return &host.Error{Kind: host.KindInternal, Op: "runtime.Compile", Err: err}
	}
	return nil
}

// compileModule runs wazero's compile in a goroutine and waits at most
// Config.CompileTimeout for it. wazero cannot interrupt a compile (nor does
// it check ctx while compiling), so past the deadline the goroutine is
// abandoned: it runs until wazero returns, then closes what it compiled, so
// the module is neither used nor kept (Compile forgets failures; wazero's
// own file cache may still keep the machine code, so a later Compile of the
// same bytes can then succeed quickly). Such goroutines are counted (see
// AbandonedCompiles); they are a bounded leak, since pre-validation refuses
// the shapes known to take that long: the slowest modules measured within
// its limits compile in 10-12 s (a 28 MB cmd/go, a module filling the
// branch budget), and 32 MiB of nothing but stores in 35 s. The error is a
// *compileTimeoutError on timeout; a panic in wazero is returned wrapping
// errCompilerPanic.
func (r *Runtime) compileModule(ctx context.Context, bin []byte) (wazero.CompiledModule, error) {
	type result struct {
		cm  wazero.CompiledModule
		err error
	}
	const (
		waiting = iota
		delivered
		abandoned
	)
	var state atomic.Int32
	done := make(chan result, 1)
	go func() {
		var res result
		defer func() {
			if p := recover(); p != nil {
				res = result{err: fmt.Errorf("%w: %v", errCompilerPanic, p)}
			}
			if state.CompareAndSwap(waiting, delivered) {
				done <- res
				return
			}
			if res.cm != nil {
				_ = res.cm.Close(context.Background())
			}
			r.abandonedRunning.Add(-1)
		}()
		res.cm, res.err = r.wr.CompileModule(ctx, bin)
	}()
	timer := time.NewTimer(r.cfg.CompileTimeout)
	defer timer.Stop()
	select {
	case res := <-done:
		return res.cm, res.err
	case <-timer.C:
	}
	r.abandonedRunning.Add(1)
	if !state.CompareAndSwap(waiting, abandoned) {
		// The compile finished as the timer fired: take its result.
		r.abandonedRunning.Add(-1)
		res := <-done
		return res.cm, res.err
	}
	r.abandonedTotal.Add(1)
	r.log.Warn().Dur("timeout", r.cfg.CompileTimeout).Int64("running", r.abandonedRunning.Load()).
		Msg("compile abandoned past its deadline; it keeps running until wazero returns")
	return nil, &compileTimeoutError{limit: r.cfg.CompileTimeout}
}

// AbandonedCompiles reports the compiles that passed Config.CompileTimeout:
// how many are still running in the background, and how many there have
// been since New.
func (r *Runtime) AbandonedCompiles() (running, total int64) {
	return r.abandonedRunning.Load(), r.abandonedTotal.Load()
}

// classify detects the module's ABI and checks its imports and exports.
func (r *Runtime) classify(cm wazero.CompiledModule, m *Module) error {
	usesV1 := false
	for _, def := range cm.ImportedFunctions() {
		modName, name, _ := def.Import()
		fns, ok := r.importable[modName]
		if !ok {
			return fmt.Errorf("imports %s.%s: only %q and %q may be imported", modName, name, abi.ModuleV1, wasi_snapshot_preview1.ModuleName)
		}
		want, ok := fns[name]
		if !ok {
			return fmt.Errorf("imports unknown function %s.%s: not part of %s (see abi/ABI.md)", modName, name, abiName(modName))
		}
		if got := typeOf(def); got != want {
			return fmt.Errorf("imports %s.%s with type (%s) -> (%s); expected (%s) -> (%s)", modName, name, got.params, got.results, want.params, want.results)
		}
		if modName == abi.ModuleV1 {
			usesV1 = true
		}
	}
	for _, def := range cm.ImportedMemories() {
		modName, name, _ := def.Import()
		return fmt.Errorf("imports memory %s.%s: a module must define and export its own memory", modName, name)
	}
	_, hasStart := m.exportedFuncs[abi.ExportStart]
	switch {
	case usesV1 && hasStart:
		return fmt.Errorf("imports from %q and exports %q: a module is either ABI v1 or a WASI command, not both (build Go guests with -buildmode=c-shared, C guests with -mexec-model=reactor)", abi.ModuleV1, abi.ExportStart)
	case usesV1:
		m.Kind = KindABIv1
	case hasStart:
		m.Kind = KindCGI
	default:
		return fmt.Errorf("unknown ABI: expected an ABI v1 module (imports from %q and exports a handler such as %q) or a WASI command (exports %q)", abi.ModuleV1, abi.DefaultHandler, abi.ExportStart)
	}
	mem, ok := cm.ExportedMemories()[abi.ExportMemory]
	if !ok {
		return fmt.Errorf("exports no memory named %q: expected the module's linear memory exported as %q", abi.ExportMemory, abi.ExportMemory)
	}
	m.memMinPages = mem.Min()
	if def, ok := m.exportedFuncs[abi.ExportInitialize]; ok && m.Kind == KindABIv1 {
		if len(def.ParamTypes()) != 0 || len(def.ResultTypes()) != 0 {
			return fmt.Errorf("exports %q with a signature other than () -> ()", abi.ExportInitialize)
		}
		m.hasInitialize = true
	}
	return nil
}

func abiName(mod string) string {
	if mod == abi.ModuleV1 {
		return "fnhost ABI v1"
	}
	return "WASI preview1 as provided by fnhost"
}

func typeOf(def api.FunctionDefinition) funcType {
	return funcType{params: valueTypes(def.ParamTypes()), results: valueTypes(def.ResultTypes())}
}

func valueTypes(ts []api.ValueType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = api.ValueTypeName(t)
	}
	return strings.Join(s, ", ")
}

// checkHandler reports whether the module exports handler as () -> ().
func (m *Module) checkHandler(handler string) error {
	def, ok := m.exportedFuncs[handler]
	if !ok {
		names := make([]string, 0, len(m.exportedFuncs))
		for n := range m.exportedFuncs {
			if !strings.HasPrefix(n, "_") && !strings.HasPrefix(n, "fnhost.") {
				names = append(names, n)
			}
		}
		hint := "it exports no functions"
		if len(names) > 0 {
			hint = "it exports " + strings.Join(names, ", ")
		}
		return fmt.Errorf("handler %q is not exported (%s): export the handler function or set the function's handler", handler, hint)
	}
	if len(def.ParamTypes()) != 0 || len(def.ResultTypes()) != 0 {
		return fmt.Errorf("handler %q has type (%s) -> (%s); expected () -> ()", handler, valueTypes(def.ParamTypes()), valueTypes(def.ResultTypes()))
	}
	return nil
}

package runtime

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	goruntime "runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/fnhost/fnhost/abi"
	"github.com/fnhost/fnhost/host"
)

// Defaults for FunctionConfig's zero values. They follow Function Compute
// where it has one.
const (
	DefaultMemoryMB         = 128
	DefaultTimeout          = 3 * time.Second
	DefaultMaxResponseBytes = 6 << 20
	DefaultMaxHeaderBytes   = 8 << 10
	DefaultMaxLogBytes      = 64 << 10
	DefaultMaxQueueWait     = time.Second
)

// FunctionConfig is one function's identity and limits. Zero values take
// the defaults above.
type FunctionConfig struct {
	Service  string
	Function string
	// Handler is the exported function called per invocation (ABI v1).
	// Default abi.DefaultHandler.
	Handler string
	// MemoryMB caps the instance's linear memory. Default 128.
	MemoryMB int
	// Timeout bounds each invocation, including creating its instance.
	// Default 3 s.
	Timeout time.Duration
	// MaxInstances caps concurrent instances (and so concurrent
	// invocations). Default 2 × GOMAXPROCS, at least 4.
	MaxInstances int
	// MaxQueueWait bounds how long an invocation waits for a free instance
	// before failing with KindTooManyInstances. Default 1 s; never longer
	// than the invocation's deadline. Negative means do not wait.
	MaxQueueWait time.Duration
	// Fresh gives every invocation a new instance (no state shared between
	// invocations). WASI command modules always run fresh.
	Fresh bool
	// Env is the function's environment, as KEY=VALUE strings, visible
	// through env_get and WASI environ.
	Env []string
	// MaxResponseBytes bounds the response body. Default 6 MiB.
	MaxResponseBytes int
	// MaxHeaderBytes bounds the response headers' names and values.
	// Default 8 KiB.
	MaxHeaderBytes int
	// MaxLogBytes bounds the captured log per invocation. Default 64 KiB.
	MaxLogBytes int
}

func (c *FunctionConfig) setDefaults() {
	if c.Handler == "" {
		c.Handler = abi.DefaultHandler
	}
	if c.MemoryMB <= 0 {
		c.MemoryMB = DefaultMemoryMB
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxInstances <= 0 {
		c.MaxInstances = max(4, 2*goruntime.GOMAXPROCS(0))
	}
	if c.MaxQueueWait == 0 {
		c.MaxQueueWait = DefaultMaxQueueWait
	}
	if c.MaxResponseBytes <= 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.MaxLogBytes <= 0 {
		c.MaxLogBytes = DefaultMaxLogBytes
	}
}

// Function is a Module with a function's limits and its pool of instances.
// It is safe for concurrent use.
type Function struct {
	rt       *Runtime
	mod      *Module
	cfg      FunctionConfig
	env      map[string]string
	modCfg   wazero.ModuleConfig
	fresh    bool
	tokens   chan struct{} // one per running invocation; cap = MaxInstances
	nextID   atomic.Uint64
	idPrefix string

	mu     sync.Mutex
	idle   []*instance // LIFO: the most recently used instance is the warmest
	closed bool
}

// NewFunction checks mod against cfg (handler export, memory minimum) and
// returns a Function with an empty pool. It does not instantiate anything.
func (r *Runtime) NewFunction(mod *Module, cfg FunctionConfig) (*Function, error) {
	const op = "runtime.NewFunction"
	cfg.setDefaults()
	if cfg.MemoryMB > r.cfg.MaxMemoryMB {
		return nil, &host.Error{Kind: host.KindInvalidModule, Op: op, Err: fmt.Errorf("memory %d MB is over the host's limit of %d MB", cfg.MemoryMB, r.cfg.MaxMemoryMB)}
	}
	if mod.Kind == KindABIv1 {
		if err := mod.checkHandler(cfg.Handler); err != nil {
			return nil, &host.Error{Kind: host.KindInvalidModule, Op: op, Err: err}
		}
	}
	if limit := uint32(cfg.MemoryMB) * 16; mod.memMinPages > limit {
		return nil, &host.Error{Kind: host.KindInvalidModule, Op: op, Err: fmt.Errorf("memory minimum of %d pages (%d MiB) is over the function's memory limit of %d MB", mod.memMinPages, mod.memMinPages/16, cfg.MemoryMB)}
	}
	f := &Function{
		rt:     r,
		mod:    mod,
		cfg:    cfg,
		env:    map[string]string{},
		fresh:  cfg.Fresh || mod.Kind == KindCGI,
		tokens: make(chan struct{}, cfg.MaxInstances),
	}
	f.idPrefix = mod.Checksum[:8] + "-"
	mc := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions().
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader)
	for _, kv := range cfg.Env {
		k, v, _ := cut(kv, '=')
		f.env[k] = v
		if mod.Kind == KindABIv1 {
			mc = mc.WithEnv(k, v)
		}
	}
	f.modCfg = mc
	return f, nil
}

func cut(s string, sep byte) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// Module returns the module the function runs.
func (f *Function) Module() *Module { return f.mod }

// Config returns the function's configuration with defaults applied.
func (f *Function) Config() FunctionConfig { return f.cfg }

// Idle returns how many instances sit idle in the pool.
func (f *Function) Idle() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.idle)
}

// Close discards the idle instances and makes later invocations fail with
// KindClosed. Running invocations finish; their instances are then closed.
func (f *Function) Close(ctx context.Context) error {
	f.mu.Lock()
	f.closed = true
	idle := f.idle
	f.idle = nil
	f.mu.Unlock()
	for _, in := range idle {
		in.close(ctx)
	}
	return nil
}

// Invoke runs one invocation of f. req is borrowed until Invoke returns;
// res is reset and filled (its Log and Meter also on failure). A failed
// invocation returns a *host.Error whose Kind says what happened; the
// instance that ran it is discarded.
//
// ctx bounds the wait for an instance and shortens the deadline when it
// has an earlier one than the function's timeout. Cancelling ctx while the
// guest runs does not stop the guest; its deadline does.
func (f *Function) Invoke(ctx context.Context, req *host.Request, res *host.Response) error {
	start := time.Now()
	res.Reset()
	deadline := start.Add(f.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := f.acquire(ctx, start, deadline); err != nil {
		res.Meter.Duration = time.Since(start)
		return err
	}
	defer func() { <-f.tokens }()
	if f.mod.Kind == KindCGI {
		err := f.invokeCGI(ctx, req, res, start, deadline)
		res.Meter.Duration = time.Since(start)
		return err
	}

	in, err := f.take(ctx, res, deadline)
	if err != nil {
		res.Meter.Duration = time.Since(start)
		return err
	}
	err = in.call(req, res, deadline)
	res.Meter.Duration = time.Since(start)
	res.Meter.PeakMemoryBytes = in.mem.size()
	res.Meter.InstanceID = in.id
	if err != nil || f.fresh || in.mod.IsClosed() {
		in.close(context.Background())
		return err
	}
	f.put(in)
	return nil
}

// acquire takes an invocation token, waiting at most MaxQueueWait and never
// past deadline.
func (f *Function) acquire(ctx context.Context, now, deadline time.Time) error {
	select {
	case f.tokens <- struct{}{}:
		return nil
	default:
	}
	wait := f.cfg.MaxQueueWait
	if left := deadline.Sub(now); left < wait {
		wait = left
	}
	tooMany := &host.Error{Kind: host.KindTooManyInstances, Op: "runtime.Invoke",
		Err: fmt.Errorf("all %d instances of %s/%s are busy", f.cfg.MaxInstances, f.cfg.Service, f.cfg.Function)}
	if wait <= 0 {
		return tooMany
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case f.tokens <- struct{}{}:
		return nil
	case <-t.C:
		return tooMany
	case <-ctx.Done():
		return &host.Error{Kind: host.KindCanceled, Op: "runtime.Invoke", Err: ctx.Err()}
	}
}

// take returns an idle instance or creates one. The caller holds a token.
func (f *Function) take(ctx context.Context, res *host.Response, deadline time.Time) (*instance, error) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil, &host.Error{Kind: host.KindClosed, Op: "runtime.Invoke", Err: errClosed}
	}
	if n := len(f.idle); n > 0 && !f.fresh {
		in := f.idle[n-1]
		f.idle[n-1] = nil
		f.idle = f.idle[:n-1]
		f.mu.Unlock()
		return in, nil
	}
	f.mu.Unlock()
	t0 := time.Now()
	in, err := f.newInstance(ctx, res, deadline)
	res.Meter.Cold = true
	res.Meter.Startup = time.Since(t0)
	return in, err
}

func (f *Function) put(in *instance) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		in.close(context.Background())
		return
	}
	f.idle = append(f.idle, in)
	f.mu.Unlock()
}

// instance is one wazero module instance and the state its host functions
// see. It is used by one invocation at a time.
type instance struct {
	fn       *Function
	mod      api.Module
	id       string
	mem      *cappedMemory
	handler  api.Function
	stack    [1]uint64 // handler has no params or results; wazero needs a slice
	callCtx  context.Context
	timer    *time.Timer
	timedOut atomic.Bool

	// Per-invocation state, valid between begin and end.
	active    bool
	req       *host.Request
	res       *host.Response
	deadline  time.Time
	bodyOff   int
	responded bool
	failed    error // set by host functions (response too large)
	log       logBuffer
}

type instanceKey struct{}

// instanceFrom returns the instance a host function runs for. callCtx and
// the instantiation context carry it.
func instanceFrom(ctx context.Context) *instance {
	in, _ := ctx.Value(instanceKey{}).(*instance)
	return in
}

func (f *Function) newInstance(ctx context.Context, res *host.Response, deadline time.Time) (in *instance, err error) {
	const op = "runtime.Instantiate"
	in = &instance{
		fn:  f,
		id:  f.idPrefix + strconv.FormatUint(f.nextID.Add(1), 10),
		mem: &cappedMemory{limit: uint64(f.cfg.MemoryMB) << 20},
	}
	in.callCtx = context.WithValue(context.Background(), instanceKey{}, in)
	// During instantiation the log goes to the invocation being served.
	in.log.reset(&res.Log, f.cfg.MaxLogBytes)
	defer in.log.finish()
	ictx, cancel := context.WithDeadline(context.WithValue(ctx, instanceKey{}, in), deadline)
	defer cancel()
	ictx = experimental.WithMemoryAllocator(ictx, in.mem)
	mc := f.modCfg.
		WithStdout(&in.log).
		WithStderr(&in.log).
		WithNanosleep(in.nanosleep)
	if f.mod.hasInitialize {
		mc = mc.WithStartFunctions(abi.ExportInitialize)
	}
	in.deadline = deadline
	defer func() {
		if p := recover(); p != nil {
			err = &host.Error{Kind: host.KindInternal, Op: op, Err: fmt.Errorf("panic: %v", p)}
		}
	}()
	mod, err := f.rt.wr.InstantiateModule(ictx, f.mod.compiled, mc)
	if err != nil {
		if mod != nil {
			_ = mod.Close(context.Background())
		}
		return nil, &host.Error{Kind: in.classify(err), Op: op, Err: err}
	}
	in.mod = mod
	in.handler = mod.ExportedFunction(f.cfg.Handler)
	in.timer = time.AfterFunc(time.Hour, in.expire)
	in.timer.Stop()
	return in, nil
}

// expire runs on the timer's goroutine when an invocation passes its
// deadline. Closing the module makes the guest stop at its next loop
// back-edge or call (wazero's termination check).
func (in *instance) expire() {
	in.timedOut.Store(true)
	_ = in.mod.CloseWithExitCode(context.Background(), sys.ExitCodeDeadlineExceeded)
}

// nanosleep serves WASI sleeps; it never sleeps past the deadline, so a
// sleeping guest cannot hold the invocation past its timeout.
func (in *instance) nanosleep(ns int64) {
	left := time.Until(in.deadline)
	if d := time.Duration(ns); d < left {
		left = d
	}
	if left > 0 {
		time.Sleep(left)
	}
}

// call runs the handler for one invocation.
func (in *instance) call(req *host.Request, res *host.Response, deadline time.Time) (err error) {
	in.begin(req, res, deadline)
	defer in.end()
	left := time.Until(deadline)
	if left <= 0 {
		return &host.Error{Kind: host.KindTimeout, Op: "runtime.Invoke", Err: errors.New("deadline passed before the handler started")}
	}
	in.timer.Reset(left)
	defer func() {
		if p := recover(); p != nil {
			in.timer.Stop()
			err = &host.Error{Kind: host.KindInternal, Op: "runtime.Invoke", Err: fmt.Errorf("panic: %v", p)}
		}
	}()
	callErr := in.handler.CallWithStack(in.callCtx, in.stack[:])
	in.timer.Stop()
	if callErr != nil {
		return &host.Error{Kind: in.classify(callErr), Op: "runtime.Invoke", Err: callErr}
	}
	if in.failed != nil {
		return in.failed
	}
	if !in.responded {
		return errNoResponse
	}
	if res.Status == 0 {
		res.Status = 200
	}
	return nil
}

var errNoResponse = &host.Error{Kind: host.KindNoResponse, Op: "runtime.Invoke",
	Err: errors.New("the handler returned without calling a response function")}

func (in *instance) begin(req *host.Request, res *host.Response, deadline time.Time) {
	in.active = true
	in.req = req
	in.res = res
	in.deadline = deadline
	in.bodyOff = 0
	in.responded = false
	in.failed = nil
	in.timedOut.Store(false)
	in.log.reset(&res.Log, in.fn.cfg.MaxLogBytes)
}

func (in *instance) end() {
	in.log.finish()
	in.active = false
	in.req = nil
	in.res = nil
}

// classify maps an error from wazero to a Kind.
func (in *instance) classify(err error) host.Kind {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return host.KindTimeout
		case sys.ExitCodeContextCanceled:
			return host.KindCanceled
		}
		if in.timedOut.Load() {
			return host.KindTimeout
		}
		if in.mem.refused.Load() {
			return host.KindMemoryLimit
		}
		return host.KindExit
	}
	// A trap is a trap even if the timer fired meanwhile: had the timer
	// stopped the guest, wazero would have returned an ExitError.
	if in.mem.refused.Load() {
		return host.KindMemoryLimit
	}
	return host.KindTrap
}

func (in *instance) close(ctx context.Context) {
	if in.timer != nil {
		in.timer.Stop()
	}
	if in.mod != nil {
		_ = in.mod.Close(ctx)
	}
}

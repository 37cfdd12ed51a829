package runtime

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"

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
	mems     memPool // linear memories of closed instances, zeroed

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
		k, v, _ := strings.Cut(kv, "=")
		f.env[k] = v
		if mod.Kind == KindABIv1 {
			mc = mc.WithEnv(k, v)
		}
	}
	f.modCfg = mc
	return f, nil
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

// Busy returns how many invocations are running or about to run (each
// holds an instance, or is creating one).
func (f *Function) Busy() int { return len(f.tokens) }

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
		if f.isClosed() {
			return errFunctionClosed
		}
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
	if err != nil || f.fresh || !in.reusable() {
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
		return nil, errFunctionClosed
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

var errFunctionClosed = &host.Error{Kind: host.KindClosed, Op: "runtime.Invoke", Err: errors.New("the function was closed")}

func (f *Function) isClosed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
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

// Package invoker owns fnhost's live functions: it resolves a (service,
// function) pair to a compiled, pooled runtime.Function together with the
// function's metadata and HTTP trigger, and it is the one invoke path that
// HTTP triggers, InvokeFunction and (later) the async workers share. Metrics
// and invocation records are produced here, so every path counts the same
// way.
//
// Live functions are cached. The management API, which is the only writer of
// metadata, calls Invalidate after every successful change; the next
// invocation loads the new version while the old one finishes its running
// calls. Loading reads the store, compiles (from the persistent compilation
// cache when the module was seen before) and creates an empty pool; nothing
// is instantiated until the first call.
package invoker

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	goruntime "runtime"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Source is the metadata the invoker reads. *store.Store implements it.
type Source interface {
	GetFunction(svc, fn string) (host.Function, error)
	// GetModule returns the module bytes; the caller owns the slice.
	GetModule(checksum string) ([]byte, error)
	// HTTPTrigger returns the function's HTTP trigger, or a KindNotFound
	// error when it has none.
	HTTPTrigger(svc, fn string) (host.Trigger, error)
}

// Recorder keeps invocation records (for `fnhost logs`). Record must not
// block; it owns the record once called. *store.InvocationWriter
// implements it.
type Recorder interface {
	Record(inv host.Invocation) bool
}

// Config configures an Invoker.
type Config struct {
	Runtime *runtime.Runtime
	Source  Source
	// Recorder receives a record of every invocation that failed or logged
	// something. Nil keeps none.
	Recorder Recorder
	// Registerer receives the invocation metrics. Nil registers nowhere.
	Registerer prometheus.Registerer
	Logger     zerolog.Logger
	// MaxInstances is the pool size of functions that do not set their
	// own. Zero means runtime's default.
	MaxInstances int
	// MaxQueueWait bounds the wait for a free instance before a call is
	// refused (429). Zero means runtime's default.
	MaxQueueWait time.Duration
	// MaxResponseBytes bounds every function's response body (over it:
	// KindResponseTooLarge, FC's 502). Zero means runtime's default (6 MiB).
	MaxResponseBytes int
	// MaxConcurrent caps invocations running at once across all functions,
	// so the memory of live instances stays bounded under any load; a call
	// over it waits up to MaxQueueWait, then fails with KindOverloaded
	// (503). Zero means DefaultMaxConcurrent; negative means no cap.
	MaxConcurrent int
}

// DefaultMaxConcurrent is the host-wide invocation cap: 64 per CPU. With
// the default 128 MB functions that bounds guest memory in flight at a few
// GB per CPU, and no 2-core machine runs more than a few hundred wasm
// calls usefully at once.
var DefaultMaxConcurrent = 64 * goruntime.GOMAXPROCS(0)

// Invoker is safe for concurrent use.
type Invoker struct {
	cfg   Config
	met   *metrics
	slots chan struct{} // host-wide cap; nil when uncapped

	mu      sync.RWMutex
	entries map[string]map[string]*Entry // service → function → entry
	gen     map[string]uint64            // "svc/fn" → bumped by Invalidate
	loads   map[string]*load             // in-flight loads, by "svc/fn"
	closed  bool
}

type load struct {
	done  chan struct{}
	entry *Entry
	err   error
}

// Entry is one live function: a snapshot of its metadata and trigger, and
// its pool. Entries are immutable once published; an update publishes a
// new one.
type Entry struct {
	// Function is the metadata the pool was built from.
	Function host.Function
	// Trigger is the function's HTTP trigger; valid when HasTrigger.
	Trigger    host.Trigger
	HasTrigger bool

	fn *runtime.Function
	m  entryMetrics
}

// Pool returns the entry's runtime function (for its pool statistics).
func (e *Entry) Pool() *runtime.Function { return e.fn }

// New returns an Invoker. It registers its metrics with cfg.Registerer.
func New(cfg Config) (*Invoker, error) {
	if cfg.Runtime == nil || cfg.Source == nil {
		return nil, errors.New("invoker: Runtime and Source are required")
	}
	iv := &Invoker{
		cfg:     cfg,
		entries: map[string]map[string]*Entry{},
		gen:     map[string]uint64{},
		loads:   map[string]*load{},
	}
	switch {
	case cfg.MaxConcurrent == 0:
		iv.slots = make(chan struct{}, DefaultMaxConcurrent)
	case cfg.MaxConcurrent > 0:
		iv.slots = make(chan struct{}, cfg.MaxConcurrent)
	}
	if iv.cfg.MaxQueueWait == 0 {
		iv.cfg.MaxQueueWait = runtime.DefaultMaxQueueWait
	}
	iv.met = newMetrics(iv)
	if cfg.Registerer != nil {
		if err := iv.met.register(cfg.Registerer); err != nil {
			return nil, fmt.Errorf("invoker: register metrics: %w", err)
		}
	}
	return iv, nil
}

var errClosed = &host.Error{Kind: host.KindClosed, Op: "invoker.Lookup", Err: errors.New("the server is shutting down")}

// Lookup returns the live entry of svc/fn, loading it on first use. The
// byte-slice variant LookupBytes avoids building strings on the hot path.
// Errors: KindNotFound (no such service or function), KindInvalidModule
// (the stored module no longer loads), KindClosed, KindInternal.
func (iv *Invoker) Lookup(ctx context.Context, svc, fn string) (*Entry, error) {
	iv.mu.RLock()
	e := iv.entries[svc][fn]
	closed := iv.closed
	iv.mu.RUnlock()
	if e != nil {
		return e, nil
	}
	if closed {
		return nil, errClosed
	}
	return iv.load(ctx, svc, fn)
}

// LookupBytes is Lookup for names held in borrowed byte slices (read only
// during the call).
func (iv *Invoker) LookupBytes(ctx context.Context, svc, fn []byte) (*Entry, error) {
	iv.mu.RLock()
	e := iv.entries[string(svc)][string(fn)] // no allocation: map index by string(b)
	iv.mu.RUnlock()
	if e != nil {
		return e, nil
	}
	return iv.Lookup(ctx, string(svc), string(fn))
}

func (iv *Invoker) load(ctx context.Context, svc, fn string) (*Entry, error) {
	key := svc + "/" + fn
	for {
		iv.mu.Lock()
		if iv.closed {
			iv.mu.Unlock()
			return nil, errClosed
		}
		if e := iv.entries[svc][fn]; e != nil {
			iv.mu.Unlock()
			return e, nil
		}
		if l := iv.loads[key]; l != nil {
			iv.mu.Unlock()
			select {
			case <-l.done:
			case <-ctx.Done():
				return nil, &host.Error{Kind: host.KindCanceled, Op: "invoker.Lookup", Err: ctx.Err()}
			}
			if l.err != nil {
				return nil, l.err
			}
			continue // published, or invalidated meanwhile: look again
		}
		l := &load{done: make(chan struct{})}
		iv.loads[key] = l
		gen := iv.gen[key]
		iv.mu.Unlock()

		// The load runs detached from ctx: waiters with other contexts share
		// it, and a compile should not be wasted because one caller left.
		e, err := iv.build(svc, fn)

		iv.mu.Lock()
		delete(iv.loads, key)
		stale := iv.gen[key] != gen || iv.closed
		if err == nil && !stale {
			m := iv.entries[svc]
			if m == nil {
				m = map[string]*Entry{}
				iv.entries[svc] = m
			}
			m[fn] = e
		}
		l.entry, l.err = e, err
		iv.mu.Unlock()
		close(l.done)
		if err != nil {
			return nil, err
		}
		if stale {
			// Metadata changed while loading: this entry may be old. Drop
			// it and load again.
			_ = e.fn.Close(context.Background())
			continue
		}
		return e, nil
	}
}

func (iv *Invoker) build(svc, fn string) (*Entry, error) {
	meta, err := iv.cfg.Source.GetFunction(svc, fn)
	if err != nil {
		return nil, err
	}
	e := &Entry{Function: meta}
	trg, err := iv.cfg.Source.HTTPTrigger(svc, fn)
	switch {
	case err == nil:
		e.Trigger, e.HasTrigger = trg, true
	case host.ErrorKind(err) != host.KindNotFound:
		return nil, err
	}
	wasm, err := iv.cfg.Source.GetModule(meta.CodeChecksum)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	mod, err := iv.cfg.Runtime.Compile(context.Background(), wasm)
	if err != nil {
		return nil, err
	}
	e.fn, err = iv.cfg.Runtime.NewFunction(mod, iv.functionConfig(meta))
	if err != nil {
		return nil, err
	}
	iv.cfg.Logger.Debug().Str("service", svc).Str("function", fn).
		Dur("load", time.Since(start)).Msg("function loaded")
	e.m = iv.met.forEntry(svc, fn)
	return e, nil
}

// functionConfig is FunctionConfig with the invoker's host-wide settings.
func (iv *Invoker) functionConfig(f host.Function) runtime.FunctionConfig {
	c := FunctionConfig(f, iv.cfg.MaxInstances, iv.cfg.MaxQueueWait)
	c.MaxResponseBytes = iv.cfg.MaxResponseBytes
	return c
}

// FunctionConfig is the runtime configuration of a stored function.
// maxInstances and queueWait are the host's defaults for unset values.
func FunctionConfig(f host.Function, maxInstances int, queueWait time.Duration) runtime.FunctionConfig {
	env := make([]string, 0, len(f.EnvironmentVariables))
	for k, v := range f.EnvironmentVariables {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	mi := f.MaxInstances
	if mi == 0 {
		mi = maxInstances
	}
	return runtime.FunctionConfig{
		Service:      f.ServiceName,
		Function:     f.FunctionName,
		Handler:      f.Handler,
		MemoryMB:     f.MemorySize,
		Timeout:      time.Duration(f.Timeout) * time.Second,
		MaxInstances: mi,
		MaxQueueWait: queueWait,
		Env:          env,
	}
}

// Invalidate drops the live entry of svc/fn after its metadata, code or
// trigger changed or it was deleted. Calls already running finish on the
// old pool; the next call loads the new version.
func (iv *Invoker) Invalidate(svc, fn string) {
	iv.mu.Lock()
	iv.gen[svc+"/"+fn]++
	e := iv.entries[svc][fn]
	if e != nil {
		delete(iv.entries[svc], fn)
		if len(iv.entries[svc]) == 0 {
			delete(iv.entries, svc)
		}
	}
	iv.mu.Unlock()
	if e != nil {
		_ = e.fn.Close(context.Background())
	}
}

// Forget is Invalidate for a deleted function: its metrics go too.
func (iv *Invoker) Forget(svc, fn string) {
	iv.Invalidate(svc, fn)
	iv.met.forget(svc, fn)
}

// Close closes every live function; later lookups fail with KindClosed.
func (iv *Invoker) Close(ctx context.Context) error {
	iv.mu.Lock()
	iv.closed = true
	entries := iv.entries
	iv.entries = map[string]map[string]*Entry{}
	iv.mu.Unlock()
	for _, fns := range entries {
		for _, e := range fns {
			_ = e.fn.Close(ctx)
		}
	}
	return nil
}

// each calls f for every live entry (metrics collection).
func (iv *Invoker) each(f func(e *Entry)) {
	iv.mu.RLock()
	defer iv.mu.RUnlock()
	for _, fns := range iv.entries {
		for _, e := range fns {
			f(e)
		}
	}
}

// Invoke runs one invocation on e: the runtime call, then metrics and the
// invocation record. It has runtime.Function.Invoke's contract: req is
// borrowed until it returns, res is reset and filled.
func (iv *Invoker) Invoke(ctx context.Context, e *Entry, req *host.Request, res *host.Response) error {
	start := time.Now()
	var err error
	if err = iv.acquire(ctx); err == nil {
		err = e.fn.Invoke(ctx, req, res)
		if iv.slots != nil {
			<-iv.slots
		}
	} else {
		res.Reset()
	}
	e.m.observe(err, res)
	if iv.cfg.Recorder != nil && (err != nil || len(res.Log) > 0) {
		inv := host.Invocation{
			RequestID:    req.RequestID,
			ServiceName:  e.Function.ServiceName,
			FunctionName: e.Function.FunctionName,
			Qualifier:    qualifier(req.Qualifier),
			Time:         start,
			DurationMs:   float64(res.Meter.Duration.Microseconds()) / 1000,
			Status:       res.Status,
			Cold:         res.Meter.Cold,
			Log:          string(res.Log),
		}
		if err != nil {
			inv.Status = 0
			inv.ErrorKind = host.ErrorKind(err).String()
			inv.ErrorMessage = Message(e, err)
		}
		iv.cfg.Recorder.Record(inv)
	}
	return err
}

var errOverloaded = &host.Error{Kind: host.KindOverloaded, Op: "invoker.Invoke",
	Err: errors.New("the host is running as many invocations as it allows; try again shortly")}

// acquire takes a host-wide slot, waiting at most MaxQueueWait.
func (iv *Invoker) acquire(ctx context.Context) error {
	if iv.slots == nil {
		return nil
	}
	select {
	case iv.slots <- struct{}{}:
		return nil
	default:
	}
	if iv.cfg.MaxQueueWait < 0 {
		return errOverloaded
	}
	t := time.NewTimer(iv.cfg.MaxQueueWait)
	defer t.Stop()
	select {
	case iv.slots <- struct{}{}:
		return nil
	case <-t.C:
		return errOverloaded
	case <-ctx.Done():
		return &host.Error{Kind: host.KindCanceled, Op: "invoker.Invoke", Err: ctx.Err()}
	}
}

// Running returns how many invocations hold a host-wide slot.
func (iv *Invoker) Running() int { return len(iv.slots) }

func qualifier(q string) string {
	if q == "" {
		return "LATEST"
	}
	return q
}

// Message is the text a caller sees for a failed invocation of e: FC's
// wording where FC has one ("Function timed out after 3 seconds"), the
// runtime's explanation otherwise.
func Message(e *Entry, err error) string {
	switch host.ErrorKind(err) {
	case host.KindTimeout:
		return "Function timed out after " + strconv.Itoa(timeoutSeconds(e)) + " seconds"
	case host.KindTooManyInstances:
		return "function " + e.Function.ServiceName + "/" + e.Function.FunctionName +
			" has reached its limit of " + strconv.Itoa(e.fn.Config().MaxInstances) + " concurrent instances; try again later"
	}
	var he *host.Error
	if errors.As(err, &he) && he.Err != nil {
		return he.Kind.String() + ": " + he.Err.Error()
	}
	return err.Error()
}

func timeoutSeconds(e *Entry) int {
	return int(e.fn.Config().Timeout / time.Second)
}

// Check validates wasm as the code of f before it is stored: it compiles
// the module (warming the compilation cache for the first call) and checks
// the handler export and memory limit. wasm is borrowed for the call.
func (iv *Invoker) Check(ctx context.Context, wasm []byte, f host.Function) error {
	mod, err := iv.cfg.Runtime.Compile(ctx, wasm)
	if err != nil {
		return err
	}
	rf, err := iv.cfg.Runtime.NewFunction(mod, iv.functionConfig(f))
	if err != nil {
		return err
	}
	return rf.Close(ctx)
}

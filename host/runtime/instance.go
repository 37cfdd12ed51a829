package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/fnhost/fnhost/abi"
	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/internal/instrument"
)

// instance is one wazero module instance and the state its host functions
// see. It runs one invocation at a time.
//
// Deadlines: every module is rewritten at load (package instrument) so
// that loop headers, and the entries of functions that make calls, count
// down a counter; every 1000 counts the guest exits to Go (a preemption
// point) and reads an added global, the stop flag, trapping when it is set.
// A per-instance timer, armed for each call, sets the flag when the
// deadline passes; the instance is then discarded. The flag only ever goes
// from 0 to 1.
type instance struct {
	fn       *Function
	mod      api.Module
	id       string
	mem      *cappedMemory
	handler  api.Function
	stop     api.MutableGlobal
	stack    [1]uint64 // handler, start and _initialize take and return nothing
	callCtx  context.Context
	timer    *time.Timer
	timedOut atomic.Bool // the timer fired: the stop flag is set
	expired  bool        // the timer fired or could not be stopped: never reuse

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

// instanceFrom returns the instance a host function runs for; callCtx
// carries it.
func instanceFrom(ctx context.Context) *instance {
	in, _ := ctx.Value(instanceKey{}).(*instance)
	return in
}

// instantiate creates an instance of f's module. It runs no guest code:
// the module's start function (moved to an export at load) and _initialize
// run afterwards, under the deadline. stdout nil means the log; stderr is
// always the log.
func (f *Function) instantiate(ctx context.Context, res *host.Response, deadline time.Time, cfg wazero.ModuleConfig, stdout io.Writer) (_ *instance, err error) {
	const op = "runtime.Instantiate"
	in := &instance{
		fn:       f,
		id:       f.idPrefix + strconv.FormatUint(f.nextID.Add(1), 10),
		mem:      &cappedMemory{limit: uint64(f.cfg.MemoryMB) << 20, pool: &f.mems},
		deadline: deadline,
	}
	in.callCtx = context.WithValue(context.Background(), instanceKey{}, in)
	// Output during instance creation belongs to the invocation that
	// needed the instance.
	in.log.reset(&res.Log, f.cfg.MaxLogBytes)
	defer func() {
		if p := recover(); p != nil {
			err = &host.Error{Kind: host.KindInternal, Op: op, Err: fmt.Errorf("panic: %v", p)}
		}
		if err != nil {
			in.log.finish()
			in.close(context.Background())
		}
	}()
	if stdout == nil {
		stdout = &in.log
	}
	mc := cfg.WithStdout(stdout).WithStderr(&in.log).WithNanosleep(in.nanosleep)
	ictx := experimental.WithMemoryAllocator(context.WithValue(ctx, instanceKey{}, in), in.mem)
	mod, err := f.rt.wr.InstantiateModule(ictx, f.mod.compiled, mc)
	if err != nil {
		// With imports checked at load and the start function deferred,
		// what fails here is the module's own data or element segments.
		return nil, in.failure(op, err)
	}
	in.mod = mod
	stop, ok := mod.ExportedGlobal(instrument.StopExport).(api.MutableGlobal)
	if !ok {
		return nil, &host.Error{Kind: host.KindInternal, Op: op, Err: errors.New("module lacks its stop flag")}
	}
	in.stop = stop
	in.timer = time.AfterFunc(time.Hour, in.expire)
	in.timer.Stop()
	if f.mod.hasStart {
		if err := in.run(mod.ExportedFunction(instrument.StartExport), deadline); err != nil {
			return nil, in.failure(op, fmt.Errorf("start function: %w", err))
		}
	}
	return in, nil
}

// newInstance creates a pooled ABI v1 instance, _initialize included.
func (f *Function) newInstance(ctx context.Context, res *host.Response, deadline time.Time) (*instance, error) {
	in, err := f.instantiate(ctx, res, deadline, f.modCfg, nil)
	if err != nil {
		return nil, err
	}
	defer in.log.finish()
	if f.mod.hasInitialize {
		if err := in.run(in.mod.ExportedFunction(abi.ExportInitialize), deadline); err != nil {
			in.close(context.Background())
			return nil, in.failure("runtime.Instantiate", fmt.Errorf("%s: %w", abi.ExportInitialize, err))
		}
	}
	in.handler = in.mod.ExportedFunction(f.cfg.Handler)
	return in, nil
}

// run calls fn (no params, no results) with the deadline armed.
func (in *instance) run(fn api.Function, deadline time.Time) error {
	left := time.Until(deadline)
	if left <= 0 {
		in.expired = true
		return errDeadlinePassed
	}
	in.timer.Reset(left)
	err := fn.CallWithStack(in.callCtx, in.stack[:])
	if !in.timer.Stop() {
		// Fired, or firing now: the stop flag is or will be set.
		in.expired = true
	}
	return err
}

var errDeadlinePassed = &host.Error{Kind: host.KindTimeout, Op: "runtime.Invoke", Err: errors.New("deadline passed before the guest ran")}

// expire runs on the timer's goroutine when a call passes its deadline.
func (in *instance) expire() {
	in.timedOut.Store(true)
	in.stop.Set(1)
}

// nanosleep serves WASI sleeps; it never sleeps past the deadline, so a
// sleeping guest cannot hold an invocation past its timeout.
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
	defer func() {
		if p := recover(); p != nil {
			in.expired = true
			err = &host.Error{Kind: host.KindInternal, Op: "runtime.Invoke", Err: fmt.Errorf("panic: %v", p)}
		}
	}()
	if callErr := in.run(in.handler, deadline); callErr != nil {
		if e := (*host.Error)(nil); errors.As(callErr, &e) {
			return callErr
		}
		return in.failure("runtime.Invoke", callErr)
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
	in.log.reset(&res.Log, in.fn.cfg.MaxLogBytes)
}

func (in *instance) end() {
	in.log.finish()
	in.active = false
	in.req = nil
	in.res = nil
}

// reusable reports whether the instance may go back to the pool after a
// successful call.
func (in *instance) reusable() bool {
	return !in.expired && !in.mod.IsClosed()
}

// failure wraps an error from guest code with its Kind. A timeout says so
// instead of showing the trap the stop flag caused.
func (in *instance) failure(op string, err error) *host.Error {
	kind := in.classify(err)
	if kind == host.KindTimeout {
		err = fmt.Errorf("ran past its deadline (function timeout %v)", in.fn.cfg.Timeout)
	}
	return &host.Error{Kind: kind, Op: op, Err: err}
}

// classify maps an error from a guest call to a Kind.
func (in *instance) classify(err error) host.Kind {
	var exit *sys.ExitError
	switch {
	case in.timedOut.Load():
		// The stop flag made the guest trap, or it trapped or exited on
		// its own after the deadline: either way the deadline passed.
		return host.KindTimeout
	case in.mem.refused.Load():
		return host.KindMemoryLimit
	case errors.As(err, &exit):
		return host.KindExit
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

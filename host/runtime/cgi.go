package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/cgi"
)

// invokeCGI runs a WASI command module for one request (abi/ABI.md §8): a
// fresh instance whose _start reads the body on stdin and prints a CGI
// response on stdout. The caller holds a token.
func (f *Function) invokeCGI(ctx context.Context, req *host.Request, res *host.Response, start, deadline time.Time) (err error) {
	const op = "runtime.Invoke"
	in := &instance{fn: f, mem: &cappedMemory{limit: uint64(f.cfg.MemoryMB) << 20}, deadline: deadline}
	in.id = f.idPrefix + fmt.Sprint(f.nextID.Add(1))
	res.Meter.Cold = true
	res.Meter.InstanceID = in.id
	in.log.reset(&res.Log, f.cfg.MaxLogBytes)
	defer in.log.finish()
	stdout := &boundedBuffer{limit: f.cfg.MaxResponseBytes + f.cfg.MaxHeaderBytes}

	mc := f.modCfg.
		WithStdin(bytes.NewReader(req.Body)).
		WithStdout(stdout).
		WithStderr(&in.log).
		WithNanosleep(in.nanosleep).
		WithStartFunctions("_start")
	for _, kv := range cgi.Env(req, f.cfg.Env) {
		k, v, _ := cut(kv, '=')
		mc = mc.WithEnv(k, v)
	}
	ictx, cancel := context.WithDeadline(context.WithValue(ctx, instanceKey{}, in), deadline)
	defer cancel()
	ictx = experimental.WithMemoryAllocator(ictx, in.mem)
	defer func() {
		if p := recover(); p != nil {
			err = &host.Error{Kind: host.KindInternal, Op: op, Err: fmt.Errorf("panic: %v", p)}
		}
		res.Meter.PeakMemoryBytes = in.mem.size()
		res.Meter.Startup = time.Since(start)
	}()
	mod, runErr := f.rt.wr.InstantiateModule(ictx, f.mod.compiled, mc)
	if mod != nil {
		_ = mod.Close(context.Background())
	}
	if runErr != nil {
		var exit *sys.ExitError
		if !(errors.As(runErr, &exit) && exit.ExitCode() == 0) {
			kind := in.classify(runErr)
			if kind == host.KindExit && stdout.over {
				kind = host.KindResponseTooLarge
			}
			return &host.Error{Kind: kind, Op: op, Err: runErr}
		}
	}
	if stdout.over {
		return &host.Error{Kind: host.KindResponseTooLarge, Op: op, Err: errors.New("CGI output over the response limit")}
	}
	if err := cgi.ParseResponse(stdout.buf, res); err != nil {
		return &host.Error{Kind: host.KindBadResponse, Op: op, Err: err}
	}
	if len(res.Body) > f.cfg.MaxResponseBytes {
		return &host.Error{Kind: host.KindResponseTooLarge, Op: op, Err: errors.New("CGI response body over the limit")}
	}
	if res.HeaderBytes() > f.cfg.MaxHeaderBytes {
		return &host.Error{Kind: host.KindResponseTooLarge, Op: op, Err: errors.New("CGI response headers over the limit")}
	}
	return nil
}

// boundedBuffer collects a CGI program's stdout up to limit bytes; past it
// the program's writes still succeed (it is not told) but over is set and
// the invocation fails.
type boundedBuffer struct {
	buf   []byte
	limit int
	over  bool
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if len(b.buf)+len(p) > b.limit {
		b.over = true
		return len(p), nil
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

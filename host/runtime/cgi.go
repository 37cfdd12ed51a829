package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/sys"

	"github.com/fnhost/fnhost/abi"
	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/cgi"
)

// invokeCGI runs a WASI command module for one request (abi/ABI.md §8): a
// fresh instance whose _start reads the body on stdin and prints a CGI
// response on stdout. The caller holds a token.
func (f *Function) invokeCGI(ctx context.Context, req *host.Request, res *host.Response, start, deadline time.Time) error {
	const op = "runtime.Invoke"
	stdout := &boundedBuffer{limit: f.cfg.MaxResponseBytes + f.cfg.MaxHeaderBytes}
	mc := f.modCfg.WithStdin(bytes.NewReader(req.Body))
	for _, kv := range cgi.Env(req, f.cfg.Env) {
		k, v, _ := strings.Cut(kv, "=")
		mc = mc.WithEnv(k, v)
	}
	res.Meter.Cold = true
	in, err := f.instantiate(ctx, res, deadline, mc, stdout)
	if err != nil {
		return err
	}
	defer in.close(context.Background())
	defer in.log.finish()
	res.Meter.InstanceID = in.id
	runErr := in.run(in.mod.ExportedFunction(abi.ExportStart), deadline)
	res.Meter.PeakMemoryBytes = in.mem.size()
	res.Meter.Startup = time.Since(start)
	if runErr != nil {
		var exit *sys.ExitError
		if !errors.As(runErr, &exit) || exit.ExitCode() != 0 || in.timedOut.Load() {
			return in.failure(op, runErr)
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
		return &host.Error{Kind: host.KindResponseTooLarge, Op: op, Err: fmt.Errorf("CGI response headers over the limit of %d bytes", f.cfg.MaxHeaderBytes)}
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

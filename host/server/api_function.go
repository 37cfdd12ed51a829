package server

// Management API: functions and their code.
//
// Function settings follow FC's names, defaults and ranges, with one
// deviation: instanceConcurrency is stored and reported (1–200, default 1)
// but does not change scheduling. An fnhost instance runs one request at a
// time — a wasm instance has one linear memory and one stack, and guests
// are not written to be re-entered — so concurrent requests to a function
// get separate instances, up to maxInstances. FC tools that set
// instanceConcurrency > 1 keep working; they get per-instance isolation
// instead of shared instances.
//
// maxInstances is an fnhost extension (0 means the host's default).
//
// Code arrives as FC's code.zipFile (see decodeCode) and is compiled and
// checked against the function's handler and memory size before anything
// is stored: a module that cannot run is a 400 at deploy time, not a 502 at
// the first invocation.

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fnhost/fnhost/abi"
	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/auth"
	"github.com/valyala/fasthttp"
)

// Function setting defaults and ranges (FC's, except maxInstances).
const (
	defaultMemorySize          = 128 // MB
	minMemorySize              = 16
	maxMemorySize              = 4096
	defaultTimeout             = 3 // seconds
	minTimeout                 = 1
	maxTimeout                 = 600
	defaultInstanceConcurrency = 1
	maxInstanceConcurrency     = 200
	maxMaxInstances            = 1000
	maxHandlerLen              = 128
	// maxEnvBytes bounds the environment variables, names and values
	// together (FC's 4 KB).
	maxEnvBytes = 4 << 10
)

// codeLinkTTL is how long a GetFunctionCode link is valid.
const codeLinkTTL = 10 * time.Minute

// functionInput is the body of CreateFunction and UpdateFunction. Pointer
// fields tell a field that is absent (or null) — unchanged on update,
// default on create — from one that is set. FC's other fields
// (initializer, layers, customContainerConfig, …) are accepted and
// ignored.
type functionInput struct {
	FunctionName         *string            `json:"functionName"`
	Description          *string            `json:"description"`
	Runtime              *string            `json:"runtime"`
	Handler              *string            `json:"handler"`
	MemorySize           *int               `json:"memorySize"`
	Timeout              *int               `json:"timeout"`
	InstanceConcurrency  *int               `json:"instanceConcurrency"`
	MaxInstances         *int               `json:"maxInstances"`
	EnvironmentVariables *map[string]string `json:"environmentVariables"`
	Code                 *codeInput         `json:"code"`
}

// codeInput is FC's code object. Only zipFile is served.
type codeInput struct {
	ZipFile       *string `json:"zipFile"`
	OssBucketName *string `json:"ossBucketName"`
	OssObjectName *string `json:"ossObjectName"`
}

type functionList struct {
	Functions []host.Function `json:"functions"`
	NextToken string          `json:"nextToken,omitempty"`
}

// validate checks the fields that are present.
func (in *functionInput) validate() error {
	if in.Runtime != nil && *in.Runtime != host.RuntimeWasm {
		return badRequest("runtime %s is not supported: fnhost runs only %q (WebAssembly modules)", quoteBounded(*in.Runtime), host.RuntimeWasm)
	}
	if err := checkDescription(in.Description); err != nil {
		return err
	}
	if in.Handler != nil {
		if err := checkHandler(*in.Handler); err != nil {
			return err
		}
	}
	for _, r := range [...]struct {
		name   string
		v      *int
		lo, hi int
	}{
		{"memorySize", in.MemorySize, minMemorySize, maxMemorySize},
		{"timeout", in.Timeout, minTimeout, maxTimeout},
		{"instanceConcurrency", in.InstanceConcurrency, 1, maxInstanceConcurrency},
		{"maxInstances", in.MaxInstances, 0, maxMaxInstances},
	} {
		if r.v != nil && (*r.v < r.lo || *r.v > r.hi) {
			return badRequest("%s %d is out of range: it must be %d to %d", r.name, *r.v, r.lo, r.hi)
		}
	}
	if in.EnvironmentVariables != nil {
		if err := checkEnv(*in.EnvironmentVariables); err != nil {
			return err
		}
	}
	if c := in.Code; c != nil {
		if (c.OssBucketName != nil && *c.OssBucketName != "") || (c.OssObjectName != nil && *c.OssObjectName != "") {
			return badRequest("OSS code is not supported; send code.zipFile")
		}
		if c.ZipFile == nil || *c.ZipFile == "" {
			return badRequest("code.zipFile is required: the base64 of a .wasm module or of a zip holding one")
		}
	}
	return nil
}

// checkHandler checks that h can be a wasm export name fnhost calls:
// 1 to 128 bytes of printable UTF-8 without spaces.
func checkHandler(h string) error {
	ok := h != "" && len(h) <= maxHandlerLen && utf8.ValidString(h)
	for _, r := range h {
		if !ok {
			break
		}
		ok = unicode.IsPrint(r) && !unicode.IsSpace(r)
	}
	if !ok {
		return badRequest("handler %s is not a valid export name: it must be 1 to %d printable characters without spaces (the default is %q)",
			quoteBounded(h), maxHandlerLen, abi.DefaultHandler)
	}
	return nil
}

// checkEnv applies FC's rules: names [A-Za-z_][A-Za-z0-9_]*, names and
// values together at most 4 KB. Values may not contain NUL (WASI passes
// the environment as C strings).
func checkEnv(env map[string]string) error {
	total := 0
	for k, v := range env {
		if !validEnvName(k) {
			return badRequest("environment variable name %s is invalid: it must match [A-Za-z_][A-Za-z0-9_]*", quoteBounded(k))
		}
		if strings.IndexByte(v, 0) >= 0 {
			return badRequest("environment variable %s contains a NUL byte", k)
		}
		total += len(k) + len(v)
	}
	if total > maxEnvBytes {
		return badRequest("environment variables are %d bytes (names and values), over the limit of %d", total, maxEnvBytes)
	}
	return nil
}

func validEnvName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '_':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// apply sets the present fields on f. It is idempotent (the store may run
// a mutation more than once).
func (in *functionInput) apply(f *host.Function) {
	if in.Description != nil {
		f.Description = *in.Description
	}
	if in.Runtime != nil {
		f.Runtime = *in.Runtime
	}
	if in.Handler != nil {
		f.Handler = *in.Handler
	}
	if in.MemorySize != nil {
		f.MemorySize = *in.MemorySize
	}
	if in.Timeout != nil {
		f.Timeout = *in.Timeout
	}
	if in.InstanceConcurrency != nil {
		f.InstanceConcurrency = *in.InstanceConcurrency
	}
	if in.MaxInstances != nil {
		f.MaxInstances = *in.MaxInstances
	}
	if in.EnvironmentVariables != nil {
		f.EnvironmentVariables = maps.Clone(*in.EnvironmentVariables)
		if f.EnvironmentVariables == nil {
			f.EnvironmentVariables = map[string]string{}
		}
	}
}

// functionView is f as answered: environmentVariables is {} rather than
// null when there are none.
func functionView(f host.Function) host.Function {
	if f.EnvironmentVariables == nil {
		f.EnvironmentVariables = map[string]string{}
	}
	return f
}

// localResourceError names the resource of a conflict the server itself
// detects, so that the error code comes out as FC's (FunctionAlreadyExists).
type localResourceError struct{ typ, msg string }

func (e *localResourceError) Error() string        { return e.msg }
func (e *localResourceError) ResourceType() string { return e.typ }

// checkModule runs the module check; a module that cannot run as f is the
// caller's mistake (400), not a failed invocation (502).
func (s *Server) checkModule(ctx *fasthttp.RequestCtx, wasm []byte, f host.Function) error {
	err := s.cfg.Checker.Check(ctx, wasm, f)
	if err == nil || host.ErrorKind(err) != host.KindInvalidModule {
		return err
	}
	msg := err.Error()
	var he *host.Error
	if errors.As(err, &he) && he.Err != nil {
		msg = he.Err.Error()
	}
	return badRequest("code is not a runnable fnhost module: %s", msg)
}

func (s *Server) createFunction(ctx *fasthttp.RequestCtx, svc string) error {
	var in functionInput
	if err := decodeJSON(ctx, &in); err != nil {
		return err
	}
	if in.FunctionName == nil {
		return badRequest("functionName is required")
	}
	name := *in.FunctionName
	if err := checkName("functionName", name); err != nil {
		return err
	}
	if in.Runtime == nil {
		return badRequest("runtime is required and must be %q", host.RuntimeWasm)
	}
	if err := in.validate(); err != nil {
		return err
	}
	if in.Code == nil {
		return badRequest("code is required: send code.zipFile, the base64 of a .wasm module or of a zip holding one")
	}
	// Cheap answers before the decoding and the compile; the store
	// checks both again in its transaction.
	if _, err := s.cfg.Store.GetService(svc); err != nil {
		return err
	}
	switch _, err := s.cfg.Store.GetFunction(svc, name); {
	case err == nil:
		return &host.Error{Kind: host.KindConflict, Op: "server.CreateFunction",
			Err: &localResourceError{"Function", "function " + strconv.Quote(svc+"/"+name) + " already exists"}}
	case host.ErrorKind(err) != host.KindNotFound:
		return err
	}
	wasm, err := decodeCode(*in.Code.ZipFile, name, s.cfg.Limits.MaxCodeBytes)
	if err != nil {
		return err
	}
	f := host.Function{
		ServiceName:         svc,
		FunctionName:        name,
		Runtime:             host.RuntimeWasm,
		Handler:             abi.DefaultHandler,
		MemorySize:          defaultMemorySize,
		Timeout:             defaultTimeout,
		InstanceConcurrency: defaultInstanceConcurrency,
	}
	in.apply(&f)
	if err := s.checkModule(ctx, wasm, f); err != nil {
		return err
	}
	rec, err := s.cfg.Store.CreateFunction(f, wasm)
	if err != nil {
		return err
	}
	s.cfg.Invoker.Invalidate(svc, name)
	return writeJSON(ctx, 200, functionView(rec))
}

func (s *Server) updateFunction(ctx *fasthttp.RequestCtx, svc, fn string) error {
	var in functionInput
	if err := decodeJSON(ctx, &in); err != nil {
		return err
	}
	if in.FunctionName != nil && *in.FunctionName != "" && *in.FunctionName != fn {
		return badRequest("functionName cannot change (the path names %s)", quoteBounded(fn))
	}
	if err := in.validate(); err != nil {
		return err
	}
	var wasm []byte // nil: keep the code
	if in.Code != nil {
		var err error
		if wasm, err = decodeCode(*in.Code.ZipFile, fn, s.cfg.Limits.MaxCodeBytes); err != nil {
			return err
		}
	}
	cur, err := s.cfg.Store.GetFunction(svc, fn)
	if err != nil {
		return err
	}
	merged := cur
	in.apply(&merged)
	recheck := wasm != nil || merged.Handler != cur.Handler || merged.MemorySize != cur.MemorySize
	if recheck {
		mod := wasm
		if mod == nil {
			if mod, err = s.cfg.Store.GetModule(cur.CodeChecksum); err != nil {
				return err
			}
		}
		if err := s.checkModule(ctx, mod, merged); err != nil {
			return err
		}
	}
	rec, err := s.cfg.Store.UpdateFunction(svc, fn, wasm, func(r *host.Function) error {
		// The check above holds for the code, handler and memory size it
		// saw; if a concurrent update changed them, this one must be
		// retried rather than store an unchecked combination.
		if recheck && (r.CodeChecksum != cur.CodeChecksum || r.Handler != cur.Handler || r.MemorySize != cur.MemorySize) {
			return newAPIError(409, "ConcurrentUpdate",
				"function "+strconv.Quote(svc+"/"+fn)+" changed while this update was being checked; retry it")
		}
		in.apply(r)
		return nil
	})
	if err != nil {
		return err
	}
	s.cfg.Invoker.Invalidate(svc, fn)
	return writeJSON(ctx, 200, functionView(rec))
}

func (s *Server) getFunction(ctx *fasthttp.RequestCtx, svc, fn string) error {
	rec, err := s.cfg.Store.GetFunction(svc, fn)
	if err != nil {
		return err
	}
	return writeJSON(ctx, 200, functionView(rec))
}

func (s *Server) deleteFunction(ctx *fasthttp.RequestCtx, svc, fn string) error {
	if err := s.cfg.Store.DeleteFunction(svc, fn); err != nil {
		return err
	}
	s.cfg.Invoker.Forget(svc, fn)
	return writeNoContent(ctx)
}

func (s *Server) listFunctions(ctx *fasthttp.RequestCtx, svc string) error {
	o, err := listOptions(ctx)
	if err != nil {
		return err
	}
	recs, next, err := s.cfg.Store.ListFunctions(svc, o)
	if err != nil {
		return err
	}
	for i := range recs {
		recs[i] = functionView(recs[i])
	}
	if recs == nil {
		recs = []host.Function{}
	}
	return writeJSON(ctx, 200, functionList{Functions: recs, NextToken: next})
}

// ---- code ----

// codeFormat reads the format query parameter of the code endpoints:
// "" or "zip" (the default, what FC clients expect) or "wasm".
func codeFormat(ctx *fasthttp.RequestCtx) (string, error) {
	switch f := string(ctx.QueryArgs().Peek("format")); f {
	case "", "zip":
		return "zip", nil
	case "wasm":
		return f, nil
	default:
		return "", badRequest("query parameter format must be \"zip\" or \"wasm\", not %s", quoteBounded(f))
	}
}

// getFunctionCode is GetFunctionCode: a link to the code, presigned for the
// access key that signed this request and valid for codeLinkTTL, and the
// module's checksum. ?format=wasm is carried into the (signed) link.
func (s *Server) getFunctionCode(ctx *fasthttp.RequestCtx, svc, fn string) error {
	format, err := codeFormat(ctx)
	if err != nil {
		return err
	}
	f, err := s.cfg.Store.GetFunction(svc, fn)
	if err != nil {
		return err
	}
	id := signingKeyID(ctx)
	secret, ok := s.cfg.Keys(id)
	if !ok { // the key was removed since the router verified the request
		return auth.ErrInvalidAccessKeyID
	}
	u := &url.URL{
		Scheme: requestScheme(ctx),
		Host:   string(ctx.Host()),
		Path:   apiPrefix + "/services/" + svc + "/functions/" + fn + "/code/download",
	}
	if u.Host == "" {
		u.Host = ctx.LocalAddr().String()
	} else if _, _, err := net.SplitHostPort(u.Host); err != nil && len(ctx.Request.Header.Peek("X-Forwarded-Proto")) == 0 {
		// A Host without a port (FC's Node.js SDK sends the bare host
		// name) means the default port; make the link reach the port this
		// request actually came in on when that is not 80.
		if la, ok := ctx.LocalAddr().(*net.TCPAddr); ok && la.Port != 80 {
			u.Host = net.JoinHostPort(strings.Trim(u.Host, "[]"), strconv.Itoa(la.Port))
		}
	}
	if format == "wasm" {
		u.RawQuery = "format=wasm"
	}
	link := auth.SignURL("GET", u, nil, auth.Credentials{AccessKeyID: id, AccessKeySecret: secret}, s.cfg.Now().Add(codeLinkTTL))
	return writeJSON(ctx, 200, struct {
		URL      string `json:"url"`
		Checksum string `json:"checksum"`
	}{link, f.CodeChecksum})
}

// signingKeyID returns the access key id of a verified request: from its
// Authorization header ("FC <id>:<signature>") or, for a presigned
// request, its x-fc-access-key-id parameter.
func signingKeyID(ctx *fasthttp.RequestCtx) string {
	if a := string(ctx.Request.Header.Peek("Authorization")); a != "" {
		rest, _ := strings.CutPrefix(a, "FC ")
		id, _, _ := strings.Cut(rest, ":")
		return id
	}
	return string(ctx.QueryArgs().Peek(auth.ParamAccessKeyID))
}

// requestScheme is the scheme the client used: https when a proxy says so
// in X-Forwarded-Proto, else http (the server itself speaks plain HTTP).
func requestScheme(ctx *fasthttp.RequestCtx) string {
	p, _, _ := strings.Cut(string(ctx.Request.Header.Peek("X-Forwarded-Proto")), ",")
	if strings.EqualFold(strings.TrimSpace(p), "https") {
		return "https"
	}
	return "http"
}

// downloadCode serves a GetFunctionCode link (the router has verified its
// presigned signature): a zip holding "<function>.wasm", or with
// format=wasm the module itself.
func (s *Server) downloadCode(ctx *fasthttp.RequestCtx, svc, fn string) error {
	format, err := codeFormat(ctx)
	if err != nil {
		return err
	}
	f, err := s.cfg.Store.GetFunction(svc, fn)
	if err != nil {
		return err
	}
	wasm, err := s.cfg.Store.GetModule(f.CodeChecksum)
	if err != nil {
		return err
	}
	body, ctype, name := wasm, "application/wasm", fn+".wasm"
	if format == "zip" {
		if body, err = zipModule(fn+".wasm", wasm, f.LastModifiedTime); err != nil {
			return err
		}
		ctype, name = "application/zip", fn+".zip"
	}
	ctx.SetStatusCode(200)
	ctx.Response.Header.SetContentType(ctype)
	ctx.Response.Header.Set("Content-Disposition", "attachment; filename=\""+name+"\"")
	ctx.Response.Header.SetBytesKV(hdrChecksum, s2b(f.CodeChecksum))
	ctx.Response.SetBodyRaw(body) // ours: GetModule's slice or the new zip
	return nil
}

// zipModule returns a zip archive holding wasm as name.
func zipModule(name string, wasm []byte, modified string) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(wasm)/2 + 1024)
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	h := &zip.FileHeader{Name: name, Method: zip.Deflate}
	if t, err := time.Parse(host.TimeFormat, modified); err == nil {
		h.Modified = t
	}
	w, err := zw.CreateHeader(h)
	if err == nil {
		_, err = w.Write(wasm)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return nil, &host.Error{Kind: host.KindInternal, Op: "server.downloadCode", Err: fmt.Errorf("zip module: %w", err)}
	}
	return buf.Bytes(), nil
}

// Package server is fnhost's HTTP front end on fasthttp: HTTP triggers at
// /2016-08-15/proxy/{service}[.{qualifier}]/{function}/{path…}, the
// management API on Function Compute's 2016-08-15 paths (always signed),
// InvokeFunction, /healthz and /metrics.
//
// Every request gets an x-fc-request-id. Errors are answered from one table
// (errors.go: kindStatus) keyed on host.Kind, with FC's body
// {"ErrorCode","ErrorMessage"}. A panic in a handler is recovered into a 500
// and logged; the server keeps serving.
//
// The server reads and writes metadata through the Store interface (which
// *store.Store implements) and runs functions through *invoker.Invoker, the
// invoke path it shares with the other callers. After every successful
// management change it invalidates the invoker's live entry, so the next
// invocation sees the change.
//
// Bytes: fasthttp's request buffers are valid only until a handler returns.
// The trigger path hands them to the invoker without copying (the
// invocation is synchronous); anything kept longer must be copied.
package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/auth"
	"github.com/fnhost/fnhost/host/invoker"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// Store is the metadata the management API reads and writes. Errors are
// *host.Error values; not-found, conflict and not-empty errors wrap an
// error with a ResourceType method naming the resource. *store.Store
// implements it.
type Store interface {
	CreateService(svc host.Service) (host.Service, error)
	GetService(name string) (host.Service, error)
	UpdateService(name string, mutate func(*host.Service) error) (host.Service, error)
	DeleteService(name string) error
	ListServices(o host.ListOptions) ([]host.Service, string, error)

	// CreateFunction and UpdateFunction store code (borrowed for the
	// call) content-addressed and reference it from the function; a nil
	// code leaves UpdateFunction's code unchanged.
	CreateFunction(f host.Function, code []byte) (host.Function, error)
	GetFunction(svc, fn string) (host.Function, error)
	UpdateFunction(svc, fn string, code []byte, mutate func(*host.Function) error) (host.Function, error)
	// DeleteFunction deletes the function and its triggers.
	DeleteFunction(svc, fn string) error
	ListFunctions(svc string, o host.ListOptions) ([]host.Function, string, error)
	// GetModule returns a module's bytes; the caller owns the slice.
	GetModule(checksum string) ([]byte, error)

	CreateTrigger(t host.Trigger) (host.Trigger, error)
	GetTrigger(svc, fn, trg string) (host.Trigger, error)
	UpdateTrigger(svc, fn, trg string, mutate func(*host.Trigger) error) (host.Trigger, error)
	DeleteTrigger(svc, fn, trg string) error
	ListTriggers(svc, fn string, o host.ListOptions) ([]host.Trigger, string, error)

	ListInvocations(svc, fn string, o host.InvocationListOptions) ([]host.Invocation, string, error)

	PutAsyncConfig(c host.AsyncConfig) (host.AsyncConfig, error)
	GetAsyncConfig(svc, fn string) (host.AsyncConfig, error)
	DeleteAsyncConfig(svc, fn string) error
	ListAsyncConfigs(svc, fn string) ([]host.AsyncConfig, error)
}

// Checker validates a module for a function before it is stored: it
// compiles it (which also warms the compilation cache) and checks the
// handler export and memory limit. It returns a KindInvalidModule error
// with a message for the user when the module cannot run.
type Checker interface {
	Check(ctx context.Context, wasm []byte, f host.Function) error
}

// Limits bound what one request may make the server read. Zero values take
// FC's limits (the defaults below).
type Limits struct {
	// MaxHeaderBytes bounds a request's header names and values together.
	MaxHeaderBytes int
	// MaxURLBytes bounds the request path and query.
	MaxURLBytes int
	// MaxBodyBytes bounds a synchronous invocation's body.
	MaxBodyBytes int
	// MaxAsyncBodyBytes bounds an asynchronous invocation's body (it is
	// stored until the job runs).
	MaxAsyncBodyBytes int
	// MaxCodeBytes bounds a function's .wasm module (after base64 and zip
	// decoding).
	MaxCodeBytes int
}

// Default limits: FC's request limits (fc-compat.md §7) and a module limit.
const (
	DefaultMaxHeaderBytes = 8 << 10
	DefaultMaxURLBytes    = 4 << 10
	DefaultMaxBodyBytes   = 32 << 20
	DefaultMaxCodeBytes   = 20 << 20
)

func (l *Limits) setDefaults() {
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxURLBytes <= 0 {
		l.MaxURLBytes = DefaultMaxURLBytes
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if l.MaxAsyncBodyBytes <= 0 {
		l.MaxAsyncBodyBytes = DefaultMaxAsyncBodyBytes
	}
	if l.MaxCodeBytes <= 0 {
		l.MaxCodeBytes = DefaultMaxCodeBytes
	}
}

// Config configures a Server.
type Config struct {
	Store   Store
	Invoker *invoker.Invoker
	Checker Checker
	// Jobs runs asynchronous invocations; nil refuses them with 400.
	Jobs Jobs
	// Keys returns the secret of an access key id (management API and
	// function-auth triggers).
	Keys func(accessKeyID string) (secret string, ok bool)
	// AccountID is reported in ARNs and accepted in X-Fc-Account-Id.
	AccountID string
	Limits    Limits
	// MaxConnsPerIP limits open connections from one client address
	// (fasthttp's limit); zero means none.
	MaxConnsPerIP int
	Logger        zerolog.Logger
	// Gatherer serves /metrics. Nil serves the default registry.
	Gatherer prometheus.Gatherer
	// Now is the clock for signatures and timestamps. Nil means time.Now.
	Now func() time.Time
	// TrustedProxies are the proxies whose X-Forwarded-For header is
	// believed: a request from one of them is from the right-most address
	// of that header that is not itself a trusted proxy. Nil (the
	// default) trusts no proxy: the client is the connection's peer. The
	// client address is what trigger ipAllow/ipDeny lists check and what
	// the function sees as its client IP.
	TrustedProxies []netip.Prefix
}

// Server is an fnhost HTTP server. Create it with New, run it with Serve,
// stop it with Shutdown.
type Server struct {
	cfg      Config
	log      zerolog.Logger
	verifier auth.Verifier
	// triggerVerifier also refuses a replayed POST/PATCH signature on
	// function-auth triggers (the management API does not: see RATIONALE).
	triggerVerifier auth.Verifier
	fast            *fasthttp.Server
	metrics         fasthttp.RequestHandler
	ready           atomic.Bool
	panics          prometheus.Counter
	trig            triggerAuth // trigger protections (trigger_auth.go)
}

// New returns a Server. It does not listen yet.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Invoker == nil || cfg.Checker == nil || cfg.Keys == nil {
		return nil, errors.New("server: Store, Invoker, Checker and Keys are required")
	}
	cfg.Limits.setDefaults()
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Gatherer == nil {
		cfg.Gatherer = prometheus.DefaultGatherer
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		verifier: auth.Verifier{Keys: cfg.Keys, Now: cfg.Now},
		triggerVerifier: auth.Verifier{Keys: cfg.Keys, Now: cfg.Now,
			Replay: auth.NewReplayCache(replayCacheSize, 2*auth.DefaultSkew)},
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fnhost_http_panics_total", Help: "Handler panics recovered into a 500.",
		}),
	}
	if r, ok := cfg.Gatherer.(prometheus.Registerer); ok {
		_ = r.Register(s.panics) // a second Server on one registry shares the series
	}
	s.metrics = fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	s.fast = &fasthttp.Server{
		Handler:      s.handle,
		ErrorHandler: s.handleParseError,
		Name:         "fnhost",
		// The request line (path and query up to MaxURLBytes) and the
		// headers (up to MaxHeaderBytes) must fit; a larger request is
		// answered by handleParseError with FC's 400.
		ReadBufferSize:               cfg.Limits.MaxURLBytes + cfg.Limits.MaxHeaderBytes + 1024,
		MaxRequestBodySize:           max(cfg.Limits.MaxBodyBytes, cfg.Limits.MaxCodeBytes*4/3+64<<10),
		ReadTimeout:                  60 * time.Second,
		WriteTimeout:                 60 * time.Second,
		IdleTimeout:                  90 * time.Second,
		MaxConnsPerIP:                cfg.MaxConnsPerIP,
		DisablePreParseMultipartForm: true,
		NoDefaultContentType:         true,
		CloseOnShutdown:              true,
		Logger:                       fastLogger{cfg.Logger},
	}
	return s, nil
}

// Serve accepts connections on ln until Shutdown. It returns nil after a
// Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.ready.Store(true)
	return s.fast.Serve(ln)
}

// Shutdown stops accepting connections and waits, at most until ctx is done,
// for the requests in flight (running invocations included) to finish.
// /healthz answers 503 from the moment it is called.
func (s *Server) Shutdown(ctx context.Context) error {
	s.ready.Store(false)
	return s.fast.ShutdownWithContext(ctx)
}

// Handler returns the request handler (for tests and embedding).
func (s *Server) Handler() fasthttp.RequestHandler { return s.handle }

const apiPrefix = "/2016-08-15"

// replayCacheSize bounds the signatures remembered for replay checks
// (≈ 100 bytes each).
const replayCacheSize = 100_000

// handle routes a request. Routing looks at the raw path bytes only; each
// handler parses the rest.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	defer s.recoverPanic(ctx)
	if isSmuggling(ctx.Request.Header.RawHeaders()) {
		// Transfer-Encoding: chunked together with Content-Length is how
		// requests are smuggled past a proxy that believes the other
		// header. HTTP lets chunked win; refusing is safer for a server
		// that may sit behind any proxy.
		setRequestID(ctx, host.NewRequestID())
		s.writeErrorBody(ctx, 400, errTypeCommon, CodeInvalidArgument,
			"a request may not carry both Transfer-Encoding: chunked and Content-Length", true)
		ctx.SetConnectionClose()
		return
	}
	path := ctx.Path()
	switch {
	case hasPrefix(path, apiPrefix+"/proxy/"):
		s.serveTrigger(ctx, path[len(apiPrefix)+len("/proxy/"):])
	case hasPrefix(path, apiPrefix+"/"):
		s.serveAPI(ctx, string(path[len(apiPrefix):]))
	case string(path) == "/healthz":
		s.serveHealth(ctx)
	case string(path) == "/metrics":
		s.metrics(ctx)
	default:
		setRequestID(ctx, host.NewRequestID())
		s.writeErrorBody(ctx, 404, errTypeCommon, CodePathNotSupported,
			"unknown path; the API lives under /2016-08-15/ (triggers at /2016-08-15/proxy/{service}/{function}/)", false)
	}
}

// isSmuggling reports whether a raw header block has both a
// Transfer-Encoding and a Content-Length field. fasthttp resolves the pair
// (chunked wins) and rewrites both before the handler runs, so only the raw
// block shows it. One pass over the field names; no allocation.
func isSmuggling(raw []byte) bool {
	var te, cl bool
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		i := bytes.IndexByte(line, ':')
		if i < 0 {
			continue
		}
		switch name := bytes.TrimSpace(line[:i]); {
		case host.EqualFoldASCII(name, "transfer-encoding"):
			te = true
		case host.EqualFoldASCII(name, "content-length"):
			cl = true
		}
	}
	return te && cl
}

func hasPrefix(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == prefix
}

func (s *Server) serveHealth(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.SetContentType("application/json")
	if !s.ready.Load() {
		ctx.SetStatusCode(503)
		ctx.SetBodyString(`{"status":"shutting down"}` + "\n")
		return
	}
	ctx.SetBodyString(`{"status":"ok"}` + "\n")
}

// recoverPanic turns a handler panic into a 500 for this request only.
func (s *Server) recoverPanic(ctx *fasthttp.RequestCtx) {
	v := recover()
	if v == nil {
		return
	}
	if v == fasthttp.ErrBodyTooLarge { // not ours; should not happen
		panic(v)
	}
	s.panics.Inc()
	id := requestID(ctx)
	if id == "" {
		id = host.NewRequestID()
		setRequestID(ctx, id)
	}
	s.log.Error().Str("request_id", id).Bytes("path", ctx.Path()).
		Str("panic", fmt.Sprint(v)).Bytes("stack", debug.Stack()).Msg("handler panic recovered")
	ctx.Response.Reset()
	setRequestID(ctx, id)
	s.writeErrorBody(ctx, 500, errTypeCommon, CodeInternalServerError,
		"internal server error; the server log has details under this request id", true)
}

// handleParseError answers requests fasthttp could not read: too large a
// header block or body → FC's 400; anything else → 400 as well (the
// request is malformed).
func (s *Server) handleParseError(ctx *fasthttp.RequestCtx, err error) {
	setRequestID(ctx, host.NewRequestID())
	var small *fasthttp.ErrSmallBuffer
	msg := "malformed HTTP request"
	switch {
	case errors.As(err, &small):
		msg = fmt.Sprintf("request line and headers are over the limits (path and query %d bytes, headers %d bytes)",
			s.cfg.Limits.MaxURLBytes, s.cfg.Limits.MaxHeaderBytes)
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		msg = fmt.Sprintf("request body is over the limit of %d bytes", s.cfg.Limits.MaxBodyBytes)
	}
	s.writeErrorBody(ctx, 400, errTypeCommon, CodeInvalidArgument, msg, true)
	ctx.SetConnectionClose()
}

func setRequestID(ctx *fasthttp.RequestCtx, id string) {
	ctx.Response.Header.SetCanonical(hdrRequestID, s2b(id))
}

// requestID returns the request id set on the response.
func requestID(ctx *fasthttp.RequestCtx) string {
	return string(ctx.Response.Header.PeekBytes(hdrRequestID))
}

// fastLogger sends fasthttp's own messages (connection errors) to zerolog
// at debug level: they are about clients, not the server.
type fastLogger struct{ l zerolog.Logger }

func (f fastLogger) Printf(format string, args ...any) {
	f.l.Debug().Msg(strings.TrimSpace(fmt.Sprintf(format, args...)))
}

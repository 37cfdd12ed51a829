package server

import (
	"bytes"
	"encoding/base64"
	"net"
	"net/netip"
	"strconv"
	"sync"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/auth"
	"github.com/fnhost/fnhost/host/invoker"
	"github.com/valyala/fasthttp"
)

// LogTailBytes is how much of an invocation's log x-fc-log-type: Tail
// returns (base64 in x-fc-log-result), as in FC.
const LogTailBytes = 4 << 10

// Qualifier is the only version fnhost serves.
const qualifierLatest = "LATEST"

// call is the per-request state of an invocation, pooled so that the warm
// trigger path allocates almost nothing.
type call struct {
	req  host.Request
	res  host.Response
	ip   [48]byte
	hdrs []host.Header
	num  [32]byte
	// From the x-fc-* control headers, read while copying the others.
	async, logTail bool
}

var callPool = sync.Pool{New: func() any { return new(call) }}

func getCall() *call { return callPool.Get().(*call) }

func putCall(c *call) {
	c.req = host.Request{Headers: c.hdrs[:0]}
	c.async, c.logTail = false, false
	if cap(c.res.Body) > 1<<20 { // do not pin big buffers in the pool
		c.res = host.Response{}
	}
	callPool.Put(c)
}

// serveTrigger answers /2016-08-15/proxy/{service}[.{qualifier}]/{function}/{path…};
// rest is the part after "/proxy/". The checks run in FC's order: route,
// trigger, internet URL, method, signature, limits; fnhost's extensions
// slot in as route, trigger, internet URL, CORS preflight, IP lists,
// method, authentication (signature, JWT, basic or none), limits.
func (s *Server) serveTrigger(ctx *fasthttp.RequestCtx, rest []byte) {
	id := host.NewRequestIDAt(ctx.Time())
	setRequestID(ctx, id)

	svc, qual, fn, _, ok := splitTriggerPath(rest)
	if !ok {
		s.writeErrorBody(ctx, 404, errTypeCommon, CodePathNotSupported,
			"trigger paths are /2016-08-15/proxy/{service}[.{qualifier}]/{function}/{path}", true)
		return
	}
	if len(qual) > 0 && string(qual) != qualifierLatest {
		s.writeErrorBody(ctx, 404, errTypeCommon, "VersionNotFound",
			"version or alias "+strconv.Quote(string(qual))+" not found: fnhost serves LATEST only", true)
		return
	}
	e, err := s.cfg.Invoker.LookupBytes(ctx, svc, fn)
	if err != nil {
		s.writeError(ctx, err, true)
		return
	}
	if !e.HasTrigger {
		s.writeErrorBody(ctx, 404, errTypeCommon, "TriggerNotFound",
			"function "+strconv.Quote(string(svc)+"/"+string(fn))+" has no HTTP trigger", true)
		return
	}
	tc := &e.Trigger.TriggerConfig
	if tc.DisableURLInternet {
		s.writeErrorBody(ctx, 403, errTypeCommon, CodeAccessDenied,
			"access denied due to function internet URL is disable", true)
		return
	}
	var pol *triggerPolicy // fnhost's extensions (trigger_auth.go)
	if hasPolicy(tc) {
		if pol, err = s.policy(e); err != nil {
			s.writeError(ctx, err, true)
			return
		}
		if pol.cors != nil {
			if isPreflight(ctx) { // before IP lists, method and auth
				s.servePreflight(ctx, pol.cors)
				return
			}
			defer addCORS(ctx, pol.cors) // on every answer from here on
		}
		if pol.ip != nil {
			if err := s.checkIP(ctx, pol.ip); err != nil {
				s.writeError(ctx, err, true)
				return
			}
		}
	}
	if !methodAllowed(tc.Methods, ctx.Method()) {
		s.writeErrorBody(ctx, 403, errTypeCommon, CodeMethodNotAllowed,
			"method "+string(ctx.Method())+" is not allowed by the function's HTTP trigger (allowed: "+joinMethods(tc.Methods)+")", true)
		return
	}
	if err := s.authenticate(ctx, tc, pol); err != nil { // FC's default is function auth
		s.writeError(ctx, err, true)
		return
	}
	if n := len(ctx.URI().PathOriginal()) + len(ctx.URI().QueryString()); n > s.cfg.Limits.MaxURLBytes {
		s.writeErrorBody(ctx, 400, errTypeCommon, CodeInvalidArgument,
			"path and query are "+strconv.Itoa(n)+" bytes, over the limit of "+strconv.Itoa(s.cfg.Limits.MaxURLBytes), true)
		return
	}
	if n := len(ctx.Request.Body()); n > s.cfg.Limits.MaxBodyBytes {
		s.writeErrorBody(ctx, 400, errTypeCommon, CodeInvalidArgument,
			"request body is "+strconv.Itoa(n)+" bytes, over the limit of "+strconv.Itoa(s.cfg.Limits.MaxBodyBytes), true)
		return
	}
	c := getCall()
	defer putCall(c)
	if err := s.fillRequest(ctx, c, id, rawGuestPath(ctx.URI().PathOriginal()), e); err != nil {
		s.writeError(ctx, err, true)
		return
	}
	if c.async {
		if err := s.submitAsync(ctx, c, entryInfo{e.Function.ServiceName, e.Function.FunctionName, e.Function.Timeout}); err != nil {
			s.writeError(ctx, err, true)
		}
		return
	}
	err = s.cfg.Invoker.Invoke(ctx, e, &c.req, &c.res)
	s.writeInvocation(ctx, c, e, err, false)
}

// splitTriggerPath splits "{service}[.{qualifier}]/{function}[/{path}]".
// The guest path keeps its leading '/'; it is "/" when absent.
func splitTriggerPath(rest []byte) (svc, qual, fn, path []byte, ok bool) {
	i := bytes.IndexByte(rest, '/')
	if i <= 0 {
		return nil, nil, nil, nil, false
	}
	svc, rest = rest[:i], rest[i+1:]
	if j := bytes.IndexByte(svc, '.'); j >= 0 {
		svc, qual = svc[:j], svc[j+1:]
	}
	if k := bytes.IndexByte(rest, '/'); k >= 0 {
		fn, path = rest[:k], rest[k:]
	} else {
		fn, path = rest, slash
	}
	if len(svc) == 0 || len(fn) == 0 {
		return nil, nil, nil, nil, false
	}
	return svc, qual, fn, path, true
}

var slash = []byte("/")

// rawGuestPath returns the path after /2016-08-15/proxy/{service}/{function}
// as the client sent it (percent-encoding kept, as ABI v1 specifies). The
// route itself was found on the decoded path; the raw path has the same
// segments unless the client encoded a '/', which no valid name contains.
func rawGuestPath(raw []byte) []byte {
	const prefix = apiPrefix + "/proxy/"
	if !hasPrefix(raw, prefix) {
		return slash
	}
	rest := raw[len(prefix):]
	for range 2 { // service[.qualifier], function
		i := bytes.IndexByte(rest, '/')
		if i < 0 {
			return slash
		}
		rest = rest[i+1:]
	}
	return raw[len(raw)-len(rest)-1:]
}

func methodAllowed(methods []string, m []byte) bool {
	if len(methods) == 0 {
		return true
	}
	for _, allowed := range methods {
		if host.EqualFoldASCII(allowed, string(m)) {
			return true
		}
	}
	return false
}

func joinMethods(methods []string) string {
	var b []byte
	for i, m := range methods {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, m...)
	}
	return string(b)
}

func (s *Server) verifyTrigger(ctx *fasthttp.RequestCtx) error {
	return s.triggerVerifier.Verify(&auth.Request{
		Method:   string(ctx.Method()),
		Path:     string(ctx.Path()),
		RawQuery: string(ctx.URI().QueryString()),
		Header:   fastHeader{&ctx.Request.Header},
		Trigger:  true,
	})
}

// fillRequest points c.req at the request's bytes (borrowed from fasthttp
// until the handler returns) and checks the header limit.
func (s *Server) fillRequest(ctx *fasthttp.RequestCtx, c *call, id string, path []byte, e *invoker.Entry) error {
	r := &c.req
	r.RequestID = id
	r.Qualifier = qualifierLatest
	r.Attempt = 1
	r.Method = ctx.Method()
	r.Path = path
	r.RawQuery = ctx.URI().QueryString()
	r.Body = ctx.Request.Body()
	if ip := s.clientAddr(ctx); ip.IsValid() { // behind trusted proxies: X-Forwarded-For's
		r.ClientIP = ip.AppendTo(c.ip[:0])
	} else {
		r.ClientIP = appendIP(c.ip[:0], ctx.RemoteAddr())
	}
	hdrs := c.hdrs[:0]
	size := 0
	for k, v := range ctx.Request.Header.All() {
		size += len(k) + len(v)
		if isFCHeader(k) {
			switch {
			case host.EqualFoldASCII(k, "x-fc-invocation-type"):
				c.async = host.EqualFoldASCII(v, "async")
			case host.EqualFoldASCII(k, "x-fc-log-type"):
				c.logTail = host.EqualFoldASCII(v, "tail")
			}
			continue
		}
		if skipRequestHeader(k) {
			continue
		}
		hdrs = append(hdrs, host.Header{Name: k, Value: v})
	}
	hdrs = append(hdrs, host.Header{Name: hdrRequestID, Value: s2b(id)})
	c.hdrs = hdrs
	r.Headers = hdrs
	if size > s.cfg.Limits.MaxHeaderBytes {
		return newAPIError(400, CodeInvalidArgument, "request headers are "+strconv.Itoa(size)+
			" bytes, over the limit of "+strconv.Itoa(s.cfg.Limits.MaxHeaderBytes))
	}
	return nil
}

var hdrRequestID = []byte("X-Fc-Request-Id")

// skipRequestHeader drops headers the guest must not see or rely on: FC's
// own x-fc-* control headers (the host sets x-fc-request-id itself) and
// hop-by-hop connection headers.
func skipRequestHeader(name []byte) bool {
	return isFCHeader(name) || host.EqualFoldASCII(name, "connection") || host.EqualFoldASCII(name, "keep-alive")
}

func isFCHeader(name []byte) bool {
	return len(name) >= 5 && host.EqualFoldASCII(name[:5], "x-fc-")
}

// skipResponseHeader drops response headers a function may not set (FC's
// list, fc-compat.md §7): the host owns framing and its own x-fc-* headers.
func skipResponseHeader(name []byte) bool {
	if len(name) >= 5 && host.EqualFoldASCII(name[:5], "x-fc-") {
		return true
	}
	for _, n := range [...]string{"connection", "content-length", "date", "keep-alive", "server", "upgrade", "transfer-encoding", "trailer"} {
		if host.EqualFoldASCII(name, n) {
			return true
		}
	}
	return false
}

// writeInvocation writes an invocation's outcome: the guest's response with
// the x-fc-* metering headers, or the error. invokeAPI selects
// InvokeFunction's reporting of function errors (200 + X-Fc-Error-Type)
// over the trigger's (502).
func (s *Server) writeInvocation(ctx *fasthttp.RequestCtx, c *call, e *invoker.Entry, err error, invokeAPI bool) {
	res := &c.res
	h := &ctx.Response.Header
	if err != nil {
		status, errType, code, _ := classify(err)
		msg := invoker.Message(e, err)
		if status >= 500 && errType == errTypeCommon {
			s.writeError(ctx, err, true)
		} else if errType == errTypeUnhandled {
			if invokeAPI {
				status = 200
			}
			writeFunctionError(ctx, status, msg)
		} else {
			s.writeErrorBody(ctx, status, errType, code, msg, true)
		}
	} else {
		status := res.Status
		if status == 0 {
			status = 200
		}
		ctx.SetStatusCode(status)
		for _, hd := range res.Headers {
			if !skipResponseHeader(hd.Name) {
				h.AddBytesKV(hd.Name, hd.Value)
			}
		}
		ctx.Response.SetBody(res.Body)
	}
	s.writeMeter(ctx, c, e)
}

// writeFunctionError is FC's body for a function error:
// {"errorMessage": "...", "errorType": "UnhandledInvocationError"}.
func writeFunctionError(ctx *fasthttp.RequestCtx, status int, msg string) {
	r := &ctx.Response
	r.ResetBody()
	r.SetStatusCode(status)
	r.Header.SetContentType("application/json")
	r.Header.Set("X-Fc-Error-Type", errTypeUnhandled)
	var buf [256]byte
	b := append(buf[:0], `{"errorMessage":`...)
	b = appendJSONString(b, msg)
	b = append(b, `,"errorType":"`+errTypeUnhandled+`"}`+"\n"...)
	r.SetBody(b)
}

var (
	hdrDuration = []byte("X-Fc-Invocation-Duration")
	hdrMemory   = []byte("X-Fc-Max-Memory-Usage")
	hdrChecksum = []byte("X-Fc-Code-Checksum")
	hdrInstance = []byte("X-Fc-Instance-Id")
	hdrVersion  = []byte("X-Fc-Invocation-Service-Version")
	hdrCold     = []byte("X-Fnhost-Cold-Start")
	hdrLog      = []byte("X-Fc-Log-Result")
	valLatest   = []byte(qualifierLatest)
	valTrue     = []byte("true")
	valFalse    = []byte("false")
)

// writeMeter adds the metering headers FC returns on every invocation, and
// the log tail when the caller asked for it.
func (s *Server) writeMeter(ctx *fasthttp.RequestCtx, c *call, e *invoker.Entry) {
	h := &ctx.Response.Header
	m := &c.res.Meter
	// The names are canonical already: SetCanonical skips fasthttp's
	// normalization, a measurable part of a warm call.
	h.SetCanonical(hdrDuration, strconv.AppendInt(c.num[:0], m.Duration.Milliseconds(), 10))
	h.SetCanonical(hdrMemory, appendMB(c.num[:0], m.PeakMemoryBytes))
	h.SetCanonical(hdrChecksum, s2b(e.Function.CodeChecksum))
	if m.InstanceID != "" {
		h.SetCanonical(hdrInstance, s2b(m.InstanceID))
	}
	h.SetCanonical(hdrVersion, valLatest)
	if m.Cold {
		h.SetCanonical(hdrCold, valTrue)
	} else {
		h.SetCanonical(hdrCold, valFalse)
	}
	if c.logTail {
		log := c.res.Log
		if len(log) > LogTailBytes {
			log = log[len(log)-LogTailBytes:]
		}
		h.SetCanonical(hdrLog, base64.StdEncoding.AppendEncode(nil, log))
	}
}

// appendMB appends n bytes as megabytes with two decimals ("85.20"), as
// FC writes x-fc-max-memory-usage.
func appendMB(b []byte, n uint64) []byte {
	hundredths := (n*100 + 1<<19) >> 20 // rounded
	b = strconv.AppendUint(b, hundredths/100, 10)
	b = append(b, '.', byte('0'+hundredths/10%10), byte('0'+hundredths%10))
	return b
}

// appendIP appends the client's IP address (without port) to b.
func appendIP(b []byte, addr net.Addr) []byte {
	if ta, ok := addr.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(ta.IP); ok {
			return ip.Unmap().AppendTo(b)
		}
	}
	if addr == nil {
		return b
	}
	s := addr.String()
	if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	}
	return append(b, s...)
}

// fastHeader adapts fasthttp's request header to auth.Header. The strings
// it passes out alias fasthttp's buffers (auth reads them only during the
// call).
type fastHeader struct{ h *fasthttp.RequestHeader }

func (f fastHeader) Get(name string) string { return string(f.h.Peek(name)) }

func (f fastHeader) VisitAll(fn func(name, value string)) {
	for k, v := range f.h.All() {
		fn(b2s(k), b2s(v))
	}
}

package server

// Trigger protections: fnhost's extensions of the HTTP trigger config
// (authType "jwt" and "basic" with authConfig, ipAllow/ipDeny, corsConfig;
// host/auth's package doc has the schema). serveTrigger runs them in this
// order: internet URL, CORS preflight, IP lists, method, authentication.
//
// A trigger's config is compiled once (JWKS parsed, prefixes parsed) into
// a triggerPolicy, cached by trigger id next to a weak pointer to the
// invoker entry it was built for: a new entry (after any management change)
// compiles again, and the cache never keeps a stale entry alive.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
	"weak"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/auth"
	"github.com/fnhost/fnhost/host/invoker"
	"github.com/valyala/fasthttp"
)

// triggerAuth is the server's trigger-protection state. The zero value is
// ready to use.
type triggerAuth struct {
	mu       sync.RWMutex
	policies map[string]cachedPolicy // by trigger id
	// jwks caches jwksUrl key sets for all triggers.
	jwks auth.JWKSCache
}

type cachedPolicy struct {
	entry weak.Pointer[invoker.Entry]
	pol   *triggerPolicy
	err   error
}

// triggerPolicy is a trigger's compiled protections; nil fields are off.
// Immutable once built.
type triggerPolicy struct {
	ip    *auth.IPFilter
	cors  *auth.CORS
	jwt   *auth.JWTAuth
	basic *auth.BasicAuth
}

// hasPolicy reports whether tc uses any extension. Plain FC triggers skip
// the policy lookup.
func hasPolicy(tc *host.HTTPTriggerConfig) bool {
	return tc.AuthConfig != nil || tc.CORSConfig != nil || len(tc.IPAllow) > 0 || len(tc.IPDeny) > 0 ||
		tc.AuthType == host.AuthJWT || tc.AuthType == host.AuthBasic
}

// compilePolicy checks tc's extensions and compiles them. Errors name the
// field relative to triggerConfig ("authConfig.algorithms[0]: ..."). jwks
// serves jwksUrl sets; nothing is fetched here.
func compilePolicy(tc *host.HTTPTriggerConfig, jwks *auth.JWKSCache, now func() time.Time) (*triggerPolicy, error) {
	p := &triggerPolicy{}
	var err error
	switch tc.AuthType {
	case host.AuthJWT:
		p.jwt, err = auth.NewJWTAuth(tc.AuthConfig, jwks, now)
	case host.AuthBasic:
		p.basic, err = auth.NewBasicAuth(tc.AuthConfig)
	default:
		if tc.AuthConfig != nil {
			err = errors.New(`authConfig applies only to authType "jwt" and "basic"`)
		}
	}
	if err != nil {
		return nil, err
	}
	if len(tc.IPAllow) > 0 || len(tc.IPDeny) > 0 {
		if p.ip, err = auth.NewIPFilter(tc.IPAllow, tc.IPDeny); err != nil {
			return nil, err
		}
	}
	if tc.CORSConfig != nil {
		if p.cors, err = auth.NewCORS(tc.CORSConfig, tc.Methods); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// policy returns the compiled policy of e's trigger. A stored config that
// does not compile (written around the API) fails closed with a 500.
func (s *Server) policy(e *invoker.Entry) (*triggerPolicy, error) {
	id := e.Trigger.TriggerID
	t := &s.trig
	t.mu.RLock()
	c, ok := t.policies[id]
	t.mu.RUnlock()
	if !ok || c.entry.Value() != e {
		c = cachedPolicy{entry: weak.Make(e)}
		c.pol, c.err = compilePolicy(&e.Trigger.TriggerConfig, &t.jwks, s.cfg.Now)
		if c.err != nil {
			c.err = &host.Error{Kind: host.KindInternal, Op: "server.policy",
				Err: errors.New("trigger " + e.Trigger.ServiceName + "/" + e.Trigger.FunctionName + "/" + e.Trigger.TriggerName + ": stored triggerConfig is invalid: " + c.err.Error())}
		}
		t.mu.Lock()
		if t.policies == nil {
			t.policies = map[string]cachedPolicy{}
		}
		t.policies[id] = c
		t.mu.Unlock()
	}
	return c.pol, c.err
}

// clientAddr is the request's client address: the connection's peer, or
// behind a trusted proxy the right-most untrusted X-Forwarded-For address
// (auth.ClientIP). It is invalid when the peer is not a TCP address.
func (s *Server) clientAddr(ctx *fasthttp.RequestCtx) netip.Addr {
	var remote netip.Addr
	if ta, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
		remote, _ = netip.AddrFromSlice(ta.IP)
		remote = remote.Unmap()
	}
	if len(s.cfg.TrustedProxies) == 0 || !remote.IsValid() {
		return remote
	}
	return auth.ClientIP(remote, s.cfg.TrustedProxies, ctx.Request.Header.PeekAll("X-Forwarded-For"))
}

// checkIP applies the trigger's ipAllow/ipDeny lists.
func (s *Server) checkIP(ctx *fasthttp.RequestCtx, f *auth.IPFilter) error {
	ip := s.clientAddr(ctx)
	if f.Allowed(ip) {
		return nil
	}
	shown := "unknown"
	if ip.IsValid() {
		shown = ip.String()
	}
	return newAPIError(403, CodeAccessDenied, "client IP "+shown+" is not allowed")
}

// isPreflight reports whether the request is a CORS preflight.
func isPreflight(ctx *fasthttp.RequestCtx) bool {
	h := &ctx.Request.Header
	return auth.IsPreflight(b2s(ctx.Method()), b2s(h.Peek("Origin")), b2s(h.Peek("Access-Control-Request-Method")))
}

// servePreflight answers a CORS preflight itself: 204 with the CORS
// headers, or 403 when the corsConfig does not allow it. The function is
// not invoked and no credentials are asked for (browsers send none).
func (s *Server) servePreflight(ctx *fasthttp.RequestCtx, c *auth.CORS) {
	h := &ctx.Request.Header
	err := c.Preflight(string(h.Peek("Origin")), string(h.Peek("Access-Control-Request-Method")),
		string(h.Peek("Access-Control-Request-Headers")), corsSetter(&ctx.Response.Header))
	if err != nil {
		s.writeError(ctx, err, true)
		return
	}
	ctx.Response.ResetBody()
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// addCORS sets the CORS headers of an actual request's response (the
// function's or the host's error): the host owns Access-Control-*, so the
// function's are dropped first.
func addCORS(ctx *fasthttp.RequestCtx, c *auth.CORS) {
	rh := &ctx.Response.Header
	for name := range auth.CORSHeaders() {
		rh.Del(name)
	}
	c.Actual(string(ctx.Request.Header.Peek("Origin")), corsSetter(rh))
}

func corsSetter(h *fasthttp.ResponseHeader) func(name, value string) {
	return func(name, value string) {
		if name == "Vary" {
			h.Add(name, value)
		} else {
			h.Set(name, value)
		}
	}
}

// authenticate runs the trigger's auth type: FC signature (function, the
// default), none (anonymous), JWT or basic.
func (s *Server) authenticate(ctx *fasthttp.RequestCtx, tc *host.HTTPTriggerConfig, p *triggerPolicy) error {
	switch tc.AuthType {
	case host.AuthAnonymous:
		return nil
	case host.AuthJWT:
		if p == nil || p.jwt == nil {
			return &host.Error{Kind: host.KindInternal, Op: "server.authenticate", Err: errors.New("jwt trigger without a compiled authConfig")}
		}
		return s.checkJWT(ctx, p.jwt)
	case host.AuthBasic:
		if p == nil || p.basic == nil {
			return &host.Error{Kind: host.KindInternal, Op: "server.authenticate", Err: errors.New("basic trigger without a compiled authConfig")}
		}
		if _, err := p.basic.Verify(string(ctx.Request.Header.Peek("Authorization"))); err != nil {
			ctx.Response.Header.Set("WWW-Authenticate", `Basic realm="fnhost", charset="UTF-8"`)
			return err
		}
		return nil
	default:
		return s.verifyTrigger(ctx)
	}
}

// checkJWT finds and verifies the token, then replaces the claimPassBy
// headers of the request with the token's claims: a client cannot send
// one of those headers itself.
func (s *Server) checkJWT(ctx *fasthttp.RequestCtx, a *auth.JWTAuth) error {
	tok, ok := a.Token(fastHeader{&ctx.Request.Header}, b2s(ctx.URI().QueryString()))
	if !ok {
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="fnhost"`)
		return &auth.Error{Status: auth.ErrInvalidToken.Status, Code: auth.CodeInvalidToken,
			Message: "no token: looked in " + a.Lookup()}
	}
	// Not ctx: fasthttp's context is done only at shutdown. A JWKS fetch
	// has its own timeout.
	claims, err := a.Verifier.Verify(context.Background(), tok)
	if errors.Is(err, auth.ErrKeysUnavailable) {
		// The client sees the apiError; the log (writeError) the cause too.
		return fmt.Errorf("%w: %w", newAPIError(503, CodeServiceUnavailable,
			"the trigger's JSON Web Key Set could not be fetched; try again later"), err)
	}
	if err != nil {
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="fnhost", error="invalid_token"`)
		return err
	}
	h := &ctx.Request.Header
	for _, p := range a.PassBy() {
		h.Del(p.Header)
		if v, ok := auth.HeaderValue(claims, p.Claim); ok {
			h.Set(p.Header, v)
		}
	}
	return nil
}

package server

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/auth"
	"github.com/fnhost/fnhost/host/auth/authtest"
	"github.com/valyala/fasthttp"
)

// deployEcho deploys echo-c as s/fn behind an HTTP trigger with config tc,
// through the store (not the API). The store must know tc's auth type: a
// store that predates authType jwt/basic skips the test, naming the fix.
func deployEcho(t *testing.T, ts *testServer, fn string, tc host.HTTPTriggerConfig) {
	t.Helper()
	ts.deploy("s", fn, "echo-c", host.Function{}, host.HTTPTriggerConfig{}) // no trigger yet
	_, err := ts.store.CreateTrigger(host.Trigger{ServiceName: "s", FunctionName: fn, TriggerName: "http",
		TriggerType: host.TriggerTypeHTTP, TriggerConfig: tc})
	if err != nil {
		t.Fatal(err)
	}
	ts.inv.Invalidate("s", fn)
}

// echoed is what echo-c answers.
type echoed struct {
	Headers  map[string][]string `json:"headers"`
	ClientIP string              `json:"clientIP"`
	Method   string              `json:"method"`
}

func decodeEcho(t *testing.T, body []byte) echoed {
	t.Helper()
	var e echoed
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("echo body %q: %v", body, err)
	}
	return e
}

func (e echoed) header(name string) string {
	return strings.Join(e.Headers[strings.ToLower(name)], ",")
}

// wantFCError checks a trigger's FcCommonError answer.
func wantFCError(t *testing.T, res *http.Response, body []byte, status int, code, msg string) {
	t.Helper()
	if got := res.Header.Get("X-Fc-Error-Type"); got != "FcCommonError" {
		t.Errorf("X-Fc-Error-Type %q", got)
	}
	wantAPIError(t, res, body, status, code, msg)
}

// wantAPIError checks an FC error answer of the management API (which
// has no X-Fc-Error-Type).
func wantAPIError(t *testing.T, res *http.Response, body []byte, status int, code, msg string) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", res.StatusCode, status, body)
	}
	c, m := fcError(t, body)
	if c != code || !strings.Contains(m, msg) {
		t.Errorf("error %s %q, want %s containing %q", c, m, code, msg)
	}
}

const (
	testIssuer   = "https://idp.example/"
	testAudience = "fnhost-test"
)

func jwtClaims(extra ...any) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": testIssuer, "aud": testAudience, "sub": "user-7", "roles": []string{"a", "b"},
		"exp": now.Add(time.Hour).Unix(), "nbf": now.Add(-time.Minute).Unix(), "iat": now.Add(-time.Minute).Unix()}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == nil {
			delete(c, extra[i].(string))
		} else {
			c[extra[i].(string)] = extra[i+1]
		}
	}
	return c
}

func jwtTrigger(mutate func(*host.TriggerAuthConfig)) host.HTTPTriggerConfig {
	k := authtest.Shared()
	c := &host.TriggerAuthConfig{
		JWKS:        authtest.JWKS(authtest.JWK(&k.RSA.PublicKey, "r1"), authtest.JWK(&k.EC.PublicKey, "e1")),
		Secret:      k.SecretBase64(),
		Algorithms:  []string{"RS256", "ES256", "HS256"},
		Issuer:      testIssuer,
		Audience:    testAudience,
		TokenLookup: []string{"header:Authorization", "query:token", "cookie:jwt"},
		ClaimPassBy: []host.ClaimPassBy{{Claim: "sub", Header: "X-User-Id"}, {Claim: "roles", Header: "X-Roles"}},
	}
	if mutate != nil {
		mutate(c)
	}
	return host.HTTPTriggerConfig{AuthType: host.AuthJWT, Methods: allMethods, AuthConfig: c}
}

func TestTriggerJWT(t *testing.T) {
	ts := startServer(t)
	deployEcho(t, ts, "jwt", jwtTrigger(nil))
	deployEcho(t, ts, "jwt_rs", jwtTrigger(func(c *host.TriggerAuthConfig) {
		c.Algorithms, c.Secret = []string{"RS256"}, ""
	}))
	k, other := authtest.Shared(), authtest.New()
	hs := func(c map[string]any) string { return authtest.Token("HS256", k.Secret, "", c) }
	rs := authtest.Token("RS256", k.RSA, "r1", jwtClaims())
	tests := []struct {
		name   string
		fn     string
		token  string
		where  string // "header" (default), "query", "cookie", "none"
		status int
		msg    string // part of the 401 message
	}{
		{"RS256", "jwt", rs, "", 200, ""},
		{"ES256", "jwt", authtest.Token("ES256", k.EC, "e1", jwtClaims()), "", 200, ""},
		{"HS256", "jwt", hs(jwtClaims()), "", 200, ""},
		{"query", "jwt", rs, "query", 200, ""},
		{"cookie", "jwt", rs, "cookie", 200, ""},
		{"missing", "jwt", "", "none", 401, "no token: looked in header Authorization, query token, cookie jwt"},
		{"expired", "jwt", hs(jwtClaims("exp", time.Now().Add(-2*time.Minute).Unix())), "", 401, "expired"},
		{"not yet valid", "jwt", hs(jwtClaims("nbf", time.Now().Add(5*time.Minute).Unix())), "", 401, "not valid before"},
		{"wrong issuer", "jwt", hs(jwtClaims("iss", "https://evil.example/")), "", 401, "issuer"},
		{"wrong audience", "jwt", hs(jwtClaims("aud", "other")), "", 401, "audience"},
		{"alg none", "jwt", authtest.TokenWithHeader(map[string]any{"alg": "none"}, nil, jwtClaims()) + "AA", "", 401, `alg "none"`},
		{"alg unknown", "jwt", authtest.TokenWithHeader(map[string]any{"alg": "HS384"}, k.Secret, jwtClaims()), "", 401, "not allowed"},
		{"alg not allowed on this trigger", "jwt_rs", hs(jwtClaims()), "", 401, "alg \"HS256\" is not allowed (allowed: RS256)"},
		{"bad signature", "jwt", authtest.Token("RS256", other.RSA, "r1", jwtClaims()), "", 401, "signature"},
		{"unknown kid", "jwt", authtest.Token("RS256", k.RSA, "r9", jwtClaims()), "", 401, "no key with kid"},
		{"oversized", "jwt", hs(jwtClaims("pad", strings.Repeat("p", 6<<10))), "", 401, "over the limit of 8192"},
		{"garbage", "jwt", "not-a-jwt", "", 401, "compact form"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := "/2016-08-15/proxy/s/" + tc.fn + "/"
			var hdr []string
			switch tc.where {
			case "", "header":
				hdr = []string{"Authorization", "Bearer " + tc.token}
			case "query":
				path += "?token=" + tc.token
			case "cookie":
				hdr = []string{"Cookie", "a=1; jwt=" + tc.token}
			}
			hdr = append(hdr, "X-User-Id", "spoofed")
			res, body := ts.get("GET", path, nil, hdr...)
			if tc.status == 200 {
				if res.StatusCode != 200 {
					t.Fatalf("%d %s", res.StatusCode, body)
				}
				e := decodeEcho(t, body)
				if got := e.header("X-User-Id"); got != "user-7" {
					t.Errorf("X-User-Id %q, want the sub claim (not the client's)", got)
				}
				if got := e.header("X-Roles"); got != `["a","b"]` {
					t.Errorf("X-Roles %q", got)
				}
				return
			}
			wantFCError(t, res, body, 401, "InvalidToken", tc.msg)
			want := `Bearer realm="fnhost", error="invalid_token"`
			if tc.where == "none" {
				want = `Bearer realm="fnhost"`
			}
			if got := res.Header.Get("WWW-Authenticate"); got != want {
				t.Errorf("WWW-Authenticate %q, want %q", got, want)
			}
		})
	}

	t.Run("claim absent: client header still removed", func(t *testing.T) {
		res, body := ts.get("GET", "/2016-08-15/proxy/s/jwt/", nil,
			"Authorization", "Bearer "+hs(jwtClaims("sub", nil)), "X-User-Id", "spoofed")
		if res.StatusCode != 200 {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		if got := decodeEcho(t, body).header("X-User-Id"); got != "" {
			t.Errorf("X-User-Id %q reached the function", got)
		}
	})
	t.Run("function signature is not accepted instead", func(t *testing.T) {
		req, _ := http.NewRequest("GET", ts.URL+"/2016-08-15/proxy/s/jwt/", nil)
		req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		sign(req, true)
		res, body := ts.do(req)
		wantFCError(t, res, body, 401, "InvalidToken", "no token")
	})
}

func TestTriggerJWKSURL(t *testing.T) {
	k1, k2 := authtest.Shared(), authtest.New()
	var fetches atomic.Int32
	var mu sync.Mutex
	set := authtest.JWKS(authtest.JWK(&k1.RSA.PublicKey, "r1"))
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		mu.Lock()
		defer mu.Unlock()
		w.Write(set)
	}))
	defer idp.Close()

	ts := startServer(t)
	ts.srv.trig.jwks.MinRefresh = time.Millisecond // before first use; let rotation refetch at once
	deployEcho(t, ts, "jwt_url", jwtTrigger(func(c *host.TriggerAuthConfig) {
		c.JWKS, c.JWKSURL, c.Secret, c.Algorithms = nil, idp.URL+"/.well-known/jwks.json", "", nil
	}))
	call := func(token string) (*http.Response, []byte) {
		return ts.get("GET", "/2016-08-15/proxy/s/jwt_url/", nil, "Authorization", "Bearer "+token)
	}
	for i := range 3 {
		if res, body := call(authtest.Token("RS256", k1.RSA, "r1", jwtClaims())); res.StatusCode != 200 {
			t.Fatalf("call %d: %d %s", i, res.StatusCode, body)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("%d fetches for 3 calls, want 1 (cached)", n)
	}

	// Key rotation: an unknown kid refetches.
	mu.Lock()
	set = authtest.JWKS(authtest.JWK(&k1.RSA.PublicKey, "r1"), authtest.JWK(&k2.EC.PublicKey, "e2"))
	mu.Unlock()
	time.Sleep(5 * time.Millisecond)
	if res, body := call(authtest.Token("ES256", k2.EC, "e2", jwtClaims())); res.StatusCode != 200 {
		t.Fatalf("rotated key: %d %s", res.StatusCode, body)
	}
	if n := fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}

	// An unreachable key set is the server's problem: 503.
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	deployEcho(t, ts, "jwt_gone", jwtTrigger(func(c *host.TriggerAuthConfig) {
		c.JWKS, c.JWKSURL, c.Secret, c.Algorithms = nil, gone.URL, "", nil
	}))
	res, body := ts.get("GET", "/2016-08-15/proxy/s/jwt_gone/", nil, "Authorization", "Bearer "+authtest.Token("RS256", k1.RSA, "r1", jwtClaims()))
	wantFCError(t, res, body, 503, "ServiceUnavailable", "JSON Web Key Set")
}

func TestTriggerBasic(t *testing.T) {
	ts := startServer(t)
	deployEcho(t, ts, "basic", host.HTTPTriggerConfig{AuthType: host.AuthBasic, Methods: allMethods,
		AuthConfig: &host.TriggerAuthConfig{Users: []host.BasicUser{{Name: "ci", PasswordHash: auth.HashPassword("s3cret:pw")}}}})
	tests := []struct {
		name, authz string
		status      int
	}{
		{"good", basicAuth("ci", "s3cret:pw"), 200},
		{"wrong password", basicAuth("ci", "s3cret"), 401},
		{"unknown user", basicAuth("root", "s3cret:pw"), 401},
		{"missing", "", 401},
		{"bearer", "Bearer x", 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.authz != "" {
				hdr = []string{"Authorization", tc.authz}
			}
			res, body := ts.get("GET", "/2016-08-15/proxy/s/basic/", nil, hdr...)
			if tc.status == 200 {
				if res.StatusCode != 200 {
					t.Fatalf("%d %s", res.StatusCode, body)
				}
				return
			}
			wantFCError(t, res, body, 401, "InvalidCredentials", "")
			if got := res.Header.Get("WWW-Authenticate"); got != `Basic realm="fnhost", charset="UTF-8"` {
				t.Errorf("WWW-Authenticate %q", got)
			}
		})
	}
}

func basicAuth(user, pass string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pass)
	return r.Header.Get("Authorization")
}

func TestTriggerIPFilter(t *testing.T) {
	ts := startServer(t)
	ipTrigger := func(allow, deny []string, methods ...string) host.HTTPTriggerConfig {
		tc := anonymous(methods...)
		tc.IPAllow, tc.IPDeny = allow, deny
		return tc
	}
	deployEcho(t, ts, "allow_lo", ipTrigger([]string{"127.0.0.1"}, nil))
	deployEcho(t, ts, "deny_lo", ipTrigger([]string{"0.0.0.0/0", "::/0"}, []string{"127.0.0.0/8"}, "GET"))
	deployEcho(t, ts, "v6", ipTrigger([]string{"2001:db8::/32"}, []string{"2001:db8:bad::/48"}))
	lo := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		fn, xff string
		method  string
		status  int
		ip      string // the client IP: the guest's on 200, the message's on 403
	}{
		{"allowed", nil, "allow_lo", "", "GET", 200, "127.0.0.1"},
		{"denied (deny wins)", nil, "deny_lo", "", "GET", 403, "127.0.0.1"},
		{"IP before method", nil, "deny_lo", "", "POST", 403, "127.0.0.1"},
		{"X-Forwarded-For ignored without trusted proxy", nil, "v6", "2001:db8::5", "GET", 403, "127.0.0.1"},
		{"X-Forwarded-For from a trusted proxy", lo, "v6", "2001:db8::5", "GET", 200, "2001:db8::5"},
		{"IPv6 deny wins", lo, "v6", "2001:db8:bad::1", "GET", 403, "2001:db8:bad::1"},
		{"right-most untrusted address", lo, "v6", "2001:db8::5, 198.51.100.1", "GET", 403, "198.51.100.1"},
		{"spoofed left-most address", lo, "v6", "198.51.100.1, 2001:db8::5", "GET", 200, "2001:db8::5"},
		{"proxy chain", lo, "allow_lo", "127.0.0.1, 127.0.0.1", "GET", 200, "127.0.0.1"},
		{"trusted proxy, no header", lo, "allow_lo", "", "GET", 200, "127.0.0.1"},
		{"IPv4 client through the proxy", lo, "deny_lo", "203.0.113.4", "GET", 200, "203.0.113.4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Requests are sequential: the socket I/O orders this write
			// before the handler's read.
			ts.srv.cfg.TrustedProxies = tc.trusted
			var hdr []string
			if tc.xff != "" {
				hdr = []string{"X-Forwarded-For", tc.xff}
			}
			res, body := ts.get(tc.method, "/2016-08-15/proxy/s/"+tc.fn+"/", nil, hdr...)
			if tc.status == 200 {
				if res.StatusCode != 200 {
					t.Fatalf("%d %s", res.StatusCode, body)
				}
				if got := decodeEcho(t, body).ClientIP; got != tc.ip {
					t.Errorf("guest's client IP %q, want %q", got, tc.ip)
				}
				return
			}
			wantFCError(t, res, body, 403, "AccessDenied", "client IP "+tc.ip+" is not allowed")
		})
	}
	ts.srv.cfg.TrustedProxies = nil

	// An IPv6 peer, through the handler (the harness listens on IPv4).
	for peer, want := range map[string]int{"2001:db8::9": 200, "2001:db8:bad::9": 403, "::1": 403} {
		var req fasthttp.Request
		req.SetRequestURI("/2016-08-15/proxy/s/v6/")
		var ctx fasthttp.RequestCtx
		ctx.Init(&req, &net.TCPAddr{IP: net.ParseIP(peer), Port: 1}, nil)
		ts.srv.Handler()(&ctx)
		if got := ctx.Response.StatusCode(); got != want {
			t.Errorf("peer %s: %d, want %d: %s", peer, got, want, ctx.Response.Body())
		}
		if want == 200 {
			if ip := decodeEcho(t, ctx.Response.Body()).ClientIP; ip != peer {
				t.Errorf("peer %s: guest saw %s", peer, ip)
			}
		}
	}
}

func TestTriggerCORS(t *testing.T) {
	ts := startServer(t)
	signedCORS := host.HTTPTriggerConfig{AuthType: host.AuthFunction, Methods: []string{"GET"}, CORSConfig: &host.CORSConfig{
		AllowOrigins: []string{"https://app.example"}, AllowMethods: []string{"GET", "POST"},
		AllowHeaders: []string{"Content-Type", "Authorization"}, ExposeHeaders: []string{"X-Fc-Request-Id"},
		AllowCredentials: true, MaxAge: 600,
	}}
	deployEcho(t, ts, "cors", signedCORS)
	denied := anonymous("GET")
	denied.IPDeny = []string{"127.0.0.0/8"}
	denied.CORSConfig = &host.CORSConfig{AllowOrigins: []string{"*"}}
	deployEcho(t, ts, "cors_denied", denied)
	const origin = "https://app.example"
	preflight := []string{"Origin", origin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type"}

	t.Run("preflight answered by the host, without auth or method check", func(t *testing.T) {
		res, body := ts.get("OPTIONS", "/2016-08-15/proxy/s/cors/x", nil, preflight...)
		if res.StatusCode != 204 || len(body) != 0 {
			t.Fatalf("%d %q", res.StatusCode, body)
		}
		for k, v := range map[string]string{
			"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": "GET, POST",
			"Access-Control-Allow-Headers": "content-type, authorization", "Access-Control-Allow-Credentials": "true",
			"Access-Control-Max-Age": "600",
		} {
			if got := res.Header.Get(k); got != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
		if !strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Origin") {
			t.Errorf("Vary %v", res.Header.Values("Vary"))
		}
		if res.Header.Get("X-Fc-Invocation-Duration") != "" || res.Header.Get("X-Fc-Request-Id") == "" {
			t.Error("the function was invoked, or no request id")
		}
	})
	t.Run("preflight from another origin", func(t *testing.T) {
		res, body := ts.get("OPTIONS", "/2016-08-15/proxy/s/cors/", nil,
			"Origin", "https://evil.example", "Access-Control-Request-Method", "GET")
		wantFCError(t, res, body, 403, "AccessDenied", "origin")
		if res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Error("CORS headers on a refused preflight")
		}
	})
	t.Run("preflight for a method not allowed", func(t *testing.T) {
		res, body := ts.get("OPTIONS", "/2016-08-15/proxy/s/cors/", nil,
			"Origin", origin, "Access-Control-Request-Method", "DELETE")
		wantFCError(t, res, body, 403, "AccessDenied", "method")
	})
	t.Run("OPTIONS without Access-Control-Request-Method is not a preflight", func(t *testing.T) {
		res, body := ts.get("OPTIONS", "/2016-08-15/proxy/s/cors/", nil, "Origin", origin)
		wantFCError(t, res, body, 403, "MethodNotAllowed", "OPTIONS")
	})
	t.Run("actual request", func(t *testing.T) {
		req, _ := http.NewRequest("GET", ts.URL+"/2016-08-15/proxy/s/cors/", nil)
		req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		req.Header.Set("Origin", origin)
		sign(req, true)
		res, body := ts.do(req)
		if res.StatusCode != 200 {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		for k, v := range map[string]string{
			"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true",
			"Access-Control-Expose-Headers": "X-Fc-Request-Id", "Vary": "Origin", "Access-Control-Max-Age": "",
		} {
			if got := res.Header.Get(k); got != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
	})
	t.Run("host errors carry CORS headers", func(t *testing.T) {
		res, body := ts.get("GET", "/2016-08-15/proxy/s/cors/", nil, "Origin", origin) // unsigned
		wantFCError(t, res, body, 400, "MissingRequiredHeader", "")
		if res.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("no Access-Control-Allow-Origin on the error: %v", res.Header)
		}
	})
	t.Run("other origin gets no CORS headers", func(t *testing.T) {
		res, _ := ts.get("GET", "/2016-08-15/proxy/s/cors/", nil, "Origin", "https://evil.example")
		if res.Header.Get("Access-Control-Allow-Origin") != "" || res.Header.Get("Vary") != "Origin" {
			t.Errorf("headers %v", res.Header)
		}
	})
	t.Run("preflight before IP lists", func(t *testing.T) {
		res, body := ts.get("OPTIONS", "/2016-08-15/proxy/s/cors_denied/", nil, "Origin", origin, "Access-Control-Request-Method", "GET")
		if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("%d %v %s", res.StatusCode, res.Header, body)
		}
		res, body = ts.get("GET", "/2016-08-15/proxy/s/cors_denied/", nil, "Origin", origin)
		wantFCError(t, res, body, 403, "AccessDenied", "client IP")
		if res.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("no CORS header on the 403")
		}
	})
}

// TestTriggerStoredConfigInvalid: a config that does not compile (written
// around the API) fails closed.
func TestTriggerStoredConfigInvalid(t *testing.T) {
	ts := startServer(t)
	tc := anonymous()
	tc.IPAllow = []string{"not-an-ip"}
	deployEcho(t, ts, "broken", tc)
	res, body := ts.get("GET", "/2016-08-15/proxy/s/broken/", nil)
	wantFCError(t, res, body, 500, "InternalServerError", "")
}

func TestTriggerConfigValidation(t *testing.T) {
	ts := startServer(t)
	ts.mustAPI("POST", "/services", map[string]string{"serviceName": "svc"}, 200)
	ts.mustAPI("POST", "/services/svc/functions", fnBody("fn", guestWasm(t, "echo-c"), nil), 200)
	k := authtest.Shared()
	jwks := string(authtest.JWKS(authtest.JWK(&k.RSA.PublicKey, "r1")))
	jwt := func(ac map[string]any) map[string]any {
		return map[string]any{"authType": "jwt", "methods": []string{"GET"}, "authConfig": ac}
	}
	anon := func(kv ...any) map[string]any {
		m := map[string]any{"authType": "anonymous", "methods": []string{"GET"}}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		cfg  any
		msg  string // part of the 400 message
	}{
		{"unknown authType", map[string]any{"authType": "oauth", "methods": []string{"GET"}}, `triggerConfig.authType "oauth" is not supported`},
		{"jwt without authConfig", map[string]any{"authType": "jwt", "methods": []string{"GET"}}, "triggerConfig.authConfig is required"},
		{"jwt without keys", jwt(map[string]any{"issuer": "x"}), "needs jwks, jwksUrl or secret"},
		{"unknown alg", jwt(map[string]any{"jwks": json.RawMessage(jwks), "algorithms": []string{"RS256", "PS256"}}), "triggerConfig.authConfig.algorithms[1]"},
		{"alg none", jwt(map[string]any{"secret": k.SecretBase64(), "algorithms": []string{"none"}}), `"none" is never accepted`},
		{"HS256 without secret", jwt(map[string]any{"jwks": json.RawMessage(jwks), "algorithms": []string{"HS256"}}), "HS256 needs authConfig.secret"},
		{"short secret", jwt(map[string]any{"secret": "c2hvcnQ="}), "triggerConfig.authConfig.secret"},
		{"malformed JWKS", jwt(map[string]any{"jwks": map[string]any{"keys": "x"}}), "triggerConfig.authConfig.jwks"},
		{"JWKS string not an object", jwt(map[string]any{"jwks": "[1]"}), "triggerConfig.authConfig.jwks must be a JSON object"},
		{"JWKS with a private key", jwt(map[string]any{"jwks": map[string]any{"keys": []any{map[string]any{"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "d": "c"}}}}), "private key"},
		{"bad jwksUrl", jwt(map[string]any{"jwksUrl": "file:///etc/passwd"}), "triggerConfig.authConfig.jwksUrl"},
		{"jwks and jwksUrl", jwt(map[string]any{"jwks": json.RawMessage(jwks), "jwksUrl": "https://idp.example/"}), "not both"},
		{"misspelled field", jwt(map[string]any{"jwks_url": "https://idp.example/"}), `unknown field "jwks_url"`},
		{"leeway out of range", jwt(map[string]any{"secret": k.SecretBase64(), "leeway": 86400}), "triggerConfig.authConfig.leeway"},
		{"leeway not a number", jwt(map[string]any{"secret": k.SecretBase64(), "leeway": "60"}), "leeway"},
		{"bad tokenLookup", jwt(map[string]any{"secret": k.SecretBase64(), "tokenLookup": []string{"body:token"}}), "tokenLookup[0]"},
		{"claim to x-fc header", jwt(map[string]any{"secret": k.SecretBase64(), "claimPassBy": []any{map[string]string{"claim": "sub", "header": "x-fc-user"}}}), "claimPassBy[0].header"},
		{"basic without users", map[string]any{"authType": "basic", "methods": []string{"GET"}, "authConfig": map[string]any{}}, "authConfig.users must list"},
		{"basic bad hash", map[string]any{"authType": "basic", "methods": []string{"GET"}, "authConfig": map[string]any{
			"users": []any{map[string]string{"name": "a", "passwordHash": "hunter2"}}}}, "triggerConfig.authConfig.users[0].passwordHash"},
		{"basic with a JWT field", map[string]any{"authType": "basic", "methods": []string{"GET"}, "authConfig": map[string]any{
			"secret": k.SecretBase64(), "users": []any{map[string]string{"name": "a", "passwordHash": auth.HashPassword("x")}}}}, "authConfig.secret applies"},
		{"authConfig on anonymous", anon("authConfig", map[string]any{"secret": k.SecretBase64()}), "authConfig applies only"},
		{"authConfig not an object", jwt(nil), "triggerConfig.authConfig is required"},
		{"bad CIDR", anon("ipAllow", []string{"10.0.0.1/8"}), "triggerConfig.ipAllow[0]"},
		{"bad address", anon("ipDeny", []string{"10.0.0.0/8", "localhost"}), "triggerConfig.ipDeny[1]"},
		{"ipAllow not a list", anon("ipAllow", "10.0.0.0/8"), "triggerConfig.ipAllow must be an array"},
		{"cors without origins", anon("corsConfig", map[string]any{}), "triggerConfig.corsConfig.allowOrigins is required"},
		{"cors star with credentials", anon("corsConfig", map[string]any{"allowOrigins": []string{"*"}, "allowCredentials": true}), "allowCredentials"},
		{"cors bad origin", anon("corsConfig", map[string]any{"allowOrigins": []string{"https://a.example/path"}}), "allowOrigins[0]"},
		{"cors bad method", anon("corsConfig", map[string]any{"allowOrigins": []string{"*"}, "allowMethods": []string{"TRACE"}}), "allowMethods[0]"},
		{"cors maxAge range", anon("corsConfig", map[string]any{"allowOrigins": []string{"*"}, "maxAge": 100000}), "triggerConfig.corsConfig.maxAge"},
		{"cors misspelled field", anon("corsConfig", `{"allowOrigin": ["*"]}`), `unknown field "allowOrigin"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, method := range []string{"POST", "PUT"} {
				path := triggerPath
				body := map[string]any{"triggerName": "web", "triggerConfig": tc.cfg}
				if method == "PUT" {
					path += "/web"
					delete(body, "triggerName")
				}
				res, b := ts.api(method, path, body)
				if method == "PUT" && res.StatusCode == 404 {
					continue // the trigger exists only in the valid-config test below
				}
				wantAPIError(t, res, b, 400, "InvalidArgument", tc.msg)
			}
		})
	}

	t.Run("valid extensions are stored", func(t *testing.T) {
		b := ts.mustAPI("POST", triggerPath, map[string]any{"triggerName": "web", "triggerConfig": anon(
			"ipAllow", []string{"10.0.0.0/8", "::1"}, "ipDeny", []string{"10.1.0.0/16"},
			"corsConfig", `{"allowOrigins": ["https://a.example"], "maxAge": 60}`)}, 200)
		c := decodeAs[host.Trigger](t, b).TriggerConfig
		if strings.Join(c.IPAllow, ",") != "10.0.0.0/8,::1" || strings.Join(c.IPDeny, ",") != "10.1.0.0/16" ||
			c.CORSConfig == nil || c.CORSConfig.MaxAge != 60 || c.AuthConfig != nil {
			t.Fatalf("stored %s", b)
		}
		// Every invalid row also fails as an update of a valid trigger.
		for _, tc := range tests {
			res, b := ts.api("PUT", triggerPath+"/web", map[string]any{"triggerConfig": tc.cfg})
			if res.StatusCode != 400 || !strings.Contains(string(b), "InvalidArgument") {
				t.Errorf("update %s: %d %s", tc.name, res.StatusCode, b)
			}
		}
		// Removing: null and [].
		b = ts.mustAPI("PUT", triggerPath+"/web", map[string]any{"triggerConfig": map[string]any{"corsConfig": nil, "ipAllow": []string{}}}, 200)
		var m map[string]map[string]json.RawMessage
		json.Unmarshal(b, &m)
		if _, ok := m["triggerConfig"]["corsConfig"]; ok {
			t.Errorf("corsConfig not removed: %s", b)
		}
		if _, ok := m["triggerConfig"]["ipAllow"]; ok {
			t.Errorf("ipAllow not removed: %s", b)
		}
		if _, ok := m["triggerConfig"]["ipDeny"]; !ok {
			t.Errorf("ipDeny removed: %s", b)
		}
	})

	t.Run("jwt and basic through the API", func(t *testing.T) {
		res, b := ts.api("PUT", triggerPath+"/web", map[string]any{"triggerConfig": jwt(map[string]any{
			"jwks": jwks, "algorithms": []string{"RS256"}, "claimPassBy": []any{map[string]string{"claim": "sub", "header": "X-User"}},
		})})
		if res.StatusCode != 200 {
			t.Fatalf("%d %s", res.StatusCode, b)
		}
		tok := authtest.Token("RS256", k.RSA, "r1", jwtClaims("iss", nil, "aud", nil))
		res, b = ts.get("GET", "/2016-08-15/proxy/svc/fn/", nil, "Authorization", "Bearer "+tok)
		if res.StatusCode != 200 || decodeEcho(t, b).header("X-User") != "user-7" {
			t.Fatalf("%d %s", res.StatusCode, b)
		}
		// Back to anonymous: the authConfig goes with the auth type.
		b = ts.mustAPI("PUT", triggerPath+"/web", map[string]any{"triggerConfig": map[string]any{"authType": "anonymous"}}, 200)
		if strings.Contains(string(b), "authConfig") {
			t.Errorf("authConfig kept: %s", b)
		}
		// To basic, authConfig as a string (FC 3.0 style).
		ac, _ := json.Marshal(map[string]any{"users": []any{map[string]string{"name": "u", "passwordHash": auth.HashPassword("p")}}})
		ts.mustAPI("PUT", triggerPath+"/web", map[string]any{"triggerConfig": map[string]any{"authType": "basic", "authConfig": string(ac)}}, 200)
		if res, b := ts.get("GET", "/2016-08-15/proxy/svc/fn/", nil, "Authorization", basicAuth("u", "p")); res.StatusCode != 200 {
			t.Fatalf("basic: %d %s", res.StatusCode, b)
		}
		if res, _ := ts.get("GET", "/2016-08-15/proxy/svc/fn/", nil); res.StatusCode != 401 {
			t.Fatalf("basic without credentials: %d", res.StatusCode)
		}
		// Switching to jwt keeps basic's authConfig, which jwt refuses.
		res, b = ts.api("PUT", triggerPath+"/web", map[string]any{"triggerConfig": map[string]any{"authType": "jwt"}})
		wantAPIError(t, res, b, 400, "InvalidArgument", `authConfig.users applies to authType "basic"`)
	})
}

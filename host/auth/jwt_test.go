package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/auth"
	"github.com/fnhost/fnhost/host/auth/authtest"
)

var jwtNow = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// testJWTAuth is a verifier for every algorithm: the RSA key as kid "r1",
// the EC key as "e1", the shared secret.
func testJWTAuth(t testing.TB, mutate func(*host.TriggerAuthConfig)) *auth.JWTAuth {
	t.Helper()
	k := authtest.Shared()
	c := &host.TriggerAuthConfig{
		JWKS:       authtest.JWKS(authtest.JWK(&k.RSA.PublicKey, "r1"), authtest.JWK(&k.EC.PublicKey, "e1")),
		Secret:     k.SecretBase64(),
		Algorithms: []string{"RS256", "ES256", "HS256"},
		Issuer:     "https://idp.example/",
		Audience:   "api",
	}
	if mutate != nil {
		mutate(c)
	}
	a, err := auth.NewJWTAuth(c, nil, func() time.Time { return jwtNow })
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func claims(extra ...any) map[string]any {
	c := map[string]any{
		"iss": "https://idp.example/", "aud": "api", "sub": "user-1",
		"exp": jwtNow.Add(time.Hour).Unix(), "nbf": jwtNow.Add(-time.Minute).Unix(), "iat": jwtNow.Add(-time.Minute).Unix(),
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == nil {
			delete(c, extra[i].(string))
		} else {
			c[extra[i].(string)] = extra[i+1]
		}
	}
	return c
}

func TestJWTVerify(t *testing.T) {
	k := authtest.Shared()
	other := authtest.New()
	a := testJWTAuth(t, nil)
	hs := func(c map[string]any) string { return authtest.Token("HS256", k.Secret, "", c) }
	tests := []struct {
		name  string
		token string
		ok    bool
		msg   string // part of the error message
	}{
		{"RS256", authtest.Token("RS256", k.RSA, "r1", claims()), true, ""},
		{"ES256", authtest.Token("ES256", k.EC, "e1", claims()), true, ""},
		{"HS256", hs(claims()), true, ""},
		{"aud array", hs(claims("aud", []string{"x", "api"})), true, ""},
		{"within leeway after exp", hs(claims("exp", jwtNow.Add(-59*time.Second).Unix())), true, ""},
		{"within leeway before nbf", hs(claims("nbf", jwtNow.Add(59*time.Second).Unix())), true, ""},
		{"fractional exp", hs(claims("exp", float64(jwtNow.Unix())+3600.5)), true, ""},
		{"no time claims", hs(claims("exp", nil, "nbf", nil, "iat", nil)), true, ""},
		{"expired", hs(claims("exp", jwtNow.Add(-61*time.Second).Unix())), false, "expired"},
		{"exp equal to now minus leeway", hs(claims("exp", jwtNow.Add(-60*time.Second).Unix())), false, "expired"},
		{"not yet valid", hs(claims("nbf", jwtNow.Add(2*time.Minute).Unix())), false, "not valid before"},
		{"issued in the future", hs(claims("iat", jwtNow.Add(2*time.Minute).Unix())), false, "issued in the future"},
		{"exp not a number", hs(claims("exp", "tomorrow")), false, "exp claim is not a number"},
		{"wrong issuer", hs(claims("iss", "https://evil.example/")), false, "issuer"},
		{"missing issuer", hs(claims("iss", nil)), false, "issuer"},
		{"wrong audience", hs(claims("aud", "other")), false, "audience"},
		{"audience array without ours", hs(claims("aud", []string{"a", "b"})), false, "audience"},
		{"alg none", authtest.TokenWithHeader(map[string]any{"alg": "none"}, nil, claims()) + "AA", false, `alg "none"`},
		{"alg none without signature", authtest.TokenWithHeader(map[string]any{"alg": "none"}, nil, claims()), false, "empty"},
		{"alg NONE", authtest.TokenWithHeader(map[string]any{"alg": "NONE"}, k.Secret, claims()), false, `alg "none"`},
		{"alg not allowed", authtest.TokenWithHeader(map[string]any{"alg": "HS512"}, k.Secret, claims()), false, "not allowed"},
		{"RS256 header, HMAC with the public key", authtest.TokenWithHeader(map[string]any{"alg": "RS256", "kid": "r1"},
			k.RSA.PublicKey.N.Bytes(), claims()), false, "signature"},
		{"HS256 header, RSA signature", authtest.TokenWithHeader(map[string]any{"alg": "HS256"}, k.RSA, claims()), false, "signature"},
		{"bad signature", authtest.Token("RS256", other.RSA, "r1", claims()), false, "signature"},
		{"bad ES256 signature", authtest.Token("ES256", other.EC, "e1", claims()), false, "signature"},
		{"bad HS256 signature", authtest.Token("HS256", other.Secret, "", claims()), false, "signature"},
		{"unknown kid", authtest.Token("RS256", k.RSA, "r2", claims()), false, "no key with kid"},
		{"kid of another type", authtest.Token("RS256", k.RSA, "e1", claims()), false, "is for ES256"},
		{"no kid, one fitting key", authtest.Token("RS256", k.RSA, "", claims()), true, ""},
		{"crit header", authtest.TokenWithHeader(map[string]any{"alg": "HS256", "crit": []string{"b64"}}, k.Secret, claims()), false, "crit"},
		{"payload not an object", authtest.TokenWithHeader(map[string]any{"alg": "HS256"}, k.Secret, nil), false, "payload"},
		{"oversized", hs(claims("pad", strings.Repeat("x", 8<<10))), false, "over the limit of 8192"},
		{"two parts", "a.b", false, "compact form"},
		{"four parts", "a.b.c.d", false, "compact form"},
		{"padded base64", hs(claims()) + "=", false, "base64url"},
		{"empty", "", false, "compact form"},
		{"header not JSON", "bm90anNvbg.e30.c2ln", false, "header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := a.Verifier.Verify(context.Background(), tc.token)
			if tc.ok {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if sub, _ := c.Text("sub"); sub != "user-1" {
					t.Errorf("sub %q", sub)
				}
				return
			}
			var ae *auth.Error
			if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("Verify: %v, want a 401 InvalidToken", err)
			}
			if !strings.Contains(ae.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", ae.Message, tc.msg)
			}
		})
	}
}

func TestJWTNoKidSeveralKeys(t *testing.T) {
	k, k2 := authtest.Shared(), authtest.New()
	a := testJWTAuth(t, func(c *host.TriggerAuthConfig) {
		c.JWKS = authtest.JWKS(authtest.JWK(&k.RSA.PublicKey, "a"), authtest.JWK(&k2.RSA.PublicKey, "b"))
		c.Algorithms = []string{"RS256"}
		c.Secret = ""
	})
	_, err := a.Verifier.Verify(context.Background(), authtest.Token("RS256", k.RSA, "", claims()))
	if err == nil || !strings.Contains(err.Error(), "no kid and 2 keys") {
		t.Fatalf("Verify: %v", err)
	}
	if _, err := a.Verifier.Verify(context.Background(), authtest.Token("RS256", k2.RSA, "b", claims())); err != nil {
		t.Fatalf("kid b: %v", err)
	}
}

func TestJWTLeewayZero(t *testing.T) {
	a := testJWTAuth(t, func(c *host.TriggerAuthConfig) { c.Leeway = ptr(0) })
	tok := authtest.Token("HS256", authtest.Shared().Secret, "", claims("exp", jwtNow.Add(-time.Second).Unix()))
	if _, err := a.Verifier.Verify(context.Background(), tok); err == nil {
		t.Fatal("expired token accepted with leeway 0")
	}
}

func TestClaimsText(t *testing.T) {
	var c auth.Claims
	dec := json.NewDecoder(strings.NewReader(`{"s":"v","n":12.50,"b":true,"o":{"a":[1,"x"]},"z":null,"ctl":"a\nb"}`))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"s": "v", "n": "12.50", "b": "true", "o": `{"a":[1,"x"]}`} {
		if got, ok := c.Text(name); !ok || got != want {
			t.Errorf("Text(%s) = %q %v, want %q", name, got, ok, want)
		}
	}
	for _, name := range []string{"z", "missing"} {
		if _, ok := c.Text(name); ok {
			t.Errorf("Text(%s) is ok", name)
		}
	}
	if _, ok := auth.HeaderValue(c, "ctl"); ok {
		t.Error("HeaderValue passed a value with a newline")
	}
	if v, ok := auth.HeaderValue(c, "s"); !ok || v != "v" {
		t.Errorf("HeaderValue(s) = %q %v", v, ok)
	}
}

type mapHeader map[string]string

func (m mapHeader) Get(name string) string {
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
func (m mapHeader) VisitAll(fn func(name, value string)) {
	for k, v := range m {
		fn(k, v)
	}
}

func TestJWTTokenLookup(t *testing.T) {
	a := testJWTAuth(t, func(c *host.TriggerAuthConfig) {
		c.TokenLookup = []string{"header:Authorization", "header:X-Token", "query:token", "cookie:jwt"}
	})
	tests := []struct {
		name  string
		h     mapHeader
		query string
		want  string
	}{
		{"bearer", mapHeader{"Authorization": "Bearer abc"}, "", "abc"},
		{"bearer lower case", mapHeader{"authorization": "bearer  abc "}, "", "abc"},
		{"other scheme is not a token", mapHeader{"Authorization": "Basic abc"}, "", ""},
		{"custom header without prefix", mapHeader{"X-Token": "def"}, "", "def"},
		{"custom header with prefix", mapHeader{"X-Token": "Bearer def"}, "", "def"},
		{"query", nil, "a=1&token=ghi", "ghi"},
		{"cookie", mapHeader{"Cookie": `a=1; jwt="jkl"; b=2`}, "", "jkl"},
		{"order", mapHeader{"Authorization": "Bearer first", "Cookie": "jwt=last"}, "token=mid", "first"},
		{"none", mapHeader{"Cookie": "other=1"}, "x=1", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h auth.Header
			if tc.h != nil {
				h = tc.h
			}
			got, ok := a.Token(h, tc.query)
			if got != tc.want || ok != (tc.want != "") {
				t.Fatalf("Token = %q %v, want %q", got, ok, tc.want)
			}
		})
	}
	if got := a.Lookup(); got != "header Authorization, header X-Token, query token, cookie jwt" {
		t.Errorf("Lookup() = %q", got)
	}
}

func TestNewJWTAuthConfig(t *testing.T) {
	k := authtest.Shared()
	rsaOnly := authtest.JWKS(authtest.JWK(&k.RSA.PublicKey, "r1"))
	privateJWK := authtest.JWK(&k.EC.PublicKey, "e1")
	privateJWK["d"] = "AAAA"
	tests := []struct {
		name string
		c    host.TriggerAuthConfig
		err  string // "" means valid
		algs string // Algorithms when valid
	}{
		{"secret only", host.TriggerAuthConfig{Secret: k.SecretBase64()}, "", "HS256"},
		{"secret unpadded", host.TriggerAuthConfig{Secret: strings.TrimRight(k.SecretBase64(), "=")}, "", "HS256"},
		{"jwks RSA only", host.TriggerAuthConfig{JWKS: rsaOnly}, "", "RS256"},
		{"jwksUrl", host.TriggerAuthConfig{JWKSURL: "https://idp.example/jwks.json"}, "", "RS256,ES256"},
		{"no keys", host.TriggerAuthConfig{Issuer: "x"}, "needs jwks, jwksUrl or secret", ""},
		{"both jwks and url", host.TriggerAuthConfig{JWKS: rsaOnly, JWKSURL: "https://x/"}, "not both", ""},
		{"unknown alg", host.TriggerAuthConfig{Secret: k.SecretBase64(), Algorithms: []string{"HS256", "PS256"}}, "algorithms[1]: \"PS256\" is not supported", ""},
		{"alg none", host.TriggerAuthConfig{Secret: k.SecretBase64(), Algorithms: []string{"none"}}, `"none" is never accepted`, ""},
		{"HS256 without secret", host.TriggerAuthConfig{JWKS: rsaOnly, Algorithms: []string{"RS256", "HS256"}}, "algorithms[1]: HS256 needs authConfig.secret", ""},
		{"RS256 without keys", host.TriggerAuthConfig{Secret: k.SecretBase64(), Algorithms: []string{"RS256"}}, "RS256 needs authConfig.jwks", ""},
		{"ES256 with RSA-only jwks", host.TriggerAuthConfig{JWKS: rsaOnly, Algorithms: []string{"ES256"}}, "no key for ES256", ""},
		{"secret not listed", host.TriggerAuthConfig{JWKS: rsaOnly, Secret: k.SecretBase64(), Algorithms: []string{"RS256"}}, "does not list HS256", ""},
		{"empty algorithms", host.TriggerAuthConfig{Secret: k.SecretBase64(), Algorithms: []string{}}, "algorithms is empty", ""},
		{"short secret", host.TriggerAuthConfig{Secret: "c2hvcnQ="}, "secret: 5 bytes", ""},
		{"secret not base64", host.TriggerAuthConfig{Secret: "not base64!"}, "secret: not base64", ""},
		{"malformed jwks", host.TriggerAuthConfig{JWKS: json.RawMessage(`{"keys": 1}`)}, "jwks: not a JSON Web Key Set", ""},
		{"jwks empty", host.TriggerAuthConfig{JWKS: json.RawMessage(`{"keys": []}`)}, "keys is empty", ""},
		{"jwks private key", host.TriggerAuthConfig{JWKS: authtest.JWKS(privateJWK)}, "keys[0]: it is a private key", ""},
		{"jwks oct", host.TriggerAuthConfig{JWKS: json.RawMessage(`{"keys":[{"kty":"oct","k":"AAAA"}]}`)}, "authConfig.secret", ""},
		{"jwks bad curve", host.TriggerAuthConfig{JWKS: json.RawMessage(`{"keys":[{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}]}`)}, "only P-256", ""},
		{"jwks point off curve", host.TriggerAuthConfig{JWKS: json.RawMessage(`{"keys":[{"kty":"EC","crv":"P-256","x":"` +
			strings.Repeat("A", 43) + `","y":"` + strings.Repeat("A", 42) + `E"}]}`)}, "not on P-256", ""},
		{"jwks small RSA", host.TriggerAuthConfig{JWKS: json.RawMessage(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`)}, "bits", ""},
		{"jwks duplicate kid", host.TriggerAuthConfig{JWKS: authtest.JWKS(authtest.JWK(&k.RSA.PublicKey, "a"), authtest.JWK(&k.EC.PublicKey, "a"))}, "used twice", ""},
		{"jwks alg mismatch", host.TriggerAuthConfig{JWKS: func() []byte {
			j := authtest.JWK(&k.RSA.PublicKey, "a")
			j["alg"] = "ES256"
			return authtest.JWKS(j)
		}()}, "does not fit", ""},
		{"jwks use enc", host.TriggerAuthConfig{JWKS: func() []byte {
			j := authtest.JWK(&k.RSA.PublicKey, "a")
			j["use"] = "enc"
			return authtest.JWKS(j)
		}()}, `want "sig"`, ""},
		{"url ftp", host.TriggerAuthConfig{JWKSURL: "ftp://idp.example/jwks"}, "only http and https", ""},
		{"url relative", host.TriggerAuthConfig{JWKSURL: "/jwks.json"}, "only http and https", ""},
		{"url no host", host.TriggerAuthConfig{JWKSURL: "https:///jwks.json"}, "no host", ""},
		{"url user info", host.TriggerAuthConfig{JWKSURL: "https://u:p@idp.example/"}, "user information", ""},
		{"leeway negative", host.TriggerAuthConfig{Secret: k.SecretBase64(), Leeway: ptr(-1)}, "leeway: -1 is out of range", ""},
		{"leeway too big", host.TriggerAuthConfig{Secret: k.SecretBase64(), Leeway: ptr(3601)}, "leeway", ""},
		{"token lookup bad source", host.TriggerAuthConfig{Secret: k.SecretBase64(), TokenLookup: []string{"body:token"}}, "tokenLookup[0]", ""},
		{"token lookup bad name", host.TriggerAuthConfig{Secret: k.SecretBase64(), TokenLookup: []string{"header:a b"}}, "not a valid header name", ""},
		{"claim to x-fc header", host.TriggerAuthConfig{Secret: k.SecretBase64(), ClaimPassBy: []host.ClaimPassBy{{Claim: "sub", Header: "X-Fc-User"}}}, "claimPassBy[0].header", ""},
		{"claim to Authorization", host.TriggerAuthConfig{Secret: k.SecretBase64(), ClaimPassBy: []host.ClaimPassBy{{Claim: "sub", Header: "authorization"}}}, "cannot carry a claim", ""},
		{"claim without name", host.TriggerAuthConfig{Secret: k.SecretBase64(), ClaimPassBy: []host.ClaimPassBy{{Header: "X-User"}}}, "claimPassBy[0].claim", ""},
		{"claim header twice", host.TriggerAuthConfig{Secret: k.SecretBase64(), ClaimPassBy: []host.ClaimPassBy{{Claim: "a", Header: "X-A"}, {Claim: "b", Header: "x-a"}}}, "used twice", ""},
		{"users on jwt", host.TriggerAuthConfig{Secret: k.SecretBase64(), Users: []host.BasicUser{{Name: "a"}}}, "users applies", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := auth.NewJWTAuth(&tc.c, nil, nil)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.Join(a.Verifier.Algorithms, ","); got != tc.algs {
					t.Errorf("algorithms %s, want %s", got, tc.algs)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err %v, want it to contain %q", err, tc.err)
			}
			if !strings.HasPrefix(err.Error(), "authConfig") {
				t.Errorf("err %q does not name the field", err)
			}
		})
	}
	if _, err := auth.NewJWTAuth(nil, nil, nil); err == nil {
		t.Error("nil config accepted")
	}
}

// FuzzParseJWS checks that the JWS parser and the verifier never panic and
// accept only tokens signed with the configured secret.
func FuzzParseJWS(f *testing.F) {
	k := authtest.Shared()
	f.Add(authtest.Token("HS256", k.Secret, "", claims()))
	f.Add(authtest.Token("RS256", k.RSA, "r1", claims()))
	f.Add(authtest.Token("ES256", k.EC, "e1", claims()))
	f.Add(authtest.TokenWithHeader(map[string]any{"alg": "none"}, nil, claims()))
	f.Add("eyJhbGciOiJIUzI1NiJ9.e30.")
	f.Add("..")
	f.Add("a.b.c")
	f.Add("e30.e30.e30")
	f.Add(`eyJhbGciOjF9.e30.AA`)
	a := testJWTAuth(f, nil)
	f.Fuzz(func(t *testing.T, token string) {
		jws, err := auth.ParseJWS(token)
		if err == nil && (jws.SigningInput == "" || len(jws.Signature) == 0) {
			t.Fatalf("ParseJWS accepted %q with an empty part", token)
		}
		c, err := a.Verifier.Verify(context.Background(), token)
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("Verify error %v is not InvalidToken", err)
			}
			return
		}
		if c == nil || jws == nil || jws.Alg == "none" {
			t.Fatalf("accepted %q", token)
		}
	})
}

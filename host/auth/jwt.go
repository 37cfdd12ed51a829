package auth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fnhost/fnhost/host"
)

// JWS algorithms fnhost verifies (RFC 7518 §3.1).
const (
	HS256 = "HS256" // HMAC SHA-256 with authConfig.secret
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 SHA-256 with an RSA key of the JWKS
	ES256 = "ES256" // ECDSA P-256 SHA-256 with an EC key of the JWKS
)

// MaxTokenBytes bounds a token; a longer one is refused before parsing.
const MaxTokenBytes = 8 << 10

// DefaultLeeway is the clock skew allowed on exp, nbf and iat when
// authConfig.leeway is not set.
const DefaultLeeway = 60 * time.Second

// CodeInvalidToken (401): a JWT trigger's token is missing, malformed,
// not signed by a configured key or algorithm, expired, not yet valid, or
// for another issuer or audience (fnhost extension, not an FC 2.0 code).
const CodeInvalidToken = "InvalidToken"

// ErrInvalidToken matches (errors.Is) every token failure.
var ErrInvalidToken = &Error{http.StatusUnauthorized, CodeInvalidToken, "the token is missing or invalid"}

func invalidToken(format string, args ...any) *Error {
	return newError(ErrInvalidToken, fmt.Sprintf(format, args...))
}

// JWS is a JWS compact serialization (RFC 7515 §7.1) split and decoded,
// before any verification. It holds its own copies of the bytes.
type JWS struct {
	// Alg and Kid are the protected header's "alg" and "kid" ("" when
	// absent).
	Alg, Kid string
	// SigningInput is "<header>.<payload>" as sent, the bytes the signature
	// covers.
	SigningInput string
	// Payload is the decoded payload; Signature the decoded signature.
	Payload, Signature []byte
}

var b64url = base64.RawURLEncoding.Strict()

// ParseJWS splits and decodes a compact JWS. It rejects a token over
// MaxTokenBytes, one without exactly three non-empty base64url (unpadded)
// parts, a header that is not a JSON object with a string "alg", and a
// header with "crit" (fnhost understands no extension). It never panics.
func ParseJWS(token string) (*JWS, error) {
	if len(token) > MaxTokenBytes {
		return nil, fmt.Errorf("the token is %d bytes, over the limit of %d", len(token), MaxTokenBytes)
	}
	h, rest, ok1 := strings.Cut(token, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s, ".") {
		return nil, errors.New("the token is not a JWS in compact form (header.payload.signature)")
	}
	if h == "" || p == "" || s == "" {
		return nil, errors.New("the token has an empty header, payload or signature")
	}
	hb, err := b64url.DecodeString(h)
	if err != nil {
		return nil, errors.New("the token's header is not base64url")
	}
	var hdr struct {
		Alg  *string         `json:"alg"`
		Kid  *string         `json:"kid"`
		Crit json.RawMessage `json:"crit"`
	}
	if !isJSONObject(hb) || json.Unmarshal(hb, &hdr) != nil {
		return nil, errors.New("the token's header is not a JSON object with string alg and kid")
	}
	if hdr.Alg == nil {
		return nil, errors.New("the token's header has no alg")
	}
	if hdr.Crit != nil {
		return nil, errors.New("the token's header has crit: no JWS extension is supported")
	}
	t := &JWS{Alg: *hdr.Alg, SigningInput: token[:len(h)+1+len(p)]}
	if hdr.Kid != nil {
		t.Kid = *hdr.Kid
	}
	if t.Payload, err = b64url.DecodeString(p); err != nil {
		return nil, errors.New("the token's payload is not base64url")
	}
	if t.Signature, err = b64url.DecodeString(s); err != nil {
		return nil, errors.New("the token's signature is not base64url")
	}
	return t, nil
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

// Claims are a verified token's claims. Numbers are json.Number values.
type Claims map[string]any

// Text returns the claim as header text: a string as is, a number or
// boolean as its JSON text, an object or array as compact JSON. ok is false
// when the claim is absent or null.
func (c Claims) Text(name string) (string, bool) {
	switch v := c[name].(type) {
	case nil:
		return "", false
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return "", false
		}
		return string(b), true
	}
}

// KeySet finds the public key that verifies a token: an *rsa.PublicKey for
// RS256, an *ecdsa.PublicKey (P-256) for ES256. A key that is not there is
// an *Error matching ErrInvalidToken; a key set that could not be fetched
// is an error matching ErrKeysUnavailable. *JWKS and the sources of a
// *JWKSCache implement it.
type KeySet interface {
	Key(ctx context.Context, kid, alg string) (crypto.PublicKey, error)
}

// JWTVerifier verifies JSON Web Tokens (RFC 7519) in JWS compact form. Its
// fields must not change once Verify is in use; it is then safe for
// concurrent use (if Keys and Now are).
type JWTVerifier struct {
	// Algorithms are the accepted "alg" values (HS256, RS256, ES256);
	// anything else, "none" above all, is refused.
	Algorithms []string
	// Secret is the HS256 key.
	Secret []byte
	// Keys holds the RS256 and ES256 keys.
	Keys KeySet
	// Issuer and Audience, when not empty, must be the iss claim and one
	// of the aud claim's values.
	Issuer, Audience string
	// Leeway is the clock skew allowed on exp, nbf and iat.
	Leeway time.Duration
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Verify checks token and returns its claims. The checks, in order: size
// and form (ParseJWS); alg not "none" and in Algorithms; the key (kid)
// exists; the signature (hmac.Equal for HS256); the payload is a JSON
// object; exp, nbf and iat, when present, are numbers and now is before
// exp+Leeway, not before nbf−Leeway, and not before iat−Leeway; iss and aud
// when configured. Every failure is a 401 *Error matching ErrInvalidToken,
// except a key set that could not be fetched (ErrKeysUnavailable).
func (v *JWTVerifier) Verify(ctx context.Context, token string) (Claims, error) {
	t, err := ParseJWS(token)
	if err != nil {
		return nil, invalidToken("%v", err)
	}
	if strings.EqualFold(t.Alg, "none") {
		return nil, invalidToken(`alg "none" is never accepted`)
	}
	if !slices.Contains(v.Algorithms, t.Alg) {
		return nil, invalidToken("alg %s is not allowed (allowed: %s)", quoteBounded(t.Alg), strings.Join(v.Algorithms, ", "))
	}
	digest := sha256.Sum256([]byte(t.SigningInput))
	switch t.Alg {
	case HS256:
		if len(v.Secret) == 0 {
			return nil, invalidToken("no HS256 secret is configured")
		}
		m := hmac.New(sha256.New, v.Secret)
		m.Write([]byte(t.SigningInput))
		if !hmac.Equal(m.Sum(nil), t.Signature) {
			return nil, invalidToken("the token's signature does not verify")
		}
	case RS256, ES256:
		if v.Keys == nil {
			return nil, invalidToken("no key set is configured for %s", t.Alg)
		}
		key, err := v.Keys.Key(ctx, t.Kid, t.Alg)
		if err != nil {
			return nil, err
		}
		if !verifySignature(t.Alg, key, digest[:], t.Signature) {
			return nil, invalidToken("the token's signature does not verify")
		}
	default:
		return nil, invalidToken("alg %s is not supported", quoteBounded(t.Alg))
	}

	var claims Claims
	dec := json.NewDecoder(bytes.NewReader(t.Payload))
	dec.UseNumber()
	if !isJSONObject(t.Payload) || dec.Decode(&claims) != nil || dec.More() {
		return nil, invalidToken("the token's payload is not a JSON object")
	}
	if err := v.checkClaims(claims); err != nil {
		return nil, err
	}
	return claims, nil
}

func verifySignature(alg string, key crypto.PublicKey, digest, sig []byte) bool {
	switch alg {
	case RS256:
		pub, ok := key.(*rsa.PublicKey)
		return ok && rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest, sig) == nil
	case ES256:
		pub, ok := key.(*ecdsa.PublicKey)
		if !ok || len(sig) != 64 {
			return false
		}
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(pub, digest, r, s)
	}
	return false
}

func (v *JWTVerifier) checkClaims(c Claims) error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now()
	sec := float64(t.UnixNano()) / 1e9
	leeway := v.Leeway.Seconds()
	for _, name := range [...]string{"exp", "nbf", "iat"} {
		raw, ok := c[name]
		if !ok {
			continue
		}
		n, ok := raw.(json.Number)
		if !ok {
			return invalidToken("the %s claim is not a number", name)
		}
		f, err := strconv.ParseFloat(n.String(), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return invalidToken("the %s claim is not a number", name)
		}
		switch name {
		case "exp":
			if sec >= f+leeway {
				return invalidToken("the token expired at %s", unixText(f))
			}
		case "nbf":
			if sec < f-leeway {
				return invalidToken("the token is not valid before %s", unixText(f))
			}
		case "iat":
			if sec < f-leeway {
				return invalidToken("the token was issued in the future (%s)", unixText(f))
			}
		}
	}
	if v.Issuer != "" {
		if iss, _ := c["iss"].(string); iss != v.Issuer {
			return invalidToken("the token's issuer is not the trigger's")
		}
	}
	if v.Audience != "" && !hasAudience(c["aud"], v.Audience) {
		return invalidToken("the token's audience does not include the trigger's")
	}
	return nil
}

// hasAudience reports whether aud (a string or an array of strings, RFC
// 7519 §4.1.3) contains want.
func hasAudience(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, x := range a {
			if s, ok := x.(string); ok && s == want {
				return true
			}
		}
	}
	return false
}

func unixText(f float64) string {
	if f < -1e11 || f > 1e11 { // outside years ±5000: print the number
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return time.Unix(int64(f), 0).UTC().Format(time.RFC3339)
}

// quoteBounded quotes a bounded prefix of s, for messages that echo input.
func quoteBounded(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "…"
	}
	return strconv.Quote(s)
}

// JWTAuth is the compiled authConfig of a "jwt" trigger: where the token
// is, how it is verified, and which claims go to the function. It is
// immutable and safe for concurrent use.
type JWTAuth struct {
	Verifier JWTVerifier
	lookup   []tokenLocation
	passBy   []host.ClaimPassBy
}

type tokenLocation struct {
	where string // "header", "query" or "cookie"
	name  string
}

// Limits of an authConfig.
const (
	maxTokenLookups = 8
	maxClaimPassBys = 32
	maxClaimText    = 4 << 10 // a longer claim value is not passed
	maxSecretBytes  = 1 << 10
	minSecretBytes  = 32 // RFC 7518 §3.2: a key as long as the hash
	maxLeeway       = 3600
	maxIssAud       = 1 << 10
)

// NewJWTAuth checks c, the authConfig of a "jwt" trigger, and compiles it.
// remote fetches jwksUrl key sets (nothing is fetched here); now is the
// verifier's clock (nil: time.Now). Errors name the offending field
// ("authConfig.algorithms[1]: ...") and are meant for a 400 answer.
func NewJWTAuth(c *host.TriggerAuthConfig, remote *JWKSCache, now func() time.Time) (*JWTAuth, error) {
	if c == nil {
		return nil, errors.New(`authConfig is required with authType "jwt": {"jwks"|"jwksUrl"|"secret": …, "algorithms": [...]}`)
	}
	if len(c.Users) > 0 {
		return nil, errors.New(`authConfig.users applies to authType "basic", not "jwt"`)
	}
	a := &JWTAuth{Verifier: JWTVerifier{Issuer: c.Issuer, Audience: c.Audience, Leeway: DefaultLeeway, Now: now}}
	v := &a.Verifier

	// Keys.
	var inline *JWKS
	switch {
	case len(c.JWKS) > 0 && c.JWKSURL != "":
		return nil, errors.New("authConfig: set jwks or jwksUrl, not both")
	case len(c.JWKS) > 0:
		ks, err := ParseJWKS(c.JWKS)
		if err != nil {
			return nil, fmt.Errorf("authConfig.jwks: %w", err)
		}
		inline, v.Keys = ks, ks
	case c.JWKSURL != "":
		if err := CheckJWKSURL(c.JWKSURL); err != nil {
			return nil, fmt.Errorf("authConfig.jwksUrl: %w", err)
		}
		if remote == nil {
			remote = &JWKSCache{}
		}
		v.Keys = remote.Source(c.JWKSURL)
	}
	if c.Secret != "" {
		s, err := decodeSecret(c.Secret)
		if err != nil {
			return nil, fmt.Errorf("authConfig.secret: %w", err)
		}
		v.Secret = s
	}
	if v.Keys == nil && v.Secret == nil {
		return nil, errors.New("authConfig needs jwks, jwksUrl or secret to verify tokens")
	}

	// Algorithms.
	if c.Algorithms == nil {
		if v.Secret != nil {
			v.Algorithms = append(v.Algorithms, HS256)
		}
		switch {
		case inline != nil:
			for _, alg := range [...]string{RS256, ES256} {
				if inline.has(alg) {
					v.Algorithms = append(v.Algorithms, alg)
				}
			}
		case v.Keys != nil:
			v.Algorithms = append(v.Algorithms, RS256, ES256)
		}
	} else {
		if len(c.Algorithms) == 0 {
			return nil, errors.New("authConfig.algorithms is empty: list HS256, RS256 or ES256, or leave it out")
		}
		for i, alg := range c.Algorithms {
			switch alg {
			case HS256:
				if v.Secret == nil {
					return nil, fmt.Errorf("authConfig.algorithms[%d]: HS256 needs authConfig.secret", i)
				}
			case RS256, ES256:
				if v.Keys == nil {
					return nil, fmt.Errorf("authConfig.algorithms[%d]: %s needs authConfig.jwks or jwksUrl", i, alg)
				}
				if inline != nil && !inline.has(alg) {
					return nil, fmt.Errorf("authConfig.algorithms[%d]: authConfig.jwks has no key for %s", i, alg)
				}
			default:
				if strings.EqualFold(alg, "none") {
					return nil, fmt.Errorf(`authConfig.algorithms[%d]: "none" is never accepted`, i)
				}
				return nil, fmt.Errorf("authConfig.algorithms[%d]: %s is not supported: use HS256, RS256 or ES256", i, quoteBounded(alg))
			}
			if !slices.Contains(v.Algorithms, alg) {
				v.Algorithms = append(v.Algorithms, alg)
			}
		}
		if v.Secret != nil && !slices.Contains(v.Algorithms, HS256) {
			return nil, errors.New("authConfig.secret is set but authConfig.algorithms does not list HS256")
		}
		if v.Keys != nil && !slices.Contains(v.Algorithms, RS256) && !slices.Contains(v.Algorithms, ES256) {
			return nil, errors.New("authConfig has a key set but authConfig.algorithms lists neither RS256 nor ES256")
		}
	}
	if len(v.Algorithms) == 0 {
		return nil, errors.New("authConfig.jwks has no RS256 or ES256 key")
	}

	// Claims and skew.
	if len(c.Issuer) > maxIssAud || len(c.Audience) > maxIssAud {
		return nil, fmt.Errorf("authConfig.issuer and audience are at most %d bytes", maxIssAud)
	}
	if c.Leeway != nil {
		if *c.Leeway < 0 || *c.Leeway > maxLeeway {
			return nil, fmt.Errorf("authConfig.leeway: %d is out of range 0–%d seconds", *c.Leeway, maxLeeway)
		}
		v.Leeway = time.Duration(*c.Leeway) * time.Second
	}

	// Where the token is.
	if len(c.TokenLookup) > maxTokenLookups {
		return nil, fmt.Errorf("authConfig.tokenLookup has %d entries, at most %d", len(c.TokenLookup), maxTokenLookups)
	}
	for i, l := range c.TokenLookup {
		where, name, _ := strings.Cut(l, ":")
		switch where {
		case "header", "query", "cookie":
		default:
			return nil, fmt.Errorf(`authConfig.tokenLookup[%d]: %s is not "header:<name>", "query:<name>" or "cookie:<name>"`, i, quoteBounded(l))
		}
		if !validToken(name) {
			return nil, fmt.Errorf("authConfig.tokenLookup[%d]: %s is not a valid %s name", i, quoteBounded(name), where)
		}
		a.lookup = append(a.lookup, tokenLocation{where, name})
	}
	if len(a.lookup) == 0 {
		a.lookup = []tokenLocation{{"header", "Authorization"}}
	}

	// Claims to headers.
	if len(c.ClaimPassBy) > maxClaimPassBys {
		return nil, fmt.Errorf("authConfig.claimPassBy has %d entries, at most %d", len(c.ClaimPassBy), maxClaimPassBys)
	}
	for i, p := range c.ClaimPassBy {
		if p.Claim == "" || len(p.Claim) > 256 {
			return nil, fmt.Errorf("authConfig.claimPassBy[%d].claim must be 1 to 256 bytes", i)
		}
		if err := checkPassByHeader(p.Header); err != nil {
			return nil, fmt.Errorf("authConfig.claimPassBy[%d].header: %w", i, err)
		}
		for _, q := range a.passBy {
			if strings.EqualFold(q.Header, p.Header) {
				return nil, fmt.Errorf("authConfig.claimPassBy[%d].header: %s is used twice", i, quoteBounded(p.Header))
			}
		}
		a.passBy = append(a.passBy, p)
	}
	return a, nil
}

// decodeSecret decodes a standard-alphabet base64 key, padded or not.
func decodeSecret(s string) ([]byte, error) {
	enc := base64.StdEncoding
	if !strings.HasSuffix(s, "=") && len(s)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	b, err := enc.DecodeString(s)
	switch {
	case err != nil:
		return nil, errors.New("not base64 (standard alphabet)")
	case len(b) < minSecretBytes:
		return nil, fmt.Errorf("%d bytes; HS256 needs at least %d (RFC 7518 §3.2)", len(b), minSecretBytes)
	case len(b) > maxSecretBytes:
		return nil, fmt.Errorf("%d bytes, over the limit of %d", len(b), maxSecretBytes)
	}
	return b, nil
}

// checkPassByHeader refuses header names that are invalid or that the host
// owns: a claim must not replace framing, hop-by-hop, credential or x-fc-*
// headers.
func checkPassByHeader(name string) error {
	if !validToken(name) {
		return fmt.Errorf("%s is not a valid header name", quoteBounded(name))
	}
	if len(name) >= 5 && strings.EqualFold(name[:5], "x-fc-") {
		return fmt.Errorf("%s: x-fc-* headers belong to the host", quoteBounded(name))
	}
	for _, n := range [...]string{"authorization", "connection", "content-length", "cookie", "host",
		"keep-alive", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"} {
		if strings.EqualFold(name, n) {
			return fmt.Errorf("%s cannot carry a claim", quoteBounded(name))
		}
	}
	return nil
}

// validToken reports whether s is an RFC 9110 token (header names, cookie
// and query names as fnhost accepts them), at most 128 bytes.
func validToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// Token returns the request's token from the first configured location
// that has one. From a header, a "Bearer " prefix is removed; the
// Authorization header counts only with the Bearer scheme. The result may
// alias rawQuery.
func (a *JWTAuth) Token(h Header, rawQuery string) (string, bool) {
	if h == nil {
		h = noHeader{}
	}
	for _, l := range a.lookup {
		var tok string
		switch l.where {
		case "header":
			v := strings.TrimSpace(h.Get(l.name))
			if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
				v = strings.TrimSpace(v[7:])
			} else if strings.EqualFold(l.name, "Authorization") {
				v = ""
			}
			tok = v
		case "query":
			tok, _ = queryGet(rawQuery, l.name)
		case "cookie":
			tok = cookieValue(h.Get("Cookie"), l.name)
		}
		if tok != "" {
			return tok, true
		}
	}
	return "", false
}

// Lookup describes where tokens are looked for, for messages:
// "header Authorization, query token".
func (a *JWTAuth) Lookup() string {
	var b strings.Builder
	for i, l := range a.lookup {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(l.where + " " + l.name)
	}
	return b.String()
}

// PassBy returns the claims to pass to the function and their headers. The
// caller must not modify the slice.
func (a *JWTAuth) PassBy() []host.ClaimPassBy { return a.passBy }

// HeaderValue returns the claim's text (Claims.Text) if it can be a
// request header value: at most 4 KiB, no control characters other than
// tab. Other values are not passed.
func HeaderValue(c Claims, claim string) (string, bool) {
	v, ok := c.Text(claim)
	if !ok || len(v) > maxClaimText {
		return "", false
	}
	for i := 0; i < len(v); i++ {
		if b := v[i]; (b < 0x20 && b != '\t') || b == 0x7f {
			return "", false
		}
	}
	return v, true
}

// cookieValue returns the value of the named cookie in a Cookie header
// ("a=1; b=2"), without surrounding double quotes.
func cookieValue(header, name string) string {
	for part := range strings.SplitSeq(header, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && k == name {
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v
		}
	}
	return ""
}

package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Limits of a JSON Web Key Set.
const (
	// MaxJWKSKeys bounds the keys of a set.
	MaxJWKSKeys = 64
	// MaxJWKSBytes bounds an inline set and is the default bound of a
	// fetched one.
	MaxJWKSBytes = 256 << 10
	minRSABits   = 2048
	maxRSABits   = 8192
	maxURLBytes  = 2048
)

// JWKS is a parsed JSON Web Key Set (RFC 7517 §5) holding RS256 and ES256
// verification keys. It is immutable and safe for concurrent use.
type JWKS struct {
	keys []jwk
}

type jwk struct {
	kid string
	alg string // RS256 or ES256, from the key type
	key crypto.PublicKey
}

var _ KeySet = (*JWKS)(nil)

// rawJWK holds the members fnhost reads (RFC 7517 §4, RFC 7518 §6).
type rawJWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	// D is the private exponent (RSA, EC) or the private key (EC); its
	// presence in a configured set means a private key was pasted.
	D *string `json:"d"`
}

// ParseJWKS parses an inline key set strictly: data must be at most
// MaxJWKSBytes, {"keys": [...]} with 1 to MaxJWKSKeys keys, each an RSA
// (2048–8192 bits) or EC P-256 public key for signatures (use "sig" or
// absent, alg RS256/ES256 or absent), with distinct kids and no private
// members.
func ParseJWKS(data []byte) (*JWKS, error) { return parseJWKS(data, true) }

// parseJWKS parses a key set. strict refuses any key it cannot use;
// otherwise (fetched sets) such keys are skipped, as RFC 7517 §5 asks.
func parseJWKS(data []byte, strict bool) (*JWKS, error) {
	if strict && len(data) > MaxJWKSBytes { // fetched sets are bounded by JWKSCache.MaxBytes
		return nil, fmt.Errorf("%d bytes, over the limit of %d", len(data), MaxJWKSBytes)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if !isJSONObject(data) || json.Unmarshal(data, &set) != nil || set.Keys == nil {
		return nil, errors.New(`not a JSON Web Key Set: want {"keys": [...]}`)
	}
	if len(set.Keys) > MaxJWKSKeys {
		return nil, fmt.Errorf("%d keys, at most %d", len(set.Keys), MaxJWKSKeys)
	}
	if strict && len(set.Keys) == 0 {
		return nil, errors.New("keys is empty")
	}
	ks := &JWKS{}
	for i, raw := range set.Keys {
		k, err := parseJWK(raw, strict)
		if err != nil {
			if strict {
				return nil, fmt.Errorf("keys[%d]: %w", i, err)
			}
			continue
		}
		if strict && k.kid != "" {
			for _, o := range ks.keys {
				if o.kid == k.kid {
					return nil, fmt.Errorf("keys[%d]: kid %s is used twice", i, quoteBounded(k.kid))
				}
			}
		}
		ks.keys = append(ks.keys, k)
	}
	return ks, nil
}

func parseJWK(raw json.RawMessage, strict bool) (jwk, error) {
	var r rawJWK
	if !isJSONObject(raw) || json.Unmarshal(raw, &r) != nil {
		return jwk{}, errors.New("not a JSON Web Key object with string members")
	}
	if r.D != nil && strict {
		return jwk{}, errors.New(`it is a private key ("d"): configure only the public key`)
	}
	if r.Use != "" && r.Use != "sig" {
		return jwk{}, fmt.Errorf(`use %s: want "sig"`, quoteBounded(r.Use))
	}
	k := jwk{kid: r.Kid}
	switch r.Kty {
	case "RSA":
		k.alg = RS256
		n, err1 := b64url.DecodeString(r.N)
		e, err2 := b64url.DecodeString(r.E)
		if err1 != nil || err2 != nil || len(n) == 0 || len(e) == 0 {
			return jwk{}, errors.New("RSA key: n and e must be base64url")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n)}
		if bits := pub.N.BitLen(); bits < minRSABits || bits > maxRSABits {
			return jwk{}, fmt.Errorf("RSA key: %d bits, want %d to %d", bits, minRSABits, maxRSABits)
		}
		if len(e) > 4 {
			return jwk{}, errors.New("RSA key: exponent too large")
		}
		var ev int
		for _, b := range e {
			ev = ev<<8 | int(b)
		}
		if ev < 3 || ev%2 == 0 || ev > 1<<31-1 {
			return jwk{}, errors.New("RSA key: exponent must be odd and at least 3")
		}
		pub.E = ev
		k.key = pub
	case "EC":
		k.alg = ES256
		if r.Crv != "P-256" {
			return jwk{}, fmt.Errorf("EC key: crv %s: only P-256 (ES256) is supported", quoteBounded(r.Crv))
		}
		x, err1 := b64url.DecodeString(r.X)
		y, err2 := b64url.DecodeString(r.Y)
		if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
			return jwk{}, errors.New("EC key: x and y must be 32-byte base64url")
		}
		pt := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pt)
		if err != nil {
			return jwk{}, errors.New("EC key: the point is not on P-256")
		}
		k.key = pub
	case "oct":
		return jwk{}, errors.New(`kty "oct": put an HS256 key in authConfig.secret`)
	default:
		return jwk{}, fmt.Errorf("kty %s: want RSA or EC", quoteBounded(r.Kty))
	}
	if r.Alg != "" && r.Alg != k.alg {
		return jwk{}, fmt.Errorf("alg %s does not fit a %s key: want %s", quoteBounded(r.Alg), r.Kty, k.alg)
	}
	return k, nil
}

// Len returns the number of usable keys.
func (s *JWKS) Len() int { return len(s.keys) }

func (s *JWKS) has(alg string) bool {
	for _, k := range s.keys {
		if k.alg == alg {
			return true
		}
	}
	return false
}

// Key implements KeySet. With a kid, the key with that kid and a type
// fitting alg; without one, the only key fitting alg (a token without kid
// is refused when several could verify it).
func (s *JWKS) Key(_ context.Context, kid, alg string) (crypto.PublicKey, error) {
	k, err := s.find(kid, alg)
	var nk errNoKid
	if errors.As(err, &nk) {
		return nil, nk.err
	}
	return k, err
}

// errNoKid marks a kid the set does not have, which makes a fetched set
// refresh.
type errNoKid struct{ err *Error }

func (e errNoKid) Error() string { return e.err.Error() }
func (e errNoKid) Unwrap() error { return e.err }

func (s *JWKS) find(kid, alg string) (crypto.PublicKey, error) {
	var found crypto.PublicKey
	n := 0
	for _, k := range s.keys {
		if kid != "" && k.kid == kid {
			if k.alg != alg {
				return nil, invalidToken("key %s is for %s, the token is %s", quoteBounded(kid), k.alg, alg)
			}
			return k.key, nil
		}
		if kid == "" && k.alg == alg {
			found = k.key
			n++
		}
	}
	switch {
	case kid != "":
		return nil, errNoKid{invalidToken("no key with kid %s in the key set", quoteBounded(kid))}
	case n == 0:
		return nil, errNoKid{invalidToken("no %s key in the key set", alg)}
	case n > 1:
		return nil, invalidToken("the token has no kid and %d keys could verify it", n)
	}
	return found, nil
}

// CheckJWKSURL checks a jwksUrl: an absolute http or https URL with a host,
// without user information or fragment, at most 2048 bytes.
func CheckJWKSURL(s string) error {
	if len(s) > maxURLBytes {
		return fmt.Errorf("%d bytes, over the limit of %d", len(s), maxURLBytes)
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("%s is not a URL", quoteBounded(s))
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%s: only http and https URLs are fetched", quoteBounded(s))
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("%s has no host", quoteBounded(s))
	case u.User != nil:
		return fmt.Errorf("%s: user information is not allowed in the URL", quoteBounded(s))
	case u.Fragment != "" || u.RawFragment != "":
		return fmt.Errorf("%s: a fragment is not allowed", quoteBounded(s))
	}
	return nil
}

// ErrKeysUnavailable matches (errors.Is) the error of a key set that could
// not be fetched and has no usable cached copy. It is the server's
// problem, not the client's: answer 503.
var ErrKeysUnavailable = errors.New("auth: the JSON Web Key Set is unavailable")

type keysError struct {
	url string
	err error
}

func (e *keysError) Error() string {
	return "auth: JSON Web Key Set " + e.url + ": " + e.err.Error()
}
func (e *keysError) Unwrap() error        { return e.err }
func (e *keysError) Is(target error) bool { return target == ErrKeysUnavailable }

// Defaults of JWKSCache.
const (
	DefaultJWKSTimeout    = 5 * time.Second
	DefaultJWKSTTL        = 5 * time.Minute
	DefaultJWKSMinRefresh = 10 * time.Second
	DefaultJWKSMaxStale   = time.Hour
	DefaultJWKSMaxEntries = 256
)

// JWKSCache fetches key sets by URL (jwksUrl) and keeps them for TTL. One
// fetch per URL runs at a time; concurrent requests wait for it. A token
// whose kid is not in the cached set makes the set refresh, at most once
// per MinRefresh (key rotation). A failed fetch is remembered for
// MinRefresh; meanwhile, and for up to MaxStale after the last success,
// the previous set is used. The zero value is ready to use with the
// defaults. Set the fields before first use; it is then safe for
// concurrent use.
type JWKSCache struct {
	// Client fetches. Nil means a client that follows at most 3 redirects,
	// to http and https URLs only.
	Client *http.Client
	// Timeout bounds one fetch (connect, headers and body). Zero means
	// DefaultJWKSTimeout.
	Timeout time.Duration
	// TTL is how long a fetched set is used before it is fetched again.
	// Zero means DefaultJWKSTTL.
	TTL time.Duration
	// MinRefresh is the least time between two fetches of one URL (for
	// unknown kids and after failures). Zero means DefaultJWKSMinRefresh.
	MinRefresh time.Duration
	// MaxStale is how long after its fetch a set is still used while the
	// URL fails. Zero means DefaultJWKSMaxStale.
	MaxStale time.Duration
	// MaxBytes bounds a fetched body. Zero means MaxJWKSBytes.
	MaxBytes int64
	// MaxEntries bounds the URLs cached; the least recently used one goes.
	// Zero means DefaultJWKSMaxEntries.
	MaxEntries int
	// Now is the clock. Nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	entries map[string]*jwksEntry
}

type jwksEntry struct {
	used time.Time // guarded by JWKSCache.mu

	mu      sync.Mutex // held during a fetch
	keys    *JWKS      // last good set; nil before the first
	fetched time.Time  // when keys was fetched
	tried   time.Time  // last fetch attempt
	err     error      // its error
}

// Source returns the KeySet of the set at url (fetched on first use).
func (c *JWKSCache) Source(url string) KeySet { return remoteJWKS{c, url} }

type remoteJWKS struct {
	c   *JWKSCache
	url string
}

func (r remoteJWKS) Key(ctx context.Context, kid, alg string) (crypto.PublicKey, error) {
	ks, err := r.c.get(ctx, r.url, false)
	if err != nil {
		return nil, err
	}
	k, err := ks.find(kid, alg)
	var nk errNoKid
	if errors.As(err, &nk) {
		// Perhaps the keys rotated: look again (rate-limited).
		if ks2, err2 := r.c.get(ctx, r.url, true); err2 == nil && ks2 != ks {
			k, err = ks2.find(kid, alg)
		}
	}
	if err != nil {
		if errors.As(err, &nk) {
			return nil, nk.err
		}
		return nil, err
	}
	return k, nil
}

func (c *JWKSCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (c *JWKSCache) entry(url string) *jwksEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if e := c.entries[url]; e != nil {
		e.used = now
		return e
	}
	if c.entries == nil {
		c.entries = map[string]*jwksEntry{}
	}
	limit := c.MaxEntries
	if limit <= 0 {
		limit = DefaultJWKSMaxEntries
	}
	for len(c.entries) >= limit {
		var oldest string
		var t time.Time
		for u, e := range c.entries {
			if oldest == "" || e.used.Before(t) {
				oldest, t = u, e.used
			}
		}
		delete(c.entries, oldest)
	}
	e := &jwksEntry{used: now}
	c.entries[url] = e
	return e
}

// get returns the set at url: the cached one while fresh (and, with
// refresh, while fetched less than MinRefresh ago), else a new fetch.
func (c *JWKSCache) get(ctx context.Context, url string, refresh bool) (*JWKS, error) {
	e := c.entry(url)
	e.mu.Lock()
	defer e.mu.Unlock()
	now := c.now()
	minRefresh := orDuration(c.MinRefresh, DefaultJWKSMinRefresh)
	if e.keys != nil && now.Sub(e.fetched) < orDuration(c.TTL, DefaultJWKSTTL) && (!refresh || now.Sub(e.fetched) < minRefresh) {
		return e.keys, nil
	}
	if !e.tried.IsZero() && now.Sub(e.tried) < minRefresh {
		return e.usable(now, c)
	}
	e.tried = now
	ks, err := c.fetch(ctx, url)
	if err != nil {
		e.err = &keysError{url, err}
		return e.usable(now, c)
	}
	e.keys, e.fetched, e.err = ks, now, nil
	return ks, nil
}

// usable returns the last good set if it is not older than MaxStale, else
// the last error.
func (e *jwksEntry) usable(now time.Time, c *JWKSCache) (*JWKS, error) {
	if e.keys != nil && now.Sub(e.fetched) < orDuration(c.MaxStale, DefaultJWKSMaxStale) {
		return e.keys, nil
	}
	if e.err == nil { // a fresh set aged out between tries
		return nil, &keysError{"", errors.New("no current key set")}
	}
	return nil, e.err
}

var defaultJWKSClient = &http.Client{
	CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("more than 3 redirects")
		}
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return fmt.Errorf("redirect to a %s URL", req.URL.Scheme)
		}
		return nil
	},
}

func (c *JWKSCache) fetch(ctx context.Context, u string) (*JWKS, error) {
	ctx, cancel := context.WithTimeout(ctx, orDuration(c.Timeout, DefaultJWKSTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	client := c.Client
	if client == nil {
		client = defaultJWKSClient
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET answered %s", res.Status)
	}
	limit := c.MaxBytes
	if limit <= 0 {
		limit = MaxJWKSBytes
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("the body is over the limit of %d bytes", limit)
	}
	return parseJWKS(b, false)
}

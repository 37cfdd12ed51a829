package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/auth"
	"github.com/fnhost/fnhost/host/auth/authtest"
)

// jwksServer serves a key set on 127.0.0.1 and counts the fetches.
type jwksServer struct {
	*httptest.Server
	mu     sync.Mutex
	body   []byte
	status int
	delay  time.Duration
	hits   atomic.Int32
}

func newJWKSServer(t *testing.T, body []byte) *jwksServer {
	s := &jwksServer{body: body, status: 200}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		body, status, delay := s.body, s.status, s.delay
		s.mu.Unlock()
		time.Sleep(delay)
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(body []byte, status int) {
	s.mu.Lock()
	s.body, s.status = body, status
	s.mu.Unlock()
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestJWKSCache(t *testing.T) {
	k1, k2 := authtest.Shared(), authtest.New()
	srv := newJWKSServer(t, authtest.JWKS(authtest.JWK(&k1.RSA.PublicKey, "k1")))
	clock := &fakeClock{t: jwtNow}
	cache := &auth.JWKSCache{Now: clock.Now, TTL: time.Minute, MinRefresh: 10 * time.Second, MaxStale: 5 * time.Minute}
	src := cache.Source(srv.URL + "/jwks.json")
	ctx := context.Background()
	key := func(kid string) error {
		_, err := src.Key(ctx, kid, auth.RS256)
		return err
	}
	hits := func(want int32) {
		t.Helper()
		if got := srv.hits.Load(); got != want {
			t.Fatalf("%d fetches, want %d", got, want)
		}
	}

	// First use fetches; later uses within the TTL do not.
	if err := key("k1"); err != nil {
		t.Fatal(err)
	}
	if err := key("k1"); err != nil {
		t.Fatal(err)
	}
	hits(1)

	// An unknown kid refreshes, but at most once per MinRefresh.
	if err := key("k2"); !errors.Is(err, auth.ErrInvalidToken) || !strings.Contains(err.Error(), "no key with kid") {
		t.Fatalf("unknown kid: %v", err)
	}
	hits(1) // fetched less than MinRefresh ago
	clock.Add(11 * time.Second)
	srv.set(authtest.JWKS(authtest.JWK(&k1.RSA.PublicKey, "k1"), authtest.JWK(&k2.RSA.PublicKey, "k2")), 200)
	if err := key("k2"); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	hits(2)
	if err := key("k3"); err == nil {
		t.Fatal("k3 found")
	}
	hits(2)

	// After the TTL, fetched again.
	clock.Add(time.Minute)
	if err := key("k1"); err != nil {
		t.Fatal(err)
	}
	hits(3)

	// The URL fails: the old set is used until MaxStale; failures are not
	// retried more than once per MinRefresh.
	srv.set([]byte("oops"), 500)
	clock.Add(2 * time.Minute)
	if err := key("k1"); err != nil {
		t.Fatalf("stale set not used: %v", err)
	}
	hits(4)
	if err := key("k1"); err != nil {
		t.Fatal(err)
	}
	hits(4)
	clock.Add(4 * time.Minute) // 6 minutes after the last good fetch
	if err := key("k1"); !errors.Is(err, auth.ErrKeysUnavailable) || !strings.Contains(err.Error(), "500") {
		t.Fatalf("past MaxStale: %v", err)
	}
	hits(5)
	if err := key("k1"); !errors.Is(err, auth.ErrKeysUnavailable) {
		t.Fatalf("remembered failure: %v", err)
	}
	hits(5)

	// Back up.
	srv.set(authtest.JWKS(authtest.JWK(&k1.RSA.PublicKey, "k1")), 200)
	clock.Add(11 * time.Second)
	if err := key("k1"); err != nil {
		t.Fatal(err)
	}
	hits(6)
}

func TestJWKSCacheFailures(t *testing.T) {
	k := authtest.Shared()
	good := authtest.JWKS(authtest.JWK(&k.RSA.PublicKey, "k1"), map[string]any{"kty": "OKP", "crv": "Ed25519", "x": "AA"})
	tests := []struct {
		name   string
		body   []byte
		status int
		opts   func(*auth.JWKSCache)
		err    string // "" means the key is found
	}{
		{"unusable keys skipped", good, 200, nil, ""},
		{"not found", good, 404, nil, "404"},
		{"not a key set", []byte(`[1,2]`), 200, nil, "not a JSON Web Key Set"},
		{"too big", good, 200, func(c *auth.JWKSCache) { c.MaxBytes = 100 }, "over the limit of 100 bytes"},
		{"timeout", good, 200, func(c *auth.JWKSCache) { c.Timeout = 50 * time.Millisecond }, "deadline"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newJWKSServer(t, tc.body)
			srv.status = tc.status
			if tc.name == "timeout" {
				srv.delay = 500 * time.Millisecond
			}
			c := &auth.JWKSCache{}
			if tc.opts != nil {
				tc.opts(c)
			}
			_, err := c.Source(srv.URL).Key(context.Background(), "k1", auth.RS256)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, auth.ErrKeysUnavailable) || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err %v, want ErrKeysUnavailable containing %q", err, tc.err)
			}
		})
	}
}

// TestJWKSCacheSingleFetch: concurrent first uses share one fetch.
func TestJWKSCacheSingleFetch(t *testing.T) {
	k := authtest.Shared()
	srv := newJWKSServer(t, authtest.JWKS(authtest.JWK(&k.EC.PublicKey, "e")))
	srv.delay = 50 * time.Millisecond
	c := &auth.JWKSCache{}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := c.Source(srv.URL).Key(context.Background(), "e", auth.ES256); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
}

func TestJWKSCacheEviction(t *testing.T) {
	k := authtest.Shared()
	srv := newJWKSServer(t, authtest.JWKS(authtest.JWK(&k.RSA.PublicKey, "k")))
	clock := &fakeClock{t: jwtNow}
	c := &auth.JWKSCache{MaxEntries: 2, Now: clock.Now}
	for _, p := range []string{"/a", "/b", "/a", "/c", "/a", "/b"} {
		clock.Add(time.Second)
		if _, err := c.Source(srv.URL+p).Key(context.Background(), "k", auth.RS256); err != nil {
			t.Fatal(err)
		}
	}
	// /a /b fetched; /a hit; /c evicts /b (least recently used); /a hit;
	// /b fetched again.
	if n := srv.hits.Load(); n != 4 {
		t.Fatalf("%d fetches, want 4", n)
	}
}

func TestJWTWithJWKSURL(t *testing.T) {
	k := authtest.Shared()
	srv := newJWKSServer(t, authtest.JWKS(authtest.JWK(&k.EC.PublicKey, "e1")))
	a := testJWTAuth(t, func(c *host.TriggerAuthConfig) {
		c.JWKS, c.JWKSURL, c.Algorithms = nil, srv.URL, []string{"ES256"}
		c.Secret = ""
	})
	if _, err := a.Verifier.Verify(context.Background(), authtest.Token("ES256", k.EC, "e1", claims())); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	srv2 := newJWKSServer(t, nil)
	a = testJWTAuth(t, func(c *host.TriggerAuthConfig) {
		c.JWKS, c.JWKSURL, c.Algorithms = nil, srv2.URL, []string{"ES256"}
		c.Secret = ""
	})
	srv2.set(nil, 503)
	if _, err := a.Verifier.Verify(context.Background(), authtest.Token("ES256", k.EC, "e1", claims())); !errors.Is(err, auth.ErrKeysUnavailable) {
		t.Fatalf("unavailable set: %v", err)
	}
}

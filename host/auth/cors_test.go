package auth_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/auth"
)

// recorder collects the headers CORS sets.
type recorder http.Header

func (r recorder) set(name, value string) {
	if name == "Vary" {
		http.Header(r).Add(name, value)
	} else {
		http.Header(r).Set(name, value)
	}
}

func TestCORSPreflight(t *testing.T) {
	strict, err := auth.NewCORS(&host.CORSConfig{
		AllowOrigins: []string{"https://a.example", "HTTPS://B.example:443/"}, AllowMethods: []string{"get", "POST"},
		AllowHeaders: []string{"Content-Type", "X-Req"}, ExposeHeaders: []string{"X-Total"}, AllowCredentials: true, MaxAge: 600,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	open, err := auth.NewCORS(&host.CORSConfig{AllowOrigins: []string{"*"}, AllowHeaders: []string{"*"}}, []string{"GET", "PUT"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                    string
		c                       *auth.CORS
		origin, method, headers string
		want                    map[string]string // "" value: absent
		err                     string
	}{
		{"allowed", strict, "https://a.example", "POST", "content-type, x-req", map[string]string{
			"Access-Control-Allow-Origin": "https://a.example", "Access-Control-Allow-Methods": "GET, POST",
			"Access-Control-Allow-Headers": "content-type, x-req", "Access-Control-Allow-Credentials": "true",
			"Access-Control-Max-Age": "600", "Vary": "Origin",
		}, ""},
		{"normalized origin", strict, "https://b.example", "GET", "", map[string]string{"Access-Control-Allow-Origin": "https://b.example"}, ""},
		{"origin not allowed", strict, "https://evil.example", "GET", "", nil, "origin"},
		{"method not allowed", strict, "https://a.example", "DELETE", "", nil, "method"},
		{"header not allowed", strict, "https://a.example", "GET", "x-other", nil, "header"},
		{"any origin", open, "https://x.example", "PUT", "X-Anything", map[string]string{
			"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, PUT",
			"Access-Control-Allow-Headers": "x-anything", "Access-Control-Allow-Credentials": "", "Access-Control-Max-Age": "",
		}, ""},
		{"default methods are the trigger's", open, "https://x.example", "POST", "", nil, "method"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := recorder{}
			err := tc.c.Preflight(tc.origin, tc.method, tc.headers, h.set)
			if tc.err != "" {
				if !errors.Is(err, auth.ErrAccessDenied) || !strings.Contains(err.Error(), tc.err) || len(h) != 0 {
					t.Fatalf("err %v, headers %v; want AccessDenied about %s", err, h, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if got := strings.Join(http.Header(h).Values(k), ","); (k == "Vary" && !strings.Contains(got, v)) || (k != "Vary" && got != v) {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestCORSActual(t *testing.T) {
	c, err := auth.NewCORS(&host.CORSConfig{AllowOrigins: []string{"https://a.example"}, ExposeHeaders: []string{"X-Total", "X-Page"}, AllowCredentials: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := recorder{}
	c.Actual("https://a.example", h.set)
	if got := http.Header(h); got.Get("Access-Control-Allow-Origin") != "https://a.example" || got.Get("Access-Control-Allow-Credentials") != "true" ||
		got.Get("Access-Control-Expose-Headers") != "X-Total, X-Page" || got.Get("Vary") != "Origin" {
		t.Errorf("allowed origin: %v", got)
	}
	h = recorder{}
	c.Actual("https://evil.example", h.set)
	if got := http.Header(h); got.Get("Access-Control-Allow-Origin") != "" || got.Get("Vary") != "Origin" {
		t.Errorf("other origin: %v", got)
	}
	if !auth.IsPreflight("OPTIONS", "https://a.example", "GET") || auth.IsPreflight("OPTIONS", "https://a.example", "") || auth.IsPreflight("GET", "x", "GET") {
		t.Error("IsPreflight")
	}
}

func TestNewCORSConfig(t *testing.T) {
	tests := []struct {
		name string
		c    host.CORSConfig
		err  string
	}{
		{"no origins", host.CORSConfig{}, "allowOrigins is required"},
		{"star with credentials", host.CORSConfig{AllowOrigins: []string{"*"}, AllowCredentials: true}, `allowOrigins: "*" cannot be used with allowCredentials`},
		{"star header with credentials", host.CORSConfig{AllowOrigins: []string{"https://a.example"}, AllowHeaders: []string{"*"}, AllowCredentials: true}, "allowHeaders"},
		{"origin with path", host.CORSConfig{AllowOrigins: []string{"https://a.example/app"}}, "allowOrigins[0]"},
		{"origin without scheme", host.CORSConfig{AllowOrigins: []string{"a.example"}}, "allowOrigins[0]"},
		{"origin null", host.CORSConfig{AllowOrigins: []string{"null"}}, "allowOrigins[0]"},
		{"bad method", host.CORSConfig{AllowOrigins: []string{"*"}, AllowMethods: []string{"GET", "TRACE"}}, "allowMethods[1]"},
		{"bad header", host.CORSConfig{AllowOrigins: []string{"*"}, AllowHeaders: []string{"a b"}}, "allowHeaders[0]"},
		{"bad expose", host.CORSConfig{AllowOrigins: []string{"*"}, ExposeHeaders: []string{"x\n"}}, "exposeHeaders[0]"},
		{"negative max age", host.CORSConfig{AllowOrigins: []string{"*"}, MaxAge: -1}, "maxAge"},
		{"max age too big", host.CORSConfig{AllowOrigins: []string{"*"}, MaxAge: 86401}, "maxAge"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := auth.NewCORS(&tc.c, nil)
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "corsConfig.") {
				t.Fatalf("err %v, want corsConfig… %q", err, tc.err)
			}
		})
	}
}

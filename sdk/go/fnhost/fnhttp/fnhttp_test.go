//go:build !wasip1

package fnhttp_test

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/fnhost/fnhost/sdk/go/fnhost"
	"github.com/fnhost/fnhost/sdk/go/fnhost/fnhosttest"
	"github.com/fnhost/fnhost/sdk/go/fnhost/fnhttp"
)

// hdr makes header fields from name, value pairs.
func hdr(kv ...string) []fnhost.HeaderField {
	var h []fnhost.HeaderField
	for i := 0; i < len(kv); i += 2 {
		h = append(h, fnhost.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return h
}

func serve(h http.Handler, req *fnhosttest.Request) *fnhosttest.Response {
	fnhttp.Serve(h)
	defer fnhost.Handle(nil)
	return fnhosttest.Do(req)
}

func TestRequestConversion(t *testing.T) {
	var got *http.Request
	var body []byte
	var bodyErr error
	var deadline time.Time
	resp := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		body, bodyErr = io.ReadAll(r.Body)
		deadline, _ = r.Context().Deadline()
	}), &fnhosttest.Request{
		Method:   "PUT",
		Path:     "/a%2Fb/c",
		Query:    "x=1&x=2&y",
		ClientIP: "203.0.113.7",
		Header: hdr("host", "example.com", "accept", "a", "X-Custom", "v", "Accept", "b",
			"Content-Type", "text/plain"),
		Body: []byte("payload"),
	})
	if resp.Err != nil {
		t.Fatal(resp.Err)
	}
	for _, c := range []struct{ what, got, want string }{
		{"Method", got.Method, "PUT"},
		{"URL.Path", got.URL.Path, "/a/b/c"},
		{"URL.RawPath", got.URL.RawPath, "/a%2Fb/c"},
		{"URL.EscapedPath", got.URL.EscapedPath(), "/a%2Fb/c"},
		{"URL.RawQuery", got.URL.RawQuery, "x=1&x=2&y"},
		{"RequestURI", got.RequestURI, "/a%2Fb/c?x=1&x=2&y"},
		{"Host", got.Host, "example.com"},
		{"RemoteAddr", got.RemoteAddr, "203.0.113.7"},
		{"Proto", got.Proto, "HTTP/1.1"},
		{"Content-Type", got.Header.Get("Content-Type"), "text/plain"},
		{"X-Custom", got.Header.Get("X-Custom"), "v"},
		{"body", string(body), "payload"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if !slices.Equal(got.Header["Accept"], []string{"a", "b"}) {
		t.Errorf(`Header["Accept"] = %q`, got.Header["Accept"])
	}
	if _, ok := got.Header["Host"]; ok {
		t.Error("Host left in Header")
	}
	if q := got.URL.Query(); !slices.Equal(q["x"], []string{"1", "2"}) || !q.Has("y") {
		t.Errorf("Query() = %v", q)
	}
	if got.ContentLength != 7 || bodyErr != nil {
		t.Errorf("ContentLength = %d, body error %v", got.ContentLength, bodyErr)
	}
	if until := time.Until(deadline); until <= 0 || until > 3*time.Second {
		t.Errorf("context deadline in %v", until)
	}
}

func TestEmptyBody(t *testing.T) {
	var got *http.Request
	serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r }), &fnhosttest.Request{})
	if got.Body != http.NoBody || got.ContentLength != 0 {
		t.Errorf("Body = %v, ContentLength = %d", got.Body, got.ContentLength)
	}
}

func TestServeMux(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"` + r.PathValue("id") + `","pattern":"` + r.Pattern + `"}`))
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello from net/http"))
	})
	mux.HandleFunc("example.com/host", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("host pattern"))
	})
	tests := []struct {
		method, path string
		header       []fnhost.HeaderField
		status       int
		ctype, body  string
	}{
		{"GET", "/users/42", nil, 200, "application/json", `{"id":"42","pattern":"GET /users/{id}"}`},
		{"GET", "/users/a%20b", nil, 200, "application/json", `{"id":"a b","pattern":"GET /users/{id}"}`},
		{"HEAD", "/users/42", nil, 200, "application/json", ""},
		{"GET", "/", nil, 200, "text/plain; charset=utf-8", "hello from net/http"},
		{"GET", "/nope", nil, 404, "text/plain; charset=utf-8", "404 page not found\n"},
		{"POST", "/", nil, 405, "text/plain; charset=utf-8", "Method Not Allowed\n"},
		{"GET", "/host", hdr("Host", "example.com"), 200, "text/plain; charset=utf-8", "host pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp := serve(mux, &fnhosttest.Request{Method: tt.method, Path: tt.path, Header: tt.header})
			if resp.Err != nil {
				t.Fatal(resp.Err)
			}
			ct, _ := resp.Get("Content-Type")
			if resp.Status != tt.status || ct != tt.ctype || string(resp.Body) != tt.body {
				t.Errorf("got %d %q %q, want %d %q %q", resp.Status, ct, resp.Body, tt.status, tt.ctype, tt.body)
			}
		})
	}
}

func TestResponseWriter(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		handler http.HandlerFunc
		status  int
		header  []fnhost.HeaderField
		body    string
	}{
		{"nothing", "GET", func(w http.ResponseWriter, r *http.Request) {}, 200, nil, ""},
		{"implicit 200 and sniffing", "GET", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "<html><body>")
			w.Write([]byte("hi</body></html>"))
		}, 200, hdr("Content-Type", "text/html; charset=utf-8"), "<html><body>hi</body></html>"},
		{"first WriteHeader wins", "GET", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-A", "1")
			w.WriteHeader(201)
			w.WriteHeader(500)
			w.Header().Set("X-B", "ignored after WriteHeader")
			w.Write([]byte("x"))
		}, 201, hdr("X-A", "1", "Content-Type", "text/plain; charset=utf-8"), "x"},
		{"explicit content type, sorted repeated headers", "GET", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Set-Cookie", "a=1")
			w.Header().Add("Set-Cookie", "b=2")
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("A-First", "x")
			w.Write([]byte("<html>"))
		}, 200, hdr("A-First", "x", "Content-Type", "application/octet-stream", "Set-Cookie", "a=1", "Set-Cookie", "b=2"), "<html>"},
		{"empty Content-Type disables sniffing", "GET", func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = nil
			w.Write([]byte("text"))
		}, 200, nil, "text"},
		{"sanitized and dropped fields", "GET", func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Bad Name"] = []string{"v"}
			w.Header().Set("X-Multi", "a\r\nb\n")
			w.WriteHeader(202)
		}, 202, hdr("X-Multi", "a  b"), ""},
		{"1xx ignored", "GET", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(103)
			w.WriteHeader(200)
		}, 200, nil, ""},
		{"status outside the ABI range", "GET", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(777)
		}, 500, nil, ""},
		{"no body for 204", "GET", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(204)
			if _, err := w.Write([]byte("x")); !errors.Is(err, http.ErrBodyNotAllowed) {
				panic("want ErrBodyNotAllowed")
			}
		}, 204, nil, ""},
		{"HEAD drops the body", "HEAD", func(w http.ResponseWriter, r *http.Request) {
			n, err := w.Write([]byte("hello"))
			if n != 5 || err != nil {
				panic("HEAD write")
			}
		}, 200, hdr("Content-Type", "text/plain; charset=utf-8"), ""},
		{"Flush commits", "GET", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("{}"))
			http.NewResponseController(w).Flush()
			w.Write([]byte("<html>"))
		}, 200, hdr("Content-Type", "text/plain; charset=utf-8"), "{}<html>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := serve(tt.handler, &fnhosttest.Request{Method: tt.method})
			if resp.Err != nil {
				t.Fatal(resp.Err)
			}
			if resp.Status != tt.status || string(resp.Body) != tt.body || !slices.Equal(resp.Header, tt.header) {
				t.Errorf("got %d %q %q\nwant %d %q %q", resp.Status, resp.Header, resp.Body, tt.status, tt.header, tt.body)
			}
		})
	}
}

func TestBadRequestURI(t *testing.T) {
	called := false
	resp := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = true }),
		&fnhosttest.Request{Path: "/a\x01b"})
	if called || resp.Status != 400 {
		t.Errorf("called = %v, status = %d", called, resp.Status)
	}
}

func TestTooLarge(t *testing.T) {
	var werr error
	fnhttp.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, werr = w.Write(make([]byte, 100))
	}))
	defer fnhost.Handle(nil)
	resp := (&fnhosttest.Host{MaxBodyBytes: 10}).Do(&fnhosttest.Request{})
	if resp.Err == nil || !errors.Is(werr, fnhost.ErrTooLarge) {
		t.Errorf("Err = %v, write error = %v", resp.Err, werr)
	}
}

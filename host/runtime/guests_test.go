package runtime

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/fnhost/fnhost/host"
)

// Guests are built into guests/dist by `make guests` (make test does it).
var distDir = filepath.Join("..", "..", "guests", "dist")

var (
	guestMu    sync.Mutex
	guestBytes = map[string][]byte{}
)

func guest(t testing.TB, name string) []byte {
	t.Helper()
	guestMu.Lock()
	defer guestMu.Unlock()
	if b, ok := guestBytes[name]; ok {
		return b
	}
	b, err := os.ReadFile(filepath.Join(distDir, name+".wasm"))
	if err != nil {
		t.Fatalf("guest %s is not built (%v): run `make guests`", name, err)
	}
	guestBytes[name] = b
	return b
}

// shared is one Runtime for the package's tests, as a process has one.
var (
	sharedOnce sync.Once
	sharedRT   *Runtime
	sharedErr  error
)

func testRuntime(t testing.TB) *Runtime {
	t.Helper()
	sharedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fnhost-runtime-test-*")
		if err != nil {
			sharedErr = err
			return
		}
		sharedRT, sharedErr = New(context.Background(), Config{CacheDir: dir})
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedRT
}

func newFunction(t testing.TB, name string, cfg FunctionConfig) *Function {
	t.Helper()
	rt := testRuntime(t)
	mod, err := rt.Compile(context.Background(), guest(t, name))
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	if cfg.Service == "" {
		cfg.Service, cfg.Function = "svc", name
	}
	f, err := rt.NewFunction(mod, cfg)
	if err != nil {
		t.Fatalf("function %s: %v", name, err)
	}
	t.Cleanup(func() { _ = f.Close(context.Background()) })
	return f
}

func getRequest(path string) *host.Request {
	return &host.Request{
		RequestID: "req-1",
		Method:    []byte("GET"),
		Path:      []byte(path),
		ClientIP:  []byte("127.0.0.1"),
	}
}

// echoRequest exercises every request part: repeated headers and query
// keys, escapes, a body.
func echoRequest() *host.Request {
	return &host.Request{
		RequestID: "req-echo",
		Method:    []byte("POST"),
		Path:      []byte("/a/b"),
		RawQuery:  []byte("x=1&x=2&y&a%20b=c+d"),
		Headers: []host.Header{
			{Name: []byte("Accept"), Value: []byte("text/plain")},
			{Name: []byte("Accept"), Value: []byte("application/json")},
			{Name: []byte("Content-Type"), Value: []byte("text/plain")},
		},
		ClientIP: []byte("203.0.113.7"),
		Body:     []byte(`hello "body"`),
	}
}

func header(res *host.Response, name string) (string, bool) {
	for _, h := range res.Headers {
		if host.EqualFoldASCII(h.Name, name) {
			return string(h.Value), true
		}
	}
	return "", false
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedRT != nil {
		_ = sharedRT.Close(context.Background())
	}
	os.Exit(code)
}

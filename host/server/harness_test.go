package server

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/auth"
	"github.com/fnhost/fnhost/host/invoker"
	"github.com/fnhost/fnhost/host/jobs"
	"github.com/fnhost/fnhost/host/runtime"
	"github.com/fnhost/fnhost/host/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

const (
	testKeyID  = "test-key"
	testSecret = "test-secret-0123456789"
)

// sharedCache is one compilation cache for the package's tests, so each
// Go guest is compiled once per run rather than once per test.
var sharedCache string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fnhost-server-test-cache")
	if err != nil {
		panic(err)
	}
	sharedCache = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testServer is a real Server on 127.0.0.1:0 with an in-memory store and a
// real runtime, stopped by t.Cleanup.
type testServer struct {
	t      testing.TB
	URL    string
	srv    *Server
	store  *store.Store
	inv    *invoker.Invoker
	rt     *runtime.Runtime
	reg    *prometheus.Registry
	client *http.Client
	logs   *store.InvocationWriter
	jobs   *jobs.Engine
}

type harnessOptions struct {
	limits       Limits
	maxInstances int
	queueWait    time.Duration
	wrapStore    func(Store) Store
	syncWrites   bool
}

func startServer(t testing.TB, opts ...func(*harnessOptions)) *testServer {
	t.Helper()
	var o harnessOptions
	for _, f := range opts {
		f(&o)
	}
	ctx := context.Background()
	st, err := store.Open(t.TempDir(), store.Options{SyncWrites: o.syncWrites})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := runtime.New(ctx, runtime.Config{CacheDir: sharedCache})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	logs := store.NewInvocationWriter(st, store.WriterOptions{})
	inv, err := invoker.New(invoker.Config{Runtime: rt, Source: st, Recorder: logs, Registerer: reg,
		MaxInstances: o.maxInstances, MaxQueueWait: o.queueWait})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := jobs.New(jobs.Config{Store: st, Invoker: inv, AccountID: "test-account", PollInterval: 20 * time.Millisecond, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(); err != nil {
		t.Fatal(err)
	}
	var s Store = st
	if o.wrapStore != nil {
		s = o.wrapStore(st)
	}
	srv, err := New(Config{
		Store: s, Invoker: inv, Checker: inv, Jobs: eng,
		Keys: func(id string) (string, bool) {
			if id == testKeyID {
				return testSecret, true
			}
			return "", false
		},
		AccountID: "test-account",
		Limits:    o.limits,
		Logger:    zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
		Gatherer:  reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	ts := &testServer{t: t, URL: "http://" + ln.Addr().String(), srv: srv, store: st, inv: inv, rt: rt,
		reg: reg, logs: logs, jobs: eng, client: &http.Client{Timeout: 30 * time.Second}}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		_ = eng.Close(ctx)
		_ = inv.Close(ctx)
		_ = logs.Close(ctx)
		_ = rt.Close(ctx)
		_ = st.Close()
	})
	return ts
}

// guestWasm reads a built example guest (make guests).
func guestWasm(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "guests", "dist", name+".wasm"))
	if err != nil {
		t.Fatalf("guest %s not built (run `make guests`): %v", name, err)
	}
	return b
}

// deploy stores a function with an HTTP trigger directly in the store,
// bypassing the management API (trigger tests should not depend on it).
func (ts *testServer) deploy(svc, fn, guest string, f host.Function, tc host.HTTPTriggerConfig) {
	ts.t.Helper()
	if _, err := ts.store.GetService(svc); err != nil {
		if _, err := ts.store.CreateService(host.Service{ServiceName: svc}); err != nil {
			ts.t.Fatal(err)
		}
	}
	f.ServiceName, f.FunctionName = svc, fn
	if f.Runtime == "" {
		f.Runtime = host.RuntimeWasm
	}
	if f.Handler == "" {
		f.Handler = "handle"
	}
	if f.MemorySize == 0 {
		f.MemorySize = 128
	}
	if f.Timeout == 0 {
		f.Timeout = 3
	}
	if _, err := ts.store.CreateFunction(f, guestWasm(ts.t, guest)); err != nil {
		ts.t.Fatal(err)
	}
	if tc.AuthType != "" || tc.Methods != nil {
		if _, err := ts.store.CreateTrigger(host.Trigger{ServiceName: svc, FunctionName: fn, TriggerName: "http",
			TriggerType: host.TriggerTypeHTTP, TriggerConfig: tc}); err != nil {
			ts.t.Fatal(err)
		}
	}
	ts.inv.Invalidate(svc, fn)
}

// api sends a signed management request to /2016-08-15+path. body is nil,
// []byte (sent as is) or a value sent as JSON.
func (ts *testServer) api(method, path string, body any, hdr ...string) (*http.Response, []byte) {
	ts.t.Helper()
	var b []byte
	switch v := body.(type) {
	case nil:
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			ts.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, ts.URL+"/2016-08-15"+path, bytes.NewReader(b))
	if err != nil {
		ts.t.Fatal(err)
	}
	req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	if len(b) > 0 {
		sum := md5.Sum(b)
		req.Header.Set("Content-MD5", hex.EncodeToString(sum[:]))
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	sign(req, false)
	return ts.do(req)
}

// sign adds an FC Authorization header for the test key.
func sign(req *http.Request, trigger bool) {
	req.Header.Set("Authorization", auth.Authorization(testKeyID, testSecret, &auth.Request{
		Method: req.Method, Path: req.URL.Path, RawQuery: req.URL.RawQuery,
		Header: auth.HTTPHeader(req.Header), Trigger: trigger,
	}))
}

func (ts *testServer) do(req *http.Request) (*http.Response, []byte) {
	ts.t.Helper()
	res, err := ts.client.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	return res, b
}

// get is an unsigned request to the server.
func (ts *testServer) get(method, path string, body []byte, hdr ...string) (*http.Response, []byte) {
	ts.t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, bytes.NewReader(body))
	if err != nil {
		ts.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return ts.do(req)
}

// fcError decodes FC's error body.
func fcError(t testing.TB, b []byte) (code, message string) {
	t.Helper()
	var e struct{ ErrorCode, ErrorMessage string }
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("error body is not FC's JSON: %v: %q", err, b)
	}
	return e.ErrorCode, e.ErrorMessage
}

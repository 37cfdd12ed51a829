package invoker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func guest(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "guests", "dist", name+".wasm"))
	if err != nil {
		t.Fatalf("guest %s not built (run `make guests`): %v", name, err)
	}
	return b
}

// memSource is an in-memory Source that counts reads and can block them.
type memSource struct {
	mu       sync.Mutex
	fns      map[string]host.Function
	mods     map[string][]byte
	triggers map[string]host.Trigger
	reads    atomic.Int32
	gate     chan struct{} // when set, GetFunction waits on it
}

func newSource() *memSource {
	return &memSource{fns: map[string]host.Function{}, mods: map[string][]byte{}, triggers: map[string]host.Trigger{}}
}

func (s *memSource) put(t testing.TB, svc, fn, guestName string, trigger bool) {
	wasm := guest(t, guestName)
	sum := guestName // any unique key will do
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mods[sum] = wasm
	s.fns[svc+"/"+fn] = host.Function{ServiceName: svc, FunctionName: fn, Handler: "handle", MemorySize: 64, Timeout: 2, CodeChecksum: sum}
	if trigger {
		s.triggers[svc+"/"+fn] = host.Trigger{ServiceName: svc, FunctionName: fn, TriggerName: "http", TriggerType: host.TriggerTypeHTTP,
			TriggerConfig: host.HTTPTriggerConfig{AuthType: host.AuthAnonymous}}
	} else {
		delete(s.triggers, svc+"/"+fn)
	}
}

var errNotFound = &host.Error{Kind: host.KindNotFound, Op: "test", Err: errors.New("not found")}

func (s *memSource) GetFunction(svc, fn string) (host.Function, error) {
	s.reads.Add(1)
	if s.gate != nil {
		<-s.gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.fns[svc+"/"+fn]
	if !ok {
		return f, errNotFound
	}
	return f, nil
}

func (s *memSource) GetModule(sum string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.mods[sum]; ok {
		return m, nil
	}
	return nil, errNotFound
}

func (s *memSource) HTTPTrigger(svc, fn string) (host.Trigger, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.triggers[svc+"/"+fn]; ok {
		return t, nil
	}
	return host.Trigger{}, errNotFound
}

type recorder struct {
	mu   sync.Mutex
	recs []host.Invocation
}

func (r *recorder) Record(inv host.Invocation) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, inv)
	return true
}

func newInvoker(t *testing.T, src Source, rec Recorder, reg prometheus.Registerer) *Invoker {
	t.Helper()
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.Config{})
	if err != nil {
		t.Fatal(err)
	}
	iv, err := New(Config{Runtime: rt, Source: src, Recorder: rec, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		iv.Close(ctx)
		rt.Close(ctx)
	})
	return iv
}

func invoke(t *testing.T, iv *Invoker, e *Entry) (*host.Response, error) {
	t.Helper()
	var res host.Response
	err := iv.Invoke(context.Background(), e, &host.Request{RequestID: "req-1", Method: []byte("GET"), Path: []byte("/")}, &res)
	return &res, err
}

func TestLookupCachesAndInvalidates(t *testing.T) {
	src := newSource()
	src.put(t, "s", "f", "hello-c", true)
	iv := newInvoker(t, src, nil, nil)
	ctx := context.Background()

	e1, err := iv.Lookup(ctx, "s", "f")
	if err != nil || !e1.HasTrigger {
		t.Fatalf("%v %+v", err, e1)
	}
	e2, _ := iv.LookupBytes(ctx, []byte("s"), []byte("f"))
	if e1 != e2 || src.reads.Load() != 1 {
		t.Fatalf("second lookup reloaded: same=%v reads=%d", e1 == e2, src.reads.Load())
	}
	if res, err := invoke(t, iv, e1); err != nil || string(res.Body) != "hello world" {
		t.Fatalf("%v %q", err, res.Body)
	}

	src.put(t, "s", "f", "echo-c", false)
	iv.Invalidate("s", "f")
	e3, err := iv.Lookup(ctx, "s", "f")
	if err != nil || e3 == e1 || e3.HasTrigger {
		t.Fatalf("after invalidate: %v, new=%v, trigger=%v", err, e3 != e1, e3.HasTrigger)
	}
	if res, err := invoke(t, iv, e3); err != nil || !strings.Contains(string(res.Body), `"path":"/"`) {
		t.Fatalf("new code not served: %v %q", err, res.Body)
	}
	// The old entry's pool was closed: a caller still holding it gets
	// KindClosed, never the old code silently.
	if _, err := invoke(t, iv, e1); host.ErrorKind(err) != host.KindClosed {
		t.Fatalf("old entry: %v", err)
	}

	if _, err := iv.Lookup(ctx, "s", "missing"); host.ErrorKind(err) != host.KindNotFound {
		t.Fatalf("missing function: %v", err)
	}
}

// TestConcurrentLookupsLoadOnce: many first calls share one load.
func TestConcurrentLookupsLoadOnce(t *testing.T) {
	src := newSource()
	src.put(t, "s", "f", "hello-go", true)
	src.gate = make(chan struct{})
	iv := newInvoker(t, src, nil, nil)
	var wg sync.WaitGroup
	entries := make([]*Entry, 16)
	for i := range entries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := iv.Lookup(context.Background(), "s", "f")
			if err != nil {
				t.Error(err)
			}
			entries[i] = e
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(src.gate)
	wg.Wait()
	for _, e := range entries[1:] {
		if e != entries[0] {
			t.Fatal("lookups got different entries")
		}
	}
	if n := src.reads.Load(); n != 1 {
		t.Fatalf("%d loads, want 1", n)
	}
}

// TestInvalidateDuringLoad: an entry loaded from metadata that changed
// while it was loading is not cached; the caller gets the new version.
func TestInvalidateDuringLoad(t *testing.T) {
	src := newSource()
	src.put(t, "s", "f", "hello-c", true)
	src.gate = make(chan struct{})
	iv := newInvoker(t, src, nil, nil)
	got := make(chan *Entry, 1)
	go func() {
		e, err := iv.Lookup(context.Background(), "s", "f")
		if err != nil {
			t.Error(err)
		}
		got <- e
	}()
	for src.reads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	src.put(t, "s", "f", "echo-c", true) // the change lands mid-load
	iv.Invalidate("s", "f")
	close(src.gate)
	e := <-got
	if e.Function.CodeChecksum != "echo-c" {
		t.Fatalf("stale entry returned: %s", e.Function.CodeChecksum)
	}
	if again, _ := iv.Lookup(context.Background(), "s", "f"); again != e {
		t.Fatal("fresh entry not cached")
	}
}

func TestMetricsAndRecords(t *testing.T) {
	src := newSource()
	src.put(t, "s", "ok", "env-go", true)
	src.put(t, "s", "bad", "trap", true)
	src.put(t, "s", "quiet", "hello-c", true)
	reg := prometheus.NewRegistry()
	rec := &recorder{}
	iv := newInvoker(t, src, rec, reg)
	ctx := context.Background()
	for _, fn := range []string{"ok", "ok", "bad", "quiet"} {
		e, err := iv.Lookup(ctx, "s", fn)
		if err != nil {
			t.Fatal(err)
		}
		invoke(t, iv, e)
	}
	if v := testutil.ToFloat64(iv.met.invocations.WithLabelValues("s", "ok", "success")); v != 2 {
		t.Errorf("success count %v", v)
	}
	if v := testutil.ToFloat64(iv.met.invocations.WithLabelValues("s", "bad", "trap")); v != 1 {
		t.Errorf("trap count %v", v)
	}
	if v := testutil.ToFloat64(iv.met.cold.WithLabelValues("s", "ok")); v != 1 {
		t.Errorf("cold starts %v", v)
	}
	if n, err := testutil.GatherAndCount(reg, "fnhost_instances_idle"); err != nil || n != 3 {
		t.Errorf("pool gauges: %d series, %v", n, err)
	}
	// Records: the two logging calls and the trap, not the quiet success.
	if len(rec.recs) != 3 {
		t.Fatalf("%d records: %+v", len(rec.recs), rec.recs)
	}
	trap := rec.recs[2]
	if trap.ErrorKind != "trap" || trap.Status != 0 || trap.RequestID != "req-1" || trap.FunctionName != "bad" || trap.Qualifier != "LATEST" {
		t.Errorf("trap record %+v", trap)
	}
	if !strings.Contains(rec.recs[0].Log, "env guest called") {
		t.Errorf("log not recorded: %+v", rec.recs[0])
	}

	iv.Forget("s", "ok")
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "function" && l.GetValue() == "ok" {
					t.Errorf("after Forget: %s still has a series for s/ok", mf.GetName())
				}
			}
		}
	}
}

func TestTimeoutMessage(t *testing.T) {
	src := newSource()
	src.put(t, "s", "loop", "loop", true)
	iv := newInvoker(t, src, nil, nil)
	e, err := iv.Lookup(context.Background(), "s", "loop")
	if err != nil {
		t.Fatal(err)
	}
	_, err = invoke(t, iv, e)
	if got := Message(e, err); got != "Function timed out after 2 seconds" {
		t.Fatalf("%q (%v)", got, err)
	}
}

func TestCheck(t *testing.T) {
	iv := newInvoker(t, newSource(), nil, nil)
	ctx := context.Background()
	f := host.Function{Handler: "handle", MemorySize: 64}
	if err := iv.Check(ctx, guest(t, "hello-c"), f); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		guest string
		f     host.Function
	}{
		{"invalid", f},
		{"nohandler", f},
		{"hello-c", host.Function{Handler: "other", MemorySize: 64}},
	} {
		if err := iv.Check(ctx, guest(t, tc.guest), tc.f); host.ErrorKind(err) != host.KindInvalidModule {
			t.Errorf("%s/%s: %v, want invalid module", tc.guest, tc.f.Handler, err)
		}
	}
}

func TestClosed(t *testing.T) {
	src := newSource()
	src.put(t, "s", "f", "hello-c", true)
	iv := newInvoker(t, src, nil, nil)
	iv.Close(context.Background())
	if _, err := iv.Lookup(context.Background(), "s", "f"); host.ErrorKind(err) != host.KindClosed {
		t.Fatalf("%v", err)
	}
}

func TestFunctionConfig(t *testing.T) {
	c := FunctionConfig(host.Function{ServiceName: "s", FunctionName: "f", Handler: "h", MemorySize: 256, Timeout: 7,
		EnvironmentVariables: map[string]string{"B": "2", "A": "1"}}, 9, time.Second)
	if c.Service != "s" || c.Function != "f" || c.Handler != "h" || c.MemoryMB != 256 || c.Timeout != 7*time.Second ||
		c.MaxInstances != 9 || c.MaxQueueWait != time.Second || strings.Join(c.Env, ",") != "A=1,B=2" {
		t.Fatalf("%+v", c)
	}
	if c := FunctionConfig(host.Function{MaxInstances: 3}, 9, 0); c.MaxInstances != 3 {
		t.Fatalf("function's own limit ignored: %d", c.MaxInstances)
	}
}

// TestHostWideCap: with a host-wide cap of one, a second concurrent call to
// another function waits its bound, then fails with KindOverloaded.
func TestHostWideCap(t *testing.T) {
	src := newSource()
	src.put(t, "s", "loop", "loop", true)
	src.put(t, "s", "hello", "hello-c", true)
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	iv, err := New(Config{Runtime: rt, Source: src, MaxConcurrent: 1, MaxQueueWait: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer iv.Close(ctx)
	loop, _ := iv.Lookup(ctx, "s", "loop")
	hello, _ := iv.Lookup(ctx, "s", "hello")
	done := make(chan error, 1)
	go func() { _, err := invoke(t, iv, loop); done <- err }()
	for iv.Running() == 0 {
		time.Sleep(time.Millisecond)
	}
	if _, err := invoke(t, iv, hello); host.ErrorKind(err) != host.KindOverloaded {
		t.Fatalf("second call: %v, want overloaded", err)
	}
	if err := <-done; host.ErrorKind(err) != host.KindTimeout {
		t.Fatalf("first call: %v", err)
	}
	if res, err := invoke(t, iv, hello); err != nil || string(res.Body) != "hello world" {
		t.Fatalf("after the slot came free: %v", err)
	}
}

// TestMaxResponseBytes: the host-wide response bound reaches every
// function's runtime configuration.
func TestMaxResponseBytes(t *testing.T) {
	src := newSource()
	src.put(t, "s", "f", "hello-c", true)
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	iv, err := New(Config{Runtime: rt, Source: src, MaxResponseBytes: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer iv.Close(ctx)
	e, err := iv.Lookup(ctx, "s", "f")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := invoke(t, iv, e); host.ErrorKind(err) != host.KindResponseTooLarge {
		t.Fatalf("an 11-byte answer over a 5-byte bound: %v", err)
	}
}

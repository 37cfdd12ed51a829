package jobs

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/invoker"
	"github.com/fnhost/fnhost/host/runtime"
	"github.com/rs/zerolog"
)

// testRT is shared by every test: modules compile once.
var testRT *runtime.Runtime

func TestMain(m *testing.M) {
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.Config{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testRT = rt
	code := m.Run()
	_ = rt.Close(ctx)
	os.Exit(code)
}

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
	b, err := os.ReadFile(filepath.Join("..", "..", "guests", "dist", name+".wasm"))
	if err != nil {
		t.Fatalf("guest %s not built (run `make guests`): %v", name, err)
	}
	guestBytes[name] = b
	return b
}

// source is the invoker's metadata: functions and their modules.
type source struct {
	mu   sync.Mutex
	fns  map[string]host.Function
	mods map[string][]byte
}

func newSource() *source {
	return &source{fns: map[string]host.Function{}, mods: map[string][]byte{}}
}

func (s *source) put(t testing.TB, svc, fn, guestName string, timeout, maxInstances int) {
	wasm := guest(t, guestName)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mods[guestName] = wasm
	s.fns[svc+"/"+fn] = host.Function{ServiceName: svc, FunctionName: fn, Handler: "handle", MemorySize: 64,
		Timeout: timeout, MaxInstances: maxInstances, CodeChecksum: guestName}
}

func (s *source) timeout(svc, fn string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fns[svc+"/"+fn].Timeout
}

func (s *source) GetFunction(svc, fn string) (host.Function, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.fns[svc+"/"+fn]
	if !ok {
		return f, notFound("function " + svc + "/" + fn)
	}
	return f, nil
}

func (s *source) GetModule(sum string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.mods[sum]; ok {
		return m, nil
	}
	return nil, notFound("module")
}

func (s *source) HTTPTrigger(svc, fn string) (host.Trigger, error) {
	return host.Trigger{}, notFound("trigger")
}

// clock is real time plus an offset tests can advance.
type clock struct{ off atomic.Int64 }

func (c *clock) Now() time.Time            { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) advance(d time.Duration)   { c.off.Add(int64(d)) }
func (c *clock) ms() int64                 { return c.Now().UnixMilli() }
func (c *clock) after(d time.Duration) int { return int(c.Now().Add(d).UnixMilli()) }

// fastTiming shortens every delay so tests run in milliseconds.
var fastTiming = timing{
	retryBase: 40 * time.Millisecond, retryCap: time.Second,
	throttleBase: 10 * time.Millisecond, throttleCap: 40 * time.Millisecond,
	destBase: 10 * time.Millisecond, destCap: 40 * time.Millisecond,
	destAttempts: 8,
	reap:         20 * time.Millisecond,
}

// syncBuffer collects the engines' logs; a failed test prints them.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	t     *testing.T
	src   *source
	iv    *invoker.Invoker
	st    *memStore
	clock *clock
	logs  *syncBuffer
	e     *Engine // the engine start made last
}

func newEnv(t *testing.T) *env {
	t.Helper()
	en := &env{t: t, src: newSource(), st: newMemStore(), clock: &clock{}, logs: &syncBuffer{}}
	iv, err := invoker.New(invoker.Config{Runtime: testRT, Source: en.src, MaxQueueWait: -1})
	if err != nil {
		t.Fatal(err)
	}
	en.iv = iv
	t.Cleanup(func() {
		_ = iv.Close(context.Background())
		if t.Failed() {
			t.Logf("engine logs:\n%s", en.logs)
		}
	})
	return en
}

// engine returns a new, not started engine on st (nil: en.st).
func (en *env) engine(st Store, mod func(*Config)) *Engine {
	en.t.Helper()
	if st == nil {
		st = en.st
	}
	cfg := Config{
		Store: st, Invoker: en.iv, Workers: 8,
		LeaseMargin: 500 * time.Millisecond, PollInterval: 20 * time.Millisecond,
		AccountID: "123", Now: en.clock.Now,
		Logger: zerolog.New(en.logs).Level(zerolog.DebugLevel),
	}
	if mod != nil {
		mod(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		en.t.Fatal(err)
	}
	e.t = fastTiming
	en.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.Close(ctx)
	})
	return e
}

// start makes and starts an engine on en.st.
func (en *env) start(mod func(*Config)) *Engine {
	en.t.Helper()
	e := en.engine(nil, mod)
	if err := e.Start(); err != nil {
		en.t.Fatal(err)
	}
	en.e = e
	return e
}

func (en *env) submit(svc, fn, body string, mod func(*host.Job)) host.Job {
	en.t.Helper()
	j := host.Job{ServiceName: svc, FunctionName: fn, RequestID: newRequestID(), TimeoutSeconds: en.src.timeout(svc, fn),
		Request: host.JobRequest{Method: "POST", Path: "/", Body: []byte(body)}}
	if mod != nil {
		mod(&j)
	}
	out, err := en.e.Submit(j)
	if err != nil {
		en.t.Fatalf("Submit: %v", err)
	}
	return out
}

// wait polls the store until cond holds for the job.
func (en *env) wait(j host.Job, what string, cond func(host.Job) bool) host.Job {
	en.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		cur, err := en.st.GetJob(j.ServiceName, j.FunctionName, j.InvocationID)
		if err == nil && cond(cur) {
			return cur
		}
		if time.Now().After(deadline) {
			en.t.Fatalf("job %s/%s/%s: never %s; last: %v\n%s", j.ServiceName, j.FunctionName, j.InvocationID, what, err, dump(cur))
		}
		time.Sleep(3 * time.Millisecond)
	}
}

// done: finished, destination delivered or given up, not leased.
func done(j host.Job) bool {
	return j.Status.Finished() && j.DestinationStatus != host.DestinationPending && j.LeaseUntil == 0
}

func (en *env) waitDone(j host.Job) host.Job { return en.wait(j, "done", done) }

func statuses(j host.Job) string {
	var s []string
	for _, ev := range j.Events {
		s = append(s, string(ev.Status))
	}
	return strings.Join(s, " ")
}

func dump(j host.Job) string {
	var b strings.Builder
	fmt.Fprintf(&b, "status=%s attempts=%d retried=%d lease=%d notBefore=%d dest=%q stopReq=%v err=%q\n",
		j.Status, j.Attempts, j.AlreadyRetriedTimes, j.LeaseUntil, j.NotBefore, j.DestinationStatus, j.StopRequested, j.InvocationErrorMessage)
	for _, ev := range j.Events {
		fmt.Fprintf(&b, "  %d %s @%d %s\n", ev.EventID, ev.Status, ev.Timestamp, ev.EventDetail)
	}
	if j.Result != nil {
		fmt.Fprintf(&b, "  result: %d %q %s %s\n", j.Result.Status, j.Result.Body, j.Result.ErrorKind, j.Result.ErrorMessage)
	}
	return b.String()
}

func intp(n int) *int       { return &n }
func int64p(n int64) *int64 { return &n }

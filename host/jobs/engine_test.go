package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func isKind(err error, k host.Kind) bool { return errors.Is(err, &host.Error{Kind: k}) }

func TestSubmitRunsToSuccess(t *testing.T) {
	en := newEnv(t)
	en.src.put(t, "s", "hello", "hello-c", 2, 0)
	reg := prometheus.NewRegistry()
	e := en.start(func(c *Config) { c.Registerer = reg })

	j := en.submit("s", "hello", "payload", nil)
	if j.Status != host.JobEnqueued || !ValidInvocationID(j.InvocationID) || !strings.HasPrefix(j.InvocationID, "inv_") ||
		j.Qualifier != "LATEST" || j.MaxRetries != host.DefaultAsyncRetries || j.MaxAgeSeconds != host.DefaultAsyncMaxAge ||
		j.InvocationPayload != "payload" || j.StartedTime == 0 || len(j.Events) != 1 || j.Events[0].Status != host.JobEnqueued {
		t.Fatalf("submitted job:\n%s%+v", dump(j), j)
	}
	got := en.waitDone(j)
	if got.Status != host.JobSucceeded || got.Attempts != 1 || got.AlreadyRetriedTimes != 0 || got.EndTime < got.StartedTime ||
		got.Result == nil || got.Result.Status != 200 || string(got.Result.Body) != "hello world" || got.Result.ErrorKind != "" ||
		got.DestinationStatus != host.DestinationNone || got.InvocationErrorMessage != "" {
		t.Fatalf("finished job:\n%s", dump(got))
	}
	if s := statuses(got); s != "Enqueued Running Succeeded" {
		t.Fatalf("events %q", s)
	}
	if g, err := e.Get("s", "hello", j.InvocationID); err != nil || g.Status != host.JobSucceeded {
		t.Fatalf("Get: %v %s", err, g.Status)
	}
	list, next, err := e.List("s", "hello", host.JobListOptions{})
	if err != nil || next != "" || len(list) != 1 || list[0].InvocationPayload != "" {
		t.Fatalf("List: %v %q %+v", err, next, list)
	}
	list, _, _ = e.List("s", "hello", host.JobListOptions{IncludePayload: true})
	if list[0].InvocationPayload != "payload" {
		t.Fatalf("List with payload: %q", list[0].InvocationPayload)
	}
	if _, err := e.Get("s", "hello", "nope"); !isKind(err, host.KindNotFound) {
		t.Fatalf("Get unknown: %v", err)
	}
	for name, want := range map[string]float64{
		"accepted": testutil.ToFloat64(e.met.accepted), "started": testutil.ToFloat64(e.met.started),
		"succeeded": testutil.ToFloat64(e.met.finished.WithLabelValues("Succeeded")),
	} {
		if want != 1 {
			t.Errorf("metric %s = %v, want 1", name, want)
		}
	}
}

func TestSubmitErrors(t *testing.T) {
	en := newEnv(t)
	en.src.put(t, "s", "hello", "hello-c", 2, 0)
	e := en.start(nil)
	j := en.submit("s", "hello", "", func(j *host.Job) { j.InvocationID = "my-id_1"; j.NotBefore = en.clock.ms() + 3600e3 })
	if j.InvocationID != "my-id_1" {
		t.Fatal(j.InvocationID)
	}
	_, err := e.Submit(host.Job{ServiceName: "s", FunctionName: "hello", RequestID: "r2", InvocationID: "my-id_1"})
	if !isKind(err, host.KindConflict) {
		t.Fatalf("duplicate id: %v", err)
	}
	for _, bad := range []host.Job{
		{ServiceName: "s", FunctionName: "hello", InvocationID: "1abc"},
		{ServiceName: "s", FunctionName: "hello", InvocationID: strings.Repeat("a", 129)},
		{ServiceName: "s", FunctionName: "hello", InvocationID: "a.b"},
		{ServiceName: "s/x", FunctionName: "hello"},
		{ServiceName: "s", FunctionName: ""},
	} {
		if _, err := e.Submit(bad); !isKind(err, host.KindInvalidArgument) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	// A request id that is not a valid id suffix gets a random one.
	j = en.submit("s", "hello", "", func(j *host.Job) { j.RequestID = "a b"; j.NotBefore = en.clock.ms() + 3600e3 })
	if !ValidInvocationID(j.InvocationID) || j.InvocationID == "inv_a b" {
		t.Fatal(j.InvocationID)
	}
	j = en.submit("s", "hello", "", func(j *host.Job) { j.RequestID = ""; j.NotBefore = en.clock.ms() + 3600e3 })
	if j.RequestID == "" || j.InvocationID != "inv_"+j.RequestID {
		t.Fatalf("%q %q", j.RequestID, j.InvocationID)
	}
}

// TestRetriesThenFailed: MaxRetries 2 with an always-trapping guest gives
// three attempts, with backoff between them, then Failed.
func TestRetriesThenFailed(t *testing.T) {
	en := newEnv(t)
	en.src.put(t, "s", "trap", "trap", 2, 0)
	en.st.putAsyncConfig("s", "trap", host.AsyncConfig{MaxAsyncRetryAttempts: intp(2)})
	en.start(nil)
	j := en.submit("s", "trap", "x", nil)
	if j.MaxRetries != 2 {
		t.Fatal(j.MaxRetries)
	}
	got := en.waitDone(j)
	if got.Status != host.JobFailed || got.Attempts != 3 || got.AlreadyRetriedTimes != 2 || got.EndTime == 0 ||
		got.Result == nil || got.Result.ErrorKind != "trap" || got.Result.Status != 0 || got.InvocationErrorMessage == "" {
		t.Fatalf("\n%s", dump(got))
	}
	if s := statuses(got); s != "Enqueued Running Retrying Running Retrying Running Failed" {
		t.Fatalf("events %q\n%s", s, dump(got))
	}
	// Backoff: retry n waits retryBase×2^(n-1)×0.8 at least (ms clock).
	ev := got.Events
	for i, min := range map[int]time.Duration{3: 32 * time.Millisecond, 5: 64 * time.Millisecond} {
		if gap := time.Duration(ev[i].Timestamp-ev[i-1].Timestamp) * time.Millisecond; gap < min-time.Millisecond {
			t.Errorf("retry before its backoff: event %d after %v, want ≥ %v\n%s", i, gap, min, dump(got))
		}
	}
	if !strings.Contains(ev[2].EventDetail, "retry 1 of 2") || !strings.Contains(ev[6].EventDetail, "no retries left") {
		t.Errorf("details:\n%s", dump(got))
	}
}

func TestDelay(t *testing.T) {
	en := newEnv(t)
	en.src.put(t, "s", "hello", "hello-c", 2, 0)
	en.start(nil)
	notBefore := en.clock.ms() + 300
	j := en.submit("s", "hello", "", func(j *host.Job) { j.NotBefore = notBefore })
	if j.NotBefore != notBefore || !strings.HasPrefix(j.Events[0].EventDetail, "delayed until ") {
		t.Fatalf("\n%s", dump(j))
	}
	time.Sleep(150 * time.Millisecond)
	if cur, _ := en.st.GetJob("s", "hello", j.InvocationID); cur.Status != host.JobEnqueued || cur.Attempts != 0 {
		t.Fatalf("ran early:\n%s", dump(cur))
	}
	got := en.waitDone(j)
	if got.Status != host.JobSucceeded || got.Events[1].Timestamp < notBefore {
		t.Fatalf("\n%s", dump(got))
	}
}

func TestStopEnqueued(t *testing.T) {
	en := newEnv(t)
	en.src.put(t, "s", "hello", "hello-c", 2, 0)
	e := en.start(nil)
	j := en.submit("s", "hello", "", func(j *host.Job) { j.NotBefore = en.clock.ms() + 100 })
	st, err := e.Stop("s", "hello", j.InvocationID)
	if err != nil || st.Status != host.JobStopped || st.EndTime == 0 || statuses(st) != "Enqueued Stopped" {
		t.Fatalf("%v\n%s", err, dump(st))
	}
	time.Sleep(250 * time.Millisecond)
	if cur, _ := e.Get("s", "hello", j.InvocationID); cur.Status != host.JobStopped || cur.Attempts != 0 {
		t.Fatalf("a stopped job ran:\n%s", dump(cur))
	}
	_, err = e.Stop("s", "hello", j.InvocationID)
	if !isKind(err, host.KindConflict) || !strings.Contains(err.Error(), "invocation already finished (Stopped)") {
		t.Fatalf("stop twice: %v", err)
	}
	if _, err := e.Stop("s", "hello", "nope"); !isKind(err, host.KindNotFound) {
		t.Fatalf("stop unknown: %v", err)
	}
}

// TestStopRunning: the running attempt ends; the job is Stopped with its
// result, not retried, and no destination is called.
func TestStopRunning(t *testing.T) {
	en := newEnv(t)
	en.src.put(t, "s", "loop", "loop", 1, 0)
	var calls atomic.Int32
	srv := newDestServer(t, func(int) int { calls.Add(1); return 200 })
	en.st.putAsyncConfig("s", "loop", host.AsyncConfig{DestinationConfig: &host.DestinationConfig{OnFailure: &host.Destination{Destination: srv.URL}}})
	e := en.start(nil)
	j := en.submit("s", "loop", "", nil)
	en.wait(j, "running", func(j host.Job) bool { return j.Status == host.JobRunning })
	st, err := e.Stop("s", "loop", j.InvocationID)
	if err != nil || st.Status != host.JobRunning || !st.StopRequested {
		t.Fatalf("%v\n%s", err, dump(st))
	}
	got := en.waitDone(j)
	if got.Status != host.JobStopped || got.Attempts != 1 || got.AlreadyRetriedTimes != 0 || got.EndTime == 0 ||
		got.Result == nil || got.Result.ErrorKind != "timeout" || got.DestinationStatus != host.DestinationNone {
		t.Fatalf("\n%s", dump(got))
	}
	last := got.Events[len(got.Events)-1]
	if last.Status != host.JobStopped || !strings.HasPrefix(last.EventDetail, "stopped by request; attempt 1 failed") {
		t.Fatalf("\n%s", dump(got))
	}
	time.Sleep(100 * time.Millisecond)
	if cur, _ := e.Get("s", "loop", j.InvocationID); cur.Attempts != 1 || calls.Load() != 0 {
		t.Fatalf("retried or delivered after a stop (%d calls):\n%s", calls.Load(), dump(cur))
	}
}

func TestInvalidWhenFunctionMissing(t *testing.T) {
	en := newEnv(t)
	en.start(nil)
	j := en.submit("s", "gone", "", nil)
	got := en.waitDone(j)
	if got.Status != host.JobInvalid || got.Attempts != 0 || !strings.Contains(got.InvocationErrorMessage, "function deleted") ||
		statuses(got) != "Enqueued Invalid" {
		t.Fatalf("\n%s", dump(got))
	}
}

// TestExpired: a job older than its max age when it could first run ends
// Expired and goes to onFailure with EventMaxAgeExceeded.
func TestExpired(t *testing.T) {
	en := newEnv(t)
	en.src.put(t, "s", "hello", "hello-c", 2, 0)
	srv := newDestServer(t, func(int) int { return 200 })
	en.st.putAsyncConfig("s", "hello", host.AsyncConfig{MaxAsyncEventAgeInSeconds: int64p(60),
		DestinationConfig: &host.DestinationConfig{OnFailure: &host.Destination{Destination: srv.URL}}})
	en.start(nil)
	j := en.submit("s", "hello", "late", func(j *host.Job) { j.NotBefore = en.clock.ms() + 10*60e3 })
	time.Sleep(50 * time.Millisecond)
	en.clock.advance(11 * time.Minute)
	got := en.waitDone(j)
	if got.Status != host.JobExpired || got.Attempts != 0 || got.DestinationStatus != host.DestinationSucceeded ||
		!strings.Contains(got.InvocationErrorMessage, "maxAsyncEventAgeInSeconds (60 s)") {
		t.Fatalf("\n%s", dump(got))
	}
	if s := statuses(got); s != "Enqueued Expired Expired" {
		t.Fatalf("events %q\n%s", s, dump(got))
	}
	reqs := srv.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d deliveries", len(reqs))
	}
	var env Envelope
	if err := json.Unmarshal(reqs[0].body, &env); err != nil {
		t.Fatal(err)
	}
	want := Envelope{Timestamp: got.EndTime, RequestPayload: "late",
		RequestContext: RequestContext{RequestID: got.RequestID, FunctionArn: "acs:fc:local:123:services/s.LATEST/functions/hello",
			Condition: ConditionEventMaxAgeExceeded}}
	if env != want {
		t.Fatalf("envelope\n got %+v\nwant %+v", env, want)
	}
}

// TestThrottledRetriesDoNotCount: while the function's only instance is
// busy (429), the job is retried without spending attempts or retries.
func TestThrottledRetriesDoNotCount(t *testing.T) {
	en := newEnv(t)
	en.src.put(t, "s", "busy", "loop", 1, 1)
	en.st.putAsyncConfig("s", "busy", host.AsyncConfig{MaxAsyncRetryAttempts: intp(0)})
	en.start(nil)

	entry, err := en.iv.Lookup(context.Background(), "s", "busy")
	if err != nil {
		t.Fatal(err)
	}
	syncDone := make(chan error, 1)
	go func() {
		var res host.Response
		syncDone <- en.iv.Invoke(context.Background(), entry, &host.Request{RequestID: "sync", Method: []byte("GET"), Path: []byte("/")}, &res)
	}()
	for entry.Pool().Busy() == 0 {
		time.Sleep(time.Millisecond)
	}
	j := en.submit("s", "busy", "", nil)
	en.wait(j, "throttled twice", func(j host.Job) bool { return throttles(j.Events) >= 2 })

	// The function becomes free (new code, new pool): the next try runs.
	en.src.put(t, "s", "busy", "hello-c", 1, 1)
	en.iv.Invalidate("s", "busy")
	got := en.waitDone(j)
	if got.Status != host.JobSucceeded || got.Attempts != 1 || got.AlreadyRetriedTimes != 0 || string(got.Result.Body) != "hello world" {
		t.Fatalf("\n%s", dump(got))
	}
	if n := strings.Count(statuses(got), "Running"); n != 1 {
		t.Fatalf("%d Running events:\n%s", n, dump(got))
	}
	for _, ev := range got.Events[1 : len(got.Events)-2] {
		if ev.Status != host.JobRetrying || !strings.Contains(ev.EventDetail, "too many instances") && !strings.Contains(ev.EventDetail, "concurrent instances") {
			t.Fatalf("unexpected event %+v\n%s", ev, dump(got))
		}
	}
	if err := <-syncDone; !isKind(err, host.KindTimeout) {
		t.Fatalf("sync call: %v", err)
	}
}

// countStore counts the claims and updates of jobs.
type countStore struct {
	*memStore
	claims, updates atomic.Int64
}

func (c *countStore) ClaimJobs(now time.Time, n int, accept func(svc, fn string) (bool, int64), claim func(*host.Job)) ([]host.Job, error) {
	got, err := c.memStore.ClaimJobs(now, n, accept, claim)
	c.claims.Add(int64(len(got)))
	return got, err
}

func (c *countStore) UpdateJob(svc, fn, id string, mutate func(*host.Job) error) (host.Job, error) {
	c.updates.Add(1)
	return c.memStore.UpdateJob(svc, fn, id, mutate)
}

func (c *countStore) UpdateJobs(names []host.Job, mutate func(i int, cur *host.Job) error) ([]host.Job, []error) {
	c.updates.Add(int64(len(names)))
	return c.memStore.UpdateJobs(names, mutate)
}

// TestAsyncCapLeavesSyncSlots: async attempts of a function with 4
// instances run 2 at a time, so a synchronous call still finds an
// instance while async work is queued; jobs over the cap wait in the
// queue, unwritten (one claim and one update each).
func TestAsyncCapLeavesSyncSlots(t *testing.T) {
	en := newEnv(t)
	en.src.put(t, "s", "slow", "loop", 1, 4)
	en.st.putAsyncConfig("s", "slow", host.AsyncConfig{MaxAsyncRetryAttempts: intp(0)})
	cs := &countStore{memStore: en.st}
	// A long margin: jobs that waited for a slot need no longer lease.
	e := en.engine(cs, func(c *Config) { c.LeaseMargin = 30 * time.Second })
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	en.e = e
	entry, err := en.iv.Lookup(context.Background(), "s", "slow")
	if err != nil {
		t.Fatal(err)
	}
	var maxActive atomic.Int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			e.mu.Lock()
			var n int32
			if fs := e.fns["s/slow"]; fs != nil {
				n = int32(fs.running)
			}
			e.mu.Unlock()
			if n > maxActive.Load() {
				maxActive.Store(n)
			}
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Microsecond):
			}
		}
	})
	var jobs []host.Job
	for range 5 {
		jobs = append(jobs, en.submit("s", "slow", "", nil))
	}
	for entry.Pool().Busy() < 2 {
		time.Sleep(time.Millisecond)
	}
	var res host.Response
	err = en.iv.Invoke(context.Background(), entry, &host.Request{RequestID: "sync", Method: []byte("GET"), Path: []byte("/")}, &res)
	if !isKind(err, host.KindTimeout) {
		t.Fatalf("sync call while async work queued: %v (want a timeout: it ran)", err)
	}
	for _, j := range jobs {
		got := en.waitDone(j)
		if got.Status != host.JobFailed || got.Attempts != 1 || statuses(got) != "Enqueued Running Failed" {
			t.Fatalf("\n%s", dump(got))
		}
	}
	close(stop)
	wg.Wait()
	if m := maxActive.Load(); m != 2 {
		t.Fatalf("max concurrent async attempts %d, want 2", m)
	}
	if c, u := cs.claims.Load(), cs.updates.Load(); c != 5 || u != 5 {
		t.Fatalf("%d claims and %d updates of 5 jobs, want 5 and 5", c, u)
	}
}

// TestRestartLosesNothing: a process dies with jobs claimed and running; a
// new engine on the same store requeues and finishes every one.
func TestRestartLosesNothing(t *testing.T) {
	en := newEnv(t)
	en.src.put(t, "s", "hello", "hello-c", 2, 0)
	en.src.put(t, "s", "slow", "loop", 1, 0)
	en.src.put(t, "s", "ctx", "ctx-go", 5, 0)
	en.st.putAsyncConfig("s", "slow", host.AsyncConfig{MaxAsyncRetryAttempts: intp(0)})
	// Compile ctx-go now, not while the test's clock runs.
	if _, err := en.iv.Lookup(context.Background(), "s", "ctx"); err != nil {
		t.Fatal(err)
	}

	crash := &crashStore{s: en.st}
	e1 := en.engine(crash, func(c *Config) { c.Workers = 2 })
	if err := e1.Start(); err != nil {
		t.Fatal(err)
	}
	en.e = e1
	var submitted []host.Job
	for range 2 {
		submitted = append(submitted, en.submit("s", "slow", "", nil))
	}
	for range 20 {
		submitted = append(submitted, en.submit("s", "hello", "", nil))
	}
	en.wait(submitted[0], "running", func(j host.Job) bool { return j.Status == host.JobRunning })
	crash.dead.Store(true) // the process dies: nothing it does reaches the store any more
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_ = e1.Close(ctx)

	// A job a previous process had claimed when it died.
	now := en.clock.ms()
	orphan := host.Job{ServiceName: "s", FunctionName: "ctx", InvocationID: "orphan", RequestID: "r-orphan", Qualifier: "LATEST",
		Status: host.JobRunning, StartedTime: now, Attempts: 1, LeaseUntil: now + 3600e3, TimeoutSeconds: 5,
		MaxRetries: 3, MaxAgeSeconds: 86400, Request: host.JobRequest{Method: "GET", Path: "/"}}
	orphan.AddEvent(host.JobEnqueued, now, "")
	orphan.AddEvent(host.JobRunning, now, "attempt 1")
	if err := en.st.EnqueueJob(orphan); err != nil {
		t.Fatal(err)
	}
	submitted = append(submitted, orphan)

	en.start(nil)
	redelivered := 0
	for _, j := range submitted {
		got := en.waitDone(j)
		switch j.FunctionName {
		case "hello":
			if got.Status != host.JobSucceeded {
				t.Fatalf("\n%s", dump(got))
			}
		case "slow":
			if got.Status != host.JobFailed || got.Result.ErrorKind != "timeout" {
				t.Fatalf("\n%s", dump(got))
			}
		case "ctx":
			var info struct{ Attempt int }
			if got.Status != host.JobSucceeded || json.Unmarshal(got.Result.Body, &info) != nil || info.Attempt != 2 || got.Attempts != 2 {
				t.Fatalf("the guest should see attempt 2:\n%s", dump(got))
			}
		}
		if got.Attempts > 1 {
			redelivered++
		}
	}
	if redelivered < 2 { // the slow job that was running, and the orphan
		t.Fatalf("%d jobs ran twice, want at least 2", redelivered)
	}
	if n := len(en.st.all("s", "hello")) + len(en.st.all("s", "slow")) + len(en.st.all("s", "ctx")); n != len(submitted) {
		t.Fatalf("%d jobs stored, %d submitted", n, len(submitted))
	}
}

// TestCloseWaitsForRunningAttempts: Close returns once the running attempt
// recorded its outcome; with a short ctx it returns ctx's error.
func TestCloseWaitsForRunningAttempts(t *testing.T) {
	en := newEnv(t)
	en.src.put(t, "s", "loop", "loop", 1, 0)
	e := en.start(nil)
	j := en.submit("s", "loop", "", nil)
	en.wait(j, "running", func(j host.Job) bool { return j.Status == host.JobRunning })

	short, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	e2 := en.engine(newMemStore(), nil) // an idle engine (its own store), to check a short close
	if err := e2.Start(); err != nil {
		t.Fatal(err)
	}
	if err := e2.Close(short); err != nil { // nothing running: returns at once
		t.Fatalf("idle close: %v", err)
	}

	ctx, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := en.st.GetJob("s", "loop", j.InvocationID)
	if got.LeaseUntil != 0 || got.Status != host.JobRetrying || got.Attempts != 1 {
		t.Fatalf("after Close:\n%s", dump(got))
	}
	if err := e.Start(); err == nil {
		t.Fatal("Start after Close succeeded")
	}
	// Submit still stores after Close; the next process runs it.
	if _, err := e.Submit(host.Job{ServiceName: "s", FunctionName: "loop"}); err != nil {
		t.Fatal(err)
	}
}

func TestCloseTimesOut(t *testing.T) {
	en := newEnv(t)
	en.src.put(t, "s", "loop", "loop", 1, 0)
	e := en.start(nil)
	j := en.submit("s", "loop", "", nil)
	en.wait(j, "running", func(j host.Job) bool { return j.Status == host.JobRunning })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := e.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close: %v", err)
	}
}

// TestWorkerPanicRecovered: a panicking worker leaves the job leased; the
// reaper requeues it when the lease expires and it runs again.
func TestWorkerPanicRecovered(t *testing.T) {
	en := newEnv(t)
	en.src.put(t, "s", "hello", "hello-c", 2, 0)
	e := en.engine(nil, func(c *Config) { c.LeaseMargin = 50 * time.Millisecond })
	var panicked atomic.Bool
	e.hooks.beforeRun = func(host.Job) {
		if panicked.CompareAndSwap(false, true) {
			panic("boom")
		}
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	en.e = e
	j := en.submit("s", "hello", "", func(j *host.Job) { j.TimeoutSeconds = 0 })
	got := en.waitDone(j)
	if got.Status != host.JobSucceeded || got.Attempts != 2 {
		t.Fatalf("\n%s", dump(got))
	}
	if n := testutil.ToFloat64(e.met.panics); n != 1 {
		t.Fatalf("panics %v", n)
	}
	if !strings.Contains(en.logs.String(), "worker panicked") {
		t.Fatal("panic not logged")
	}
}

// TestManyJobs runs a burst across functions with few workers: all finish.
func TestManyJobs(t *testing.T) {
	en := newEnv(t)
	en.src.put(t, "s", "a", "hello-c", 2, 2)
	en.src.put(t, "s", "b", "echo-c", 2, 0)
	en.start(func(c *Config) { c.Workers = 3 })
	var jobs []host.Job
	for i := range 60 {
		fn := "a"
		if i%2 == 1 {
			fn = "b"
		}
		jobs = append(jobs, en.submit("s", fn, "x", nil))
	}
	for _, j := range jobs {
		if got := en.waitDone(j); got.Status != host.JobSucceeded || got.Attempts != 1 {
			t.Fatalf("\n%s", dump(got))
		}
	}
}

func TestValidInvocationID(t *testing.T) {
	for id, want := range map[string]bool{
		"a": true, "_": true, "A-b_9": true, strings.Repeat("x", 128): true,
		"": false, "9a": false, "-a": false, "a b": false, "a.b": false, strings.Repeat("x", 129): false, "é": false,
	} {
		if got := ValidInvocationID(id); got != want {
			t.Errorf("%q: %v", id, got)
		}
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 9: 256 * time.Second} {
		for range 50 {
			d := backoff(time.Second, 5*time.Minute, n)
			if d < want*8/10 || d > want*12/10 {
				t.Fatalf("retry %d: %v, want %v ±20%%", n, d, want)
			}
		}
	}
	for _, n := range []int{10, 40, 1000} {
		if d := backoff(time.Second, 5*time.Minute, n); d > 5*time.Minute || d < 4*time.Minute {
			t.Fatalf("retry %d: %v, want capped at 5m", n, d)
		}
	}
	if d := backoff(500*time.Millisecond, 8*time.Second, 6); d > 8*time.Second || d < 6*time.Second {
		t.Fatalf("throttle 6: %v", d)
	}
}

// waitingJob starts a job of a function with one async slot (MaxInstances
// 1) that runs for a second, and a second job, which the engine claims
// and keeps waiting for the slot. It returns both, the second as claimed.
func waitingJob(t *testing.T, en *env) (running, waiting host.Job) {
	t.Helper()
	en.src.put(t, "s", "one", "loop", 1, 1)
	en.st.putAsyncConfig("s", "one", host.AsyncConfig{MaxAsyncRetryAttempts: intp(0)})
	running = en.submit("s", "one", "", nil)
	en.wait(running, "running", func(j host.Job) bool { return j.Status == host.JobRunning })
	waiting = en.submit("s", "one", "", nil)
	waiting = en.wait(waiting, "claimed", func(j host.Job) bool { return j.Status == host.JobRunning })
	return running, waiting
}

// TestStopWaiting: a job claimed but still waiting for a slot of its
// function is stopped before it starts.
func TestStopWaiting(t *testing.T) {
	en := newEnv(t)
	e := en.start(nil)
	running, waiting := waitingJob(t, en)
	if st, err := e.Stop("s", "one", waiting.InvocationID); err != nil || !st.StopRequested {
		t.Fatalf("%v\n%s", err, dump(st))
	}
	got := en.waitDone(waiting)
	if got.Status != host.JobStopped || got.Attempts != 0 || got.Result != nil {
		t.Fatalf("\n%s", dump(got))
	}
	if last := got.Events[len(got.Events)-1]; last.EventDetail != "stopped by request; attempt 1 not run" {
		t.Fatalf("\n%s", dump(got))
	}
	if got := en.waitDone(running); got.Attempts != 1 || got.Result == nil {
		t.Fatalf("\n%s", dump(got))
	}
}

// TestCloseGivesBackWaiting: Close lets the running attempt finish and
// puts the claimed job still waiting for a slot back as it was.
func TestCloseGivesBackWaiting(t *testing.T) {
	en := newEnv(t)
	e := en.start(nil)
	running, waiting := waitingJob(t, en)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := en.st.GetJob("s", "one", waiting.InvocationID)
	if got.Status != host.JobEnqueued || got.Attempts != 0 || got.LeaseUntil != 0 || statuses(got) != "Enqueued" {
		t.Fatalf("given back:\n%s", dump(got))
	}
	got, _ = en.st.GetJob("s", "one", running.InvocationID)
	if got.Status != host.JobFailed || got.Attempts != 1 || got.LeaseUntil != 0 {
		t.Fatalf("ran:\n%s", dump(got))
	}
	// The next process runs it.
	en.start(nil)
	if got := en.waitDone(waiting); got.Attempts == 0 {
		t.Fatalf("\n%s", dump(got))
	}
}

// TestSlowBacklogPostponed: a slow function's backlog, beyond what it can
// run soon, is moved back in the queue, out of the way of another
// function's jobs, and runs later, each job once.
func TestSlowBacklogPostponed(t *testing.T) {
	en := newEnv(t)
	en.src.put(t, "s", "slow", "loop", 1, 4) // 2 async slots, 1 s an attempt
	en.src.put(t, "s", "hello", "hello-c", 2, 0)
	en.st.putAsyncConfig("s", "slow", host.AsyncConfig{MaxAsyncRetryAttempts: intp(0)})
	e := en.start(func(c *Config) { c.LeaseMargin = 30 * time.Second })
	en.waitDone(en.submit("s", "slow", "", nil)) // its pace is known: 1 s
	var slow []host.Job
	for range 6 {
		slow = append(slow, en.submit("s", "slow", "", nil))
	}
	start := time.Now()
	quick := en.waitDone(en.submit("s", "hello", "", nil))
	if quick.Status != host.JobSucceeded || time.Since(start) > 800*time.Millisecond {
		t.Fatalf("hello waited %v behind the slow backlog\n%s", time.Since(start), dump(quick))
	}
	postponed := 0
	for _, j := range slow {
		if cur, _ := e.Get("s", "slow", j.InvocationID); cur.NotBefore > j.NotBefore+500 {
			postponed++
		}
	}
	if postponed == 0 {
		t.Fatal("no slow job postponed")
	}
	for _, j := range slow {
		if got := en.waitDone(j); got.Attempts != 1 || statuses(got) != "Enqueued Running Failed" {
			t.Fatalf("\n%s", dump(got))
		}
	}
}

// TestClaimLimits: how many attempts of a function the engine claims, and
// when a refused one is postponed.
func TestClaimLimits(t *testing.T) {
	fs := &fnState{cap: 2}
	if n := fs.limit(); n != 4 { // pace unknown: one more round
		t.Fatalf("limit %d", n)
	}
	if p := fs.postpone(1000); p != 0 {
		t.Fatalf("postponed %d with no pace known", p)
	}
	fs.avg = 100 * time.Microsecond
	if n := fs.limit(); n != 2+maxReadahead {
		t.Fatalf("fast: limit %d", n)
	}
	fs.skipped = 100
	if p := fs.postpone(1000); p != 0 {
		t.Fatalf("fast: postponed to %d", p)
	}
	fs.avg = 2 * time.Second
	if n := fs.limit(); n != 2 {
		t.Fatalf("slow: limit %d", n)
	}
	fs.running, fs.skipped = 2, 1 // 3 ahead, 2 at a time: 3 s
	if p := fs.postpone(1000); p < 1000+3000 || p > 1000+3750 {
		t.Fatalf("slow: postponed to %d", p)
	}
}

package store_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/store"
)

// ms is t0 plus d in Unix milliseconds.
func ms(d time.Duration) int64 { return t0.Add(d).UnixMilli() }

// job is an Enqueued job of demo/hello accepted at t0+started seconds and
// due at once.
func job(id string, started int) host.Job {
	at := ms(time.Duration(started) * time.Second)
	j := host.Job{
		ServiceName: "demo", FunctionName: "hello", Qualifier: "LATEST",
		InvocationID: id, RequestID: "req-" + id, Status: host.JobEnqueued,
		StartedTime: at, NotBefore: at, InvocationPayload: "payload of " + id,
		Request:        host.JobRequest{Method: "POST", Path: "/", Headers: [][2]string{{"Content-Type", "text/plain"}}, Body: []byte("body of " + id)},
		TimeoutSeconds: 3, MaxRetries: 3, MaxAgeSeconds: 86400,
	}
	j.AddEvent(host.JobEnqueued, at, "")
	return j
}

// claimAt is the engine's claim at now with a lease of lease.
func claimAt(now time.Time, lease time.Duration) func(*host.Job) {
	return func(j *host.Job) {
		at := now.UnixMilli()
		j.LeaseUntil = now.Add(lease).UnixMilli()
		if j.Status.Finished() { // only its destination to deliver
			return
		}
		j.Status = host.JobRunning
		j.Attempts++
		j.AddEvent(host.JobRunning, at, "")
	}
}

// finish ends a job as Succeeded at t.
func finish(t time.Time) func(*host.Job) error {
	return func(j *host.Job) error {
		j.Status, j.EndTime, j.LeaseUntil = host.JobSucceeded, t.UnixMilli(), 0
		j.AddEvent(host.JobSucceeded, t.UnixMilli(), "")
		return nil
	}
}

func jobIDs(jobs []host.Job) []string {
	out := []string{}
	for _, j := range jobs {
		out = append(out, j.InvocationID)
	}
	return out
}

func enqueue(t *testing.T, s *store.Store, jobs ...host.Job) {
	t.Helper()
	for _, j := range jobs {
		mustNil(t, s.EnqueueJob(j))
	}
}

func claimIDs(t *testing.T, s *store.Store, now time.Time, n int) []string {
	t.Helper()
	got, err := s.ClaimJobs(now, n, nil, claimAt(now, time.Minute))
	mustNil(t, err)
	return jobIDs(got)
}

func TestEnqueueJob(t *testing.T) {
	s := openStore(t, t.TempDir())
	want := job("a1", 0)
	mustNil(t, s.EnqueueJob(want))
	got, err := s.GetJob("demo", "hello", "a1")
	mustNil(t, err)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}

	t.Run("duplicate", func(t *testing.T) {
		again := job("a1", 5)
		err := s.EnqueueJob(again)
		checkErr(t, err, host.KindConflict, store.ResourceJob)
		var re *store.ResourceError
		if errors.As(err, &re); re.Name != "demo/hello/a1" || re.Resource.String() != "StatefulAsyncInvocation" {
			t.Fatalf("resource error %+v (%v)", re, err)
		}
		if got, _ := s.GetJob("demo", "hello", "a1"); got.StartedTime != want.StartedTime {
			t.Fatalf("duplicate overwrote the job: %+v", got)
		}
		other := job("a1", 0)
		other.FunctionName = "other" // ids are per function
		mustNil(t, s.EnqueueJob(other))
	})

	t.Run("not found", func(t *testing.T) {
		_, err := s.GetJob("demo", "hello", "nope")
		checkErr(t, err, host.KindNotFound, store.ResourceJob)
		if !strings.Contains(err.Error(), `statefulAsyncInvocation "demo/hello/nope" not found`) {
			t.Fatalf("message %q", err)
		}
		_, err = s.UpdateJob("demo", "hello", "nope", finish(t0))
		checkErr(t, err, host.KindNotFound, store.ResourceJob)
	})

	t.Run("invalid", func(t *testing.T) {
		tests := []struct {
			name string
			edit func(*host.Job)
		}{
			{"empty id", func(j *host.Job) { j.InvocationID = "" }},
			{"digit first", func(j *host.Job) { j.InvocationID = "1abc" }},
			{"dash first", func(j *host.Job) { j.InvocationID = "-abc" }},
			{"slash", func(j *host.Job) { j.InvocationID = "a/b" }},
			{"space", func(j *host.Job) { j.InvocationID = "a b" }},
			{"dot", func(j *host.Job) { j.InvocationID = "a.b" }},
			{"129 chars", func(j *host.Job) { j.InvocationID = "a" + strings.Repeat("b", 128) }},
			{"bad service", func(j *host.Job) { j.ServiceName = "a/b" }},
			{"bad function", func(j *host.Job) { j.FunctionName = "" }},
			{"unknown status", func(j *host.Job) { j.Status = "Queued" }},
			{"no status", func(j *host.Job) { j.Status = "" }},
			{"running without lease", func(j *host.Job) { j.Status = host.JobRunning }},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				j := job("ok", 0)
				tc.edit(&j)
				checkErr(t, s.EnqueueJob(j), host.KindInvalidArgument, 0)
			})
		}
		for _, id := range []string{"_", "A", "a-b_C9", "a" + strings.Repeat("b", 127)} {
			mustNil(t, s.EnqueueJob(job(id, 0)))
		}
		_, err := s.GetJob("demo", "hello", "a/b")
		checkErr(t, err, host.KindInvalidArgument, 0)
	})
}

func TestClaimOrder(t *testing.T) {
	s := openStore(t, t.TempDir())
	jobs := []host.Job{job("c", 3), job("a", 1), job("late", 0), job("b", 2), job("d", 4)}
	jobs[2].NotBefore = ms(10 * time.Second) // delayed: accepted first, due last
	jobs[4].NotBefore = ms(5 * time.Second)  // due exactly at the claim
	other := job("x", 2)
	other.ServiceName = "svc2" // every function shares the queue
	enqueue(t, s, append(jobs, other)...)

	now := t0.Add(5 * time.Second)
	if got, want := claimIDs(t, s, now, 2), []string{"a", "b"}; !slices.Equal(got, want) {
		t.Fatalf("first claim %v, want %v", got, want)
	}
	if got, want := claimIDs(t, s, now, 10), []string{"x", "c", "d"}; !slices.Equal(got, want) {
		t.Fatalf("second claim %v, want %v", got, want)
	}
	if got := claimIDs(t, s, now, 10); len(got) != 0 {
		t.Fatalf("claimed %v again", got)
	}
	if got := claimIDs(t, s, t0.Add(10*time.Second-time.Millisecond), 10); len(got) != 0 {
		t.Fatalf("claimed %v before it was due", got)
	}
	claimed, err := s.ClaimJobs(t0.Add(10*time.Second), 10, nil, claimAt(t0.Add(10*time.Second), time.Minute))
	mustNil(t, err)
	if len(claimed) != 1 || claimed[0].InvocationID != "late" {
		t.Fatalf("claimed %v", jobIDs(claimed))
	}
	j := claimed[0]
	if j.Status != host.JobRunning || j.Attempts != 1 || j.LeaseUntil != ms(70*time.Second) || len(j.Events) != 2 {
		t.Fatalf("claimed job %+v", j)
	}
	if stored, _ := s.GetJob("demo", "hello", "late"); !reflect.DeepEqual(stored, j) {
		t.Fatalf("stored %+v\nreturned %+v", stored, j)
	}

	t.Run("arguments", func(t *testing.T) {
		got, err := s.ClaimJobs(t0.Add(time.Hour), 0, nil, claimAt(t0, time.Minute))
		if err != nil || len(got) != 0 {
			t.Fatalf("n=0: %v, %v", got, err)
		}
		_, err = s.ClaimJobs(t0.Add(time.Hour), 1, nil, nil)
		checkErr(t, err, host.KindInvalidArgument, 0)
	})
	t.Run("claim that forgets the lease", func(t *testing.T) {
		enqueue(t, s, job("bad-claim", 0))
		_, err := s.ClaimJobs(t0, 1, nil, func(j *host.Job) { j.Status = host.JobRunning })
		checkErr(t, err, host.KindInvalidArgument, 0)
		if got := claimIDs(t, s, t0, 1); !slices.Equal(got, []string{"bad-claim"}) {
			t.Fatalf("job lost after a refused claim: %v", got)
		}
	})
}

func TestJobLifecycle(t *testing.T) {
	s := openStore(t, t.TempDir())
	enqueue(t, s, job("j", 0))
	now := t0.Add(time.Second)
	if got := claimIDs(t, s, now, 1); len(got) != 1 {
		t.Fatalf("claimed %v", got)
	}

	t.Run("retry after a backoff", func(t *testing.T) {
		_, err := s.UpdateJob("demo", "hello", "j", func(j *host.Job) error {
			j.Status, j.LeaseUntil, j.NotBefore = host.JobRetrying, 0, ms(31*time.Second)
			j.AlreadyRetriedTimes = 1
			j.AddEvent(host.JobRetrying, now.UnixMilli(), "UnhandledInvocationError")
			return nil
		})
		mustNil(t, err)
		if got := claimIDs(t, s, t0.Add(31*time.Second-time.Millisecond), 5); len(got) != 0 {
			t.Fatalf("claimed %v during its backoff", got)
		}
		got, err := s.ClaimJobs(t0.Add(31*time.Second), 5, nil, claimAt(t0.Add(31*time.Second), time.Minute))
		mustNil(t, err)
		if len(got) != 1 || got[0].Attempts != 2 || got[0].Status != host.JobRunning {
			t.Fatalf("claimed %+v", got)
		}
	})

	t.Run("destination pending", func(t *testing.T) {
		_, err := s.UpdateJob("demo", "hello", "j", func(j *host.Job) error {
			finish(t0.Add(32 * time.Second))(j)
			j.DestinationStatus = host.DestinationPending
			return nil
		})
		mustNil(t, err)
		got, err := s.ClaimJobs(t0.Add(time.Hour), 5, nil, claimAt(t0.Add(time.Hour), time.Minute))
		mustNil(t, err)
		if len(got) != 1 || got[0].Status != host.JobSucceeded || got[0].Attempts != 2 || got[0].LeaseUntil != ms(61*time.Minute) {
			t.Fatalf("claimed %+v", got)
		}
		if got := claimIDs(t, s, t0.Add(time.Hour), 5); len(got) != 0 {
			t.Fatalf("claimed %v while leased", got)
		}
		_, err = s.UpdateJob("demo", "hello", "j", func(j *host.Job) error {
			j.DestinationStatus = host.DestinationSucceeded
			return nil // the lease is the store's to drop: the job is done
		})
		mustNil(t, err)
	})

	t.Run("done", func(t *testing.T) {
		j, err := s.GetJob("demo", "hello", "j")
		mustNil(t, err)
		if j.LeaseUntil != 0 || j.Status != host.JobSucceeded {
			t.Fatalf("done job %+v", j)
		}
		if got := claimIDs(t, s, t0.Add(1000*time.Hour), 5); len(got) != 0 {
			t.Fatalf("claimed %v after it finished", got)
		}
		n, err := s.RequeueLeased(time.Time{})
		if err != nil || n != 0 {
			t.Fatalf("requeued %d, %v", n, err)
		}
		checkErr(t, s.EnqueueJob(job("j", 0)), host.KindConflict, store.ResourceJob) // until it expires
	})

	t.Run("mutate errors", func(t *testing.T) {
		before, _ := s.GetJob("demo", "hello", "j")
		hostErr := &host.Error{Kind: host.KindNotEmpty, Op: "jobs.Stop"}
		_, err := s.UpdateJob("demo", "hello", "j", func(j *host.Job) error { j.Status = host.JobFailed; return hostErr })
		if err != hostErr {
			t.Fatalf("err %v, want the mutate's error unchanged", err)
		}
		plain := errors.New("plain")
		_, err = s.UpdateJob("demo", "hello", "j", func(*host.Job) error { return plain })
		checkErr(t, err, host.KindInternal, 0)
		if !errors.Is(err, plain) {
			t.Fatalf("err %v does not wrap the mutate's", err)
		}
		_, err = s.UpdateJob("demo", "hello", "j", func(j *host.Job) error { j.Status = "Bogus"; return nil })
		checkErr(t, err, host.KindInvalidArgument, 0)
		_, err = s.UpdateJob("demo", "hello", "j", func(j *host.Job) error { j.InvocationID, j.FunctionName = "z", "zz"; return nil })
		mustNil(t, err)
		after, err := s.GetJob("demo", "hello", "j")
		mustNil(t, err)
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("job changed: %+v", after)
		}
	})
}

func TestRequeueLeased(t *testing.T) {
	s := openStore(t, t.TempDir())
	enqueue(t, s, job("a", 0), job("b", 1), job("pending", 2))
	mustNil(t, claimErr(s.ClaimJobs(t0, 1, nil, claimAt(t0, 10*time.Second))))                  // a until t0+10s
	mustNil(t, claimErr(s.ClaimJobs(t0.Add(time.Second), 1, nil, claimAt(t0, 20*time.Second)))) // b until t0+20s
	_, err := s.UpdateJob("demo", "hello", "pending", func(j *host.Job) error {
		j.Status, j.DestinationStatus = host.JobFailed, host.DestinationPending
		return nil
	})
	mustNil(t, err)
	mustNil(t, claimErr(s.ClaimJobs(t0.Add(2*time.Second), 1, nil, claimAt(t0, 10*time.Second)))) // its delivery

	for _, tc := range []struct {
		now  time.Duration
		want int
	}{{5 * time.Second, 0}, {10*time.Second - time.Millisecond, 0}, {10 * time.Second, 2}, {10 * time.Second, 0}} {
		n, err := s.RequeueLeased(t0.Add(tc.now))
		if err != nil || n != tc.want {
			t.Fatalf("RequeueLeased(t0+%v) = %d, %v; want %d", tc.now, n, err, tc.want)
		}
	}
	a, err := s.GetJob("demo", "hello", "a")
	mustNil(t, err)
	last := a.Events[len(a.Events)-1]
	if a.Status != host.JobRetrying || a.LeaseUntil != 0 || a.Attempts != 1 ||
		last.Status != host.JobRetrying || last.EventDetail != "lease expired: worker presumed dead" || last.Timestamp != ms(10*time.Second) {
		t.Fatalf("requeued job %+v", a)
	}
	p, err := s.GetJob("demo", "hello", "pending")
	mustNil(t, err)
	if p.Status != host.JobFailed || p.LeaseUntil != 0 || p.DestinationStatus != host.DestinationPending {
		t.Fatalf("requeued delivery %+v", p)
	}
	got, err := s.ClaimJobs(t0.Add(11*time.Second), 5, nil, claimAt(t0.Add(11*time.Second), time.Minute))
	mustNil(t, err)
	if ids := jobIDs(got); !slices.Equal(ids, []string{"a", "pending"}) || got[0].Attempts != 2 {
		t.Fatalf("claimed %v (%+v)", ids, got)
	}
	n, err := s.RequeueLeased(time.Time{}) // everything: a, pending and b
	if err != nil || n != 3 {
		t.Fatalf("RequeueLeased(zero) = %d, %v", n, err)
	}
}

func claimErr(_ []host.Job, err error) error { return err }

// TestJobsSurviveRestart: jobs leased when the process stopped are
// requeued at start; nothing accepted is lost.
func TestJobsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir, store.Options{})
	mustNil(t, err)
	var all []string
	for i := range 10 {
		j := job(fmt.Sprintf("j%d", i), i)
		all = append(all, j.InvocationID)
		mustNil(t, s.EnqueueJob(j))
	}
	now := t0.Add(time.Minute)
	claimed, err := s.ClaimJobs(now, 6, nil, claimAt(now, time.Hour))
	mustNil(t, err)
	if len(claimed) != 6 {
		t.Fatalf("claimed %d", len(claimed))
	}
	for _, j := range claimed[:2] {
		_, err := s.UpdateJob(j.ServiceName, j.FunctionName, j.InvocationID, finish(now))
		mustNil(t, err)
	}
	mustNil(t, s.Close()) // the four other claims die with the process

	s, err = store.Open(dir, store.Options{})
	mustNil(t, err)
	defer s.Close()
	if got := claimIDs(t, s, now, 100); !slices.Equal(got, all[6:]) {
		t.Fatalf("before requeueing, claimed %v, want %v", got, all[6:])
	}
	n, err := s.RequeueLeased(time.Time{})
	if err != nil || n != 8 { // 4 leased before the restart, 4 just now
		t.Fatalf("requeued %d, %v", n, err)
	}
	later := now.Add(time.Second)
	got, err := s.ClaimJobs(later, 100, nil, claimAt(later, time.Hour))
	mustNil(t, err)
	var ids []string
	for _, j := range got {
		ids = append(ids, j.InvocationID)
		if j.Status != host.JobRunning || j.Attempts != 2 {
			t.Errorf("%s: %+v", j.InvocationID, j)
		}
	}
	slices.Sort(ids)
	if want := all[2:]; !slices.Equal(ids, want) {
		t.Fatalf("after the restart claimed %v, want %v", ids, want)
	}
	for _, id := range all[:2] {
		j, err := s.GetJob("demo", "hello", id)
		mustNil(t, err)
		if j.Status != host.JobSucceeded {
			t.Fatalf("%s: %+v", id, j)
		}
	}
}

func TestListJobs(t *testing.T) {
	s := openStore(t, t.TempDir())
	// order-1 … order-9 started at t0+1s … t0+9s; odd ones are done, two
	// share a start with a "z"/"a" id to check the tie order.
	var all []host.Job
	for i := 1; i <= 9; i++ {
		all = append(all, job(fmt.Sprintf("order-%d", i), i))
	}
	all = append(all, job("tie-z", 5), job("tie-a", 5))
	other := job("order-0", 1)
	other.FunctionName = "other"
	enqueue(t, s, append(all, other)...)
	for i := 1; i <= 9; i += 2 {
		_, err := s.UpdateJob("demo", "hello", fmt.Sprintf("order-%d", i), finish(t0))
		mustNil(t, err)
	}

	tests := []struct {
		name string
		o    store.JobListOptions
		want []string
	}{
		{"default newest first", store.JobListOptions{}, []string{"order-9", "order-8", "order-7", "order-6", "tie-z", "tie-a", "order-5", "order-4", "order-3", "order-2", "order-1"}},
		{"asc", store.JobListOptions{SortOrderByTime: "asc"}, []string{"order-1", "order-2", "order-3", "order-4", "order-5", "tie-a", "tie-z", "order-6", "order-7", "order-8", "order-9"}},
		{"status", store.JobListOptions{Status: host.JobSucceeded}, []string{"order-9", "order-7", "order-5", "order-3", "order-1"}},
		{"status enqueued asc", store.JobListOptions{Status: host.JobEnqueued, SortOrderByTime: "asc"}, []string{"order-2", "order-4", "tie-a", "tie-z", "order-6", "order-8"}},
		{"status none", store.JobListOptions{Status: host.JobRunning}, []string{}},
		{"time range", store.JobListOptions{StartedTimeBegin: ms(5 * time.Second), StartedTimeEnd: ms(7 * time.Second)}, []string{"order-6", "tie-z", "tie-a", "order-5"}},
		{"time range asc", store.JobListOptions{StartedTimeBegin: ms(5 * time.Second), StartedTimeEnd: ms(7 * time.Second), SortOrderByTime: "asc"}, []string{"order-5", "tie-a", "tie-z", "order-6"}},
		{"begin only", store.JobListOptions{StartedTimeBegin: ms(8 * time.Second)}, []string{"order-9", "order-8"}},
		{"end only", store.JobListOptions{StartedTimeEnd: ms(3 * time.Second), SortOrderByTime: "asc"}, []string{"order-1", "order-2"}},
		{"empty range", store.JobListOptions{StartedTimeBegin: ms(7 * time.Second), StartedTimeEnd: ms(7 * time.Second)}, []string{}},
		{"prefix", store.JobListOptions{InvocationIDPrefix: "tie"}, []string{"tie-z", "tie-a"}},
		{"prefix and status", store.JobListOptions{InvocationIDPrefix: "order-", Status: host.JobEnqueued, Limit: 2}, []string{"order-8", "order-6"}},
		{"prefix none", store.JobListOptions{InvocationIDPrefix: "x"}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := s.ListJobs("demo", "hello", tc.o)
			mustNil(t, err)
			if ids := jobIDs(got); !slices.Equal(ids, tc.want) {
				t.Fatalf("got %v, want %v", ids, tc.want)
			}
		})
	}

	t.Run("paging", func(t *testing.T) {
		for _, o := range []store.JobListOptions{
			{Limit: 3}, {Limit: 3, SortOrderByTime: "asc"}, {Limit: 2, Status: host.JobEnqueued},
			{Limit: 1, StartedTimeBegin: ms(4 * time.Second), StartedTimeEnd: ms(8 * time.Second), SortOrderByTime: "asc"},
			{Limit: 4, InvocationIDPrefix: "order"}, {Limit: 11}, {Limit: 20},
		} {
			whole := o
			whole.Limit = 100
			want, next, err := s.ListJobs("demo", "hello", whole)
			mustNil(t, err)
			if next != "" {
				t.Fatalf("%+v: token %q on the whole listing", whole, next)
			}
			var got []host.Job
			pages := 0
			for {
				page, next, err := s.ListJobs("demo", "hello", o)
				mustNil(t, err)
				if len(page) > o.Limit || len(page) == 0 && len(want) > 0 {
					t.Fatalf("%+v: page of %d", o, len(page))
				}
				got = append(got, page...)
				pages++
				if next == "" {
					break
				}
				o.NextToken = next
				if pages > 20 {
					t.Fatal("no end")
				}
			}
			if !slices.Equal(jobIDs(got), jobIDs(want)) {
				t.Fatalf("%+v: pages give %v, want %v", o, jobIDs(got), jobIDs(want))
			}
			if wantPages := max(1, (len(want)+o.Limit-1)/o.Limit); pages != wantPages {
				t.Fatalf("%+v: %d pages, want %d", o, pages, wantPages)
			}
		}
	})

	t.Run("payload", func(t *testing.T) {
		got, _, err := s.ListJobs("demo", "hello", store.JobListOptions{Limit: 1, SortOrderByTime: "asc"})
		mustNil(t, err)
		if got[0].InvocationPayload != "" || got[0].Request.Body != nil || got[0].Request.Method != "POST" {
			t.Fatalf("without payload: %+v", got[0])
		}
		got, _, err = s.ListJobs("demo", "hello", store.JobListOptions{Limit: 1, SortOrderByTime: "asc", IncludePayload: true})
		mustNil(t, err)
		if got[0].InvocationPayload != "payload of order-1" || string(got[0].Request.Body) != "body of order-1" {
			t.Fatalf("with payload: %+v", got[0])
		}
		stored, err := s.GetJob("demo", "hello", "order-1")
		mustNil(t, err)
		if stored.InvocationPayload == "" || stored.Request.Body == nil {
			t.Fatalf("stored %+v", stored)
		}
	})

	t.Run("other functions", func(t *testing.T) {
		for _, fn := range []string{"hell", "hello2", "nope"} {
			got, next, err := s.ListJobs("demo", fn, store.JobListOptions{})
			mustNil(t, err)
			if got == nil || len(got) != 0 || next != "" {
				t.Fatalf("%s: %v, %q", fn, jobIDs(got), next)
			}
		}
	})

	t.Run("invalid", func(t *testing.T) {
		_, asc, err := s.ListJobs("demo", "hello", store.JobListOptions{Limit: 1, SortOrderByTime: "asc"})
		mustNil(t, err)
		tests := []struct {
			name    string
			svc, fn string
			o       store.JobListOptions
		}{
			{"bad service", "a/b", "hello", store.JobListOptions{}},
			{"bad function", "demo", "", store.JobListOptions{}},
			{"negative limit", "demo", "hello", store.JobListOptions{Limit: -1}},
			{"unknown status", "demo", "hello", store.JobListOptions{Status: "Done"}},
			{"bad order", "demo", "hello", store.JobListOptions{SortOrderByTime: "ASC"}},
			{"negative begin", "demo", "hello", store.JobListOptions{StartedTimeBegin: -1}},
			{"bad prefix", "demo", "hello", store.JobListOptions{InvocationIDPrefix: "a/"}},
			{"garbage token", "demo", "hello", store.JobListOptions{NextToken: "!!!"}},
			{"made-up token", "demo", "hello", store.JobListOptions{NextToken: "b3JkZXItMQ"}},
			{"token of the other order", "demo", "hello", store.JobListOptions{NextToken: asc}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, _, err := s.ListJobs(tc.svc, tc.fn, tc.o)
				checkErr(t, err, host.KindInvalidArgument, 0)
			})
		}
	})
}

// TestJobGroupCommit: concurrent calls share transactions yet act one
// after another: increments are not lost, one of several identical
// submissions wins, and a panicking mutate fails only its own call.
func TestJobGroupCommit(t *testing.T) {
	s := openStore(t, t.TempDir())
	enqueue(t, s, job("counter", 0))
	const workers, each = 16, 50
	var (
		wg        sync.WaitGroup
		conflicts atomic.Int64
	)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if _, err := s.UpdateJob("demo", "hello", "counter", func(j *host.Job) error {
					j.AlreadyRetriedTimes++
					return nil
				}); err != nil {
					t.Error(err)
				}
				err := s.EnqueueJob(job(fmt.Sprintf("dup%d", i), w))
				switch host.ErrorKind(err) {
				case host.KindConflict:
					conflicts.Add(1)
				case host.KindInternal:
					if err != nil {
						t.Error(err)
					}
				default:
					t.Error(err)
				}
				if w == 0 && i%10 == 0 {
					_, err := s.UpdateJob("demo", "hello", "counter", func(*host.Job) error { panic("boom") })
					if host.ErrorKind(err) != host.KindInternal || !strings.Contains(err.Error(), "boom") {
						t.Errorf("panicking mutate: %v", err)
					}
				}
			}
		})
	}
	wg.Wait()
	j, err := s.GetJob("demo", "hello", "counter")
	mustNil(t, err)
	if j.AlreadyRetriedTimes != workers*each {
		t.Fatalf("counter %d, want %d", j.AlreadyRetriedTimes, workers*each)
	}
	if got := conflicts.Load(); got != (workers-1)*each {
		t.Fatalf("%d duplicate submissions refused, want %d", got, (workers-1)*each)
	}
}

// TestClaimAccept: entries accept refuses stay queued, untouched, and
// the claim goes on past them; postponed ones move, unclaimed.
func TestClaimAccept(t *testing.T) {
	s := openStore(t, t.TempDir())
	for i := range 6 {
		j := job(fmt.Sprintf("j%d", i), i)
		if i%2 == 1 {
			j.FunctionName = "other"
		}
		enqueue(t, s, j)
	}
	now := t0.Add(time.Hour)
	later := now.Add(time.Minute).UnixMilli()
	before, err := s.GetJob("demo", "other", "j3")
	mustNil(t, err)
	var asked []string
	accept := func(svc, fn string) (bool, int64) {
		asked = append(asked, fn)
		switch {
		case fn == "hello":
			return true, 0
		case len(asked) == 2: // j1: moved
			return false, later
		}
		return false, 0 // j3: left alone
	}
	got, err := s.ClaimJobs(now, 3, accept, claimAt(now, time.Minute))
	mustNil(t, err)
	if ids := jobIDs(got); !slices.Equal(ids, []string{"j0", "j2", "j4"}) {
		t.Fatalf("claimed %v", ids)
	}
	if want := []string{"hello", "other", "hello", "other", "hello"}; !slices.Equal(asked, want) {
		t.Fatalf("asked about %v, want %v", asked, want)
	}
	moved, err := s.GetJob("demo", "other", "j1")
	mustNil(t, err)
	if moved.NotBefore != later || moved.Status != host.JobEnqueued || moved.LeaseUntil != 0 || len(moved.Events) != 1 {
		t.Fatalf("postponed job: %+v", moved)
	}
	after, err := s.GetJob("demo", "other", "j3")
	mustNil(t, err)
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("refused job changed:\n%+v\n%+v", before, after)
	}
	if ids := claimIDs(t, s, now, 10); !slices.Equal(ids, []string{"j3", "j5"}) {
		t.Fatalf("then claimed %v", ids)
	}
	if ids := claimIDs(t, s, time.UnixMilli(later), 10); !slices.Equal(ids, []string{"j1"}) {
		t.Fatalf("after the postponement: %v", ids)
	}

	// A scan gives up after maxClaimSkip refused entries.
	s2 := openStore(t, t.TempDir())
	var many []host.Job
	for i := range 4200 {
		many = append(many, job(fmt.Sprintf("m%04d", i), 0))
	}
	last := job("last", 1)
	last.FunctionName = "other"
	enqueue(t, s2, append(many, last)...)
	refused := 0
	got, err = s2.ClaimJobs(now, 1, func(svc, fn string) (bool, int64) {
		if fn == "hello" {
			refused++
			return false, 0
		}
		return true, 0
	}, claimAt(now, time.Minute))
	mustNil(t, err)
	if len(got) != 0 || refused != 4096 {
		t.Fatalf("claimed %v after %d refusals", jobIDs(got), refused)
	}
}

// TestUpdateJobs: one call updates many jobs, each all or nothing, and a
// job changed between UpdateJobs's snapshot and its commit is mutated
// again, from the new record.
func TestUpdateJobs(t *testing.T) {
	s := openStore(t, t.TempDir())
	enqueue(t, s, job("a", 0), job("b", 0), job("c", 0))
	names := []host.Job{
		{ServiceName: "demo", FunctionName: "hello", InvocationID: "a"},
		{ServiceName: "demo", FunctionName: "hello", InvocationID: "nope"},
		{ServiceName: "demo", FunctionName: "hello", InvocationID: "b"},
		{ServiceName: "demo", FunctionName: "hello", InvocationID: "9bad"},
		{ServiceName: "demo", FunctionName: "hello", InvocationID: "c"},
	}
	refuse := &host.Error{Kind: host.KindConflict, Op: "test", Err: errors.New("refused")}
	calls := map[int]int{}
	out, errs := s.UpdateJobs(names, func(i int, j *host.Job) error {
		calls[i]++
		switch {
		case i == 2 && calls[i] == 1:
			// Another update of b lands after the snapshot.
			done := make(chan error)
			go func() {
				_, err := s.UpdateJob("demo", "hello", "b", func(j *host.Job) error { j.AlreadyRetriedTimes = 7; return nil })
				done <- err
			}()
			mustNil(t, <-done)
		case i == 4:
			return refuse
		}
		j.MaxRetries = 100 + i
		return nil
	})
	switch {
	case errs[0] != nil || out[0].MaxRetries != 100:
		t.Fatalf("a: %v %+v", errs[0], out[0])
	case host.ErrorKind(errs[1]) != host.KindNotFound:
		t.Fatalf("nope: %v", errs[1])
	case errs[2] != nil || out[2].MaxRetries != 102 || out[2].AlreadyRetriedTimes != 7 || calls[2] != 2:
		t.Fatalf("b: %v %+v, mutated %d times", errs[2], out[2], calls[2])
	case host.ErrorKind(errs[3]) != host.KindInvalidArgument:
		t.Fatalf("9bad: %v", errs[3])
	case !errors.Is(errs[4], refuse):
		t.Fatalf("c: %v", errs[4])
	}
	for id, want := range map[string]int{"a": 100, "b": 102, "c": 3} {
		j, err := s.GetJob("demo", "hello", id)
		mustNil(t, err)
		if j.MaxRetries != want {
			t.Fatalf("%s stored with MaxRetries %d, want %d", id, j.MaxRetries, want)
		}
	}
	if j, _ := s.GetJob("demo", "hello", "b"); j.AlreadyRetriedTimes != 7 {
		t.Fatalf("b lost the concurrent update: %+v", j)
	}
}

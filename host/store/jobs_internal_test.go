package store

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/fnhost/fnhost/host"
)

var jobT0 = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

func testJob(id string) host.Job {
	at := jobT0.UnixMilli()
	return host.Job{ServiceName: "svc", FunctionName: "fn", InvocationID: id, Status: host.JobEnqueued,
		StartedTime: at, NotBefore: at, Request: host.JobRequest{Method: "POST", Body: []byte("x")}}
}

func testClaim(now time.Time) func(*host.Job) {
	return func(j *host.Job) {
		j.LeaseUntil = now.Add(time.Minute).UnixMilli()
		if !j.Status.Finished() {
			j.Status = host.JobRunning
			j.Attempts++
		}
	}
}

// checkJobIndexes fails unless every job has exactly the entries its
// record calls for, with the record's expiry, and no entry is left
// without its job.
func checkJobIndexes(t *testing.T, s *Store) {
	t.Helper()
	want := map[string]uint64{} // index key → expiry
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixJob)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var j host.Job
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &j) }); err != nil {
				return err
			}
			if k := jobIndex(&j); k != nil {
				want[string(k)] = 0
				if it.Item().ExpiresAt() != 0 {
					t.Errorf("%s expires, but it is not done", it.Item().Key())
				}
			} else if it.Item().ExpiresAt() == 0 {
				t.Errorf("%s is done but does not expire", it.Item().Key())
			}
			if j.Status.Finished() && j.DestinationStatus != host.DestinationPending && j.LeaseUntil != 0 {
				t.Errorf("%s is done but holds a lease", it.Item().Key())
			}
			want[string(jobTimeKey(j.ServiceName, j.FunctionName, j.StartedTime, j.InvocationID))] = it.Item().ExpiresAt()
		}
		got := map[string]uint64{}
		for _, p := range []string{prefixJobTime, prefixJobQueue, prefixJobLease} {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(p)})
			for it.Rewind(); it.Valid(); it.Next() {
				got[string(it.Item().KeyCopy(nil))] = it.Item().ExpiresAt()
			}
			it.Close()
		}
		for k, exp := range want {
			if g, ok := got[k]; !ok {
				t.Errorf("missing index entry %s", k)
			} else if g != exp {
				t.Errorf("%s expires at %d, its job at %d", k, g, exp)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("index entry %s without its job", k)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestJobTTL checks the expiry Badger keeps for a finished job, rather
// than waiting for it: Badger expires by the wall clock.
func TestJobTTL(t *testing.T) {
	tests := []struct {
		name      string
		retention time.Duration
		want      time.Duration
	}{
		{"default", 0, DefaultJobRetention},
		{"set", 90 * time.Minute, 90 * time.Minute},
		{"under a second", time.Millisecond, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(t.TempDir(), Options{JobRetention: tc.retention})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			j := testJob("j")
			if err := s.EnqueueJob(j); err != nil {
				t.Fatal(err)
			}
			for _, k := range [][]byte{jobKey("svc", "fn", "j"), jobTimeKey("svc", "fn", j.StartedTime, "j")} {
				if exp := expiresAt(t, s, k); exp != 0 {
					t.Fatalf("unfinished job: %s expires at %d", k, exp)
				}
			}
			if _, err := s.ClaimJobs(jobT0, 1, nil, testClaim(jobT0)); err != nil {
				t.Fatal(err)
			}
			before := time.Now()
			if _, err := s.UpdateJob("svc", "fn", "j", func(j *host.Job) error {
				j.Status, j.LeaseUntil = host.JobFailed, 0
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			after := time.Now()
			lo, hi := uint64(before.Add(tc.want).Unix()), uint64(after.Add(tc.want).Unix())
			for _, k := range [][]byte{jobKey("svc", "fn", "j"), jobTimeKey("svc", "fn", j.StartedTime, "j")} {
				if exp := expiresAt(t, s, k); exp < lo || exp > hi {
					t.Errorf("%s expires at %d, want %d…%d", k, exp, lo, hi)
				}
			}
			if n := countKeys(t, s, prefixJobQueue) + countKeys(t, s, prefixJobLease); n != 0 {
				t.Errorf("%d queue or lease entries left", n)
			}
			checkJobIndexes(t, s)
		})
	}
	t.Run("negative", func(t *testing.T) {
		_, err := Open("", Options{InMemory: true, JobRetention: -time.Second})
		if host.ErrorKind(err) != host.KindInvalidArgument {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		s, err := Open(t.TempDir(), Options{JobRetention: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		j := testJob("gone")
		j.Status = host.JobExpired
		if err := s.EnqueueJob(j); err != nil {
			t.Fatal(err)
		}
		// Badger's TTL is in whole seconds: wait for the next two.
		time.Sleep(time.Until(time.Unix(time.Now().Unix()+2, 0)))
		if _, err := s.GetJob("svc", "fn", "gone"); host.ErrorKind(err) != host.KindNotFound {
			t.Fatalf("expired job: %v", err)
		}
		if err := s.EnqueueJob(testJob("gone")); err != nil {
			t.Fatalf("id of an expired job: %v", err)
		}
	})
}

func TestJobKeys(t *testing.T) {
	if got, want := msHex(jobT0.UnixMilli()), fmt.Sprintf("%016x", jobT0.UnixMilli()); got != want {
		t.Fatalf("msHex = %s, want %s", got, want)
	}
	if got := msHex(-5); got != "0000000000000000" {
		t.Fatalf("msHex(-5) = %s", got)
	}
	k := jobIndexKey(prefixJobQueue, 42, "svc", "fn", "id-1")
	if string(k) != "v1/jobq/000000000000002a/svc/fn/id-1" {
		t.Fatalf("key %s", k)
	}
	ref, ok := parseJobIndexKey(prefixJobQueue, k)
	if !ok || ref.ms != 42 || ref.svc != "svc" || ref.fn != "fn" || ref.id != "id-1" || !bytes.Equal(ref.key, k) {
		t.Fatalf("parsed %+v, %v", ref, ok)
	}
	for _, bad := range []string{"v1/jobq/000000000000002a/svc/fn", "v1/jobq/000000000000002A/svc/fn/id",
		"v1/jobq/000000000000002a/svc/fn/id/x", "v1/joblease/000000000000002a/svc/fn/id", "v1/jobq/8000000000000000/s/f/i"} {
		if _, ok := parseJobIndexKey(prefixJobQueue, []byte(bad)); ok {
			t.Errorf("parsed %s", bad)
		}
	}
}

// FuzzJobIndexKey: what parses rebuilds to the same key.
func FuzzJobIndexKey(f *testing.F) {
	for _, k := range []string{"v1/jobq/000000000000002a/svc/fn/id-1", "v1/jobq/ffffffffffffffff/a/b/c", "v1/jobq//a/b/c"} {
		f.Add([]byte(k))
	}
	f.Fuzz(func(t *testing.T, k []byte) {
		ref, ok := parseJobIndexKey(prefixJobQueue, k)
		if !ok {
			return
		}
		if back := jobIndexKey(prefixJobQueue, ref.ms, ref.svc, ref.fn, ref.id); !bytes.Equal(back, k) {
			t.Fatalf("parse(%q) = %+v rebuilds to %q", k, ref, back)
		}
	})
}

// FuzzJobToken: any string is safely rejected or parsed, and what parses
// is a position this package could have issued.
func FuzzJobToken(f *testing.F) {
	f.Add(jobToken(true, "0000000000000001/a"), true)
	f.Add(jobToken(false, "0000000000000001/a"), false)
	f.Add("!!", true)
	f.Fuzz(func(t *testing.T, tok string, desc bool) {
		suffix, ok := parseJobToken(tok, desc)
		if !ok {
			return
		}
		if back := jobToken(desc, suffix); back != tok {
			t.Fatalf("token %q parses to %q, which gives %q", tok, suffix, back)
		}
	})
}

// TestClaimHammer: claimers race for 2,000 jobs while a reaper requeues
// nothing (leases are long); every job is claimed and finished exactly
// once, and the indexes stay exact.
func TestClaimHammer(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const jobs, claimers = 2000, 8
	var enq sync.WaitGroup
	for w := range 4 {
		enq.Go(func() {
			for i := w; i < jobs; i += 4 {
				j := testJob(fmt.Sprintf("j%04d", i))
				j.NotBefore += int64(i % 50) // spread over the queue
				if err := s.EnqueueJob(j); err != nil {
					t.Error(err)
				}
			}
		})
	}
	var (
		mu       sync.Mutex
		claims   = map[string]int{}
		finished atomic.Int64
		wg       sync.WaitGroup
	)
	now := jobT0.Add(time.Second)
	for w := range claimers {
		wg.Go(func() {
			idle := 0
			for finished.Load() < jobs && idle < 1000 {
				got, err := s.ClaimJobs(now, 1+w*9, nil, testClaim(now)) // batches of 1 to 64
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					idle++
					time.Sleep(time.Millisecond)
					continue
				}
				idle = 0
				for _, j := range got {
					mu.Lock()
					claims[j.InvocationID]++
					mu.Unlock()
					if _, err := s.UpdateJob(j.ServiceName, j.FunctionName, j.InvocationID, func(j *host.Job) error {
						if j.Status != host.JobRunning {
							return fmt.Errorf("finishing a %s job", j.Status)
						}
						j.Status, j.LeaseUntil = host.JobSucceeded, 0
						return nil
					}); err != nil {
						t.Error(err)
						return
					}
					finished.Add(1)
				}
			}
		})
	}
	enq.Wait()
	wg.Wait()
	if len(claims) != jobs || finished.Load() != jobs {
		t.Fatalf("%d jobs claimed, %d finished, want %d", len(claims), finished.Load(), jobs)
	}
	for id, n := range claims {
		if n != 1 {
			t.Errorf("%s claimed %d times", id, n)
		}
	}
	if n := countKeys(t, s, prefixJobQueue) + countKeys(t, s, prefixJobLease); n != 0 {
		t.Errorf("%d queue or lease entries left", n)
	}
	checkJobIndexes(t, s)
}

// TestClaimBigJobs: a batch too big for one Badger transaction is claimed
// job by job.
func TestClaimBigJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 24 MB")
	}
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	body := []byte(strings.Repeat("x", 128<<10)) // the async body limit
	for i := range 64 {
		j := testJob(fmt.Sprintf("big%02d", i))
		j.Request.Body, j.InvocationPayload = body, string(body)
		if err := s.EnqueueJob(j); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ClaimJobs(jobT0, 64, nil, testClaim(jobT0))
	if err != nil || len(got) != 64 {
		t.Fatalf("claimed %d, %v", len(got), err)
	}
	checkJobIndexes(t, s)
}

// TestStaleJobEntries: an index entry without its job, or that is not
// its job's, does not stop the queue and is dropped.
func TestStaleJobEntries(t *testing.T) {
	s, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.EnqueueJob(testJob("ok")); err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(jobIndexKey(prefixJobQueue, 1, "svc", "fn", "orphan"), nil); err != nil {
			return err
		}
		if err := txn.Set(jobIndexKey(prefixJobQueue, 2, "svc", "fn", "ok"), nil); err != nil { // wrong time
			return err
		}
		if err := txn.Set(jobKey("svc", "fn", "junk"), []byte("{")); err != nil {
			return err
		}
		return txn.Set(jobIndexKey(prefixJobQueue, 3, "svc", "fn", "junk"), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ClaimJobs(jobT0, 10, nil, testClaim(jobT0))
	if err != nil || len(got) != 1 || got[0].InvocationID != "ok" {
		t.Fatalf("claimed %+v, %v", got, err)
	}
	if n := countKeys(t, s, prefixJobQueue); n != 1 { // the undecodable job's, left for a person
		t.Fatalf("%d queue entries left", n)
	}
}

// TestJobQueueModel runs random enqueues, claims, retries, finishes and
// requeues against a model of the queue: every claim returns exactly the
// due jobs the model has, in order, whatever the marks did; and the
// indexes stay exact.
func TestJobQueueModel(t *testing.T) {
	s, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	type state struct {
		notBefore, leaseUntil int64
		done                  bool
	}
	model := map[string]*state{}
	rng := rand.New(rand.NewPCG(1, 2))
	now := jobT0.UnixMilli()
	next := 0
	queued := func() []string { // due order: NotBefore, then id
		var ids []string
		for id, st := range model {
			if !st.done && st.leaseUntil == 0 && st.notBefore <= now {
				ids = append(ids, id)
			}
		}
		slices.SortFunc(ids, func(a, b string) int {
			return cmp.Or(cmp.Compare(model[a].notBefore, model[b].notBefore), cmp.Compare(a, b))
		})
		return ids
	}
	leased := func() []string {
		var ids []string
		for id, st := range model {
			if !st.done && st.leaseUntil > 0 {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		return ids
	}
	for step := range 3000 {
		switch op := rng.IntN(10); {
		case op < 3: // enqueue, due anywhere from 50 s ago to 50 s ahead
			id := fmt.Sprintf("j%05d", next)
			next++
			j := testJob(id)
			j.NotBefore = now + rng.Int64N(100_000) - 50_000
			if err := s.EnqueueJob(j); err != nil {
				t.Fatal(err)
			}
			model[id] = &state{notBefore: j.NotBefore}
		case op < 6: // claim
			n := 1 + rng.IntN(8)
			want := queued()
			want = want[:min(n, len(want))]
			lease := now + 1 + rng.Int64N(60_000)
			got, err := s.ClaimJobs(time.UnixMilli(now), n, nil, func(j *host.Job) {
				j.Status, j.LeaseUntil = host.JobRunning, lease
			})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, j := range got {
				ids = append(ids, j.InvocationID)
				model[j.InvocationID].leaseUntil = lease
			}
			if !slices.Equal(ids, want) {
				t.Fatalf("step %d: claimed %v, want %v", step, ids, want)
			}
		case op < 8: // a worker finishes or retries a leased job
			ids := leased()
			if len(ids) == 0 {
				continue
			}
			id := ids[rng.IntN(len(ids))]
			retry := rng.IntN(2) == 0
			nb := now + rng.Int64N(100_000) - 50_000
			if _, err := s.UpdateJob("svc", "fn", id, func(j *host.Job) error {
				j.LeaseUntil = 0
				if retry {
					j.Status, j.NotBefore = host.JobRetrying, nb
				} else {
					j.Status = host.JobSucceeded
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			st := model[id]
			st.leaseUntil = 0
			if retry {
				st.notBefore = nb
			} else {
				st.done = true
			}
		case op < 9: // the reaper
			want := 0
			for _, st := range model {
				if !st.done && st.leaseUntil > 0 && st.leaseUntil <= now {
					st.leaseUntil = 0
					want++
				}
			}
			if n, err := s.RequeueLeased(time.UnixMilli(now)); err != nil || n != want {
				t.Fatalf("step %d: requeued %d, %v; want %d", step, n, err, want)
			}
		default:
			now += rng.Int64N(20_000)
		}
	}
	checkJobIndexes(t, s)
	// A restart: everything unfinished is claimable, once.
	if _, err := s.RequeueLeased(time.Time{}); err != nil {
		t.Fatal(err)
	}
	now += 1e9
	var want []string
	for id, st := range model {
		if !st.done {
			want = append(want, id)
		}
	}
	got, err := s.ClaimJobs(time.UnixMilli(now), len(model)+1, nil, testClaim(time.UnixMilli(now)))
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, j := range got {
		ids = append(ids, j.InvocationID)
	}
	slices.Sort(ids)
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Fatalf("after the restart claimed %d jobs, want %d", len(ids), len(want))
	}
	t.Logf("%d jobs, %d unfinished at the end", len(model), len(want))
}

// TestIndexMark: a scan raises the mark only when no write came between
// its read of the mark and the raise.
func TestIndexMark(t *testing.T) {
	var m indexMark
	ms, gen := m.get()
	m.raise(gen, 100)
	if got, _ := m.get(); got != 100 || ms != 0 {
		t.Fatalf("mark %d", got)
	}
	_, gen = m.get()
	m.lower(150) // a write above the mark still counts
	m.raise(gen, 200)
	if got, _ := m.get(); got != 100 {
		t.Fatalf("raised over a write: %d", got)
	}
	m.lower(-5)
	if got, _ := m.get(); got != 0 {
		t.Fatalf("lowered to %d", got)
	}
}

// TestJobGroupSplits: groups too big for one transaction, or that
// conflict with claims, are split until they commit; nothing is lost or
// applied twice.
func TestJobGroupSplits(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 40 MB")
	}
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	body := strings.Repeat("x", 128<<10)
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Go(func() {
			for i := range 2 {
				j := testJob(fmt.Sprintf("big%02d_%d", w, i))
				j.Request.Body, j.InvocationPayload = []byte(body), body
				if err := s.EnqueueJob(j); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := countKeys(t, s, prefixJob); n != 128 {
		t.Fatalf("%d jobs stored, want 128", n)
	}

	ids := []string{"c0", "c1", "c2", "c3"}
	for _, id := range ids {
		if err := s.EnqueueJob(testJob(id)); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var churn sync.WaitGroup
	churn.Go(func() { // moves the counters between queue and lease
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.RequeueLeased(time.Time{}); err != nil {
				t.Error(err)
			}
			now := time.Now()
			if _, err := s.ClaimJobs(now, 100, nil, testClaim(now)); err != nil {
				t.Error(err)
			}
		}
	})
	var updates atomic.Int64
	for w := range 16 {
		wg.Go(func() {
			for i := range 100 {
				if _, err := s.UpdateJob("svc", "fn", ids[(w+i)%len(ids)], func(j *host.Job) error {
					j.AlreadyRetriedTimes++
					return nil
				}); err != nil {
					t.Error(err)
					return
				}
				updates.Add(1)
			}
		})
	}
	wg.Wait()
	close(stop)
	churn.Wait()
	total := 0
	for _, id := range ids {
		j, err := s.GetJob("svc", "fn", id)
		if err != nil {
			t.Fatal(err)
		}
		total += j.AlreadyRetriedTimes
	}
	if int64(total) != updates.Load() {
		t.Fatalf("counters sum to %d, %d updates", total, updates.Load())
	}
	checkJobIndexes(t, s)
}

// TestJobCache: a rewrite takes the job its Store cached when it wrote the
// record, and only when the stored bytes are the ones it wrote; a done job
// is not cached, and the cache stays bounded.
func TestJobCache(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := &s.jobGroup.cache
	cached := func(id string) bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.m[string(jobKey("svc", "fn", id))]
		return ok
	}
	mustEnqueue := func(j host.Job) {
		t.Helper()
		if err := s.EnqueueJob(j); err != nil {
			t.Fatal(err)
		}
	}
	mustEnqueue(testJob("a"))
	mustEnqueue(testJob("b"))
	if !cached("a") || !cached("b") {
		t.Fatal("enqueued jobs not cached")
	}
	// b's record changes behind the cache's back: its entry must not be used.
	b := testJob("b")
	b.MaxRetries = 9
	val, _ := json.Marshal(b)
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(jobKey("svc", "fn", "b"), val) }); err != nil {
		t.Fatal(err)
	}
	got, err := s.ClaimJobs(jobT0, 2, nil, testClaim(jobT0))
	if err != nil || len(got) != 2 || got[1].InvocationID != "b" || got[1].MaxRetries != 9 {
		t.Fatalf("%v %+v", err, got)
	}
	// The caller owns what it got: changing it does not reach the cache.
	got[0].Request.Body[0] = 'X'
	done, err := s.UpdateJob("svc", "fn", "a", func(j *host.Job) error {
		if string(j.Request.Body) != "x" {
			return fmt.Errorf("body %q", j.Request.Body)
		}
		j.Status, j.LeaseUntil = host.JobSucceeded, 0
		return nil
	})
	if err != nil || done.Status != host.JobSucceeded {
		t.Fatalf("%v %+v", err, done)
	}
	if cached("a") {
		t.Fatal("a done job is cached")
	}
	for i := range maxCachedJobs + 10 {
		mustEnqueue(testJob(fmt.Sprintf("m%d", i)))
	}
	c.mu.Lock()
	n := len(c.m)
	c.mu.Unlock()
	if n > maxCachedJobs {
		t.Fatalf("%d jobs cached", n)
	}
	checkJobIndexes(t, s)
}

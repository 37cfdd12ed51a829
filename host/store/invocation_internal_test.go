package store

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/rs/zerolog"

	"github.com/fnhost/fnhost/host"
)

func testInvocation(id string) host.Invocation {
	return host.Invocation{RequestID: id, ServiceName: "svc", FunctionName: "fn",
		Time: time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC), Status: 200}
}

// expiresAt returns the Badger expiry (Unix seconds) of key.
func expiresAt(t *testing.T, s *Store, key []byte) uint64 {
	t.Helper()
	var exp uint64
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if err != nil {
			return err
		}
		exp = item.ExpiresAt()
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return exp
}

// TestInvocationTTL checks the expiry Badger keeps for both entries of a
// record, rather than waiting for it: Badger expires by the wall clock.
func TestInvocationTTL(t *testing.T) {
	tests := []struct {
		name      string
		retention time.Duration
		want      time.Duration
	}{
		{"default", 0, DefaultInvocationRetention},
		{"set", 90 * time.Minute, 90 * time.Minute},
		{"under a second", time.Millisecond, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open("", Options{InMemory: true, InvocationRetention: tc.retention,
				Now: func() time.Time { return time.Unix(0, 0) }}) // must not matter
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			rec := testInvocation("r1")
			before := time.Now()
			if err := s.PutInvocations([]host.Invocation{rec}); err != nil {
				t.Fatal(err)
			}
			after := time.Now()
			order := invocationOrder(rec.Time)
			lo, hi := uint64(before.Add(tc.want).Unix()), uint64(after.Add(tc.want).Unix())
			for _, k := range [][]byte{invocationKey("svc", "fn", order, "r1"), invocationIDKey("svc", "fn", "r1", order)} {
				if exp := expiresAt(t, s, k); exp < lo || exp > hi {
					t.Errorf("%s expires at %d, want %d…%d", k, exp, lo, hi)
				}
			}
		})
	}
}

// TestPutInvocationsLargeBatch: a batch over Badger's transaction size
// (15% of the 64 MB memtable) is committed in several transactions.
func TestPutInvocationsLargeBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 24 MB")
	}
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 48
	logText := strings.Repeat("x", 500<<10) // under the 1 MB value threshold: counts fully
	recs := make([]host.Invocation, n)
	for i := range recs {
		recs[i] = testInvocation(fmt.Sprintf("r%02d", i))
		recs[i].Log = logText
	}
	stored, err := s.putInvocations(recs)
	if err != nil || stored != n {
		t.Fatalf("stored %d, %v", stored, err)
	}
	if got := countKeys(t, s, prefixInvocation); got != n {
		t.Fatalf("%d records, want %d", got, n)
	}
	if got := countKeys(t, s, prefixInvocationID); got != n {
		t.Fatalf("%d index entries, want %d", got, n)
	}
}

func TestInvocationOrder(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Unix(0, 0), "ffffffffffffffff"},
		{time.Unix(0, 1), "fffffffffffffffe"},
		{time.Unix(-1, 0), "ffffffffffffffff"},
		{time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), "8000000000000000"},
		{time.Unix(1, 0), fmt.Sprintf("%016x", ^uint64(0)-1e9)},
	}
	for _, tc := range tests {
		if got := invocationOrder(tc.t); got != tc.want {
			t.Errorf("invocationOrder(%v) = %s, want %s", tc.t, got, tc.want)
		}
	}
}

// FuzzInvocationToken: any string is safely rejected or parsed, and what
// parses is a position this package could have issued.
func FuzzInvocationToken(f *testing.F) {
	f.Add(invocationToken(invocationOrder(time.Now()) + "/req-1"))
	f.Add("")
	f.Add("%%%")
	f.Add(strings.Repeat("A", 300))
	f.Fuzz(func(t *testing.T, tok string) {
		order, id, ok := parseInvocationToken(tok)
		if !ok {
			return
		}
		if !validOrder(order) || validRequestID(id) != nil {
			t.Fatalf("parsed %q to %q %q", tok, order, id)
		}
		if o2, id2, ok := parseInvocationToken(invocationToken(order + "/" + id)); !ok || o2 != order || id2 != id {
			t.Fatalf("re-encoded %q/%q does not parse back", order, id)
		}
	})
}

// putHook is a put function for newInvocationWriter that tests control.
type putHook struct {
	fail    atomic.Bool
	block   chan struct{} // when non-nil, put waits for it to close
	entered chan struct{} // when non-nil, put signals each call
	mu      sync.Mutex
	got     []string
}

func (h *putHook) put(recs []host.Invocation) (int, error) {
	if h.entered != nil {
		h.entered <- struct{}{}
	}
	if h.block != nil {
		<-h.block
	}
	if h.fail.Load() {
		return 0, &host.Error{Kind: host.KindInternal, Op: "test", Err: errors.New("disk on fire")}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range recs {
		h.got = append(h.got, r.RequestID)
	}
	return len(recs), nil
}

// TestWriterFailures: failed batches are dropped and logged once per
// interval, and the writer keeps going.
func TestWriterFailures(t *testing.T) {
	var logs bytes.Buffer
	h := &putHook{}
	h.fail.Store(true)
	w := newInvocationWriter(h.put, WriterOptions{MaxBatch: 4, Logger: zerolog.New(&logs)})
	w.logEvery = time.Hour
	for i := range 40 { // ten failed batches
		w.Record(testInvocation(fmt.Sprint(i)))
	}
	if err := w.Flush(t.Context()); host.ErrorKind(err) != host.KindInternal {
		t.Fatalf("Flush = %v, want the write failure", err)
	}
	if w.Dropped() != 40 || w.Written() != 0 {
		t.Fatalf("dropped %d written %d", w.Dropped(), w.Written())
	}
	h.fail.Store(false)
	w.Record(testInvocation("ok"))
	if err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if w.Written() != 1 {
		t.Fatalf("writer stopped after failures: written %d", w.Written())
	}
	if n := strings.Count(logs.String(), "invocation logs not stored"); n != 1 {
		t.Fatalf("%d failure log lines for ten failed writes, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `"error":"test: internal: disk on fire"`) {
		t.Fatalf("log lacks the error:\n%s", logs.String())
	}
	// Close sums up what the interval held back.
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `"failedWrites":9,"droppedRecords":36`) {
		t.Fatalf("Close did not report the suppressed failures:\n%s", logs.String())
	}
}

// TestWriterFullBuffer: with the disk stuck, Record fails fast and counts.
func TestWriterFullBuffer(t *testing.T) {
	h := &putHook{block: make(chan struct{}), entered: make(chan struct{}, 10)}
	w := newInvocationWriter(h.put, WriterOptions{Buffer: 4, MaxBatch: 1})
	w.Record(testInvocation("first"))
	<-h.entered // the writer holds "first" and is stuck in put
	for i := range 4 {
		if !w.Record(testInvocation(fmt.Sprint("queued", i))) {
			t.Fatalf("record %d refused with room in the buffer", i)
		}
	}
	start := time.Now()
	for range 1000 {
		if w.Record(testInvocation("over")) {
			t.Fatal("Record accepted with the buffer full")
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("1000 refused Records took %v", d)
	}
	if w.Dropped() != 1000 {
		t.Fatalf("dropped %d, want 1000", w.Dropped())
	}
	close(h.block) // entered has room for the four calls to come
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if w.Written() != 5 {
		t.Fatalf("written %d, want 5 (%v)", w.Written(), h.got)
	}
}

// BenchmarkInvocationWriterRecord measures Record, the invocation path's
// cost: "queue" when the record fits in the buffer, "full" when it is
// dropped (serial and from all CPUs), and "store" the writer's capacity:
// records persisted to an in-memory Store per second of ns/op, with the
// producer waiting for room instead of dropping.
func BenchmarkInvocationWriterRecord(b *testing.B) {
	rec := testInvocation("1-658af93f-a6c8f2d1e2b3c4d5e6f7a8b9")
	rec.Log = "hello from the guest\n"
	discard := func(r []host.Invocation) (int, error) { return len(r), nil }
	dropRate := func(b *testing.B, w *InvocationWriter) {
		b.StopTimer()
		if err := w.Close(b.Context()); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(w.Dropped())/float64(w.Dropped()+w.Written()), "dropped/op")
	}

	b.Run("queue", func(b *testing.B) {
		w := newInvocationWriter(discard, WriterOptions{})
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if i++; i%DefaultWriterBuffer == 0 { // empty the buffer, untimed
				b.StopTimer()
				w.Flush(b.Context())
				b.StartTimer()
			}
			w.Record(rec)
		}
		dropRate(b, w)
	})
	for _, parallel := range []bool{false, true} {
		name := map[bool]string{false: "full/serial", true: "full/parallel"}[parallel]
		b.Run(name, func(b *testing.B) {
			block := make(chan struct{})
			w := newInvocationWriter(func(r []host.Invocation) (int, error) { <-block; return len(r), nil },
				WriterOptions{Buffer: 1, MaxBatch: 1})
			for w.Record(rec) { // fill the writer's batch and the buffer
			}
			b.ReportAllocs()
			b.ResetTimer()
			if parallel {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						w.Record(rec)
					}
				})
			} else {
				for b.Loop() {
					w.Record(rec)
				}
			}
			close(block)
			dropRate(b, w)
		})
	}
	b.Run("store", func(b *testing.B) {
		s, err := Open("", Options{InMemory: true})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		w := NewInvocationWriter(s, WriterOptions{})
		b.ReportAllocs()
		for b.Loop() {
			for !w.Record(rec) {
				w.dropped.Add(^uint64(0)) // a retry, not a loss
				runtime.Gosched()
			}
		}
		if err := w.Flush(b.Context()); err != nil {
			b.Fatal(err)
		}
		dropRate(b, w)
	})
}

package store_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/store"
)

var t0 = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

// inv is a record of demo/hello that started i seconds after t0.
func inv(id string, i int) host.Invocation {
	return host.Invocation{
		RequestID: id, ServiceName: "demo", FunctionName: "hello", Qualifier: "LATEST",
		Time: t0.Add(time.Duration(i) * time.Second), DurationMs: 1.5, Status: 200, Log: "log of " + id,
	}
}

func ids(recs []host.Invocation) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, r.RequestID)
	}
	return out
}

func TestInvocationsRoundTrip(t *testing.T) {
	s := openStore(t, t.TempDir())
	want := inv("r1", 0)
	want.Status, want.ErrorKind, want.ErrorMessage, want.Cold = 0, "trap", "unreachable", true
	want.Log = "line 1\nline 2\n"
	mustNil(t, s.PutInvocations([]host.Invocation{want}))
	got, next, err := s.ListInvocations("demo", "hello", store.InvocationListOptions{})
	mustNil(t, err)
	if len(got) != 1 || got[0] != want || next != "" {
		t.Fatalf("got %+v next %q, want %+v", got, next, want)
	}
	t.Run("zero time takes the store's clock", func(t *testing.T) {
		rec := inv("r0", 0)
		rec.Time = time.Time{}
		mustNil(t, s.PutInvocations([]host.Invocation{rec}))
		got, _, err := s.ListInvocations("demo", "hello", store.InvocationListOptions{RequestID: "r0"})
		mustNil(t, err)
		if len(got) != 1 || !got[0].Time.Equal(t0) { // openStore's clock
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("other functions see nothing", func(t *testing.T) {
		for _, fn := range []string{"hell", "hello2", "nope"} {
			got, next, err := s.ListInvocations("demo", fn, store.InvocationListOptions{})
			mustNil(t, err)
			if got == nil || len(got) != 0 || next != "" {
				t.Fatalf("%s: got %v next %q", fn, got, next)
			}
		}
	})
	t.Run("deleting the function keeps its records", func(t *testing.T) {
		_, err := s.CreateService(host.Service{ServiceName: "demo"})
		mustNil(t, err)
		_, err = s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: "hello"}, wasmA)
		mustNil(t, err)
		mustNil(t, s.DeleteFunction("demo", "hello"))
		got, _, err := s.ListInvocations("demo", "hello", store.InvocationListOptions{})
		mustNil(t, err)
		if len(got) != 2 {
			t.Fatalf("got %v", ids(got))
		}
	})
}

func TestInvocationsOrder(t *testing.T) {
	s := openStore(t, t.TempDir())
	recs := []host.Invocation{inv("c", 3), inv("a", 1), inv("e", 5), inv("b", 2), inv("d", 4),
		inv("d2", 4), // same start as "d": ties go by request id
		inv("old", -1e9), inv("nano", 1)}
	recs[len(recs)-1].Time = recs[len(recs)-1].Time.Add(time.Nanosecond)
	recs[6].Time = time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC) // before 1970 sorts last
	mustNil(t, s.PutInvocations(recs[:4]))
	mustNil(t, s.PutInvocations(recs[4:])) // write order does not matter
	got, _, err := s.ListInvocations("demo", "hello", store.InvocationListOptions{})
	mustNil(t, err)
	if want := []string{"e", "d", "d2", "c", "b", "nano", "a", "old"}; !slices.Equal(ids(got), want) {
		t.Fatalf("order %v, want %v", ids(got), want)
	}
}

func TestInvocationsPaging(t *testing.T) {
	s := openStore(t, t.TempDir())
	var recs []host.Invocation
	for i := range 7 {
		recs = append(recs, inv(fmt.Sprintf("r%d", i), i))
	}
	mustNil(t, s.PutInvocations(recs))
	var pages [][]string
	o := store.InvocationListOptions{Limit: 3}
	for range 10 {
		got, next, err := s.ListInvocations("demo", "hello", o)
		mustNil(t, err)
		pages = append(pages, ids(got))
		if next == "" {
			break
		}
		o.NextToken = next
		// A record written between pages is newer than the walk's start.
		mustNil(t, s.PutInvocations([]host.Invocation{inv(fmt.Sprintf("late%d", len(pages)), 100+len(pages))}))
	}
	want := [][]string{{"r6", "r5", "r4"}, {"r3", "r2", "r1"}, {"r0"}}
	if !slices.EqualFunc(pages, want, slices.Equal) {
		t.Fatalf("pages %v, want %v", pages, want)
	}
	t.Run("exact fit has no token", func(t *testing.T) {
		_, next, err := s.ListInvocations("demo", "hello", store.InvocationListOptions{Limit: 9})
		mustNil(t, err)
		if next != "" {
			t.Fatalf("next %q", next)
		}
	})
}

func TestInvocationsByRequestID(t *testing.T) {
	s := openStore(t, t.TempDir())
	// "retry" is an async request tried three times; "re" is a prefix of it.
	recs := []host.Invocation{inv("retry", 1), inv("re", 2), inv("retry", 3), inv("other", 4), inv("retry", 5)}
	for i := range recs {
		recs[i].DurationMs = float64(i)
	}
	recs = append(recs, host.Invocation{RequestID: "retry", ServiceName: "demo", FunctionName: "other", Time: t0})
	mustNil(t, s.PutInvocations(recs))

	durations := func(recs []host.Invocation) []float64 {
		var out []float64
		for _, r := range recs {
			out = append(out, r.DurationMs)
		}
		return out
	}
	tests := []struct {
		name string
		id   string
		want []float64 // DurationMs identifies the attempt
	}{
		{"one", "re", []float64{1}},
		{"retried, newest first", "retry", []float64{4, 2, 0}},
		{"absent", "nope", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, next, err := s.ListInvocations("demo", "hello", store.InvocationListOptions{RequestID: tc.id})
			mustNil(t, err)
			if got == nil || !slices.Equal(durations(got), tc.want) || next != "" {
				t.Fatalf("got %v (%v) next %q, want %v", durations(got), got, next, tc.want)
			}
		})
	}
	t.Run("paged", func(t *testing.T) {
		var all []float64
		o := store.InvocationListOptions{RequestID: "retry", Limit: 1}
		for range 5 {
			got, next, err := s.ListInvocations("demo", "hello", o)
			mustNil(t, err)
			all = append(all, durations(got)...)
			if next == "" {
				break
			}
			o.NextToken = next
		}
		if !slices.Equal(all, []float64{4, 2, 0}) {
			t.Fatalf("walk %v", all)
		}
	})
	t.Run("token of another request", func(t *testing.T) {
		_, next, err := s.ListInvocations("demo", "hello", store.InvocationListOptions{RequestID: "retry", Limit: 1})
		mustNil(t, err)
		_, _, err = s.ListInvocations("demo", "hello", store.InvocationListOptions{RequestID: "re", NextToken: next})
		checkErr(t, err, host.KindInvalidArgument, 0)
		// The plain listing accepts it: the token is a position.
		got, _, err := s.ListInvocations("demo", "hello", store.InvocationListOptions{NextToken: next})
		mustNil(t, err)
		if !slices.Equal(ids(got), []string{"retry", "re", "retry"}) {
			t.Fatalf("got %v", ids(got))
		}
	})
}

func TestInvocationsLimit(t *testing.T) {
	s := openStore(t, t.TempDir())
	var recs []host.Invocation
	for i := range store.MaxListLimit + 5 {
		recs = append(recs, inv(fmt.Sprintf("r%03d", i), i))
	}
	mustNil(t, s.PutInvocations(recs))
	tests := []struct {
		limit, want int
	}{
		{0, store.DefaultListLimit},
		{1, 1},
		{store.MaxListLimit, store.MaxListLimit},
		{store.MaxListLimit + 1, store.MaxListLimit},
		{1 << 40, store.MaxListLimit},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.limit), func(t *testing.T) {
			got, next, err := s.ListInvocations("demo", "hello", store.InvocationListOptions{Limit: tc.limit})
			mustNil(t, err)
			if len(got) != tc.want || next == "" {
				t.Fatalf("%d records, next %q; want %d and a token", len(got), next, tc.want)
			}
		})
	}
	t.Run("negative", func(t *testing.T) {
		_, _, err := s.ListInvocations("demo", "hello", store.InvocationListOptions{Limit: -1})
		checkErr(t, err, host.KindInvalidArgument, 0)
	})
}

func TestInvocationsBadArguments(t *testing.T) {
	s := openStore(t, t.TempDir())
	mustNil(t, s.PutInvocations([]host.Invocation{inv("a", 1), inv("b", 2)}))
	_, next, err := s.ListInvocations("demo", "hello", store.InvocationListOptions{Limit: 1})
	mustNil(t, err)
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	order := strings.Repeat("f", 16)
	tests := []struct {
		name string
		svc  string
		fn   string
		o    store.InvocationListOptions
	}{
		{"bad service", "a/b", "hello", store.InvocationListOptions{}},
		{"bad function", "demo", "", store.InvocationListOptions{}},
		{"request id with slash", "demo", "hello", store.InvocationListOptions{RequestID: "a/b"}},
		{"request id too long", "demo", "hello", store.InvocationListOptions{RequestID: strings.Repeat("x", 129)}},
		{"token not base64", "demo", "hello", store.InvocationListOptions{NextToken: "%%%"}},
		{"token padded", "demo", "hello", store.InvocationListOptions{NextToken: next + "=="}},
		{"token without separator", "demo", "hello", store.InvocationListOptions{NextToken: b64(order)}},
		{"token short order", "demo", "hello", store.InvocationListOptions{NextToken: b64("ff/a")}},
		{"token upper-case order", "demo", "hello", store.InvocationListOptions{NextToken: b64(strings.ToUpper(order) + "/a")}},
		{"token empty id", "demo", "hello", store.InvocationListOptions{NextToken: b64(order + "/")}},
		{"token id with slash", "demo", "hello", store.InvocationListOptions{NextToken: b64(order + "/a/b")}},
		{"token huge", "demo", "hello", store.InvocationListOptions{NextToken: strings.Repeat("A", 1<<20)}},
		{"token of a name list", "demo", "hello", store.InvocationListOptions{NextToken: "a2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.ListInvocations(tc.svc, tc.fn, tc.o)
			checkErr(t, err, host.KindInvalidArgument, 0)
		})
	}
	t.Run("valid token parts are accepted", func(t *testing.T) {
		got, _, err := s.ListInvocations("demo", "hello", store.InvocationListOptions{NextToken: b64(order + "/zzz")})
		mustNil(t, err)
		if len(got) != 0 { // the oldest possible position
			t.Fatalf("got %v", ids(got))
		}
	})
}

func TestPutInvocationsSkipsInvalid(t *testing.T) {
	s := openStore(t, t.TempDir())
	bad := func(f func(*host.Invocation)) host.Invocation {
		r := inv("bad", 0)
		f(&r)
		return r
	}
	recs := []host.Invocation{
		inv("good1", 1),
		bad(func(r *host.Invocation) { r.ServiceName = "1x" }),
		bad(func(r *host.Invocation) { r.FunctionName = "" }),
		bad(func(r *host.Invocation) { r.RequestID = "" }),
		bad(func(r *host.Invocation) { r.RequestID = "a/b" }),
		bad(func(r *host.Invocation) { r.RequestID = strings.Repeat("x", store.MaxRequestIDLen+1) }),
		bad(func(r *host.Invocation) { r.RequestID = "a\nb" }),
		bad(func(r *host.Invocation) { r.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }), // no JSON form
		inv(strings.Repeat("x", store.MaxRequestIDLen), 2),
	}
	err := s.PutInvocations(recs)
	checkErr(t, err, host.KindInvalidArgument, 0)
	for i := 1; i <= 7; i++ {
		if !strings.Contains(err.Error(), fmt.Sprintf("record %d:", i)) {
			t.Errorf("error does not name record %d: %v", i, err)
		}
	}
	if strings.Contains(err.Error(), "record 0:") || strings.Contains(err.Error(), "record 8:") {
		t.Errorf("error names a good record: %v", err)
	}
	got, _, err := s.ListInvocations("demo", "hello", store.InvocationListOptions{})
	mustNil(t, err)
	if want := []string{strings.Repeat("x", store.MaxRequestIDLen), "good1"}; !slices.Equal(ids(got), want) {
		t.Fatalf("stored %v, want %v", ids(got), want)
	}
}

func TestInvocationRetentionOption(t *testing.T) {
	_, err := store.Open("", store.Options{InMemory: true, InvocationRetention: -time.Second})
	checkErr(t, err, host.KindInvalidArgument, 0)
}

func TestInvocationWriter(t *testing.T) {
	s := openStore(t, t.TempDir())
	w := store.NewInvocationWriter(s, store.WriterOptions{MaxBatch: 64})
	const workers, each = 16, 200 // fits the default buffer
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := range each {
				if !w.Record(inv(fmt.Sprintf("g%d-%d", g, i), g*each+i)) {
					t.Error("Record refused with room in the buffer")
				}
			}
		})
	}
	wg.Wait()
	mustNil(t, w.Flush(t.Context()))
	if w.Written() != workers*each || w.Dropped() != 0 {
		t.Fatalf("written %d dropped %d", w.Written(), w.Dropped())
	}
	n := 0
	for o := (store.InvocationListOptions{Limit: store.MaxListLimit}); ; {
		got, next, err := s.ListInvocations("demo", "hello", o)
		mustNil(t, err)
		n += len(got)
		if next == "" {
			break
		}
		o.NextToken = next
	}
	if n != workers*each {
		t.Fatalf("listed %d, want %d", n, workers*each)
	}

	t.Run("flush interval", func(t *testing.T) {
		w := store.NewInvocationWriter(s, store.WriterOptions{FlushInterval: time.Millisecond})
		defer w.Close(t.Context())
		w.Record(inv("timed", 0))
		deadline := time.Now().Add(10 * time.Second)
		for w.Written() == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if w.Written() != 1 {
			t.Fatal("record not written without Flush")
		}
	})
	t.Run("close", func(t *testing.T) {
		w := store.NewInvocationWriter(s, store.WriterOptions{FlushInterval: time.Hour})
		w.Record(inv("before-close", 0))
		mustNil(t, w.Close(t.Context()))
		if w.Written() != 1 {
			t.Fatalf("Close did not write the queued record: written %d", w.Written())
		}
		if w.Record(inv("after-close", 0)) {
			t.Fatal("Record after Close returned true")
		}
		if w.Dropped() != 1 {
			t.Fatalf("dropped %d, want 1", w.Dropped())
		}
		mustNil(t, w.Close(t.Context())) // idempotent
		mustNil(t, w.Flush(t.Context()))
	})
	t.Run("concurrent close", func(t *testing.T) {
		w := store.NewInvocationWriter(s, store.WriterOptions{Buffer: 16})
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 100 {
					w.Record(inv(fmt.Sprintf("cc%d-%d", g, i), 0))
				}
			})
		}
		wg.Go(func() { w.Flush(t.Context()) })
		wg.Go(func() { mustNil(t, w.Close(t.Context())) })
		wg.Go(func() { mustNil(t, w.Close(t.Context())) })
		wg.Wait()
		mustNil(t, w.Close(t.Context()))
		if got := w.Written() + w.Dropped(); got != 800 {
			t.Fatalf("written %d + dropped %d = %d, want 800: a record was lost uncounted", w.Written(), w.Dropped(), got)
		}
	})
	t.Run("canceled context", func(t *testing.T) {
		w := store.NewInvocationWriter(s, store.WriterOptions{})
		defer w.Close(t.Context())
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		// Either outcome is allowed for Flush (the writer may answer
		// first); an error must be KindCanceled.
		if err := w.Flush(ctx); err != nil {
			checkErr(t, err, host.KindCanceled, 0)
		}
	})
}

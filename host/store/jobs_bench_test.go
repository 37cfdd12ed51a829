package store_test

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/store"
)

// benchCallers is how many goroutines per CPU submit at once: the HTTP
// server has many connections waiting on their 202, and Badger folds their
// commits into one write (and one fsync).
const benchCallers = 64

var benchBody = []byte(`{"order":"A-1029","items":[{"sku":"X-1","qty":2},{"sku":"Y-7","qty":1}],"note":"leave at door"}`)

func benchJob(id string, now int64) host.Job {
	j := host.Job{
		ServiceName: "demo", FunctionName: "hello", Qualifier: "LATEST",
		InvocationID: id, RequestID: id, Status: host.JobEnqueued,
		StartedTime: now, NotBefore: now, InvocationPayload: string(benchBody),
		Request: host.JobRequest{Method: "POST", Path: "/", ClientIP: "10.0.0.1",
			Headers: [][2]string{{"Content-Type", "application/json"}}, Body: benchBody},
		TimeoutSeconds: 3, MaxRetries: 3, MaxAgeSeconds: 86400,
	}
	j.AddEvent(host.JobEnqueued, now, "")
	return j
}

func openBench(b *testing.B, sync bool) *store.Store {
	b.Helper()
	s, err := store.Open(b.TempDir(), store.Options{SyncWrites: sync})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkEnqueueJob is the 202 path: one durable job per call, many
// callers at once.
func BenchmarkEnqueueJob(b *testing.B) {
	for _, bc := range []struct {
		name string
		sync bool
	}{{"nosync", false}, {"sync", true}} {
		b.Run(bc.name, func(b *testing.B) {
			s := openBench(b, bc.sync)
			var seq atomic.Int64
			now := time.Now().UnixMilli()
			b.ReportAllocs()
			b.SetParallelism(benchCallers)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := s.EnqueueJob(benchJob("j"+strconv.FormatInt(seq.Add(1), 36), now)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
		})
	}
}

// BenchmarkClaimAndFinish is the engine's side: one dispatcher claims
// batches of 64 due jobs and workers finish each (UpdateJob to Succeeded).
func BenchmarkClaimAndFinish(b *testing.B) {
	for _, bc := range []struct {
		name string
		sync bool
	}{{"nosync", false}, {"sync", true}} {
		b.Run(bc.name, func(b *testing.B) {
			s := openBench(b, bc.sync)
			now := time.Now()
			var wg sync.WaitGroup
			var seq atomic.Int64
			for range benchCallers {
				wg.Go(func() {
					for i := seq.Add(1); i <= int64(b.N); i = seq.Add(1) {
						if err := s.EnqueueJob(benchJob("j"+strconv.FormatInt(i, 36), now.UnixMilli()-int64(b.N)+i)); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			finish := func(j *host.Job) error {
				j.Status, j.EndTime, j.LeaseUntil = host.JobSucceeded, now.UnixMilli(), 0
				j.Result = &host.JobResult{Status: 200, Body: []byte("ok"), DurationMs: 1.2}
				j.AddEvent(host.JobSucceeded, now.UnixMilli(), "")
				return nil
			}
			claim := func(j *host.Job) {
				j.Status, j.LeaseUntil = host.JobRunning, now.Add(time.Minute).UnixMilli()
				j.Attempts++
				j.AddEvent(host.JobRunning, now.UnixMilli(), "")
			}
			work := make(chan host.Job, 256)
			b.ReportAllocs()
			b.ResetTimer()
			for range benchCallers {
				wg.Go(func() {
					for j := range work {
						if _, err := s.UpdateJob(j.ServiceName, j.FunctionName, j.InvocationID, finish); err != nil {
							b.Error(err)
						}
					}
				})
			}
			for done := 0; done < b.N; {
				got, err := s.ClaimJobs(now, 64, nil, claim)
				if err != nil {
					b.Fatal(err)
				}
				if len(got) == 0 {
					b.Fatalf("queue empty after %d of %d", done, b.N)
				}
				for _, j := range got {
					work <- j
				}
				done += len(got)
			}
			close(work)
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
		})
	}
}

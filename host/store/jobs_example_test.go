package store_test

import (
	"fmt"
	"log"
	"os"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/store"
)

// A job's life as the async engine drives it: accepted (the 202), claimed
// by a worker under a lease, finished; then listed as FC's stateful
// invocations are.
func ExampleStore_EnqueueJob() {
	dir, err := os.MkdirTemp("", "fnhost-jobs-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := store.Open(dir, store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	ms := now.UnixMilli()
	j := host.Job{ServiceName: "demo", FunctionName: "hello", Qualifier: "LATEST",
		InvocationID: "order-1029", RequestID: "r-1", Status: host.JobEnqueued,
		StartedTime: ms, NotBefore: ms, Request: host.JobRequest{Method: "POST", Path: "/", Body: []byte(`{"n":1}`)}}
	j.AddEvent(host.JobEnqueued, ms, "")
	if err := s.EnqueueJob(j); err != nil {
		log.Fatal(err)
	}
	err = s.EnqueueJob(j)
	fmt.Println("again:", host.ErrorKind(err))

	claimed, err := s.ClaimJobs(now, 10, nil, func(j *host.Job) {
		j.Status, j.LeaseUntil = host.JobRunning, now.Add(time.Minute).UnixMilli()
		j.Attempts++
		j.AddEvent(host.JobRunning, ms, "")
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("claimed:", claimed[0].InvocationID, claimed[0].Status, "attempt", claimed[0].Attempts)

	done, err := s.UpdateJob("demo", "hello", "order-1029", func(j *host.Job) error {
		j.Status, j.EndTime, j.LeaseUntil = host.JobSucceeded, ms+15, 0
		j.AddEvent(host.JobSucceeded, ms+15, "")
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("finished:", done.Status, len(done.Events), "events")

	list, _, err := s.ListJobs("demo", "hello", host.JobListOptions{Status: host.JobSucceeded})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listed: %s, body %q\n", list[0].InvocationID, list[0].Request.Body)
	// Output:
	// again: conflict
	// claimed: order-1029 Running attempt 1
	// finished: Succeeded 3 events
	// listed: order-1029, body ""
}

package store_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/store"
)

// The invocation path records what each invocation logged through an
// InvocationWriter; `fnhost logs` and the invocation-logs API list it.
func ExampleInvocationWriter() {
	s, err := store.Open("", store.Options{InMemory: true})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	w := store.NewInvocationWriter(s, store.WriterOptions{})

	start := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	for i, status := range []int{200, 200, 0} {
		inv := host.Invocation{
			RequestID: fmt.Sprintf("req-%d", i), ServiceName: "demo", FunctionName: "hello",
			Time: start.Add(time.Duration(i) * time.Second), Status: status, Log: "hello\n",
		}
		if status == 0 {
			inv.ErrorKind, inv.ErrorMessage = host.KindTrap.String(), "unreachable executed"
		}
		w.Record(inv) // never blocks; false (and Dropped) when the buffer is full
	}
	// On shutdown: write what is queued, then close the store.
	if err := w.Close(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println("written:", w.Written(), "dropped:", w.Dropped())

	page, next, err := s.ListInvocations("demo", "hello", store.InvocationListOptions{Limit: 2})
	if err != nil {
		log.Fatal(err)
	}
	for _, inv := range page {
		fmt.Printf("%s status=%d error=%q\n", inv.RequestID, inv.Status, inv.ErrorKind)
	}
	page, _, err = s.ListInvocations("demo", "hello", store.InvocationListOptions{NextToken: next})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("next page:", page[0].RequestID)

	one, _, err := s.ListInvocations("demo", "hello", store.InvocationListOptions{RequestID: "req-1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("by id: %s %q\n", one[0].RequestID, one[0].Log)
	// Output:
	// written: 3 dropped: 0
	// req-2 status=0 error="trap"
	// req-1 status=200 error=""
	// next page: req-0
	// by id: req-1 "hello\n"
}

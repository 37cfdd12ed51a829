//go:build !race

package store

import (
	"testing"

	"github.com/fnhost/fnhost/host"
)

// TestRecordAllocs: Record, on the invocation path, allocates nothing,
// whether it queues or drops.
func TestRecordAllocs(t *testing.T) {
	block := make(chan struct{})
	w := newInvocationWriter(func(r []host.Invocation) (int, error) { <-block; return len(r), nil },
		WriterOptions{Buffer: 100, MaxBatch: 1})
	defer w.Close(t.Context())
	defer close(block)
	rec := testInvocation("r")
	if n := testing.AllocsPerRun(1000, func() { w.Record(rec) }); n != 0 {
		t.Fatalf("Record allocates %v times", n)
	}
	if w.Dropped() == 0 {
		t.Fatal("the drop path was not measured")
	}
}

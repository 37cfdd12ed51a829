package auth

import (
	"sync"
	"testing"
	"time"
)

func sigOf(i int) (s [32]byte) {
	s[0], s[1] = byte(i), byte(i>>8)
	return s
}

func TestReplayCache(t *testing.T) {
	c := NewReplayCache(3, time.Minute)
	now := testNow
	for i := range 3 {
		if c.Seen(sigOf(i), now) {
			t.Fatalf("first Seen(%d) = true", i)
		}
	}
	for i := range 3 {
		if !c.Seen(sigOf(i), now.Add(59*time.Second)) {
			t.Fatalf("second Seen(%d) = false", i)
		}
	}
	// Expired entries are forgotten.
	if c.Seen(sigOf(0), now.Add(time.Minute)) {
		t.Fatal("Seen after ttl = true")
	}
	// Capacity 3: 0 was re-recorded last, so adding 3 evicts the oldest (1).
	if c.Seen(sigOf(3), now.Add(time.Minute)) {
		t.Fatal("Seen(3) = true")
	}
	if got := c.Len(); got != 3 {
		t.Fatalf("Len = %d, want 3", got)
	}
	if c.Seen(sigOf(1), now.Add(time.Minute)) {
		t.Fatal("evicted signature 1 still remembered")
	}
	// Adding 1 evicted 2; 0 and 3 remain.
	for _, i := range []int{0, 3, 1} {
		if !c.Seen(sigOf(i), now.Add(time.Minute)) {
			t.Fatalf("signature %d forgotten", i)
		}
	}
	if got := c.Len(); got != 3 {
		t.Fatalf("Len = %d, want 3", got)
	}
}

func TestReplayCacheMinCapacity(t *testing.T) {
	c := NewReplayCache(0, time.Minute)
	if c.Seen(sigOf(1), testNow) || !c.Seen(sigOf(1), testNow) {
		t.Fatal("capacity 0 does not remember one signature")
	}
	if c.Seen(sigOf(2), testNow) || c.Seen(sigOf(1), testNow) {
		t.Fatal("capacity 1 remembers two signatures")
	}
}

// TestReplayCacheConcurrent hammers one cache: every signature must be
// reported fresh exactly once while it stays in the cache. Run with -race.
func TestReplayCacheConcurrent(t *testing.T) {
	const n, workers = 1000, 8
	c := NewReplayCache(n, time.Hour)
	var mu sync.Mutex
	fresh := make([]int, n)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range n {
				if !c.Seen(sigOf(i), testNow) {
					mu.Lock()
					fresh[i]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for i, f := range fresh {
		if f != 1 {
			t.Fatalf("signature %d reported fresh %d times, want 1", i, f)
		}
	}
	if c.Len() != n {
		t.Fatalf("Len = %d, want %d", c.Len(), n)
	}
}

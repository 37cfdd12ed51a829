package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// ReplayCache remembers recently seen signatures so that a captured
// non-idempotent request cannot be replayed inside the skew window. It holds
// at most a fixed number of signatures; when full, the oldest is forgotten.
// A ReplayCache is safe for concurrent use. It is per process: several
// nodes need a shared store instead.
type ReplayCache struct {
	ttl time.Duration

	mu   sync.Mutex
	seen map[[sha256.Size]byte]replayEntry
	ring [][sha256.Size]byte // insertion order; ring[next] is the oldest when full
	next int
	full bool
}

type replayEntry struct {
	at   time.Time
	slot int
}

// NewReplayCache returns a cache of capacity signatures (at least 1) that
// each stay for ttl. Use a ttl of at least twice the Verifier's Skew, so a
// request stays remembered for as long as its Date is accepted.
func NewReplayCache(capacity int, ttl time.Duration) *ReplayCache {
	capacity = max(capacity, 1)
	return &ReplayCache{
		ttl:  ttl,
		seen: make(map[[sha256.Size]byte]replayEntry, capacity),
		ring: make([][sha256.Size]byte, capacity),
	}
}

// Seen records sig at time now and reports whether it had been recorded
// less than ttl before.
func (c *ReplayCache) Seen(sig [sha256.Size]byte, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.seen[sig]; ok {
		if now.Sub(e.at) < c.ttl {
			return true
		}
		// Expired: forget it so the slot bookkeeping stays exact.
		delete(c.seen, sig)
	}
	if c.full {
		old := c.ring[c.next]
		if e, ok := c.seen[old]; ok && e.slot == c.next {
			delete(c.seen, old)
		}
	}
	c.ring[c.next] = sig
	c.seen[sig] = replayEntry{at: now, slot: c.next}
	c.next++
	if c.next == len(c.ring) {
		c.next, c.full = 0, true
	}
	return false
}

// Len returns the number of signatures remembered.
func (c *ReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

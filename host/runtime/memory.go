package runtime

import (
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// cappedMemory backs one instance's linear memory and enforces the
// function's memory limit. wazero's own limit (WithMemoryLimitPages) is one
// number per runtime; this allocator gives every function its own while all
// share one runtime. A refused grow makes memory.grow return -1 to the
// guest, and refused records it so a failure that follows is reported as a
// memory-limit failure rather than a plain trap.
type cappedMemory struct {
	limit   uint64
	buf     []byte
	refused atomic.Bool
}

var _ experimental.LinearMemory = (*cappedMemory)(nil)

// Allocate implements experimental.MemoryAllocator. Each instance has its
// own cappedMemory, so it returns itself.
func (m *cappedMemory) Allocate(capacity, _ uint64) experimental.LinearMemory {
	if capacity > m.limit {
		capacity = m.limit
	}
	m.buf = make([]byte, 0, capacity)
	return m
}

// Reallocate implements experimental.LinearMemory. Linear memory only grows,
// and bytes past len are zero (fresh from make and never written), so
// re-slicing within capacity is a valid grow.
func (m *cappedMemory) Reallocate(size uint64) []byte {
	if size > m.limit {
		m.refused.Store(true)
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	// Grow geometrically, up to the limit, so a guest growing a page at a
	// time does not copy its memory on every grow.
	newCap := 2 * uint64(cap(m.buf))
	if newCap < size {
		newCap = size
	}
	if newCap > m.limit {
		newCap = m.limit
	}
	nb := make([]byte, size, newCap)
	copy(nb, m.buf)
	m.buf = nb
	return m.buf
}

// Free implements experimental.LinearMemory. wazero calls it when the
// module closes, which may happen from the timeout timer while the guest
// still runs, so the buffer is left for the garbage collector instead.
func (m *cappedMemory) Free() {}

func (m *cappedMemory) size() uint64 { return uint64(len(m.buf)) }

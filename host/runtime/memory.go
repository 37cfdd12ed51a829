package runtime

import (
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// cappedMemory backs one instance's linear memory and enforces the
// function's memory limit. wazero's own limit (WithMemoryLimitPages) is one
// number per runtime; this allocator gives every function its own while all
// share one runtime. A refused grow makes memory.grow return -1 to the
// guest, and refused records it so a failure that follows is reported as a
// memory-limit failure rather than a plain trap.
//
// Buffers are recycled through the function's memPool: instances of one
// function have the same shape, and reusing a zeroed buffer spares the
// allocation, the garbage collector's work and the kernel's page faults
// that dominate creating a small instance.
type cappedMemory struct {
	limit   uint64
	pool    *memPool
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
	if b := m.pool.get(capacity); b != nil {
		m.buf = b
	} else {
		m.buf = make([]byte, 0, capacity)
	}
	return m
}

// Reallocate implements experimental.LinearMemory. Linear memory only grows,
// and bytes past len are zero (fresh from make, or cleared before the
// buffer was pooled), so re-slicing within capacity is a valid grow.
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
// module is closed, which fnhost does only once no guest code runs in it.
func (m *cappedMemory) Free() {
	m.pool.put(m.buf)
	m.buf = nil
}

// size is the current length of linear memory; read it before Free.
func (m *cappedMemory) size() uint64 { return uint64(len(m.buf)) }

// memPool recycles zeroed linear-memory buffers among one function's
// instances.
type memPool struct{ p sync.Pool }

// maxPooledBytes keeps huge memories out of the pool: clearing them on
// every recycle would cost more than it saves.
const maxPooledBytes = 64 << 20

func (p *memPool) get(capacity uint64) []byte {
	if p == nil {
		return nil
	}
	v, _ := p.p.Get().(*[]byte)
	if v == nil || uint64(cap(*v)) < capacity {
		return nil
	}
	return (*v)[:0]
}

// put clears the used part of b (the rest is still zero) and keeps it.
func (p *memPool) put(b []byte) {
	if p == nil || cap(b) == 0 || cap(b) > maxPooledBytes {
		return
	}
	clear(b)
	b = b[:0]
	p.p.Put(&b)
}

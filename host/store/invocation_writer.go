package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/fnhost/fnhost/host"
)

// WriterOptions configures NewInvocationWriter. A zero or negative field
// takes its default.
type WriterOptions struct {
	// Buffer is how many records may wait to be written (default 4096).
	// Record drops what does not fit, so it never waits for the disk.
	Buffer int
	// FlushInterval is the longest a record waits for its batch to fill
	// before the batch is written anyway (default 200ms).
	FlushInterval time.Duration
	// MaxBatch is the most records written in one PutInvocations call
	// (default 512); a full batch is written at once.
	MaxBatch int
	// Logger receives write failures and drops, summed up at most once per
	// 10 seconds. The zero Logger discards them.
	Logger zerolog.Logger
}

// Writer defaults; see WriterOptions.
const (
	DefaultWriterBuffer        = 4096
	DefaultWriterFlushInterval = 200 * time.Millisecond
	DefaultWriterMaxBatch      = 512
)

// writerLogEvery bounds how often a writer logs: a failing disk must not
// turn every batch into a log line.
const writerLogEvery = 10 * time.Second

// InvocationWriter writes invocation records to a Store in batches, off the
// invocation's path: Record hands a record to a bounded buffer and returns,
// and one goroutine writes the buffer with PutInvocations. A record is lost
// (and counted in Dropped) when the buffer is full, when the writer is
// closed, or when its batch fails to be written; the invocation itself
// never waits or fails for its log.
//
// Safe for concurrent use. Close the writer before the Store.
type InvocationWriter struct {
	put      func([]host.Invocation) (int, error) // Store.putInvocations; a fake in tests
	maxBatch int
	interval time.Duration
	log      zerolog.Logger
	logEvery time.Duration

	// mu is held shared by Record around its send and exclusively by Close
	// while it sets closed, so that nothing is queued after the final
	// drain: Record either lands before it or reports a drop.
	mu     sync.RWMutex
	closed bool

	queue     chan host.Invocation
	flushes   chan chan error
	stop      chan struct{} // closed by Close
	done      chan struct{} // closed when run has written the last batch
	closeOnce sync.Once
	closeErr  error // of the final drain; read after done is closed

	dropped, written atomic.Uint64

	// Owned by run.
	lastLog      time.Time
	loggedDrops  uint64 // dropped at lastLog
	failures     int    // failed writes since lastLog
	lastFailure  error
	batch        []host.Invocation
	timer        *time.Timer
	timerRunning bool
}

// NewInvocationWriter starts a writer for s. Close it to stop its
// goroutine.
func NewInvocationWriter(s *Store, o WriterOptions) *InvocationWriter {
	return newInvocationWriter(s.putInvocations, o)
}

func newInvocationWriter(put func([]host.Invocation) (int, error), o WriterOptions) *InvocationWriter {
	if o.Buffer <= 0 {
		o.Buffer = DefaultWriterBuffer
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = DefaultWriterFlushInterval
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultWriterMaxBatch
	}
	w := &InvocationWriter{
		put:      put,
		maxBatch: o.MaxBatch,
		interval: o.FlushInterval,
		log:      o.Logger,
		logEvery: writerLogEvery,
		queue:    make(chan host.Invocation, o.Buffer),
		flushes:  make(chan chan error),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		batch:    make([]host.Invocation, 0, o.MaxBatch),
		timer:    time.NewTimer(time.Hour),
	}
	w.timer.Stop()
	go w.run()
	return w
}

// Record queues inv to be written and reports whether it was queued. It
// never blocks: with the buffer full or the writer closed it counts a drop
// and returns false. inv's strings are kept until the record is written.
func (w *InvocationWriter) Record(inv host.Invocation) bool {
	w.mu.RLock()
	if !w.closed {
		select {
		case w.queue <- inv:
			w.mu.RUnlock()
			return true
		default:
		}
	}
	w.mu.RUnlock()
	w.dropped.Add(1)
	return false
}

// Dropped returns how many records were not stored: refused by Record, or
// lost with a batch that failed.
func (w *InvocationWriter) Dropped() uint64 { return w.dropped.Load() }

// Written returns how many records were stored.
func (w *InvocationWriter) Written() uint64 { return w.written.Load() }

// Flush returns once every record queued before the call is written, or
// counted as dropped when its batch failed; it then returns that failure.
// After Close it returns what Close did. When ctx ends first, Flush returns
// a KindCanceled error and the records are still written.
func (w *InvocationWriter) Flush(ctx context.Context) error {
	const op = "store.InvocationWriter.Flush"
	reply := make(chan error, 1) // run must never wait for a Flush that gave up
	select {
	case w.flushes <- reply:
	case <-w.done:
		return w.closeErr
	case <-ctx.Done():
		return canceled(ctx, op)
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return canceled(ctx, op)
	}
}

// Close stops taking records, writes the ones queued and stops the
// writer's goroutine. It returns the error of that last write, as Flush
// does; calling it again returns the same. When ctx ends first, Close
// returns a KindCanceled error and the goroutine finishes in the
// background.
func (w *InvocationWriter) Close(ctx context.Context) error {
	w.closeOnce.Do(func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		close(w.stop)
	})
	select {
	case <-w.done:
		return w.closeErr
	case <-ctx.Done():
		return canceled(ctx, "store.InvocationWriter.Close")
	}
}

func canceled(ctx context.Context, op string) error {
	return &host.Error{Kind: host.KindCanceled, Op: op, Err: fmt.Errorf("records still being written: %w", context.Cause(ctx))}
}

func (w *InvocationWriter) run() {
	defer close(w.done)
	for {
		select {
		case inv := <-w.queue:
			w.add(inv)
		case <-w.timer.C:
			w.timerRunning = false
			w.write()
		case reply := <-w.flushes:
			// Whatever was queued before Flush was called is in the
			// queue now, within its first len(queue) records, or already
			// in the batch; later records need not wait.
			var errs []error
			for n := len(w.queue); n > 0; n-- {
				errs = append(errs, w.add(<-w.queue))
			}
			errs = append(errs, w.write())
			reply <- errors.Join(errs...)
		case <-w.stop:
			// Close has set closed under mu, so the queue only shrinks.
			var errs []error
			for len(w.queue) > 0 {
				errs = append(errs, w.add(<-w.queue))
			}
			errs = append(errs, w.write())
			w.timer.Stop()
			w.closeErr = errors.Join(errs...)
			w.report(true)
			return
		}
	}
}

// add appends inv to the batch, writing the batch when it is full.
func (w *InvocationWriter) add(inv host.Invocation) error {
	w.batch = append(w.batch, inv)
	if len(w.batch) >= w.maxBatch {
		return w.write()
	}
	if !w.timerRunning {
		w.timer.Reset(w.interval)
		w.timerRunning = true
	}
	return nil
}

// write stores the batch and empties it.
func (w *InvocationWriter) write() error {
	if w.timerRunning {
		w.timer.Stop() // no stale tick: Go ≥ 1.23 timers
		w.timerRunning = false
	}
	if len(w.batch) == 0 {
		return nil
	}
	n, err := w.put(w.batch)
	w.written.Add(uint64(n))
	if lost := len(w.batch) - n; lost > 0 {
		w.dropped.Add(uint64(lost))
	}
	clear(w.batch) // let the logs be collected
	w.batch = w.batch[:0]
	if err != nil {
		w.failures++
		w.lastFailure = err
	}
	w.report(false)
	return err
}

// report logs what was lost since the last log line, at most once per
// logEvery unless final.
func (w *InvocationWriter) report(final bool) {
	dropped := w.dropped.Load()
	lost := dropped - w.loggedDrops
	if lost == 0 && w.failures == 0 {
		return
	}
	now := time.Now()
	if !final && now.Sub(w.lastLog) < w.logEvery {
		return
	}
	if w.failures > 0 {
		w.log.Error().Err(w.lastFailure).Int("failedWrites", w.failures).Uint64("droppedRecords", lost).
			Msg("invocation logs not stored")
	} else {
		w.log.Warn().Uint64("droppedRecords", lost).Msg("invocation logs dropped: buffer full or writer closed")
	}
	w.lastLog, w.loggedDrops, w.failures, w.lastFailure = now, dropped, 0, nil
}

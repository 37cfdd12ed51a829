package host

import "time"

// Header is one header field. Repeated fields are repeated Headers.
type Header struct {
	Name  []byte
	Value []byte
}

// Request is one invocation's input. Every []byte in it is borrowed: the
// caller owns it and must keep it unchanged until Invoke returns; the
// runtime copies what the guest asks for into guest memory and keeps
// nothing afterwards. A Request may be reused for another call once Invoke
// has returned.
type Request struct {
	RequestID string // x-fc-request-id; given to the guest
	Qualifier string // "LATEST" when empty
	Attempt   int    // 1-based; 0 is taken as 1

	Method   []byte
	Path     []byte // the path after the function, starting with "/"
	RawQuery []byte // without "?"
	Headers  []Header
	ClientIP []byte
	Body     []byte
}

// Response is one invocation's output. The runtime owns nothing in it after
// Invoke returns: Headers, Body and Log belong to the Response and stay
// valid until the Response is reset or reused for another call. Reusing one
// Response per worker keeps the warm invoke path free of allocations.
type Response struct {
	Status  int
	Headers []Header
	Body    []byte
	// Log holds what the guest logged during the invocation (log calls,
	// stdout, stderr), bounded by the function's log limit. It is filled in
	// on failures too.
	Log   []byte
	Meter Meter

	arena []byte // backing store for Headers' names and values
}

// Meter is what an invocation cost.
type Meter struct {
	Duration time.Duration // from Invoke's start to its end, waiting included
	// Startup is the part of Duration spent creating the instance
	// (instantiate and _initialize); zero on a warm call.
	Startup time.Duration
	// PeakMemoryBytes is the size of the instance's linear memory at the
	// end of the call; linear memory never shrinks, so it is the peak.
	PeakMemoryBytes uint64
	Cold            bool   // a new instance was created for this call
	InstanceID      string // stable for the instance's life
}

// Reset empties r for reuse, keeping its buffers.
func (r *Response) Reset() {
	r.Status = 0
	r.Headers = r.Headers[:0]
	r.Body = r.Body[:0]
	r.Log = r.Log[:0]
	r.Meter = Meter{}
	r.arena = r.arena[:0]
}

// AddHeader appends a header field, copying name and value into r.
func (r *Response) AddHeader(name, value []byte) {
	start := len(r.arena)
	r.arena = append(r.arena, name...)
	r.arena = append(r.arena, value...)
	a := r.arena[start:len(r.arena):len(r.arena)]
	// Earlier Headers keep pointing into the arena's older backing array
	// if append moved it; those bytes are never written again, so they stay
	// correct.
	r.Headers = append(r.Headers, Header{Name: a[:len(name):len(name)], Value: a[len(name):]})
}

// HeaderBytes is the total size of the response's header names and values.
func (r *Response) HeaderBytes() int {
	return len(r.arena)
}

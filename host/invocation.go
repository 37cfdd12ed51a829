package host

import (
	"math/rand/v2"
	"time"
)

// Invocation is the record of one finished invocation kept for `fnhost
// logs`: who ran, when, how it ended and what the guest logged. The invoke
// path fills one per invocation that logged something or failed, and hands
// it to a recorder.
//
// JSON names follow FC's style (lower camel case); the record is an fnhost
// extension, served at GET /2016-08-15/services/{svc}/functions/{fn}/invocation-logs.
type Invocation struct {
	RequestID    string `json:"requestId"`
	ServiceName  string `json:"serviceName"`
	FunctionName string `json:"functionName"`
	Qualifier    string `json:"qualifier"`
	// Time is when the invocation started.
	Time time.Time `json:"time"`
	// DurationMs is Meter.Duration in milliseconds.
	DurationMs float64 `json:"durationMs"`
	// Status is the HTTP status the guest answered with; 0 when it failed.
	Status int `json:"status"`
	// ErrorKind is Kind.String() of the failure ("trap", "timeout", …);
	// empty on success.
	ErrorKind string `json:"errorKind,omitempty"`
	// ErrorMessage is the failure's message as the caller saw it.
	ErrorMessage string `json:"errorMessage,omitempty"`
	Cold         bool   `json:"coldStart"`
	// Log is what the guest logged (log calls, stdout, stderr), bounded by
	// the function's log limit. Bytes that are not UTF-8 become U+FFFD in
	// JSON.
	Log string `json:"log"`
}

// InvocationListOptions select invocation records, newest first.
type InvocationListOptions struct {
	// RequestID keeps only that request's records. That is usually one
	// record, but a retried asynchronous invocation keeps its request id,
	// so each failed attempt has one.
	RequestID string
	// Limit is the page size, with the rules of ListOptions.Limit.
	Limit int
	// NextToken is the token a previous page returned, for the same
	// function and RequestID; "" starts at the newest record.
	NextToken string
}

// NewRequestID returns a fresh request id in FC's shape: "1-", eight hex
// digits of the Unix time, "-", and 24 random hex digits, e.g.
// "1-6745a3b2-0f3c9a7e1d2b4c5a6e7f8091". Ids are unique, not secret.
func NewRequestID() string { return NewRequestIDAt(time.Now()) }

// NewRequestIDAt is NewRequestID for a request received at t (saves a
// clock read when the caller already has the time).
func NewRequestIDAt(t time.Time) string {
	const hexdig = "0123456789abcdef"
	var b [2 + 8 + 1 + 24]byte
	b[0], b[1] = '1', '-'
	sec := uint32(t.Unix())
	for i := 9; i >= 2; i-- {
		b[i] = hexdig[sec&15]
		sec >>= 4
	}
	b[10] = '-'
	r1, r2 := rand.Uint64(), rand.Uint64()
	for i := 0; i < 16; i++ {
		b[11+i] = hexdig[r1&15]
		r1 >>= 4
	}
	for i := 0; i < 8; i++ {
		b[27+i] = hexdig[r2&15]
		r2 >>= 4
	}
	return string(b[:])
}

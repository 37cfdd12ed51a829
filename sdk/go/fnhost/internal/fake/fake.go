// Package fake is an in-process stand-in for the fnhost ABI v1 host. The
// fnhost package uses it in native (non-wasip1) builds so that guests and the
// SDK build, vet and test on any platform; the fnhosttest package drives it.
//
// Every method mirrors one host function of abi/ABI.md, with the guest's
// (pointer, length) pairs replaced by Go slices and strings. Results follow
// the ABI: a copy-out call copies min(len, cap) bytes and returns the full
// length; failures are the negative codes of package abi.
package fake

import (
	"github.com/fnhost/fnhost/sdk/go/fnhost/internal/ascii"
	"time"

	"github.com/fnhost/fnhost/abi"
)

// Field is one header field.
type Field struct {
	Name, Value string
}

// LogLine is one line written with the log host function.
type LogLine struct {
	Level   int32
	Message string
}

// Host is the state of the fake host: the request of the running invocation,
// its context, and the response collected so far.
type Host struct {
	// InInvocation reports whether an invocation is running. Outside one,
	// request and response calls and context_string return ERR_STATE.
	InInvocation bool

	// Request.
	Method, Path, Query, ClientIP string
	Header                        []Field
	Body                          []byte
	bodyOff                       int

	// Context.
	RequestID, Service, Function, Qualifier, InstanceID string
	MemoryLimitMB, TimeoutMS, Attempt                   int64
	Deadline                                            time.Time
	Env                                                 map[string]string

	// Limits; zero means unlimited.
	MaxBodyBytes, MaxHeaderBytes int

	// Response.
	Responded   bool // a response function was called
	TooLarge    bool // a response limit was hit (the invocation fails)
	Status      int
	RespHeader  []Field
	respHdrSize int
	RespBody    []byte

	// Log lines, from the log host function.
	Logs []LogLine
}

// Current is the host the fnhost package talks to in native builds.
var Current = &Host{}

// Dispatch runs the guest's handler, as the host's call of the exported
// handle function would. The fnhost package sets it in native builds.
var Dispatch func()

// Begin starts an invocation: the body is unread and the response empty.
func (h *Host) Begin() {
	h.InInvocation = true
	h.bodyOff = 0
	h.Responded, h.TooLarge = false, false
	h.Status = 200
	h.RespHeader, h.respHdrSize, h.RespBody = nil, 0, nil
	h.Logs = nil
}

// End ends the invocation.
func (h *Host) End() { h.InInvocation = false }

func copyOut(buf []byte, s string) int32 {
	copy(buf, s)
	return int32(len(s))
}

func (h *Host) reqString(buf []byte, s string) int32 {
	if !h.InInvocation {
		return abi.ErrState
	}
	return copyOut(buf, s)
}

func (h *Host) RequestMethod(buf []byte) int32   { return h.reqString(buf, h.Method) }
func (h *Host) RequestPath(buf []byte) int32     { return h.reqString(buf, h.Path) }
func (h *Host) RequestQuery(buf []byte) int32    { return h.reqString(buf, h.Query) }
func (h *Host) RequestClientIP(buf []byte) int32 { return h.reqString(buf, h.ClientIP) }

func (h *Host) RequestHeaderCount() int32 {
	if !h.InInvocation {
		return abi.ErrState
	}
	return int32(len(h.Header))
}

func (h *Host) RequestHeaderName(i int32, buf []byte) int32 {
	if !h.InInvocation {
		return abi.ErrState
	}
	if i < 0 || int(i) >= len(h.Header) {
		return abi.ErrNotFound
	}
	return copyOut(buf, h.Header[i].Name)
}

func (h *Host) RequestHeaderValue(i int32, buf []byte) int32 {
	if !h.InInvocation {
		return abi.ErrState
	}
	if i < 0 || int(i) >= len(h.Header) {
		return abi.ErrNotFound
	}
	return copyOut(buf, h.Header[i].Value)
}

func (h *Host) RequestHeaderGet(name string, buf []byte) int32 {
	if !h.InInvocation {
		return abi.ErrState
	}
	for _, f := range h.Header {
		if ascii.EqualFold(f.Name, name) {
			return copyOut(buf, f.Value)
		}
	}
	return abi.ErrNotFound
}

func (h *Host) RequestBodySize() int64 {
	if !h.InInvocation {
		return int64(abi.ErrState)
	}
	return int64(len(h.Body))
}

func (h *Host) RequestBodyRead(buf []byte) int32 {
	if !h.InInvocation {
		return abi.ErrState
	}
	n := copy(buf, h.Body[h.bodyOff:])
	h.bodyOff += n
	return int32(n)
}

func (h *Host) ResponseSetStatus(status int32) int32 {
	if !h.InInvocation {
		return abi.ErrState
	}
	if status < 100 || status > 599 {
		return abi.ErrInvalid
	}
	h.Responded = true
	h.Status = int(status)
	return 0
}

func (h *Host) ResponseAddHeader(name, value string) int32 {
	if !h.InInvocation {
		return abi.ErrState
	}
	if !validToken(name) || !validValue(value) {
		return abi.ErrInvalid
	}
	if h.TooLarge {
		return abi.ErrTooLarge
	}
	size := len(name) + len(value) + 4
	if h.MaxHeaderBytes > 0 && h.respHdrSize+size > h.MaxHeaderBytes {
		h.TooLarge = true
		return abi.ErrTooLarge
	}
	h.Responded = true
	h.respHdrSize += size
	h.RespHeader = append(h.RespHeader, Field{name, value})
	return 0
}

func (h *Host) ResponseWrite(b []byte) int32 {
	if !h.InInvocation {
		return abi.ErrState
	}
	h.Responded = true
	if h.TooLarge || (h.MaxBodyBytes > 0 && len(h.RespBody)+len(b) > h.MaxBodyBytes) {
		h.TooLarge = true
		return abi.ErrTooLarge
	}
	h.RespBody = append(h.RespBody, b...)
	return int32(len(b))
}

func (h *Host) ContextString(key int32, buf []byte) int32 {
	if !h.InInvocation {
		return abi.ErrState
	}
	var s string
	switch key {
	case abi.CtxRequestID:
		s = h.RequestID
	case abi.CtxService:
		s = h.Service
	case abi.CtxFunction:
		s = h.Function
	case abi.CtxQualifier:
		s = h.Qualifier
	case abi.CtxInstanceID:
		s = h.InstanceID
	default:
		return abi.ErrInvalid
	}
	return copyOut(buf, s)
}

func (h *Host) ContextInt(key int32) int64 {
	switch key {
	case abi.CtxMemoryLimitMB:
		return h.MemoryLimitMB
	case abi.CtxRemainingMS:
		if !h.InInvocation || h.Deadline.IsZero() {
			return h.TimeoutMS
		}
		return max(0, time.Until(h.Deadline).Milliseconds())
	case abi.CtxAttempt:
		if !h.InInvocation {
			return 0
		}
		return h.Attempt
	case abi.CtxTimeoutMS:
		return h.TimeoutMS
	}
	return int64(abi.ErrInvalid)
}

func (h *Host) EnvGet(name string, buf []byte) int32 {
	v, ok := h.Env[name]
	if !ok {
		return abi.ErrNotFound
	}
	return copyOut(buf, v)
}

func (h *Host) Log(level int32, msg string) int32 {
	if level < abi.LogDebug || level > abi.LogError {
		return abi.ErrInvalid
	}
	if n := len(msg); n > 0 && msg[n-1] == '\n' {
		msg = msg[:n-1]
	}
	h.Logs = append(h.Logs, LogLine{level, msg})
	return 0
}

// validToken reports whether s is an RFC 9110 token.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '!' || c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' || c == '*' ||
			c == '+' || c == '-' || c == '.' || c == '^' || c == '_' || c == '`' || c == '|' || c == '~':
		default:
			return false
		}
	}
	return true
}

func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}

package client

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is a non-2xx answer of the API. Code and Message come from FC's
// error body {"ErrorCode": "...", "ErrorMessage": "..."} (lower-case
// errorCode/errorMessage are accepted too); RequestID from the
// X-Fc-Request-Id header. When the body is not an FC error, Code is empty
// and Message holds the start of the body.
type Error struct {
	Status    int
	Code      string
	Message   string
	RequestID string
}

// Error reads like `ServiceNotFound (404): service "x" does not exist [request 1-abc]`.
func (e *Error) Error() string {
	var b strings.Builder
	code := e.Code
	if code == "" {
		code = http.StatusText(e.Status)
		if code == "" {
			code = "HTTP"
		}
	}
	b.WriteString(code)
	b.WriteString(" (")
	b.WriteString(strconv.Itoa(e.Status))
	b.WriteByte(')')
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" [request ")
		b.WriteString(e.RequestID)
		b.WriteByte(']')
	}
	return b.String()
}

// IsNotFound reports whether err is an *Error for a missing resource: status
// 404 or an error code ending in "NotFound" (ServiceNotFound,
// FunctionNotFound, TriggerNotFound, …).
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Status == http.StatusNotFound || strings.HasSuffix(e.Code, "NotFound"))
}

// IsConflict reports whether err is an *Error for a resource that already
// exists or changed concurrently: an error code ending in "AlreadyExists",
// or status 409 with any code but a "…NotEmpty" one (fnhost answers 409
// ServiceNotEmpty when deleting a service that still has functions; that is
// not a conflict a retry or an update resolves).
func IsConflict(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return strings.HasSuffix(e.Code, "AlreadyExists") ||
		(e.Status == http.StatusConflict && !strings.HasSuffix(e.Code, "NotEmpty"))
}

// maxErrorText bounds the Message taken from a body that is not an FC error.
const maxErrorText = 256

// fcError is FC's error body. encoding/json matches keys
// case-insensitively, so errorCode/errorMessage decode too.
type fcError struct {
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

// parseFCError decodes body as FC's error body; ok is false when it is not
// one (not JSON, or no error code).
func parseFCError(body []byte) (fcError, bool) {
	var fe fcError
	if err := json.Unmarshal(body, &fe); err != nil || fe.ErrorCode == "" {
		return fcError{}, false
	}
	return fe, true
}

func decodeError(status int, h http.Header, body []byte) *Error {
	e := &Error{Status: status, RequestID: h.Get("X-Fc-Request-Id")}
	if fe, ok := parseFCError(body); ok {
		e.Code, e.Message = fe.ErrorCode, fe.ErrorMessage
		return e
	}
	e.Message = snippet(body)
	return e
}

// snippet returns the start of body as one line of text, or "" when body
// is not text.
func snippet(body []byte) string {
	s := strings.TrimSpace(string(body))
	if len(s) > maxErrorText {
		s = s[:maxErrorText]
		for !utf8.ValidString(s) && len(s) > 0 {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	if !utf8.ValidString(s) {
		return ""
	}
	return strings.Join(strings.Fields(s), " ")
}

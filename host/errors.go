package host

import (
	"errors"
	"strconv"
)

// Kind classifies an error by what the caller should do about it. The HTTP
// layer has one table from Kind to status code and X-Fc-Error-Type; nothing
// else decides statuses. The list is append-only.
type Kind uint8

const (
	// KindInternal is a fault of the host itself (a bug, a recovered panic,
	// an I/O error). Foreign errors without a Kind count as internal.
	KindInternal Kind = iota
	// KindInvalidModule: the module was rejected at load (invalid bytes,
	// unknown ABI, bad imports, missing handler or memory, memory minimum
	// over the function's limit).
	KindInvalidModule
	// KindTrap: the guest trapped (unreachable, out-of-bounds access, stack
	// overflow, …).
	KindTrap
	// KindTimeout: the invocation passed its deadline.
	KindTimeout
	// KindMemoryLimit: the guest failed after memory.grow was refused at the
	// function's memory limit.
	KindMemoryLimit
	// KindExit: the guest called proc_exit (with a non-zero code in CGI
	// mode, any code in ABI v1 mode).
	KindExit
	// KindNoResponse: the handler returned without producing a response.
	KindNoResponse
	// KindResponseTooLarge: the response passed the host's size limits.
	KindResponseTooLarge
	// KindBadResponse: a CGI program printed something that is not a CGI
	// response.
	KindBadResponse
	// KindTooManyInstances: every instance the function may have is busy and
	// none came free within the wait bound.
	KindTooManyInstances
	// KindCanceled: the caller gave up (its context was canceled) before the
	// invocation ran.
	KindCanceled
	// KindClosed: the function or runtime was closed.
	KindClosed
	// KindNotFound: the named resource (service, function, trigger, module)
	// does not exist.
	KindNotFound
	// KindConflict: the resource already exists, or a concurrent change won.
	KindConflict
	// KindInvalidArgument: the caller sent a bad name, field or option.
	KindInvalidArgument
	// KindNotEmpty: the resource still has children (a service with
	// functions) and cannot be deleted.
	KindNotEmpty
	// KindOverloaded: the host as a whole runs as many invocations as it
	// allows; none came free within the wait bound.
	KindOverloaded
)

var kindNames = [...]string{
	KindInternal:         "internal",
	KindInvalidModule:    "invalid module",
	KindTrap:             "trap",
	KindTimeout:          "timeout",
	KindMemoryLimit:      "memory limit",
	KindExit:             "exit",
	KindNoResponse:       "no response",
	KindResponseTooLarge: "response too large",
	KindBadResponse:      "bad response",
	KindTooManyInstances: "too many instances",
	KindCanceled:         "canceled",
	KindClosed:           "closed",
	KindNotFound:         "not found",
	KindConflict:         "conflict",
	KindInvalidArgument:  "invalid argument",
	KindNotEmpty:         "not empty",
	KindOverloaded:       "overloaded",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Error is an error with a Kind and the operation that failed. Err may be
// nil when Kind and Op say everything.
type Error struct {
	Kind Kind
	Op   string // package-qualified operation, e.g. "runtime.Invoke"
	Err  error
}

func (e *Error) Error() string {
	msg := e.Op + ": " + e.Kind.String()
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports a match for another *Error of the same Kind whose Op and Err
// are empty, so callers can write errors.Is(err, &host.Error{Kind: k}).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Op == "" && t.Err == nil && t.Kind == e.Kind
}

// Errorf-like constructors are deliberately absent: wrap with
// &host.Error{Kind, Op, fmt.Errorf("...: %w", err)}.

// ErrorKind returns the Kind of the outermost *Error in err's chain, or
// KindInternal when there is none.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

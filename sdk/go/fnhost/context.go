package fnhost

import (
	"time"

	"github.com/fnhost/fnhost/abi"
)

func ctxString(key int32) string {
	s, _ := getString(func(b []byte) int32 { return contextString(key, b) })
	return s
}

func ctxInt(key int32) int64 {
	n := contextInt(key)
	if n < 0 {
		return 0
	}
	return n
}

// RequestID returns the id of the running invocation's request (the
// x-fc-request-id header), or "" outside an invocation.
func RequestID() string { return ctxString(abi.CtxRequestID) }

// Service returns the name of the function's service, or "" outside an
// invocation.
func Service() string { return ctxString(abi.CtxService) }

// Function returns the function's name, or "" outside an invocation.
func Function() string { return ctxString(abi.CtxFunction) }

// Qualifier returns the qualifier the function was called with ("LATEST"
// when none was given), or "" outside an invocation.
func Qualifier() string { return ctxString(abi.CtxQualifier) }

// InstanceID returns the id of the instance running the guest, stable for
// the instance's life, or "" outside an invocation.
func InstanceID() string { return ctxString(abi.CtxInstanceID) }

// MemoryLimitMB returns the function's memory limit in MiB.
func MemoryLimitMB() int { return int(ctxInt(abi.CtxMemoryLimitMB)) }

// Remaining returns the time left before the invocation's deadline, in
// milliseconds precision (outside an invocation: the configured timeout).
func Remaining() time.Duration { return time.Duration(ctxInt(abi.CtxRemainingMS)) * time.Millisecond }

// Timeout returns the function's configured timeout.
func Timeout() time.Duration { return time.Duration(ctxInt(abi.CtxTimeoutMS)) * time.Millisecond }

// Attempt returns the attempt number of the running invocation: 1 for the
// first attempt, more for asynchronous retries, 0 outside an invocation.
func Attempt() int { return int(ctxInt(abi.CtxAttempt)) }

// Getenv returns the value of the function's environment variable name
// (exact, case-sensitive) and whether it is set. The same variables are
// visible through os.Getenv; Getenv does not need the os package.
func Getenv(name string) (string, bool) {
	v, err := getString(func(b []byte) int32 { return envGet(name, b) })
	return v, err == nil
}

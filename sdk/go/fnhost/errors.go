package fnhost

import (
	"strconv"

	"github.com/fnhost/fnhost/abi"
)

// Errno is an error code returned by a host function (abi/ABI.md §5). Its
// values are negative.
type Errno int32

// The error codes of ABI v1. Functions of this package return them, so they
// can be compared with == or errors.Is. A code this SDK does not know is
// returned as an Errno too.
var (
	ErrFault    error = Errno(abi.ErrFault)    // a pointer/length pair was outside linear memory
	ErrNotFound error = Errno(abi.ErrNotFound) // no such header, environment variable or index
	ErrInvalid  error = Errno(abi.ErrInvalid)  // an argument outside its domain
	ErrTooLarge error = Errno(abi.ErrTooLarge) // the response would exceed a host limit
	ErrState    error = Errno(abi.ErrState)    // not valid now (no invocation running)
)

func (e Errno) Error() string {
	switch int32(e) {
	case abi.ErrFault:
		return "fnhost: address out of bounds (ERR_FAULT)"
	case abi.ErrNotFound:
		return "fnhost: not found (ERR_NOT_FOUND)"
	case abi.ErrInvalid:
		return "fnhost: invalid argument (ERR_INVALID)"
	case abi.ErrTooLarge:
		return "fnhost: response too large (ERR_TOO_LARGE)"
	case abi.ErrState:
		return "fnhost: no invocation running (ERR_STATE)"
	}
	return "fnhost: host error " + strconv.Itoa(int(e))
}

// errno converts a negative host result to an error.
func errno(code int64) error {
	switch int32(code) {
	case abi.ErrFault:
		return ErrFault
	case abi.ErrNotFound:
		return ErrNotFound
	case abi.ErrInvalid:
		return ErrInvalid
	case abi.ErrTooLarge:
		return ErrTooLarge
	case abi.ErrState:
		return ErrState
	}
	return Errno(code)
}

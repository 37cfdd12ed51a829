package fnhost

import (
	"fmt"

	"github.com/fnhost/fnhost/abi"
)

// Level is a log level.
type Level int32

// Log levels of ABI v1.
const (
	LevelDebug Level = Level(abi.LogDebug)
	LevelInfo  Level = Level(abi.LogInfo)
	LevelWarn  Level = Level(abi.LogWarn)
	LevelError Level = Level(abi.LogError)
)

// Log appends msg as one line to the invocation's log (during _initialize,
// to the host's own log). A trailing newline is removed; other CR and LF
// bytes are kept. The host copies msg before Log returns. It returns
// ErrInvalid for an unknown level. The log of an invocation is bounded by
// the host: lines past the bound are dropped.
func Log(level Level, msg string) error {
	if n := logLine(int32(level), msg); n < 0 {
		return errno(int64(n))
	}
	return nil
}

// Logf formats its arguments with fmt.Sprintf and logs the result.
func Logf(level Level, format string, args ...any) {
	Log(level, fmt.Sprintf(format, args...))
}

// Debug logs msg at LevelDebug.
func Debug(msg string) { Log(LevelDebug, msg) }

// Info logs msg at LevelInfo.
func Info(msg string) { Log(LevelInfo, msg) }

// Warn logs msg at LevelWarn.
func Warn(msg string) { Log(LevelWarn, msg) }

// Error logs msg at LevelError.
func Error(msg string) { Log(LevelError, msg) }

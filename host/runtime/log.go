package runtime

import (
	"strconv"

	"github.com/fnhost/fnhost/abi"
)

// logBuffer captures one invocation's log into the Response's Log, bounded.
// It is also the io.Writer given to WASI as stdout and stderr. Between
// invocations (during _initialize of a pooled instance) dst is nil and the
// output is dropped after counting; the first invocation's log then starts
// with a note of it.
type logBuffer struct {
	dst     *[]byte
	limit   int
	dropped int
}

var levelPrefix = [...]string{
	abi.LogDebug: "[DEBUG] ",
	abi.LogInfo:  "[INFO] ",
	abi.LogWarn:  "[WARN] ",
	abi.LogError: "[ERROR] ",
}

func (b *logBuffer) reset(dst *[]byte, limit int) {
	b.dst = dst
	b.limit = limit
	b.dropped = 0
}

// finish appends the truncation marker, if anything was dropped, and
// detaches the buffer from the Response.
func (b *logBuffer) finish() {
	if b.dst != nil && b.dropped > 0 {
		*b.dst = append(*b.dst, "[fnhost] log truncated: "...)
		*b.dst = strconv.AppendInt(*b.dst, int64(b.dropped), 10)
		*b.dst = append(*b.dst, " bytes dropped\n"...)
	}
	b.dst = nil
	b.dropped = 0
}

// Write implements io.Writer for WASI stdout and stderr. It never fails, so
// a guest is not disturbed by a full log.
func (b *logBuffer) Write(p []byte) (int, error) {
	if b.dst == nil {
		return len(p), nil
	}
	if room := b.limit - len(*b.dst); len(p) > room {
		if room > 0 {
			*b.dst = append(*b.dst, p[:room]...)
		}
		b.dropped += len(p) - max(room, 0)
		return len(p), nil
	}
	*b.dst = append(*b.dst, p...)
	return len(p), nil
}

// line appends one log call as "[LEVEL] message\n"; a line that does not fit
// whole is dropped.
func (b *logBuffer) line(level int32, msg []byte) {
	if b.dst == nil {
		return
	}
	p := levelPrefix[level]
	n := len(p) + len(msg) + 1
	if len(*b.dst)+n > b.limit {
		b.dropped += n
		return
	}
	*b.dst = append(*b.dst, p...)
	*b.dst = append(*b.dst, msg...)
	*b.dst = append(*b.dst, '\n')
}

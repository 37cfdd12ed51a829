package runtime

import (
	"context"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/fnhost/fnhost/abi"
	"github.com/fnhost/fnhost/host"
)

// The ABI v1 host functions (abi/ABI.md §4). Each is an api.GoModuleFunc:
// no reflection, arguments and results on wazero's stack, and no
// allocation. The instance comes from the call's context; guest pointers are
// checked by api.Memory.Read, which returns a view (not a copy) that is only
// used inside the call.

func instantiateHostV1(ctx context.Context, wr wazero.Runtime) error {
	const i32, i64 = api.ValueTypeI32, api.ValueTypeI64
	b := wr.NewHostModuleBuilder(abi.ModuleV1)
	def := func(name string, fn api.GoModuleFunc, params, results []api.ValueType) {
		b.NewFunctionBuilder().WithGoModuleFunction(fn, params, results).WithName(name).Export(name)
	}
	r32 := []api.ValueType{i32}
	r64 := []api.ValueType{i64}
	def(abi.FnRequestMethod, copyField(func(r *host.Request) []byte { return r.Method }), []api.ValueType{i32, i32}, r32)
	def(abi.FnRequestPath, copyField(func(r *host.Request) []byte { return r.Path }), []api.ValueType{i32, i32}, r32)
	def(abi.FnRequestQuery, copyField(func(r *host.Request) []byte { return r.RawQuery }), []api.ValueType{i32, i32}, r32)
	def(abi.FnRequestClientIP, copyField(func(r *host.Request) []byte { return r.ClientIP }), []api.ValueType{i32, i32}, r32)
	def(abi.FnRequestHeaderCount, requestHeaderCount, nil, r32)
	def(abi.FnRequestHeaderName, requestHeaderName, []api.ValueType{i32, i32, i32}, r32)
	def(abi.FnRequestHeaderValue, requestHeaderValue, []api.ValueType{i32, i32, i32}, r32)
	def(abi.FnRequestHeaderGet, requestHeaderGet, []api.ValueType{i32, i32, i32, i32}, r32)
	def(abi.FnRequestBodySize, requestBodySize, nil, r64)
	def(abi.FnRequestBodyRead, requestBodyRead, []api.ValueType{i32, i32}, r32)
	def(abi.FnResponseSetStatus, responseSetStatus, []api.ValueType{i32}, r32)
	def(abi.FnResponseAddHeader, responseAddHeader, []api.ValueType{i32, i32, i32, i32}, r32)
	def(abi.FnResponseWrite, responseWrite, []api.ValueType{i32, i32}, r32)
	def(abi.FnContextString, contextString, []api.ValueType{i32, i32, i32}, r32)
	def(abi.FnContextInt, contextInt, []api.ValueType{i32}, r64)
	def(abi.FnEnvGet, envGet, []api.ValueType{i32, i32, i32, i32}, r32)
	def(abi.FnLog, logLine, []api.ValueType{i32, i32, i32}, r32)
	_, err := b.Instantiate(ctx)
	return err
}

func ret(stack []uint64, v int32) { stack[0] = api.EncodeI32(v) }

// copyOut implements the copy-out convention: copy min(len(val), capacity)
// bytes to buf and return len(val). The whole (buf, capacity) range must lie
// in memory, so a guest learns about a bad buffer even when the value is
// short.
func copyOut(m api.Module, buf, capacity uint32, val []byte) int32 {
	if capacity != 0 {
		dst, ok := m.Memory().Read(buf, capacity)
		if !ok {
			return abi.ErrFault
		}
		copy(dst, val)
	}
	return int32(min(len(val), maxResult))
}

func copyOutString(m api.Module, buf, capacity uint32, val string) int32 {
	if capacity != 0 {
		dst, ok := m.Memory().Read(buf, capacity)
		if !ok {
			return abi.ErrFault
		}
		copy(dst, val)
	}
	return int32(min(len(val), maxResult))
}

const maxResult = 1<<31 - 1

// activeInstance returns the instance running an invocation, or nil when no
// invocation is running (during _initialize).
func activeInstance(ctx context.Context) *instance {
	in := instanceFrom(ctx)
	if in == nil || !in.active {
		return nil
	}
	return in
}

func copyField(field func(*host.Request) []byte) api.GoModuleFunc {
	return func(ctx context.Context, m api.Module, stack []uint64) {
		in := activeInstance(ctx)
		if in == nil {
			ret(stack, abi.ErrState)
			return
		}
		ret(stack, copyOut(m, uint32(stack[0]), uint32(stack[1]), field(in.req)))
	}
}

func requestHeaderCount(ctx context.Context, _ api.Module, stack []uint64) {
	in := activeInstance(ctx)
	if in == nil {
		ret(stack, abi.ErrState)
		return
	}
	ret(stack, int32(len(in.req.Headers)))
}

func headerAt(ctx context.Context, m api.Module, stack []uint64, value bool) {
	in := activeInstance(ctx)
	if in == nil {
		ret(stack, abi.ErrState)
		return
	}
	idx := uint32(stack[0])
	if idx >= uint32(len(in.req.Headers)) {
		ret(stack, abi.ErrNotFound)
		return
	}
	h := &in.req.Headers[idx]
	v := h.Name
	if value {
		v = h.Value
	}
	ret(stack, copyOut(m, uint32(stack[1]), uint32(stack[2]), v))
}

func requestHeaderName(ctx context.Context, m api.Module, stack []uint64) {
	headerAt(ctx, m, stack, false)
}

func requestHeaderValue(ctx context.Context, m api.Module, stack []uint64) {
	headerAt(ctx, m, stack, true)
}

func requestHeaderGet(ctx context.Context, m api.Module, stack []uint64) {
	in := activeInstance(ctx)
	if in == nil {
		ret(stack, abi.ErrState)
		return
	}
	name, ok := m.Memory().Read(uint32(stack[0]), uint32(stack[1]))
	if !ok {
		ret(stack, abi.ErrFault)
		return
	}
	for i := range in.req.Headers {
		h := &in.req.Headers[i]
		if host.EqualFoldASCII(h.Name, name) {
			ret(stack, copyOut(m, uint32(stack[2]), uint32(stack[3]), h.Value))
			return
		}
	}
	ret(stack, abi.ErrNotFound)
}

func requestBodySize(ctx context.Context, _ api.Module, stack []uint64) {
	in := activeInstance(ctx)
	if in == nil {
		stack[0] = api.EncodeI64(int64(abi.ErrState))
		return
	}
	stack[0] = api.EncodeI64(int64(len(in.req.Body)))
}

func requestBodyRead(ctx context.Context, m api.Module, stack []uint64) {
	in := activeInstance(ctx)
	if in == nil {
		ret(stack, abi.ErrState)
		return
	}
	buf, capacity := uint32(stack[0]), uint32(stack[1])
	rest := in.req.Body[in.bodyOff:]
	n := min(len(rest), int(capacity), maxResult)
	if capacity != 0 {
		dst, ok := m.Memory().Read(buf, capacity)
		if !ok {
			ret(stack, abi.ErrFault)
			return
		}
		copy(dst, rest[:n])
	}
	in.bodyOff += n
	ret(stack, int32(n))
}

func responseSetStatus(ctx context.Context, _ api.Module, stack []uint64) {
	in := activeInstance(ctx)
	if in == nil {
		ret(stack, abi.ErrState)
		return
	}
	status := int32(uint32(stack[0]))
	if status < 100 || status > 599 {
		ret(stack, abi.ErrInvalid)
		return
	}
	in.res.Status = int(status)
	in.responded = true
	ret(stack, 0)
}

func responseAddHeader(ctx context.Context, m api.Module, stack []uint64) {
	in := activeInstance(ctx)
	if in == nil {
		ret(stack, abi.ErrState)
		return
	}
	mem := m.Memory()
	name, ok1 := mem.Read(uint32(stack[0]), uint32(stack[1]))
	value, ok2 := mem.Read(uint32(stack[2]), uint32(stack[3]))
	switch {
	case !ok1 || !ok2:
		ret(stack, abi.ErrFault)
	case !host.ValidHeaderName(name) || !host.ValidHeaderValue(value):
		ret(stack, abi.ErrInvalid)
	case in.res.HeaderBytes()+len(name)+len(value) > in.fn.cfg.MaxHeaderBytes:
		in.fail(errHeadersTooLarge)
		ret(stack, abi.ErrTooLarge)
	default:
		in.res.AddHeader(name, value)
		in.responded = true
		ret(stack, 0)
	}
}

func responseWrite(ctx context.Context, m api.Module, stack []uint64) {
	in := activeInstance(ctx)
	if in == nil {
		ret(stack, abi.ErrState)
		return
	}
	data, ok := m.Memory().Read(uint32(stack[0]), uint32(stack[1]))
	switch {
	case !ok:
		ret(stack, abi.ErrFault)
	case len(in.res.Body)+len(data) > in.fn.cfg.MaxResponseBytes:
		in.fail(errBodyTooLarge)
		ret(stack, abi.ErrTooLarge)
	default:
		in.res.Body = append(in.res.Body, data...)
		in.responded = true
		ret(stack, int32(len(data)))
	}
}

var (
	errHeadersTooLarge = &host.Error{Kind: host.KindResponseTooLarge, Op: "runtime.Invoke", Err: errString("response headers over the limit")}
	errBodyTooLarge    = &host.Error{Kind: host.KindResponseTooLarge, Op: "runtime.Invoke", Err: errString("response body over the limit")}
)

type errString string

func (e errString) Error() string { return string(e) }

func (in *instance) fail(err error) {
	if in.failed == nil {
		in.failed = err
	}
}

func contextString(ctx context.Context, m api.Module, stack []uint64) {
	in := instanceFrom(ctx)
	if in == nil {
		ret(stack, abi.ErrState)
		return
	}
	var v string
	switch key := int32(uint32(stack[0])); key {
	case abi.CtxRequestID, abi.CtxQualifier:
		if !in.active {
			ret(stack, abi.ErrState)
			return
		}
		if key == abi.CtxRequestID {
			v = in.req.RequestID
			break
		}
		v = in.req.Qualifier
		if v == "" {
			v = "LATEST"
		}
	case abi.CtxService:
		v = in.fn.cfg.Service
	case abi.CtxFunction:
		v = in.fn.cfg.Function
	case abi.CtxInstanceID:
		v = in.id
	default:
		ret(stack, abi.ErrInvalid)
		return
	}
	ret(stack, copyOutString(m, uint32(stack[1]), uint32(stack[2]), v))
}

func contextInt(ctx context.Context, _ api.Module, stack []uint64) {
	in := instanceFrom(ctx)
	var v int64
	switch int32(uint32(stack[0])) {
	case abi.CtxMemoryLimitMB:
		if in != nil {
			v = int64(in.fn.cfg.MemoryMB)
		}
	case abi.CtxRemainingMS:
		if in != nil {
			if in.active {
				v = max(0, time.Until(in.deadline).Milliseconds())
			} else {
				v = in.fn.cfg.Timeout.Milliseconds()
			}
		}
	case abi.CtxAttempt:
		if in != nil && in.active {
			v = int64(max(1, in.req.Attempt))
		}
	case abi.CtxTimeoutMS:
		if in != nil {
			v = in.fn.cfg.Timeout.Milliseconds()
		}
	default:
		v = int64(abi.ErrInvalid)
	}
	stack[0] = api.EncodeI64(v)
}

func envGet(ctx context.Context, m api.Module, stack []uint64) {
	in := instanceFrom(ctx)
	if in == nil {
		ret(stack, abi.ErrState)
		return
	}
	name, ok := m.Memory().Read(uint32(stack[0]), uint32(stack[1]))
	if !ok {
		ret(stack, abi.ErrFault)
		return
	}
	v, found := in.fn.env[string(name)] // no allocation: the compiler avoids it for map lookups
	if !found {
		ret(stack, abi.ErrNotFound)
		return
	}
	ret(stack, copyOutString(m, uint32(stack[2]), uint32(stack[3]), v))
}

func logLine(ctx context.Context, m api.Module, stack []uint64) {
	in := instanceFrom(ctx)
	level := int32(uint32(stack[0]))
	if level < abi.LogDebug || level > abi.LogError {
		ret(stack, abi.ErrInvalid)
		return
	}
	msg, ok := m.Memory().Read(uint32(stack[1]), uint32(stack[2]))
	if !ok {
		ret(stack, abi.ErrFault)
		return
	}
	if n := len(msg); n > 0 && msg[n-1] == '\n' {
		msg = msg[:n-1]
	}
	if in != nil {
		in.log.line(level, msg)
	}
	ret(stack, 0)
}

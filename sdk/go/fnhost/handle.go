package fnhost

// handler is the function registered with Handle.
var handler func(ResponseWriter, *Request)

// Handle registers h as the function's handler; call it from an init
// function. The host calls the SDK's handle export once per invocation, and
// the SDK calls h with the invocation's request and a writer for its
// response. A later call of Handle replaces the handler.
//
// If h returns without a successful call of any ResponseWriter method, the
// response is an empty 200. If h panics, the Go runtime prints the panic to
// stderr (captured in the invocation log) and the module traps: the
// invocation fails and the host discards the instance. The SDK does not
// recover panics.
func Handle(h func(w ResponseWriter, r *Request)) { handler = h }

type invocation struct {
	req  Request
	resp response
}

// dispatch runs one invocation; the handle export calls it.
func dispatch() {
	h := handler
	if h == nil {
		logLine(int32(LevelError), "fnhost: no handler registered: call fnhost.Handle from an init function")
		responseSetStatus(500)
		responseWriteString("fnhost: no handler registered\n")
		return
	}
	inv := new(invocation)
	h(&inv.resp, &inv.req)
	if !inv.resp.responded {
		responseWrite(nil)
	}
}

package fnhost

// ResponseWriter builds the response of the running invocation. The host
// buffers the response and sends it when the handler returns, so status,
// headers and body may be set in any order. It is valid only until the
// handler returns and must not be used concurrently.
//
// If the handler returns without a successful call of any method, the SDK
// sends an empty 200 response, as net/http does.
type ResponseWriter interface {
	// SetStatus sets the status code; the last call wins and the default is
	// 200. It returns ErrInvalid if code is outside 100–599.
	SetStatus(code int) error
	// AddHeader adds one response header field; adding one name twice gives
	// two fields. It returns ErrInvalid if name is not an HTTP token or value
	// contains CR, LF or NUL, and ErrTooLarge past the host's header limit.
	// Fields the HTTP layer manages (content-length, connection, date, ...)
	// are dropped by the host.
	AddHeader(name, value string) error
	// Write appends p to the body. The host copies p before Write returns.
	// It returns ErrTooLarge, having written nothing, when the body would
	// exceed the host's response limit; the invocation then fails whatever
	// the handler does next.
	Write(p []byte) (int, error)
	// WriteString is Write for a string, without a copy.
	WriteString(s string) (int, error)
}

type response struct {
	responded bool // a response call succeeded
}

func (w *response) SetStatus(code int) error {
	if code < 100 || code > 599 {
		return ErrInvalid
	}
	return w.result(int64(responseSetStatus(int32(code))))
}

func (w *response) AddHeader(name, value string) error {
	return w.result(int64(responseAddHeader(name, value)))
}

func (w *response) Write(p []byte) (int, error) {
	return w.written(responseWrite(p))
}

func (w *response) WriteString(s string) (int, error) {
	return w.written(responseWriteString(s))
}

func (w *response) result(n int64) error {
	if n < 0 {
		return errno(n)
	}
	w.responded = true
	return nil
}

func (w *response) written(n int32) (int, error) {
	if err := w.result(int64(n)); err != nil {
		return 0, err
	}
	return int(n), nil
}

package fnhost

import (
	"io"

	"github.com/fnhost/fnhost/sdk/go/fnhost/internal/ascii"
)

// HeaderField is one request header field: the name and value bytes as
// received on the wire (names keep their case).
type HeaderField struct {
	Name, Value string
}

// Request is the request of the running invocation. The SDK creates one per
// invocation and passes it to the handler; it is valid only until the
// handler returns. Its methods fetch each part from the host on first use and
// cache it, except Header, which asks the host each time unless Headers was
// called. A Request must not be used concurrently.
type Request struct {
	method, path, query, clientIP string
	have                          uint8 // haveMethod|... bits: the string fields that are cached
	headers                       []HeaderField
	haveHeaders                   bool
	body                          bodyReader
	bodyAll                       []byte
	bodyErr                       error
	haveBody                      bool
}

const (
	haveMethod uint8 = 1 << iota
	havePath
	haveQuery
	haveClientIP
)

func (r *Request) cached(bit uint8, field *string, f func([]byte) int32) string {
	if r.have&bit == 0 {
		s, err := getString(f)
		if err != nil {
			return "" // ERR_STATE: the handler has returned; do not cache
		}
		*field = s
		r.have |= bit
	}
	return *field
}

// Method returns the request method, e.g. "GET".
func (r *Request) Method() string { return r.cached(haveMethod, &r.method, requestMethod) }

// Path returns the path after the function's trigger prefix, starting with
// "/", as received: percent-encoding is not decoded.
func (r *Request) Path() string { return r.cached(havePath, &r.path, requestPath) }

// RawQuery returns the query string without the leading "?", not decoded;
// "" when there is none.
func (r *Request) RawQuery() string { return r.cached(haveQuery, &r.query, requestQuery) }

// ClientIP returns the client's IP address in text form, e.g. "203.0.113.7"
// or "2001:db8::1".
func (r *Request) ClientIP() string { return r.cached(haveClientIP, &r.clientIP, requestClientIP) }

// Header returns the value of the first header field whose name equals name,
// ignoring ASCII case, and whether there is one. Use Headers for repeated
// fields.
func (r *Request) Header(name string) (string, bool) {
	if r.haveHeaders {
		for _, f := range r.headers {
			if ascii.EqualFold(f.Name, name) {
				return f.Value, true
			}
		}
		return "", false
	}
	v, err := getString(func(b []byte) int32 { return requestHeaderGet(name, b) })
	return v, err == nil
}

// Headers returns all request header fields in arrival order. A field
// repeated on the wire (two Accept lines, several Cookie lines) appears as
// several entries with the same name; they are not joined. The slice is
// cached and shared by later calls: the caller may keep it but must not
// modify it. It is nil when there are no fields (or the handler has
// returned).
func (r *Request) Headers() []HeaderField {
	if !r.haveHeaders {
		h, err := loadHeaders()
		if err != nil {
			return nil
		}
		r.headers, r.haveHeaders = h, true
	}
	return r.headers
}

// loadHeaders fetches every name and value into one buffer, converts that to
// a single string, and slices the fields out of it: two allocations whatever
// the number of fields.
func loadHeaders() ([]HeaderField, error) {
	n := requestHeaderCount()
	if n < 0 {
		return nil, errno(int64(n))
	}
	if n == 0 {
		return nil, nil
	}
	if scratch == nil {
		scratch = make([]byte, 0, scratchInit)
	}
	buf := scratch[:0]
	ends := make([]int, 2*n) // end offsets of name 0, value 0, name 1, ...
	var err error
	for i := int32(0); i < n; i++ {
		if buf, err = appendOut(buf, func(b []byte) int32 { return requestHeaderName(i, b) }); err != nil {
			return nil, err
		}
		ends[2*i] = len(buf)
		if buf, err = appendOut(buf, func(b []byte) int32 { return requestHeaderValue(i, b) }); err != nil {
			return nil, err
		}
		ends[2*i+1] = len(buf)
	}
	all := string(buf)
	keepScratch(buf)
	fields := make([]HeaderField, n)
	start := 0
	for i := range fields {
		fields[i] = HeaderField{all[start:ends[2*i]], all[ends[2*i]:ends[2*i+1]]}
		start = ends[2*i+1]
	}
	return fields, nil
}

// BodySize returns the total size of the request body in bytes (the host has
// the whole body before the handler runs), or -1 if the host failed.
func (r *Request) BodySize() int64 {
	n := requestBodySize()
	if n < 0 {
		return -1
	}
	return n
}

// Body reads the rest of the request body from the host and returns it: the
// whole body unless BodyReader was read from first. The returned slice is
// newly allocated and belongs to the caller; later calls return the same
// slice.
func (r *Request) Body() ([]byte, error) {
	if r.haveBody {
		return r.bodyAll, r.bodyErr
	}
	size := requestBodySize()
	if size < 0 {
		return nil, errno(size)
	}
	var buf []byte
	if size > 0 {
		buf = make([]byte, 0, size)
	}
	for {
		if len(buf) == cap(buf) {
			// Full (or empty body): check for the end without growing.
			var probe [256]byte
			n := requestBodyRead(probe[:])
			if n <= 0 {
				r.bodyAll, r.bodyErr, r.haveBody = buf, nil, true
				if n < 0 {
					r.bodyErr = errno(int64(n))
				}
				return r.bodyAll, r.bodyErr
			}
			buf = append(buf, probe[:n]...)
			continue
		}
		n := requestBodyRead(buf[len(buf):cap(buf)])
		if n < 0 {
			r.bodyAll, r.bodyErr, r.haveBody = buf, errno(int64(n)), true
			return buf, r.bodyErr
		}
		if n == 0 {
			r.bodyAll, r.haveBody = buf, true
			return buf, nil
		}
		buf = buf[:len(buf)+int(n)]
	}
}

// BodyReader returns a reader of the request body, which reads from the host
// in chunks of the caller's size. Body and BodyReader consume the same
// stream. Every call returns the same reader.
func (r *Request) BodyReader() io.Reader { return &r.body }

type bodyReader struct{}

func (*bodyReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(p) > 1<<30 {
		p = p[:1<<30]
	}
	n := requestBodyRead(p)
	switch {
	case n < 0:
		return 0, errno(int64(n))
	case n == 0:
		return 0, io.EOF
	}
	return int(n), nil
}

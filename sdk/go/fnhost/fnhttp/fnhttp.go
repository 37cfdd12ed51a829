// Package fnhttp serves an ordinary net/http handler as an fnhost function:
//
//	func init() {
//		mux := http.NewServeMux()
//		mux.HandleFunc("GET /users/{id}", user)
//		fnhttp.Serve(mux)
//	}
//
//	func main() {}
//
// Each invocation becomes one *http.Request and the handler's writes become
// the invocation's response. The request has the method, the URL (path after
// the function's prefix and raw query, as the host received them), the
// header fields (repeated fields as repeated values; Host moved to
// Request.Host as net/http does), the body, RemoteAddr (the client's IP
// address, without a port), RequestURI, and a context whose deadline is the
// invocation's deadline. ServeMux patterns, r.PathValue and r.Pattern work
// as on a net/http server.
//
// The response writer follows net/http: the first WriteHeader wins (later
// ones are logged and ignored), the first Write without one implies 200,
// header changes after WriteHeader have no effect, a missing Content-Type is
// detected from the first 512 body bytes with http.DetectContentType, writes
// to a HEAD response or a 204/304 are dropped or refused with
// http.ErrBodyNotAllowed, and header values have CR and LF replaced by
// spaces; fields the host rejects are dropped. Informational 1xx statuses
// other than 101 cannot be sent and are ignored. The host buffers the whole
// response and sends it when the handler returns, so Flush only commits the
// status and headers. Trailers are not supported.
//
// A handler that panics ends the instance, as in package fnhost; there is no
// recovery as in net/http's server.
package fnhttp

import (
	"context"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fnhost/fnhost/sdk/go/fnhost"
)

// Serve registers h as the function's handler (see fnhost.Handle). Call it
// from an init function.
func Serve(h http.Handler) { fnhost.Handle(Adapt(h)) }

// Adapt returns an fnhost handler that serves h.
func Adapt(h http.Handler) func(fnhost.ResponseWriter, *fnhost.Request) {
	return func(w fnhost.ResponseWriter, r *fnhost.Request) {
		req, err := NewRequest(r)
		if err != nil {
			w.SetStatus(http.StatusBadRequest)
			w.AddHeader("Content-Type", "text/plain; charset=utf-8")
			w.WriteString("400 Bad Request: " + err.Error())
			return
		}
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(fnhost.Remaining()))
		defer cancel()
		rw := &responseWriter{w: w, header: make(http.Header), head: req.Method == http.MethodHead}
		h.ServeHTTP(rw, req.WithContext(ctx))
		rw.finish()
	}
}

// NewRequest builds the server-side *http.Request of the invocation r, with
// a background context. It fails if the path and query do not form a valid
// request URI.
func NewRequest(r *fnhost.Request) (*http.Request, error) {
	uri := r.Path()
	if q := r.RawQuery(); q != "" {
		uri += "?" + q
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, err
	}
	fields := r.Headers()
	header := make(http.Header, len(fields))
	vals := make([]string, len(fields)) // one backing array for all values, as textproto does
	for _, f := range fields {
		k := textproto.CanonicalMIMEHeaderKey(f.Name)
		vv := header[k]
		if vv == nil {
			vv = vals[:0:1]
			vals = vals[1:]
		}
		header[k] = append(vv, f.Value)
	}
	host := ""
	if hv := header["Host"]; len(hv) > 0 {
		host = hv[0]
	}
	delete(header, "Host")
	req := &http.Request{
		Method:     r.Method(),
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     header,
		Body:       http.NoBody,
		Host:       host,
		RemoteAddr: r.ClientIP(),
		RequestURI: uri,
	}
	if n := r.BodySize(); n > 0 {
		req.ContentLength = n
		req.Body = io.NopCloser(r.BodyReader())
	}
	return req, nil
}

const sniffLen = 512

type responseWriter struct {
	w      fnhost.ResponseWriter
	header http.Header
	status int  // 0 until the header is committed
	head   bool // a HEAD request: body bytes are dropped

	needSniff bool // no Content-Type was set: detect it from the body
	sniffN    int
	sniff     [sniffLen]byte
}

var headerNewlineToSpace = strings.NewReplacer("\n", " ", "\r", " ")

func (rw *responseWriter) Header() http.Header { return rw.header }

func (rw *responseWriter) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic("invalid WriteHeader code " + strconv.Itoa(code)) // as net/http
	}
	if rw.status != 0 {
		fnhost.Warn("fnhttp: superfluous response.WriteHeader call")
		return
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		return // an informational response: the host cannot send one
	}
	rw.status = code
	if err := rw.w.SetStatus(code); err != nil {
		fnhost.Error("fnhttp: invalid status code " + strconv.Itoa(code) + ", sending 500")
		rw.w.SetStatus(http.StatusInternalServerError)
	}
	keys := make([]string, 0, len(rw.header))
	for k := range rw.header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range rw.header[k] {
			v = textproto.TrimString(headerNewlineToSpace.Replace(v))
			rw.w.AddHeader(k, v) // fields the host refuses are dropped, as net/http drops invalid names
		}
	}
	_, haveType := rw.header["Content-Type"]
	_, haveTE := rw.header["Transfer-Encoding"]
	rw.needSniff = !haveType && !haveTE && bodyAllowed(code)
}

func (rw *responseWriter) Write(p []byte) (int, error) {
	if err := beforeWrite(rw, p); err != nil {
		return 0, err
	}
	if rw.head {
		return len(p), nil
	}
	return rw.w.Write(p)
}

func (rw *responseWriter) WriteString(s string) (int, error) {
	if err := beforeWrite(rw, s); err != nil {
		return 0, err
	}
	if rw.head {
		return len(s), nil
	}
	return rw.w.WriteString(s)
}

// beforeWrite commits the header if needed, checks that the status allows a
// body and keeps the first bytes for Content-Type detection.
func beforeWrite[T string | []byte](rw *responseWriter, p T) error {
	if rw.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(rw.status) {
		return http.ErrBodyNotAllowed
	}
	if rw.needSniff && rw.sniffN < sniffLen {
		rw.sniffN += copy(rw.sniff[rw.sniffN:], p)
	}
	return nil
}

// Flush commits the status and headers, including a detected Content-Type.
// The host still sends the response only when the handler returns.
func (rw *responseWriter) Flush() {
	if rw.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	rw.setSniffed()
}

func (rw *responseWriter) setSniffed() {
	if rw.needSniff && rw.sniffN > 0 {
		rw.w.AddHeader("Content-Type", http.DetectContentType(rw.sniff[:rw.sniffN]))
	}
	rw.needSniff = false
}

// finish completes the response when the handler has returned.
func (rw *responseWriter) finish() {
	if rw.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	rw.setSniffed()
}

// bodyAllowed reports whether a response with this status may have a body
// (RFC 9110: not 1xx, 204 or 304).
func bodyAllowed(code int) bool {
	return code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified
}

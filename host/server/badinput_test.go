package server

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/auth"
)

// TestBadHTTPInputs is the table of hostile or malformed requests: each
// gets its exact status and X-Fc-Error-Type (for invocation paths), and the
// server keeps serving. Raw rows are written to the socket as is, for
// framing errors no HTTP client would send.
func TestBadHTTPInputs(t *testing.T) {
	ts := startServer(t, func(o *harnessOptions) {
		o.limits.MaxBodyBytes = 64 << 10
		o.limits.MaxAsyncBodyBytes = 1 << 10
		o.limits.MaxCodeBytes = 1 << 20
	})
	ts.deploy("s", "open", "hello-c", host.Function{}, anonymous("GET", "POST"))
	ts.deploy("s", "signed", "hello-c", host.Function{}, host.HTTPTriggerConfig{AuthType: host.AuthFunction, Methods: []string{"GET"}})
	ts.deploy("s", "dark", "hello-c", host.Function{}, host.HTTPTriggerConfig{AuthType: host.AuthAnonymous, Methods: []string{"GET"}, DisableURLInternet: true})
	ts.deploy("s", "notrigger", "hello-c", host.Function{}, host.HTTPTriggerConfig{})

	now := time.Now().UTC()
	date := now.Format(http.TimeFormat)
	fakeSig := "FC " + testKeyID + ":" + strings.Repeat("A", 43) + "="
	signedReq := func(method, path string, d time.Time) func() *http.Request {
		return func() *http.Request {
			r, _ := http.NewRequest(method, ts.URL+path, nil)
			r.Header.Set("Date", d.Format(http.TimeFormat))
			sign(r, strings.Contains(path, "/proxy/"))
			return r
		}
	}
	expired := func() *http.Request {
		u, _ := url.Parse(ts.URL + "/2016-08-15/proxy/s/signed/")
		signed := auth.SignURL("GET", u, nil, auth.Credentials{AccessKeyID: testKeyID, AccessKeySecret: testSecret}, now.Add(-time.Minute))
		r, _ := http.NewRequest("GET", signed, nil)
		return r
	}
	req := func(method, path string, body []byte, hdr ...string) func() *http.Request {
		return func() *http.Request {
			r, _ := http.NewRequest(method, ts.URL+path, bytes.NewReader(body))
			for i := 0; i+1 < len(hdr); i += 2 {
				r.Header.Set(hdr[i], hdr[i+1])
			}
			return r
		}
	}
	api := func(method, path string, body []byte) func() *http.Request {
		return func() *http.Request {
			r, _ := http.NewRequest(method, ts.URL+"/2016-08-15"+path, bytes.NewReader(body))
			r.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
			r.Header.Set("Content-Type", "application/json")
			sign(r, false)
			return r
		}
	}
	codeBody := func(code []byte) []byte {
		return []byte(`{"functionName":"f2","runtime":"wasm","code":{"zipFile":"` + base64.StdEncoding.EncodeToString(code) + `"}}`)
	}
	var bomb bytes.Buffer
	zw := zip.NewWriter(&bomb)
	w, _ := zw.Create("bomb.wasm")
	w.Write(append([]byte("\x00asm\x01\x00\x00\x00"), make([]byte, 8<<20)...)) // compresses to a few KB
	zw.Close()

	const proxy = "/2016-08-15/proxy"
	tests := []struct {
		name    string
		req     func() *http.Request
		raw     string // sent as is instead of req
		status  int
		errType string // "" for management paths
		code    string
	}{
		{name: "signed trigger, no Date", req: req("GET", proxy+"/s/signed/", nil, "Authorization", fakeSig), status: 400, errType: "FcCommonError", code: "MissingRequiredHeader"},
		{name: "signed trigger, no Authorization", req: req("GET", proxy+"/s/signed/", nil, "Date", date), status: 400, errType: "FcCommonError", code: "MissingRequiredHeader"},
		{name: "Date 16 minutes old", req: signedReq("GET", proxy+"/s/signed/", now.Add(-16*time.Minute)), status: 403, errType: "FcCommonError", code: "RequestTimeTooSkewed"},
		{name: "Date 16 minutes ahead", req: signedReq("GET", proxy+"/s/signed/", now.Add(16*time.Minute)), status: 403, errType: "FcCommonError", code: "RequestTimeTooSkewed"},
		{name: "Date not RFC 1123", req: req("GET", proxy+"/s/signed/", nil, "Date", "yesterday", "Authorization", fakeSig), status: 403, errType: "FcCommonError", code: "RequestTimeTooSkewed"},
		{name: "bad signature", req: req("GET", proxy+"/s/signed/", nil, "Date", date, "Authorization", fakeSig), status: 403, errType: "FcCommonError", code: "SignatureNotMatch"},
		{name: "unknown access key", req: req("GET", proxy+"/s/signed/", nil, "Date", date, "Authorization", "FC nobody:"+strings.Repeat("A", 43)+"="), status: 403, errType: "FcCommonError", code: "InvalidAccessKeyID"},
		{name: "Authorization not FC", req: req("GET", proxy+"/s/signed/", nil, "Date", date, "Authorization", "Bearer abc"), status: 403, errType: "FcCommonError", code: "AccessDenied"},
		{name: "presigned URL expired", req: expired, status: 403, errType: "FcCommonError", code: "AccessDenied"},
		{name: "wrong method", req: req("DELETE", proxy+"/s/open/", nil), status: 403, errType: "FcCommonError", code: "MethodNotAllowed"},
		{name: "internet URL disabled", req: req("GET", proxy+"/s/dark/", nil), status: 403, errType: "FcCommonError", code: "AccessDenied"},
		{name: "unknown service", req: req("GET", proxy+"/nope/open/", nil), status: 404, errType: "FcCommonError", code: "ServiceNotFound"},
		{name: "unknown function", req: req("GET", proxy+"/s/nope/", nil), status: 404, errType: "FcCommonError", code: "FunctionNotFound"},
		{name: "no HTTP trigger", req: req("GET", proxy+"/s/notrigger/", nil), status: 404, errType: "FcCommonError", code: "TriggerNotFound"},
		{name: "unknown qualifier", req: req("GET", proxy+"/s.v1/open/", nil), status: 404, errType: "FcCommonError", code: "VersionNotFound"},
		{name: "invalid service name", req: req("GET", proxy+"/9s/open/", nil), status: 400, errType: "FcCommonError", code: "InvalidArgument"},
		{name: "header block over 8 KB", req: req("GET", proxy+"/s/open/", nil, "X-Big", strings.Repeat("h", 9<<10)), status: 400, errType: "FcCommonError", code: "InvalidArgument"},
		{name: "path over 4 KB", req: req("GET", proxy+"/s/open/"+strings.Repeat("p", 5<<10), nil), status: 400, errType: "FcCommonError", code: "InvalidArgument"},
		{name: "sync body over the limit", req: req("POST", proxy+"/s/open/", make([]byte, 65<<10)), status: 400, errType: "FcCommonError", code: "InvalidArgument"},
		{name: "async body over the limit", req: req("POST", proxy+"/s/open/", make([]byte, 2<<10), "X-Fc-Invocation-Type", "Async"), status: 400, errType: "FcCommonError", code: "InvalidArgument"},
		{name: "async id breaks FC's rule", req: req("GET", proxy+"/s/open/", nil, "X-Fc-Invocation-Type", "Async", "X-Fc-Stateful-Async-Invocation-Id", "a/b"), status: 400, errType: "FcCommonError", code: "InvalidArgument"},
		{name: "async delay negative", req: req("GET", proxy+"/s/open/", nil, "X-Fc-Invocation-Type", "Async", "X-Fc-Async-Delay", "-1"), status: 400, errType: "FcCommonError", code: "InvalidArgument"},
		{name: "Content-Length not a number", raw: "POST " + proxy + "/s/open/ HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", status: 400, errType: "FcCommonError", code: "InvalidArgument"},
		{name: "Content-Length negative", raw: "POST " + proxy + "/s/open/ HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", status: 400, errType: "FcCommonError", code: "InvalidArgument"},
		{name: "two different Content-Lengths", raw: "POST " + proxy + "/s/open/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", status: 400, errType: "FcCommonError", code: "InvalidArgument"},
		{name: "Content-Length with chunked (smuggling)", raw: "POST " + proxy + "/s/open/ HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400, errType: "FcCommonError", code: "InvalidArgument"},
		{name: "NUL in a header value", raw: "GET " + proxy + "/s/open/ HTTP/1.1\r\nHost: x\r\nX-A: b\x00c\r\n\r\n", status: 400, errType: "FcCommonError", code: "InvalidArgument"},
		{name: "garbage request line", raw: "HELLO\r\n\r\n", status: 400, errType: "FcCommonError", code: "InvalidArgument"},
		{name: "management: unsigned", req: req("GET", "/2016-08-15/services", nil), status: 403, code: "AccessDenied"},
		{name: "management: malformed JSON", req: api("POST", "/services", []byte(`{"serviceName":`)), status: 400, code: "InvalidArgument"},
		{name: "management: wrong field type", req: api("POST", "/services", []byte(`{"serviceName":42}`)), status: 400, code: "InvalidArgument"},
		{name: "management: invalid name", req: api("POST", "/services", []byte(`{"serviceName":"-x"}`)), status: 400, code: "InvalidArgument"},
		{name: "management: duplicate service", req: api("POST", "/services", []byte(`{"serviceName":"s"}`)), status: 409, code: "ServiceAlreadyExists"},
		{name: "management: service not empty", req: api("DELETE", "/services/s", nil), status: 409, code: "ServiceNotEmpty"},
		{name: "management: unknown path", req: api("GET", "/accounts", nil), status: 404, code: "PathNotSupported"},
		{name: "management: method not allowed", req: api("PATCH", "/services", nil), status: 405, code: "MethodNotAllowed"},
		{name: "deploy: zip bomb", req: api("POST", "/services/s/functions", codeBody(bomb.Bytes())), status: 400, code: "EntityTooLarge"},
		{name: "deploy: not wasm", req: api("POST", "/services/s/functions", codeBody([]byte("MZ\x90\x00 not wasm"))), status: 400, code: "InvalidArgument"},
		{name: "deploy: invalid module", req: api("POST", "/services/s/functions", codeBody([]byte("\x00asm\x01\x00\x00\x00\x01\xff"))), status: 400, code: "InvalidArgument"},
	}
	if len(tests) < 30 {
		t.Fatalf("the table must hold at least 30 rows, has %d", len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var status int
			var hdr http.Header
			var body []byte
			if tc.raw != "" {
				status, hdr, body = rawRequest(t, ts.URL, tc.raw)
			} else {
				res, b := ts.do(tc.req())
				status, hdr, body = res.StatusCode, res.Header, b
			}
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if got := hdr.Get("X-Fc-Error-Type"); got != tc.errType {
				t.Errorf("X-Fc-Error-Type %q, want %q", got, tc.errType)
			}
			if code, _ := fcError(t, body); code != tc.code {
				t.Errorf("ErrorCode %q, want %q (%s)", code, tc.code, body)
			}
		})
	}
	// Nothing above changed the store or stopped the server.
	if res, body := ts.get("GET", proxy+"/s/open/", nil); res.StatusCode != 200 || string(body) != "hello world" {
		t.Fatalf("after the table: %d %s", res.StatusCode, body)
	}
	if _, err := ts.store.GetFunction("s", "f2"); host.ErrorKind(err) != host.KindNotFound {
		t.Fatalf("a refused deploy left a function: %v", err)
	}
}

// rawRequest writes raw to the server and reads one response.
func rawRequest(t *testing.T, base, raw string) (int, http.Header, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	return res.StatusCode, res.Header, b.Bytes()
}

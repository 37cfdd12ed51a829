package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/auth"
)

// mustAPI sends a signed management request and fails the test unless the
// answer has status want. It returns the body.
func (ts *testServer) mustAPI(method, path string, body any, want int) []byte {
	ts.t.Helper()
	res, b := ts.api(method, path, body)
	if res.StatusCode != want {
		ts.t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, b)
	}
	return b
}

// decodeAs unmarshals b into a new T or fails the test.
func decodeAs[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return v
}

// jsonKeys returns the sorted top-level keys of a JSON object.
func jsonKeys(t testing.TB, b []byte) string {
	t.Helper()
	m := decodeAs[map[string]json.RawMessage](t, b)
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ",")
}

// errCase is one bad request and the error it must get.
type errCase struct {
	name   string
	method string
	path   string
	body   any // nil, []byte or a JSON value
	status int
	code   string
	msg    string // a substring of ErrorMessage; "" checks nothing
}

// run sends the request and checks status, ErrorCode and message.
func (c errCase) run(t *testing.T, ts *testServer) {
	t.Helper()
	res, b := ts.api(c.method, c.path, c.body)
	if res.StatusCode != c.status {
		t.Fatalf("status %d, want %d: %s", res.StatusCode, c.status, b)
	}
	code, msg := fcError(t, b)
	t.Logf("%d %s: %s", res.StatusCode, code, msg)
	if code != c.code {
		t.Errorf("ErrorCode %q, want %q (message %q)", code, c.code, msg)
	}
	if !strings.Contains(msg, c.msg) {
		t.Errorf("ErrorMessage %q does not contain %q", msg, c.msg)
	}
	if res.Header.Get("X-Fc-Request-Id") == "" {
		t.Error("no X-Fc-Request-Id")
	}
}

func TestServiceCRUD(t *testing.T) {
	ts := startServer(t)

	b := ts.mustAPI("POST", "/services", map[string]any{"serviceName": "demo", "description": "first", "role": "ignored"}, 200)
	if got, want := jsonKeys(t, b), "createdTime,description,lastModifiedTime,serviceId,serviceName"; got != want {
		t.Errorf("create: keys %s, want %s", got, want)
	}
	created := decodeAs[map[string]string](t, b)
	if created["serviceName"] != "demo" || created["description"] != "first" || created["serviceId"] == "" {
		t.Errorf("create: %s", b)
	}
	if _, err := time.Parse(time.RFC3339, created["createdTime"]); err != nil {
		t.Errorf("createdTime: %v", err)
	}

	if got := ts.mustAPI("GET", "/services/demo", nil, 200); !bytes.Equal(got, b) {
		t.Errorf("get: %s, want %s", got, b)
	}
	if got := ts.mustAPI("GET", "/services/demo.LATEST", nil, 200); !bytes.Equal(got, b) {
		t.Errorf("get with qualifier: %s, want %s", got, b)
	}

	up := decodeAs[map[string]string](t, ts.mustAPI("PUT", "/services/demo", map[string]any{"description": "second"}, 200))
	if up["description"] != "second" || up["serviceId"] != created["serviceId"] || up["createdTime"] != created["createdTime"] {
		t.Errorf("update: %v", up)
	}
	// A body without description leaves it.
	up = decodeAs[map[string]string](t, ts.mustAPI("PUT", "/services/demo", map[string]any{}, 200))
	if up["description"] != "second" {
		t.Errorf("empty update changed description: %v", up)
	}

	list := ts.mustAPI("GET", "/services", nil, 200)
	if got, want := jsonKeys(t, list), "services"; got != want {
		t.Errorf("list keys %s, want %s (nextToken omitted on the last page)", got, want)
	}
	l := decodeAs[struct{ Services []map[string]string }](t, list)
	if len(l.Services) != 1 || l.Services[0]["serviceName"] != "demo" || l.Services[0]["description"] != "second" {
		t.Errorf("list: %s", list)
	}

	res, body := ts.api("DELETE", "/services/demo", nil)
	if res.StatusCode != 204 || len(body) != 0 {
		t.Fatalf("delete: %d %q", res.StatusCode, body)
	}
	errCase{method: "GET", path: "/services/demo", status: 404, code: "ServiceNotFound", msg: `"demo"`}.run(t, ts)
	if got := ts.mustAPI("GET", "/services", nil, 200); string(bytes.TrimSpace(got)) != `{"services":[]}` {
		t.Errorf("empty list: %s", got)
	}
}

func TestServiceListPaging(t *testing.T) {
	ts := startServer(t)
	names := []string{"a1", "a2", "a3", "b1", "b2"}
	for _, n := range names {
		ts.mustAPI("POST", "/services", map[string]string{"serviceName": n}, 200)
	}
	type page struct {
		Services []struct {
			ServiceName string `json:"serviceName"`
		}
		NextToken *string `json:"nextToken"`
	}
	collect := func(query string) (all []string, pages int) {
		t.Helper()
		tok := ""
		for {
			q := query
			if tok != "" {
				q += "&nextToken=" + tok
			}
			p := decodeAs[page](t, ts.mustAPI("GET", "/services?"+q, nil, 200))
			pages++
			for _, s := range p.Services {
				all = append(all, s.ServiceName)
			}
			if p.NextToken == nil {
				return all, pages
			}
			if *p.NextToken == "" {
				t.Fatal("nextToken present but empty")
			}
			tok = *p.NextToken
		}
	}
	for _, tc := range []struct {
		query string
		want  string
		pages int
	}{
		{"limit=2", "a1,a2,a3,b1,b2", 3},
		{"limit=5", "a1,a2,a3,b1,b2", 1},
		{"limit=0", "a1,a2,a3,b1,b2", 1},
		{"prefix=a&limit=2", "a1,a2,a3", 2},
		{"prefix=b", "b1,b2", 1},
		{"startKey=a3&limit=10", "a3,b1,b2", 1},
		{"prefix=zz", "", 1},
	} {
		t.Run(tc.query, func(t *testing.T) {
			got, pages := collect(tc.query)
			if strings.Join(got, ",") != tc.want || pages != tc.pages {
				t.Errorf("got %v in %d pages, want %s in %d", got, pages, tc.want, tc.pages)
			}
		})
	}
}

func TestServiceBadInput(t *testing.T) {
	ts := startServer(t)
	ts.mustAPI("POST", "/services", map[string]string{"serviceName": "keep", "description": "d"}, 200)
	ts.deploy("full", "fn", "hello-c", host.Function{}, host.HTTPTriggerConfig{})
	before := ts.mustAPI("GET", "/services", nil, 200)

	for _, c := range []errCase{
		{name: "malformed JSON", method: "POST", path: "/services", body: []byte(`{"serviceName":`), status: 400, code: "InvalidArgument", msg: "invalid JSON"},
		{name: "trailing data", method: "POST", path: "/services", body: []byte(`{"serviceName":"x"} {}`), status: 400, code: "InvalidArgument"},
		{name: "empty body", method: "POST", path: "/services", body: []byte(``), status: 400, code: "InvalidArgument", msg: "empty"},
		{name: "array body", method: "POST", path: "/services", body: []byte(`[]`), status: 400, code: "InvalidArgument"},
		{name: "wrong type", method: "POST", path: "/services", body: map[string]any{"serviceName": 5}, status: 400, code: "InvalidArgument", msg: "serviceName"},
		{name: "missing name", method: "POST", path: "/services", body: map[string]any{"description": "x"}, status: 400, code: "InvalidArgument", msg: "serviceName is required"},
		{name: "empty name", method: "POST", path: "/services", body: map[string]any{"serviceName": ""}, status: 400, code: "InvalidArgument", msg: "serviceName"},
		{name: "digit first", method: "POST", path: "/services", body: map[string]any{"serviceName": "1svc"}, status: 400, code: "InvalidArgument", msg: "invalid name"},
		{name: "slash", method: "POST", path: "/services", body: map[string]any{"serviceName": "a/b"}, status: 400, code: "InvalidArgument", msg: "invalid name"},
		{name: "too long", method: "POST", path: "/services", body: map[string]any{"serviceName": strings.Repeat("a", 129)}, status: 400, code: "InvalidArgument", msg: "128"},
		{name: "long description", method: "POST", path: "/services", body: map[string]any{"serviceName": "x", "description": strings.Repeat("é", 257)}, status: 400, code: "InvalidArgument", msg: "description"},
		{name: "duplicate", method: "POST", path: "/services", body: map[string]any{"serviceName": "keep"}, status: 409, code: "ServiceAlreadyExists", msg: `"keep"`},
		{name: "get unknown", method: "GET", path: "/services/nope", status: 404, code: "ServiceNotFound"},
		{name: "get invalid name", method: "GET", path: "/services/9x", status: 400, code: "InvalidArgument"},
		{name: "update unknown", method: "PUT", path: "/services/nope", body: map[string]any{"description": "x"}, status: 404, code: "ServiceNotFound"},
		{name: "update rename", method: "PUT", path: "/services/keep", body: map[string]any{"serviceName": "other", "description": "x"}, status: 400, code: "InvalidArgument", msg: "cannot change"},
		{name: "update bad type", method: "PUT", path: "/services/keep", body: map[string]any{"description": 7}, status: 400, code: "InvalidArgument", msg: "description"},
		{name: "update qualified", method: "PUT", path: "/services/keep.LATEST", body: map[string]any{"description": "x"}, status: 400, code: "InvalidArgument", msg: "qualifier"},
		{name: "delete unknown", method: "DELETE", path: "/services/nope", status: 404, code: "ServiceNotFound"},
		{name: "delete non-empty", method: "DELETE", path: "/services/full", status: 409, code: "ServiceNotEmpty", msg: "delete"},
		{name: "limit not a number", method: "GET", path: "/services?limit=ten", status: 400, code: "InvalidArgument", msg: "limit"},
		{name: "limit negative", method: "GET", path: "/services?limit=-1", status: 400, code: "InvalidArgument", msg: "limit"},
		{name: "limit overflow", method: "GET", path: "/services?limit=99999999999999999999", status: 400, code: "InvalidArgument", msg: "limit"},
		{name: "prefix with slash", method: "GET", path: "/services?prefix=a/b", status: 400, code: "InvalidArgument", msg: "prefix"},
		{name: "method", method: "PATCH", path: "/services/keep", status: 405, code: "MethodNotAllowed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, ts)
			if after := ts.mustAPI("GET", "/services", nil, 200); !bytes.Equal(after, before) {
				t.Errorf("services changed:\n%s\nwas\n%s", after, before)
			}
		})
	}
}

func TestAPIAuthentication(t *testing.T) {
	ts := startServer(t)
	ts.mustAPI("POST", "/services", map[string]string{"serviceName": "demo"}, 200)

	newReq := func(method, path string, body []byte) *http.Request {
		req, err := http.NewRequest(method, ts.URL+"/2016-08-15"+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	signWith := func(req *http.Request, id, secret string) {
		req.Header.Set("Authorization", auth.Authorization(id, secret, &auth.Request{
			Method: req.Method, Path: req.URL.Path, RawQuery: req.URL.RawQuery, Header: auth.HTTPHeader(req.Header)}))
	}
	for _, tc := range []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
	}{
		{"unsigned list", func() *http.Request { return newReq("GET", "/services", nil) }, 403, "AccessDenied"},
		{"unsigned create", func() *http.Request {
			return newReq("POST", "/services", []byte(`{"serviceName":"evil"}`))
		}, 403, "AccessDenied"},
		{"unsigned delete", func() *http.Request { return newReq("DELETE", "/services/demo", nil) }, 403, "AccessDenied"},
		{"wrong secret", func() *http.Request {
			r := newReq("POST", "/services", []byte(`{"serviceName":"evil"}`))
			signWith(r, testKeyID, "not-the-secret")
			return r
		}, 403, "SignatureNotMatch"},
		{"signed for another path", func() *http.Request {
			r := newReq("DELETE", "/services/demo", nil)
			signWith(r, testKeyID, testSecret)
			r.URL.Path = "/2016-08-15/services/other"
			return r
		}, 403, "SignatureNotMatch"},
		{"unknown key", func() *http.Request {
			r := newReq("GET", "/services", nil)
			signWith(r, "nobody", testSecret)
			return r
		}, 403, "InvalidAccessKeyID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, b := ts.do(tc.req())
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, b)
			}
			if code, _ := fcError(t, b); code != tc.code {
				t.Errorf("code %q, want %q", code, tc.code)
			}
		})
	}
	l := decodeAs[struct{ Services []map[string]any }](t, ts.mustAPI("GET", "/services", nil, 200))
	if len(l.Services) != 1 {
		t.Errorf("unauthenticated requests changed the services: %v", l.Services)
	}
}

// limitsOpt lowers the server's limits.
func limitsOpt(l Limits) func(*harnessOptions) {
	return func(o *harnessOptions) { o.limits = l }
}

package server

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/auth"
)

func base64Of(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// zipEntry is one file of a test zip; a name ending in '/' is a directory.
type zipEntry struct {
	name string
	data []byte
}

func zipOfEntries(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fnBody is a CreateFunction body for name with code (module or zip bytes);
// extra fields are added or replace the defaults.
func fnBody(name string, code []byte, extra map[string]any) map[string]any {
	m := map[string]any{"functionName": name, "runtime": "wasm", "code": map[string]any{"zipFile": base64Of(code)}}
	for k, v := range extra {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	return m
}

// functionJSON is host.Function's JSON with presence-sensitive fields.
type functionJSON struct {
	FunctionName         string            `json:"functionName"`
	FunctionID           string            `json:"functionId"`
	Description          string            `json:"description"`
	Runtime              string            `json:"runtime"`
	Handler              string            `json:"handler"`
	MemorySize           int               `json:"memorySize"`
	Timeout              int               `json:"timeout"`
	InstanceConcurrency  int               `json:"instanceConcurrency"`
	MaxInstances         int               `json:"maxInstances"`
	EnvironmentVariables map[string]string `json:"environmentVariables"`
	CodeChecksum         string            `json:"codeChecksum"`
	CodeSize             int64             `json:"codeSize"`
	CreatedTime          string            `json:"createdTime"`
	LastModifiedTime     string            `json:"lastModifiedTime"`
}

const functionKeys = "codeChecksum,codeSize,createdTime,description,environmentVariables,functionId,functionName," +
	"handler,instanceConcurrency,lastModifiedTime,maxInstances,memorySize,runtime,timeout"

func TestFunctionCRUD(t *testing.T) {
	ts := startServer(t)
	hello := guestWasm(t, "hello-c")
	ts.mustAPI("POST", "/services", map[string]string{"serviceName": "svc"}, 200)

	b := ts.mustAPI("POST", "/services/svc/functions", fnBody("fn", hello, map[string]any{"description": "d", "layers": []string{"ignored"}}), 200)
	if got := jsonKeys(t, b); got != functionKeys {
		t.Errorf("keys %s, want %s", got, functionKeys)
	}
	f := decodeAs[functionJSON](t, b)
	want := functionJSON{
		FunctionName: "fn", FunctionID: f.FunctionID, Description: "d", Runtime: "wasm", Handler: "handle",
		MemorySize: 128, Timeout: 3, InstanceConcurrency: 1, MaxInstances: 0, EnvironmentVariables: map[string]string{},
		CodeChecksum: sha256Hex(hello), CodeSize: int64(len(hello)), CreatedTime: f.CreatedTime, LastModifiedTime: f.LastModifiedTime,
	}
	if f.FunctionID == "" || f.CreatedTime == "" || !jsonEqual(f, want) {
		t.Errorf("create:\n%+v\nwant\n%+v", f, want)
	}
	if got := ts.mustAPI("GET", "/services/svc/functions/fn", nil, 200); !bytes.Equal(got, b) {
		t.Errorf("get: %s, want %s", got, b)
	}
	if n, _ := ts.store.ModuleRefs(sha256Hex(hello)); n != 1 {
		t.Errorf("module refs %d, want 1", n)
	}

	// Update applies only the fields present.
	up := decodeAs[functionJSON](t, ts.mustAPI("PUT", "/services/svc/functions/fn", map[string]any{
		"timeout": 10, "environmentVariables": map[string]string{"A_1": "x", "_b": ""}, "instanceConcurrency": 50, "maxInstances": 7,
	}, 200))
	want.Timeout, want.InstanceConcurrency, want.MaxInstances = 10, 50, 7
	want.EnvironmentVariables = map[string]string{"A_1": "x", "_b": ""}
	want.LastModifiedTime = up.LastModifiedTime
	if !jsonEqual(up, want) {
		t.Errorf("update:\n%+v\nwant\n%+v", up, want)
	}
	// {} clears the variables; the other settings stay.
	up = decodeAs[functionJSON](t, ts.mustAPI("PUT", "/services/svc/functions/fn", map[string]any{"environmentVariables": map[string]string{}, "description": ""}, 200))
	want.EnvironmentVariables, want.Description, want.LastModifiedTime = map[string]string{}, "", up.LastModifiedTime
	if !jsonEqual(up, want) {
		t.Errorf("update:\n%+v\nwant\n%+v", up, want)
	}

	// A second function from a zip; list shows both.
	ts.mustAPI("POST", "/services/svc/functions", fnBody("gn", zipOfEntries(t, zipEntry{"bin/", nil}, zipEntry{"bin/hello.wasm", hello},
		zipEntry{"__MACOSX/bin/._hello.wasm", []byte("junk")}, zipEntry{"README.md", []byte("hi")}), nil), 200)
	if n, _ := ts.store.ModuleRefs(sha256Hex(hello)); n != 2 {
		t.Errorf("module refs %d, want 2 (zip holds the same module)", n)
	}
	lb := ts.mustAPI("GET", "/services/svc/functions", nil, 200)
	if got := jsonKeys(t, lb); got != "functions" {
		t.Errorf("list keys %s", got)
	}
	l := decodeAs[struct{ Functions []functionJSON }](t, lb)
	if len(l.Functions) != 2 || l.Functions[0].FunctionName != "fn" || l.Functions[1].FunctionName != "gn" || !jsonEqual(l.Functions[0], want) {
		t.Errorf("list: %s", lb)
	}
	p := decodeAs[struct {
		Functions []functionJSON
		NextToken string
	}](t, ts.mustAPI("GET", "/services/svc/functions?limit=1", nil, 200))
	if len(p.Functions) != 1 || p.NextToken == "" {
		t.Errorf("page: %+v", p)
	}
	p = decodeAs[struct {
		Functions []functionJSON
		NextToken string
	}](t, ts.mustAPI("GET", "/services/svc/functions?limit=1&nextToken="+p.NextToken, nil, 200))
	if len(p.Functions) != 1 || p.Functions[0].FunctionName != "gn" || p.NextToken != "" {
		t.Errorf("second page: %+v", p)
	}

	res, body := ts.api("DELETE", "/services/svc/functions/fn", nil)
	if res.StatusCode != 204 || len(body) != 0 {
		t.Fatalf("delete: %d %q", res.StatusCode, body)
	}
	errCase{method: "GET", path: "/services/svc/functions/fn", status: 404, code: "FunctionNotFound"}.run(t, ts)
	ts.mustAPI("DELETE", "/services/svc/functions/gn", nil, 204)
	if n, _ := ts.store.ModuleRefs(sha256Hex(hello)); n != 0 {
		t.Errorf("module refs %d after deleting both, want 0", n)
	}
	ts.mustAPI("DELETE", "/services/svc", nil, 204)
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestFunctionZipSelection(t *testing.T) {
	ts := startServer(t)
	hello, echo := guestWasm(t, "hello-c"), guestWasm(t, "echo-c")
	ts.mustAPI("POST", "/services", map[string]string{"serviceName": "svc"}, 200)
	for _, tc := range []struct {
		name string
		zip  []byte
		want []byte
	}{
		{"only", zipOfEntries(t, zipEntry{"x/y/z.WASM", echo}), echo},
		{"named like function", zipOfEntries(t, zipEntry{"main.wasm", hello}, zipEntry{"dist/named.wasm", echo}), echo},
		{"main", zipOfEntries(t, zipEntry{"a.wasm", hello}, zipEntry{"main.wasm", echo}, zipEntry{"c.wasm", hello}), echo},
		{"junk ignored", zipOfEntries(t, zipEntry{"._main.wasm", hello}, zipEntry{"__MACOSX/main.wasm", hello}, zipEntry{"junk.wasm/", nil}, zipEntry{"m.wasm", echo}), echo},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn := strings.ReplaceAll(tc.name, " ", "")
			if tc.name == "named like function" {
				fn = "named"
			}
			f := decodeAs[functionJSON](t, ts.mustAPI("POST", "/services/svc/functions", fnBody(fn, tc.zip, nil), 200))
			if f.CodeChecksum != sha256Hex(tc.want) {
				t.Errorf("checksum %s, want %s", f.CodeChecksum, sha256Hex(tc.want))
			}
		})
	}
}

func TestFunctionBadInput(t *testing.T) {
	ts := startServer(t)
	hello := guestWasm(t, "hello-c")
	invalid, nohandler := guestWasm(t, "invalid"), guestWasm(t, "nohandler")
	badimport, hugemem := guestWasm(t, "badimport"), guestWasm(t, "hugemem")
	// Magic and version, then a section id that does not exist.
	corrupt := []byte("\x00asm\x01\x00\x00\x00\x7f\x03abc")
	ts.mustAPI("POST", "/services", map[string]string{"serviceName": "svc"}, 200)
	ts.mustAPI("POST", "/services/svc/functions", fnBody("exists", hello, map[string]any{"environmentVariables": map[string]string{"K": "v"}}), 200)
	beforeList := ts.mustAPI("GET", "/services/svc/functions", nil, 200)
	beforeFn := ts.mustAPI("GET", "/services/svc/functions/exists", nil, 200)

	bigEnv := map[string]string{"A": strings.Repeat("x", 4<<10)}
	create := func(name string, body any, status int, code, msg string) errCase {
		return errCase{name: "create " + name, method: "POST", path: "/services/svc/functions", body: body, status: status, code: code, msg: msg}
	}
	update := func(name string, body any, status int, code, msg string) errCase {
		return errCase{name: "update " + name, method: "PUT", path: "/services/svc/functions/exists", body: body, status: status, code: code, msg: msg}
	}
	const bad = "InvalidArgument"
	for _, c := range []errCase{
		create("malformed JSON", []byte(`{"functionName": "f", `), 400, bad, "invalid JSON"),
		create("memorySize string", fnBody("f", hello, map[string]any{"memorySize": "big"}), 400, bad, "memorySize must be an integer"),
		create("memorySize fraction", fnBody("f", hello, map[string]any{"memorySize": 1.5}), 400, bad, "memorySize"),
		create("env not object", fnBody("f", hello, map[string]any{"environmentVariables": []string{"A=1"}}), 400, bad, "environmentVariables"),
		create("code not object", fnBody("f", hello, map[string]any{"code": "AGFzbQ=="}), 400, bad, "code"),
		create("missing functionName", fnBody("f", hello, map[string]any{"functionName": nil}), 400, bad, "functionName is required"),
		create("invalid functionName", fnBody("9f", hello, nil), 400, bad, "invalid name"),
		create("missing runtime", fnBody("f", hello, map[string]any{"runtime": nil}), 400, bad, `"wasm"`),
		create("runtime python", fnBody("f", hello, map[string]any{"runtime": "python3.10"}), 400, bad, `only "wasm"`),
		create("missing code", fnBody("f", hello, map[string]any{"code": nil}), 400, bad, "code is required"),
		create("empty code", fnBody("f", hello, map[string]any{"code": map[string]any{}}), 400, bad, "code.zipFile"),
		create("oss code", fnBody("f", hello, map[string]any{"code": map[string]any{"ossBucketName": "b", "ossObjectName": "o.zip"}}), 400, bad, "OSS code is not supported; send code.zipFile"),
		create("empty handler", fnBody("f", hello, map[string]any{"handler": ""}), 400, bad, "handler"),
		create("handler with space", fnBody("f", hello, map[string]any{"handler": "a b"}), 400, bad, "handler"),
		create("handler too long", fnBody("f", hello, map[string]any{"handler": strings.Repeat("h", 129)}), 400, bad, "handler"),
		create("memorySize low", fnBody("f", hello, map[string]any{"memorySize": 8}), 400, bad, "memorySize 8"),
		create("memorySize high", fnBody("f", hello, map[string]any{"memorySize": 4097}), 400, bad, "16 to 4096"),
		create("timeout zero", fnBody("f", hello, map[string]any{"timeout": 0}), 400, bad, "timeout"),
		create("timeout high", fnBody("f", hello, map[string]any{"timeout": 601}), 400, bad, "1 to 600"),
		create("concurrency zero", fnBody("f", hello, map[string]any{"instanceConcurrency": 0}), 400, bad, "instanceConcurrency"),
		create("concurrency high", fnBody("f", hello, map[string]any{"instanceConcurrency": 201}), 400, bad, "1 to 200"),
		create("maxInstances negative", fnBody("f", hello, map[string]any{"maxInstances": -1}), 400, bad, "maxInstances"),
		create("maxInstances high", fnBody("f", hello, map[string]any{"maxInstances": 1001}), 400, bad, "0 to 1000"),
		create("env key digit", fnBody("f", hello, map[string]any{"environmentVariables": map[string]string{"1A": "x"}}), 400, bad, `"1A"`),
		create("env key dash", fnBody("f", hello, map[string]any{"environmentVariables": map[string]string{"A-B": "x"}}), 400, bad, "[A-Za-z_]"),
		create("env key empty", fnBody("f", hello, map[string]any{"environmentVariables": map[string]string{"": "x"}}), 400, bad, "environment variable name"),
		create("env NUL", fnBody("f", hello, map[string]any{"environmentVariables": map[string]string{"A": "x\x00y"}}), 400, bad, "NUL"),
		create("env too big", fnBody("f", hello, map[string]any{"environmentVariables": bigEnv}), 400, bad, "4096"),
		create("long description", fnBody("f", hello, map[string]any{"description": strings.Repeat("d", 257)}), 400, bad, "description"),
		create("bad base64", fnBody("f", hello, map[string]any{"code": map[string]any{"zipFile": "!!!not base64"}}), 400, bad, "base64"),
		create("neither wasm nor zip", fnBody("f", []byte("#!/bin/sh\necho hi\n"), nil), 400, bad, "neither"),
		create("zip without wasm", fnBody("f", zipOfEntries(t, zipEntry{"index.js", []byte("x")}, zipEntry{"lib/", nil}), nil), 400, bad, "zip holds no .wasm file"),
		create("zip with only junk", fnBody("f", zipOfEntries(t, zipEntry{"__MACOSX/._f.wasm", hello}), nil), 400, bad, "zip holds no .wasm file"),
		create("zip with two wasm", fnBody("f", zipOfEntries(t, zipEntry{"a.wasm", hello}, zipEntry{"b.wasm", hello}), nil), 400, bad, `"a.wasm", "b.wasm"`),
		create("zip with two main", fnBody("f", zipOfEntries(t, zipEntry{"x/main.wasm", hello}, zipEntry{"y/main.wasm", hello}), nil), 400, bad, "2 .wasm files"),
		create("zip entry not wasm", fnBody("f", zipOfEntries(t, zipEntry{"f.wasm", []byte("text")}), nil), 400, bad, "not a .wasm module"),
		create("truncated zip", fnBody("f", zipOfEntries(t, zipEntry{"f.wasm", hello})[:100], nil), 400, bad, "zip"),
		create("invalid module", fnBody("f", invalid, nil), 400, bad, "neither a .wasm module"),
		create("zipped invalid module", fnBody("f", zipOfEntries(t, zipEntry{"f.wasm", invalid}), nil), 400, bad, "not a .wasm module"),
		create("corrupt module", fnBody("f", corrupt, nil), 400, bad, "code is not a runnable fnhost module"),
		create("zipped corrupt module", fnBody("f", zipOfEntries(t, zipEntry{"f.wasm", corrupt}), nil), 400, bad, "code is not a runnable fnhost module"),
		create("forbidden import", fnBody("f", badimport, nil), 400, bad, "code is not a runnable fnhost module"),
		create("memory over memorySize", fnBody("f", hugemem, map[string]any{"memorySize": 16}), 400, bad, "code is not a runnable fnhost module"),
		create("no handler export", fnBody("f", nohandler, nil), 400, bad, "code is not a runnable fnhost module"),
		create("handler not exported", fnBody("f", hello, map[string]any{"handler": "nope"}), 400, bad, "nope"),
		create("duplicate", fnBody("exists", hello, nil), 409, "FunctionAlreadyExists", `"svc/exists"`),
		{name: "create in unknown service", method: "POST", path: "/services/nosvc/functions", body: fnBody("f", hello, nil), status: 404, code: "ServiceNotFound"},
		{name: "create qualified", method: "POST", path: "/services/svc.LATEST/functions", body: fnBody("f", hello, nil), status: 400, code: bad, msg: "qualifier"},
		update("malformed JSON", []byte(`{`), 400, bad, "invalid JSON"),
		update("memorySize string", map[string]any{"memorySize": "big"}, 400, bad, "memorySize"),
		update("runtime", map[string]any{"runtime": "nodejs18"}, 400, bad, `only "wasm"`),
		update("rename", map[string]any{"functionName": "other"}, 400, bad, "cannot change"),
		update("handler not exported", map[string]any{"handler": "nope"}, 400, bad, "code is not a runnable fnhost module"),
		update("invalid code", map[string]any{"code": map[string]any{"zipFile": base64Of(invalid)}, "timeout": 9}, 400, bad, "neither"),
		update("corrupt code", map[string]any{"code": map[string]any{"zipFile": base64Of(corrupt)}, "timeout": 9}, 400, bad, "code is not a runnable fnhost module"),
		update("no handler export", map[string]any{"code": map[string]any{"zipFile": base64Of(nohandler)}}, 400, bad, "code is not a runnable fnhost module"),
		update("zip with two wasm", map[string]any{"code": map[string]any{"zipFile": base64Of(zipOfEntries(t, zipEntry{"a.wasm", hello}, zipEntry{"b.wasm", hello}))}}, 400, bad, "a.wasm"),
		update("oss code", map[string]any{"code": map[string]any{"ossBucketName": "b"}}, 400, bad, "OSS code is not supported"),
		update("timeout high", map[string]any{"timeout": 601, "description": "changed"}, 400, bad, "timeout"),
		update("env bad key", map[string]any{"environmentVariables": map[string]string{"a.b": "1"}}, 400, bad, "a.b"),
		{name: "update unknown function", method: "PUT", path: "/services/svc/functions/nope", body: map[string]any{"timeout": 5}, status: 404, code: "FunctionNotFound"},
		{name: "update unknown service", method: "PUT", path: "/services/nosvc/functions/exists", body: map[string]any{"timeout": 5}, status: 404, code: "ServiceNotFound"},
		{name: "get unknown", method: "GET", path: "/services/svc/functions/nope", status: 404, code: "FunctionNotFound"},
		{name: "get invalid name", method: "GET", path: "/services/svc/functions/-x", status: 400, code: bad},
		{name: "delete unknown", method: "DELETE", path: "/services/svc/functions/nope", status: 404, code: "FunctionNotFound"},
		{name: "list unknown service", method: "GET", path: "/services/nosvc/functions", status: 404, code: "ServiceNotFound"},
		{name: "list bad limit", method: "GET", path: "/services/svc/functions?limit=1.5", status: 400, code: bad, msg: "limit"},
		{name: "code of unknown", method: "GET", path: "/services/svc/functions/nope/code", status: 404, code: "FunctionNotFound"},
		{name: "code bad format", method: "GET", path: "/services/svc/functions/exists/code?format=tar", status: 400, code: bad, msg: "format"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, ts)
			if got := ts.mustAPI("GET", "/services/svc/functions", nil, 200); !bytes.Equal(got, beforeList) {
				t.Errorf("functions changed:\n%s\nwas\n%s", got, beforeList)
			}
			if got := ts.mustAPI("GET", "/services/svc/functions/exists", nil, 200); !bytes.Equal(got, beforeFn) {
				t.Errorf("function changed:\n%s\nwas\n%s", got, beforeFn)
			}
			for _, m := range [][]byte{invalid, nohandler, corrupt, badimport, hugemem} {
				if n, _ := ts.store.ModuleRefs(sha256Hex(m)); n != 0 {
					t.Errorf("rejected module has %d references", n)
				}
				if _, err := ts.store.GetModule(sha256Hex(m)); host.ErrorKind(err) != host.KindNotFound {
					t.Errorf("rejected module was stored (err %v)", err)
				}
			}
			if n, _ := ts.store.ModuleRefs(sha256Hex(hello)); n != 1 {
				t.Errorf("module refs %d, want 1", n)
			}
		})
	}
}

func TestFunctionCodeLimit(t *testing.T) {
	hello := guestWasm(t, "hello-c")
	limit := len(hello) - 1
	ts := startServer(t, limitsOpt(Limits{MaxCodeBytes: limit}))
	ts.mustAPI("POST", "/services", map[string]string{"serviceName": "svc"}, 200)
	small := guestWasm(t, "hello-wat")
	if len(small) > limit {
		t.Fatalf("hello-wat (%d bytes) is over the test limit %d", len(small), limit)
	}
	ts.mustAPI("POST", "/services/svc/functions", fnBody("ok", small, nil), 200)
	before := ts.mustAPI("GET", "/services/svc/functions", nil, 200)

	padded := append(zipOfEntries(t, zipEntry{"f.wasm", small}), make([]byte, 2*limit+64<<10)...)
	for _, c := range []errCase{
		{name: "raw module", body: fnBody("f", hello, nil), msg: strconv.Itoa(limit)},
		{name: "zipped module", body: fnBody("f", zipOfEntries(t, zipEntry{"f.wasm", hello}), nil), msg: strconv.Itoa(limit)},
		{name: "zip bomb", body: fnBody("f", zipOfEntries(t, zipEntry{"f.wasm", append([]byte("\x00asm"), make([]byte, 50*limit)...)}), nil), msg: strconv.Itoa(limit)},
		{name: "huge archive", body: fnBody("f", padded, nil), msg: "bytes"},
		{name: "update", method: "PUT", path: "/services/svc/functions/ok", body: map[string]any{"code": map[string]any{"zipFile": base64Of(hello)}}, msg: strconv.Itoa(limit)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.method == "" {
				c.method, c.path = "POST", "/services/svc/functions"
			}
			c.status, c.code = 400, "EntityTooLarge"
			c.run(t, ts)
			if got := ts.mustAPI("GET", "/services/svc/functions", nil, 200); !bytes.Equal(got, before) {
				t.Errorf("functions changed:\n%s\nwas\n%s", got, before)
			}
			if _, err := ts.store.GetModule(sha256Hex(hello)); host.ErrorKind(err) != host.KindNotFound {
				t.Errorf("module over the limit was stored (err %v)", err)
			}
		})
	}
}

func TestFunctionUpdateThenInvoke(t *testing.T) {
	ts := startServer(t)
	hello, echo := guestWasm(t, "hello-c"), guestWasm(t, "echo-c")
	ts.mustAPI("POST", "/services", map[string]string{"serviceName": "svc"}, 200)
	ts.mustAPI("POST", "/services/svc/functions", fnBody("fn", hello, nil), 200)
	ts.mustAPI("POST", "/services/svc/functions/fn/triggers", map[string]any{
		"triggerName": "http", "triggerType": "http",
		"triggerConfig": map[string]any{"authType": "anonymous", "methods": []string{"GET"}},
	}, 200)

	invoke := func() (*http.Response, []byte) {
		t.Helper()
		return ts.get("GET", "/2016-08-15/proxy/svc/fn/", nil)
	}
	res, b := invoke()
	if res.StatusCode != 200 || string(b) != "hello world" {
		t.Fatalf("before update: %d %q", res.StatusCode, b)
	}
	if got := res.Header.Get("X-Fc-Code-Checksum"); got != sha256Hex(hello) {
		t.Errorf("checksum header %q", got)
	}

	f := decodeAs[functionJSON](t, ts.mustAPI("PUT", "/services/svc/functions/fn", map[string]any{"code": map[string]any{"zipFile": base64Of(echo)}}, 200))
	if f.CodeChecksum != sha256Hex(echo) || f.CodeSize != int64(len(echo)) {
		t.Errorf("update: %+v", f)
	}
	res, b = invoke()
	if res.StatusCode != 200 || !bytes.Contains(b, []byte(`"method":"GET"`)) {
		t.Fatalf("after update: %d %q", res.StatusCode, b)
	}
	if got := res.Header.Get("X-Fc-Code-Checksum"); got != sha256Hex(echo) {
		t.Errorf("checksum header %q after update", got)
	}
	if _, err := ts.store.GetModule(sha256Hex(hello)); host.ErrorKind(err) != host.KindNotFound {
		t.Errorf("the old module is still stored (err %v)", err)
	}

	// A settings-only update is seen by the next call too: a handler that
	// echo-c does not export is refused, an environment change goes through.
	errCase{method: "PUT", path: "/services/svc/functions/fn", body: map[string]any{"handler": "missing"}, status: 400, code: "InvalidArgument"}.run(t, ts)
	if res, _ := invoke(); res.StatusCode != 200 {
		t.Errorf("refused update broke the function: %d", res.StatusCode)
	}

	ts.mustAPI("DELETE", "/services/svc/functions/fn", nil, 204)
	res, b = invoke()
	if res.StatusCode != 404 {
		t.Errorf("after delete: %d %s", res.StatusCode, b)
	}
}

func TestFunctionCodeDownload(t *testing.T) {
	ts := startServer(t)
	hello := guestWasm(t, "hello-c")
	ts.mustAPI("POST", "/services", map[string]string{"serviceName": "svc"}, 200)
	ts.mustAPI("POST", "/services/svc/functions", fnBody("fn", zipOfEntries(t, zipEntry{"x.wasm", hello}), nil), 200)
	ts.mustAPI("POST", "/services/svc/functions", fnBody("other", guestWasm(t, "echo-c"), nil), 200)

	type codeLink struct {
		URL      string `json:"url"`
		Checksum string `json:"checksum"`
	}
	link := func(query string) codeLink {
		t.Helper()
		b := ts.mustAPI("GET", "/services/svc/functions/fn/code"+query, nil, 200)
		if got := jsonKeys(t, b); got != "checksum,url" {
			t.Errorf("keys %s", got)
		}
		l := decodeAs[codeLink](t, b)
		if l.Checksum != sha256Hex(hello) {
			t.Errorf("checksum %s, want %s", l.Checksum, sha256Hex(hello))
		}
		if !strings.HasPrefix(l.URL, ts.URL+"/2016-08-15/services/svc/functions/fn/code/download?") {
			t.Errorf("url %s", l.URL)
		}
		return l
	}
	fetch := func(u string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest("GET", u, nil)
		if err != nil {
			t.Fatal(err)
		}
		return ts.do(req)
	}

	t.Run("zip", func(t *testing.T) {
		res, b := fetch(link("").URL)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/zip" {
			t.Fatalf("%d %s: %.200q", res.StatusCode, res.Header.Get("Content-Type"), b)
		}
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if len(zr.File) != 1 || zr.File[0].Name != "fn.wasm" {
			t.Fatalf("zip entries %v", zr.File)
		}
		rc, err := zr.File[0].Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		if err != nil || !bytes.Equal(got, hello) {
			t.Errorf("unzipped module differs (%d bytes, err %v)", len(got), err)
		}
		// The download is a valid upload.
		f := decodeAs[functionJSON](t, ts.mustAPI("POST", "/services/svc/functions", fnBody("copy", b, nil), 200))
		if f.CodeChecksum != sha256Hex(hello) {
			t.Errorf("re-uploaded checksum %s", f.CodeChecksum)
		}
	})
	t.Run("wasm", func(t *testing.T) {
		l := link("?format=wasm")
		res, b := fetch(l.URL)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/wasm" || !bytes.Equal(b, hello) {
			t.Fatalf("%d %s: %d bytes", res.StatusCode, res.Header.Get("Content-Type"), len(b))
		}
		if got := res.Header.Get("X-Fc-Code-Checksum"); got != sha256Hex(hello) {
			t.Errorf("checksum header %q", got)
		}
	})
	t.Run("https behind proxy", func(t *testing.T) {
		res, b := ts.api("GET", "/services/svc/functions/fn/code", nil, "X-Forwarded-Proto", "https")
		if res.StatusCode != 200 || !strings.HasPrefix(decodeAs[codeLink](t, b).URL, "https://") {
			t.Errorf("%d %s", res.StatusCode, b)
		}
	})

	tamper := func(u string, f func(q url.Values, u *url.URL)) string {
		p, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		q := p.Query()
		f(q, p)
		p.RawQuery = q.Encode()
		return p.String()
	}
	good := link("").URL
	expired := func() string {
		u, _ := url.Parse(ts.URL + "/2016-08-15/services/svc/functions/fn/code/download")
		return auth.SignURL("GET", u, nil, auth.Credentials{AccessKeyID: testKeyID, AccessKeySecret: testSecret}, time.Now().Add(-time.Second))
	}()
	for _, tc := range []struct {
		name   string
		url    string
		status int
		code   string
	}{
		{"expired", expired, 403, "AccessDenied"},
		{"signature changed", tamper(good, func(q url.Values, _ *url.URL) {
			s := []byte(q.Get(auth.ParamSignature))
			s[0] ^= 1
			q.Set(auth.ParamSignature, string(s))
		}), 403, "AccessDenied"},
		{"expiry extended", tamper(good, func(q url.Values, _ *url.URL) {
			q.Set(auth.ParamExpires, strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
		}), 403, "SignatureNotMatch"},
		{"other function", tamper(good, func(_ url.Values, u *url.URL) {
			u.Path = strings.Replace(u.Path, "/fn/", "/other/", 1)
		}), 403, "SignatureNotMatch"},
		{"format added", tamper(good, func(q url.Values, _ *url.URL) { q.Set("format", "wasm") }), 403, "SignatureNotMatch"},
		{"unsigned", ts.URL + "/2016-08-15/services/svc/functions/fn/code/download", 403, "AccessDenied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, b := fetch(tc.url)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %.200q", res.StatusCode, tc.status, b)
			}
			code, _ := fcError(t, b)
			// A flipped bit may make the signature malformed base64
			// (AccessDenied) or merely wrong (SignatureNotMatch).
			if code != tc.code && !(tc.name == "signature changed" && code == "SignatureNotMatch") {
				t.Errorf("code %q, want %q", code, tc.code)
			}
		})
	}
}

// raceStore runs before once, just before the next UpdateFunction: a
// concurrent change that lands between the handler's check and its write.
type raceStore struct {
	Store
	before func()
}

func (r *raceStore) UpdateFunction(svc, fn string, code []byte, mutate func(*host.Function) error) (host.Function, error) {
	if f := r.before; f != nil {
		r.before = nil
		f()
	}
	return r.Store.UpdateFunction(svc, fn, code, mutate)
}

func TestFunctionUpdateConcurrentChange(t *testing.T) {
	var rs *raceStore
	ts := startServer(t, func(o *harnessOptions) {
		o.wrapStore = func(s Store) Store { rs = &raceStore{Store: s}; return rs }
	})
	hello, echo, other := guestWasm(t, "hello-c"), guestWasm(t, "echo-c"), guestWasm(t, "nohandler") // nohandler exports "other"
	ts.mustAPI("POST", "/services", map[string]string{"serviceName": "svc"}, 200)
	ts.mustAPI("POST", "/services/svc/functions", fnBody("fn", hello, nil), 200)
	switchToOther := func() {
		if _, err := ts.store.UpdateFunction("svc", "fn", other, func(f *host.Function) error { f.Handler = "other"; return nil }); err != nil {
			t.Error(err)
		}
	}

	// New code checked with handler "handle"; meanwhile the function moved
	// to handler "other": storing echo-c with "other" would not run.
	rs.before = switchToOther
	errCase{method: "PUT", path: "/services/svc/functions/fn", body: map[string]any{"code": map[string]any{"zipFile": base64Of(echo)}},
		status: 409, code: "ConcurrentUpdate", msg: "retry"}.run(t, ts)
	f := decodeAs[functionJSON](t, ts.mustAPI("GET", "/services/svc/functions/fn", nil, 200))
	if f.Handler != "other" || f.CodeChecksum != sha256Hex(other) {
		t.Errorf("after the refused update: %+v", f)
	}
	if _, err := ts.store.GetModule(sha256Hex(echo)); host.ErrorKind(err) != host.KindNotFound {
		t.Errorf("refused module stored (err %v)", err)
	}

	// An update that does not touch code, handler or memory needs no
	// re-check and keeps the concurrent change.
	ts.mustAPI("PUT", "/services/svc/functions/fn", map[string]any{"handler": "handle", "code": map[string]any{"zipFile": base64Of(hello)}}, 200)
	rs.before = switchToOther
	f = decodeAs[functionJSON](t, ts.mustAPI("PUT", "/services/svc/functions/fn", map[string]any{"timeout": 30}, 200))
	if f.Handler != "other" || f.CodeChecksum != sha256Hex(other) || f.Timeout != 30 {
		t.Errorf("after a settings update: %+v", f)
	}
}

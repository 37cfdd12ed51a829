package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
)

func writeWasm(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hello.wasm")
	if err := os.WriteFile(path, []byte("\x00asm\x01\x00\x00\x00"+content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDeployCreateThenUpdate(t *testing.T) {
	fake, url := newFake(t)
	wasm := writeWasm(t, "")

	stdout, stderr, code := cli(t, url, "", "deploy", wasm, "--service", "demo", "--function", "hello",
		"--env", "A=1", "--timeout", "5s", "--description", "first")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	wantURL := url + "/2016-08-15/proxy/demo/hello/"
	if stdout != wantURL+"\n" {
		t.Errorf("stdout %q, want the URL %q", stdout, wantURL)
	}
	for _, want := range []string{"created service demo", "created function demo/hello (8 bytes, sha256 ", "created trigger http (anonymous; HEAD,GET,POST,PUT,DELETE,PATCH,OPTIONS)"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
	}
	fn := fake.functions["demo"]["hello"]
	if fn.f.Timeout != 5 || fn.f.Runtime != host.RuntimeWasm || fn.f.Description != "first" || fn.f.EnvironmentVariables["A"] != "1" || fn.f.MemorySize != 128 {
		t.Errorf("created %+v", fn.f)
	}

	// Redeploy: new code and memory, function auth; the rest is kept.
	wasm2 := writeWasm(t, "more")
	stdout, stderr, code = cli(t, url, "", "deploy", wasm2, "--service", "demo", "--function", "hello",
		"--memory", "256", "--auth", "function", "--json")
	if code != exitOK {
		t.Fatalf("redeploy exit %d: %s", code, stderr)
	}
	if strings.Contains(stderr, "created") || !strings.Contains(stderr, "updated function demo/hello (12 bytes") ||
		!strings.Contains(stderr, "updated trigger http (function; HEAD,GET,POST,PUT,DELETE,PATCH,OPTIONS)") ||
		!strings.Contains(stderr, "must be FC-signed") {
		t.Errorf("redeploy stderr %q", stderr)
	}
	var res deployResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("--json output %q: %v", stdout, err)
	}
	if res.Created || res.URL != wantURL || res.CodeSize != 12 || len(res.CodeChecksum) != 64 || res.AuthType != "function" || res.Service != "demo" || res.Function != "hello" {
		t.Errorf("--json %+v", res)
	}
	fn = fake.functions["demo"]["hello"]
	if fn.f.MemorySize != 256 || fn.f.Timeout != 5 || fn.f.Description != "first" || fn.f.EnvironmentVariables["A"] != "1" {
		t.Errorf("updated %+v", fn.f)
	}

	// A third deploy changes only the methods; the auth type stays.
	fake.calls = nil
	if _, stderr, code = cli(t, url, "", "deploy", wasm2, "--service", "demo", "--function", "hello", "--methods", "get,post"); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := fn.triggers["http"].TriggerConfig; got.AuthType != "function" || !reflect.DeepEqual(got.Methods, []string{"GET", "POST"}) {
		t.Errorf("trigger %+v", got)
	}
	if calls := strings.Join(fake.calls, "\n"); strings.Contains(calls, "POST /2016-08-15/services\n") {
		t.Errorf("service created again:\n%s", calls)
	}
}

func TestServerErrorMessage(t *testing.T) {
	fake, url := newFake(t)
	fake.badSignatureOK = true
	_, stderr, code := cliEnv(t, map[string]string{envEndpoint: url, envAccessKeyID: fakeKeyID, envAccessKeySecret: "wrong", "HOME": t.TempDir()},
		"", "deploy", writeWasm(t, ""), "--service", "demo", "--function", "hello")
	if code != exitError || !strings.HasPrefix(stderr, "fnhost: SignatureNotMatch (403): ") || !strings.HasSuffix(stderr, " [request req-1]\n") {
		t.Errorf("exit %d stderr %q", code, stderr)
	}
}

func TestInvoke(t *testing.T) {
	_, url := newFake(t)
	if _, stderr, code := cli(t, url, "", "deploy", writeWasm(t, ""), "--service", "demo", "--function", "echo"); code != exitOK {
		t.Fatalf("deploy: %s", stderr)
	}

	stdout, stderr, code := cli(t, url, "", "invoke", "demo/echo", "--data", "hi there", "--header", "X-Test: yes")
	if code != exitOK || stdout != "hi there" || stderr != "" {
		t.Errorf("invoke: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	stdout, _, _ = cli(t, url, "line1\nline2", "invoke", "--data", "@-", "demo/echo")
	if stdout != "line1\nline2" {
		t.Errorf("--data @-: %q", stdout)
	}
	stdout, stderr, code = cli(t, url, "", "invoke", "demo/echo", "--data", "x", "--log", "-v", "--header", "X-Test: yes")
	if code != exitOK || stdout != "x" || !strings.Contains(stderr, "< 200 OK\n") || !strings.Contains(stderr, "< X-Echo-Header: yes\n") ||
		!strings.Contains(stderr, "< X-Fc-Request-Id: req-") || !strings.HasSuffix(stderr, "got 1 bytes\n") {
		t.Errorf("-v --log: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	stdout, stderr, code = cli(t, url, "", "invoke", "demo/echo", "--data", "trap")
	if code != exitError || stdout != "" || !strings.HasPrefix(stderr, "fnhost: UnhandledInvocationError: wasm trap: unreachable [request req-") {
		t.Errorf("trap: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	// A guest's own error status is its answer, not a failure of the call.
	stdout, _, code = cli(t, url, "", "invoke", "demo/echo", "--data", "status:404")
	if code != exitOK || stdout != "" {
		t.Errorf("guest 404: exit %d stdout %q", code, stdout)
	}
	stdout, _, code = cli(t, url, "", "invoke", "demo/echo", "--data", "trap", "--json")
	var out invokeJSON
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || code != exitError || out.Status != 200 || out.ErrorType != "UnhandledInvocationError" || out.Body == nil {
		t.Errorf("--json: exit %d %q %v", code, stdout, err)
	}
	_, stderr, code = cli(t, url, "", "invoke", "demo/nope")
	if code != exitError || !strings.HasPrefix(stderr, "fnhost: FunctionNotFound (404): function does not exist [request req-") {
		t.Errorf("missing function: exit %d stderr %q", code, stderr)
	}
}

func TestLsAndRm(t *testing.T) {
	fake, url := newFake(t)
	for _, f := range []string{"a", "b", "c"} { // three functions: two pages of two
		if _, stderr, code := cli(t, url, "", "deploy", writeWasm(t, f), "--service", "demo", "--function", f, "--memory", "64"); code != exitOK {
			t.Fatalf("deploy %s: %s", f, stderr)
		}
	}
	cli(t, url, "", "deploy", writeWasm(t, ""), "--service", "other", "--function", "x")
	delete(fake.functions["demo"]["c"].triggers, "http")

	stdout, _, code := cli(t, url, "", "ls")
	want := "SERVICE  MODIFIED              DESCRIPTION\n" +
		"demo     2026-01-02T03:04:05Z  \n" +
		"other    2026-01-02T03:04:05Z  \n"
	if code != exitOK || stdout != want {
		t.Errorf("ls: exit %d\n%s\nwant\n%s", code, stdout, want)
	}

	stdout, _, code = cli(t, url, "", "ls", "demo")
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if code != exitOK || len(lines) != 4 {
		t.Fatalf("ls demo: exit %d\n%s", code, stdout)
	}
	if f := strings.Fields(lines[0]); !reflect.DeepEqual(f, []string{"FUNCTION", "MEMORY", "TIMEOUT", "SIZE", "SHA256", "AUTH", "URL"}) {
		t.Errorf("header %q", lines[0])
	}
	if f := strings.Fields(lines[1]); len(f) != 7 || f[0] != "a" || f[1] != "64MB" || f[2] != "3s" || f[3] != "9B" ||
		len(f[4]) != 12 || f[5] != "anonymous" || f[6] != url+"/2016-08-15/proxy/demo/a/" {
		t.Errorf("row a %q", lines[1])
	}
	if f := strings.Fields(lines[3]); f[0] != "c" || f[5] != "-" || f[6] != "-" {
		t.Errorf("row c (no trigger) %q", lines[3])
	}

	stdout, _, _ = cli(t, url, "", "ls", "demo", "--json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(stdout), &rows); err != nil || len(rows) != 3 || rows[0]["functionName"] != "a" ||
		rows[0]["url"] != url+"/2016-08-15/proxy/demo/a/" || rows[0]["serviceName"] != "demo" || rows[0]["memorySize"] != 64.0 {
		t.Errorf("ls demo --json: %v\n%s", err, stdout)
	}

	// rm SERVICE fails while it has functions, as the server does.
	_, stderr, code := cli(t, url, "", "rm", "demo")
	if code != exitError || !strings.HasPrefix(stderr, "fnhost: ServiceNotEmpty (409): ") {
		t.Errorf("rm demo: exit %d stderr %q", code, stderr)
	}
	stdout, stderr, code = cli(t, url, "", "rm", "demo/a")
	if code != exitOK || stdout != "removed trigger demo/a/http\nremoved function demo/a\n" {
		t.Errorf("rm demo/a: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	stdout, stderr, code = cli(t, url, "", "rm", "--force", "demo")
	want = "removed trigger demo/b/http\nremoved function demo/b\nremoved function demo/c\nremoved service demo\n"
	if code != exitOK || stdout != want {
		t.Errorf("rm --force demo: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	stdout, _, code = cli(t, url, "", "rm", "other", "--force", "--json")
	var out struct{ Removed []removed }
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || code != exitOK || len(out.Removed) != 3 || out.Removed[2] != (removed{"service", "other"}) {
		t.Errorf("rm --json: exit %d %q %v", code, stdout, err)
	}
	_, stderr, _ = cli(t, url, "", "ls")
	if stderr != "no services\n" {
		t.Errorf("ls after rm: stderr %q", stderr)
	}
}

func TestLogs(t *testing.T) {
	fake, url := newFake(t)
	if _, stderr, code := cli(t, url, "", "deploy", writeWasm(t, ""), "--service", "demo", "--function", "hello"); code != exitOK {
		t.Fatalf("deploy: %s", stderr)
	}
	fake.calls = nil
	t0 := time.Date(2026, 11, 25, 8, 20, 57, 123e6, time.UTC)
	fake.invocations = []host.Invocation{
		{RequestID: "r3", Time: t0.Add(2 * time.Second), DurationMs: 1.2345, Status: 200, Cold: true, Log: "hello\nworld\n"},
		{RequestID: "r2", Time: t0.Add(time.Second), DurationMs: 3000, ErrorKind: "timeout", ErrorMessage: "deadline\nexceeded"},
		{RequestID: "r1", Time: t0, DurationMs: 0.85, Status: 404, Qualifier: "1"},
	}
	stdout, stderr, code := cli(t, url, "", "logs", "demo/hello")
	want := "2026-11-25T08:20:59.123Z  r3  200  1.235ms  cold\n" +
		"    hello\n" +
		"    world\n" +
		"2026-11-25T08:20:58.123Z  r2  timeout  3s  deadline exceeded\n" +
		"2026-11-25T08:20:57.123Z  r1  404  850µs  qualifier=1\n"
	if code != exitOK || stdout != want {
		t.Errorf("logs: exit %d stderr %q\n%s\nwant\n%s", code, stderr, stdout, want)
	}
	if got := strings.Count(strings.Join(fake.calls, "\n"), "invocation-logs"); got != 2 {
		t.Errorf("%d page requests, want 2 (page size 2)", got)
	}

	stdout, _, _ = cli(t, url, "", "logs", "demo/hello", "--limit", "1", "--json")
	var invs []host.Invocation
	if err := json.Unmarshal([]byte(stdout), &invs); err != nil || len(invs) != 1 || invs[0].RequestID != "r3" {
		t.Errorf("--limit 1 --json: %v %s", err, stdout)
	}

	fake.invocations = nil
	stdout, stderr, code = cli(t, url, "", "logs", "demo/hello", "--request-id", "zzz")
	if code != exitOK || stdout != "" || stderr != "no invocations recorded for demo/hello\n" {
		t.Errorf("empty: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
}

func TestCredentialsFromDataDir(t *testing.T) {
	_, url := newFake(t)
	dir := t.TempDir()
	if err := saveCredentials(dir, credentials{AccessKeyID: fakeKeyID, AccessKeySecret: fakeSecret}); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := cliEnv(t, map[string]string{"HOME": t.TempDir()}, "", "ls", "--endpoint", url, "--data-dir", dir)
	if code != exitOK || stderr != "no services\n" {
		t.Errorf("exit %d stderr %q", code, stderr)
	}
	_, stderr, code = cliEnv(t, map[string]string{"HOME": t.TempDir()}, "", "ls", "--endpoint", url)
	if code != exitError || !strings.Contains(stderr, "no access key") {
		t.Errorf("no credentials: exit %d stderr %q", code, stderr)
	}
}

package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
)

// deployFake deploys demo/hello on the fake and returns it.
func deployFake(t *testing.T) (*fakeFC, string, *fakeFunction) {
	t.Helper()
	fake, url := newFake(t)
	if _, stderr, code := cli(t, url, "", "deploy", writeWasm(t, ""), "--service", "demo", "--function", "hello"); code != exitOK {
		t.Fatalf("deploy: %s", stderr)
	}
	return fake, url, fake.functions["demo"]["hello"]
}

func TestInvokeAsync(t *testing.T) {
	fake, url, fn := deployFake(t)
	fake.calls = nil

	stdout, stderr, code := cli(t, url, "", "invoke", "demo/hello", "--async", "--data", "payload")
	if code != exitOK || stdout != "accepted: invocation job-1 (request req-1)\n" || stderr != "" {
		t.Errorf("--async: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	stdout, stderr, code = cli(t, url, "", "invoke", "demo/hello", "--async", "--invocation-id", "order_42", "--delay", "1m", "--json")
	var out map[string]string
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || code != exitOK ||
		!reflect.DeepEqual(out, map[string]string{"invocationId": "order_42", "requestId": "req-2"}) {
		t.Errorf("--json: exit %d stdout %q stderr %q %v", code, stdout, stderr, err)
	}
	if len(fn.jobs) != 2 || string(fn.jobs[0].Request.Body) != "payload" || fn.jobs[1].NotBefore-fn.jobs[1].StartedTime != 60_000 {
		t.Errorf("jobs %+v", fn.jobs)
	}
	// A number is seconds.
	if _, stderr, code = cli(t, url, "", "invoke", "demo/hello", "--async", "--delay", "5"); code != exitOK || fn.jobs[2].NotBefore-fn.jobs[2].StartedTime != 5000 {
		t.Errorf("--delay 5: exit %d stderr %q", code, stderr)
	}

	stdout, stderr, code = cli(t, url, "", "invoke", "demo/hello", "--async", "--invocation-id", "order_42")
	if code != exitError || stdout != "" || !strings.HasPrefix(stderr, `fnhost: InvocationAlreadyExists (409): invocation "order_42" already exists [request req-`) {
		t.Errorf("duplicate: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
}

func TestJobsLsGetStop(t *testing.T) {
	fake, url, fn := deployFake(t)
	for range 5 {
		if _, stderr, code := cli(t, url, "", "invoke", "demo/hello", "--async"); code != exitOK {
			t.Fatalf("invoke: %s", stderr)
		}
	}
	j := &fn.jobs[1] // job-2: failed after retries
	j.Status, j.EndTime, j.AlreadyRetriedTimes, j.Attempts, j.MaxRetries = host.JobFailed, j.StartedTime+1500, 3, 4, 3
	j.InvocationErrorMessage = "wasm trap: unreachable\nat hello.wasm:0x1f " + strings.Repeat("x", 80)
	j.DestinationStatus = host.DestinationSucceeded
	j.Result = &host.JobResult{
		ErrorKind: "trap", ErrorMessage: j.InvocationErrorMessage, DurationMs: 2.5,
		LogTail: "starting\nboom\n",
	}
	j.AddEvent(host.JobRunning, j.StartedTime+100, "attempt 1")
	j.AddEvent(host.JobFailed, j.EndTime, "")
	fn.jobs[2].Status, fn.jobs[2].EndTime = host.JobSucceeded, fn.jobs[2].StartedTime+250 // job-3
	fn.jobs[2].Result = &host.JobResult{Status: 200, Headers: [][2]string{{"Content-Type", "text/plain"}}, Body: []byte("hello\nworld\n"), DurationMs: 1}
	fn.jobs[3].Status = host.JobRunning // job-4
	fake.calls = nil

	stdout, stderr, code := cli(t, url, "", "jobs", "ls", "demo/hello", "--limit", "4")
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if code != exitOK || len(lines) != 5 {
		t.Fatalf("jobs ls: exit %d stderr %q\n%s", code, stderr, stdout)
	}
	if f := strings.Fields(lines[0]); !reflect.DeepEqual(f, []string{"INVOCATION", "STATUS", "STARTED", "DURATION", "RETRIED", "ERROR"}) {
		t.Errorf("header %q", lines[0])
	}
	started := func(i int) string {
		return time.UnixMilli(fn.jobs[i].StartedTime).Local().Format("2006-01-02 15:04:05")
	}
	for i, want := range [][]string{
		{"job-5", "Enqueued", started(4), "-", "0"},
		{"job-4", "Running", started(3), "-", "0"},
		{"job-3", "Succeeded", started(2), "250ms", "0"},
		{"job-2", "Failed", started(1), "1.5s", "3", "wasm trap: unreachable at hello.wasm:0x1f"},
	} {
		got := lines[i+1]
		if !strings.HasPrefix(got, want[0]+"  ") {
			t.Errorf("row %d %q, want %s first", i, got, want[0])
		}
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("row %d %q lacks %q", i, got, w)
			}
		}
	}
	if e := lines[4][strings.Index(lines[4], "wasm"):]; len([]rune(e)) != maxJobErrorColumn || !strings.HasSuffix(e, "…") {
		t.Errorf("error column %q not truncated to %d", e, maxJobErrorColumn)
	}
	if n := strings.Count(strings.Join(fake.calls, "\n"), "stateful-async-invocations"); n != 2 {
		t.Errorf("%d page requests, want 2 (page size 2)", n)
	}

	stdout, _, code = cli(t, url, "", "jobs", "ls", "demo/hello", "--asc", "--status", "failed", "--json")
	var jobs []host.Job
	if err := json.Unmarshal([]byte(stdout), &jobs); err != nil || code != exitOK || len(jobs) != 1 || jobs[0].InvocationID != "job-2" {
		t.Errorf("--status failed --json: exit %d %v\n%s", code, err, stdout)
	}
	stdout, _, _ = cli(t, url, "", "jobs", "ls", "demo/hello", "--asc", "--json")
	if err := json.Unmarshal([]byte(stdout), &jobs); err != nil || len(jobs) != 5 || jobs[0].InvocationID != "job-1" {
		t.Errorf("--asc: %v %s", err, stdout)
	}
	stdout, stderr, code = cli(t, url, "", "jobs", "ls", "demo/hello", "--prefix", "nope")
	if code != exitOK || stdout != "" || stderr != "no async invocations for demo/hello\n" {
		t.Errorf("empty: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	stdout, _, _ = cli(t, url, "", "jobs", "ls", "demo/hello", "--prefix", "nope", "--json")
	if stdout != "[]\n" {
		t.Errorf("empty --json: %q", stdout)
	}

	// get: a failed job with its result, log and events.
	stdout, stderr, code = cli(t, url, "", "jobs", "get", "demo/hello", "job-2")
	if code != exitOK {
		t.Fatalf("jobs get: exit %d stderr %q", code, stderr)
	}
	for _, want := range []string{
		"invocation    job-2\n", "function      demo/hello\n", "status        Failed\n",
		"ended         " + time.UnixMilli(j.EndTime).Local().Format(jobTimeLayout) + " (after 1.5s)\n",
		"attempts      4 (retried 3, at most 3 retries)\n", "destination   Succeeded\n",
		"error         wasm trap: unreachable at hello.wasm:0x1f",
		"result\n  status      failed (trap)\n  duration    2.5ms\n  log\n    starting\n    boom\n",
		"events\n", "Enqueued  accepted\n", "Running   attempt 1\n", "Failed    \n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("jobs get lacks %q:\n%s", want, stdout)
		}
	}
	// A succeeded job shows its answer.
	stdout, _, _ = cli(t, url, "", "jobs", "get", "demo/hello", "job-3")
	if want := "result\n  status      200\n  duration    1ms\n  headers     Content-Type: text/plain\n  body        12 bytes\n    hello\n    world\n"; !strings.Contains(stdout, want) {
		t.Errorf("jobs get job-3 lacks %q:\n%s", want, stdout)
	}
	fn.jobs[2].Result.Body = []byte{0, 1, 2}
	stdout, _, _ = cli(t, url, "", "jobs", "get", "demo/hello", "job-3")
	if !strings.Contains(stdout, "  body        3 bytes, not text\n") {
		t.Errorf("binary body:\n%s", stdout)
	}
	stdout, _, _ = cli(t, url, "", "jobs", "get", "demo/hello", "job-2", "--json")
	var got host.Job
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Errorf("get --json: %v\n%s", err, stdout)
	}
	if g, w := mustJSON(t, got), mustJSON(t, *j); g != w {
		t.Errorf("get --json:\n%s\nwant\n%s", g, w)
	}
	_, stderr, code = cli(t, url, "", "jobs", "get", "demo/hello", "nope")
	if code != exitError || !strings.HasPrefix(stderr, `fnhost: InvocationNotFound (404): invocation "nope" does not exist [request req-`) {
		t.Errorf("get missing: exit %d stderr %q", code, stderr)
	}

	// stop
	stdout, stderr, code = cli(t, url, "", "jobs", "stop", "demo/hello", "job-5")
	if code != exitOK || stdout != "invocation job-5: Stopped\n" || fn.jobs[4].Status != host.JobStopped {
		t.Errorf("stop: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	stdout, _, code = cli(t, url, "", "jobs", "stop", "demo/hello", "job-4")
	if code != exitOK || stdout != "invocation job-4: Running (stop requested)\n" {
		t.Errorf("stop running: exit %d stdout %q", code, stdout)
	}
	stdout, stderr, code = cli(t, url, "", "jobs", "stop", "demo/hello", "job-2")
	if code != exitError || stdout != "" || !strings.HasPrefix(stderr, `fnhost: InvocationFinished (409): invocation "job-2" is Failed`) {
		t.Errorf("stop finished: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	stdout, _, _ = cli(t, url, "", "jobs", "stop", "demo/hello", "job-1", "--json")
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || got.Status != host.JobStopped {
		t.Errorf("stop --json: %v %s", err, stdout)
	}
}

func TestAsyncConfigCommand(t *testing.T) {
	_, url, fn := deployFake(t)

	stdout, stderr, code := cli(t, url, "", "async-config", "demo/hello")
	if code != exitOK || stdout != "" || stderr != "demo/hello has no async config; the defaults apply: 3 retries, events up to 24h old, no destinations\n" {
		t.Errorf("show none: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	stdout, _, _ = cli(t, url, "", "async-config", "demo/hello", "--json")
	if stdout != "null\n" {
		t.Errorf("show none --json: %q", stdout)
	}

	stdout, stderr, code = cli(t, url, "", "async-config", "demo/hello", "--retries", "0", "--on-failure", "fnhost:demo/dlq")
	want := "function    demo/hello\n" +
		"retries     0\n" +
		"max age     24h (default)\n" +
		"on success  -\n" +
		"on failure  fnhost:demo/dlq\n" +
		"modified    2026-01-02T03:04:05Z\n"
	if code != exitOK || stdout != want {
		t.Errorf("set: exit %d stderr %q\n%s\nwant\n%s", code, stderr, stdout, want)
	}

	// Flags not given keep their value; '' removes a destination.
	stdout, stderr, code = cli(t, url, "", "async-config", "demo/hello", "--max-age", "90m", "--on-success", "https://example.com/hook", "--json")
	var c host.AsyncConfig
	if err := json.Unmarshal([]byte(stdout), &c); err != nil || code != exitOK {
		t.Fatalf("set --json: exit %d %v %q %q", code, err, stdout, stderr)
	}
	if *c.MaxAsyncRetryAttempts != 0 || *c.MaxAsyncEventAgeInSeconds != 5400 || c.DestinationConfig.OnFailure.Destination != "fnhost:demo/dlq" ||
		c.DestinationConfig.OnSuccess.Destination != "https://example.com/hook" || c.ServiceName != "demo" {
		t.Errorf("merged config %+v", c)
	}
	cli(t, url, "", "async-config", "demo/hello", "--on-failure", "", "--on-success=")
	if fn.async.DestinationConfig != nil || *fn.async.MaxAsyncEventAgeInSeconds != 5400 {
		t.Errorf("after removing destinations: %+v", fn.async)
	}

	stdout, _, code = cli(t, url, "", "async-config", "demo/hello")
	if code != exitOK || !strings.Contains(stdout, "max age     1h30m\n") || !strings.Contains(stdout, "on failure  -\n") {
		t.Errorf("show: exit %d\n%s", code, stdout)
	}

	stdout, _, code = cli(t, url, "", "async-config", "demo/hello", "--delete")
	if code != exitOK || stdout != "deleted the async config of demo/hello\n" || fn.async != nil {
		t.Errorf("delete: exit %d %q", code, stdout)
	}
	_, stderr, code = cli(t, url, "", "async-config", "demo/hello", "--delete")
	if code != exitError || !strings.HasPrefix(stderr, "fnhost: AsyncConfigNotFound (404): ") {
		t.Errorf("delete again: exit %d stderr %q", code, stderr)
	}
	_, stderr, code = cli(t, url, "", "async-config", "demo/nope")
	if code != exitError || !strings.HasPrefix(stderr, "fnhost: FunctionNotFound (404): ") {
		t.Errorf("missing function: exit %d stderr %q", code, stderr)
	}
}

func TestParseSecondsAndFormat(t *testing.T) {
	for _, tc := range []struct {
		in     string
		lo, hi int64
		want   int64
		ok     bool
	}{
		{"30s", 0, 3600, 30, true},
		{"0", 0, 3600, 0, true},
		{"1h", 0, 3600, 3600, true},
		{"90", 1, 604800, 90, true},
		{"168h", 1, 604800, 604800, true},
		{"1h1s", 0, 3600, 0, false},
		{"0s", 1, 604800, 0, false},
		{"1.5s", 0, 3600, 0, false},
		{"-1", 0, 3600, 0, false},
		{"soon", 0, 3600, 0, false},
		{"", 0, 3600, 0, false},
	} {
		got, err := parseSeconds(tc.in, tc.lo, tc.hi)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSeconds(%q, %d, %d) = %d, %v", tc.in, tc.lo, tc.hi, got, err)
		}
	}
	for n, want := range map[int64]string{0: "0s", 45: "45s", 90: "1m30s", 3600: "1h", 5400: "1h30m", 86400: "24h", 3661: "1h1m1s"} {
		if got := formatSeconds(n); got != want {
			t.Errorf("formatSeconds(%d) = %q, want %q", n, got, want)
		}
	}
	if got := truncate("héllo wörld", 6); got != "héllo…" {
		t.Errorf("truncate = %q", got)
	}
	if printable([]byte{0xff}) || printable([]byte("a\x00")) || !printable([]byte("tab\there\r\n")) {
		t.Error("printable")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

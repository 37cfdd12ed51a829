package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The end-to-end tests build the fnhost binary once and drive it as users
// do: `fnhost serve` on 127.0.0.1:0 with a temporary data directory, the CLI
// for deploys, plain HTTP for triggers.

var fnhostBin string // built by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fnhost-e2e-bin")
	if err != nil {
		panic(err)
	}
	fnhostBin = filepath.Join(dir, "fnhost")
	out, err := exec.Command("go", "build", "-o", fnhostBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building fnhost: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fnhostProc is a running `fnhost serve`.
type fnhostProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	Addr   string // host:port
	data   string
	stdout *lockedBuffer // everything after the listening line
	stderr *lockedBuffer
	banner string // stdout up to and including the listening line
	done   chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startFnhost starts `fnhost serve` on data with env added to the
// environment and waits for its listening line. t.Cleanup stops it if the
// test did not.
func startFnhost(t *testing.T, data string, env ...string) *fnhostProc {
	t.Helper()
	cmd := exec.Command(fnhostBin, "serve", "--listen", "127.0.0.1:0", "--data", data, "--log-format", "json", "--grace", "10s")
	cmd.Env = append(cleanEnv(), env...)
	p := &fnhostProc{t: t, cmd: cmd, data: data, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewReader(out)
	found := make(chan string, 1)
	var banner strings.Builder
	go func() {
		for {
			line, err := lines.ReadString('\n')
			banner.WriteString(line)
			if i := strings.Index(line, "listening on http://"); i >= 0 {
				addr := strings.Fields(line[i+len("listening on http://"):])[0]
				found <- addr
				break
			}
			if err != nil {
				close(found)
				return
			}
		}
		io.Copy(p.stdout, lines)
	}()
	go func() { p.done <- cmd.Wait() }()
	select {
	case addr, ok := <-found:
		if !ok {
			t.Fatalf("fnhost serve exited before listening:\n%s\n%s", banner.String(), p.stderr)
		}
		p.Addr = addr
		p.banner = banner.String()
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("fnhost serve did not listen within 30 s:\n%s", p.stderr)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			p.stop()
		}
	})
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *fnhostProc) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			p.t.Fatalf("fnhost serve exited with %v\n%s", err, p.stderr)
		}
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		p.t.Fatalf("fnhost serve did not stop within 30 s of SIGTERM\n%s", p.stderr)
	}
}

// cleanEnv is the test process's environment without FNHOST_* variables,
// so the developer's own settings cannot leak into a test.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FNHOST_") {
			env = append(env, kv)
		}
	}
	return env
}

// cli runs the fnhost CLI against p and returns stdout; a non-zero exit
// fails the test unless wantFail.
func (p *fnhostProc) cli(wantFail bool, args ...string) string {
	p.t.Helper()
	args = append(args, "--endpoint", p.Addr, "--data-dir", p.data)
	cmd := exec.Command(fnhostBin, args...)
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if (err != nil) != wantFail {
		p.t.Fatalf("fnhost %s: err=%v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	if wantFail {
		return stderr.String()
	}
	return stdout.String()
}

func httpGet(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func guestPath(name string) string {
	return filepath.Join("..", "..", "guests", "dist", name+".wasm")
}

// exampleGuests are deployed by the e2e test and by `make run`: each with
// the request to send and a part of the answer.
var exampleGuests = []struct {
	guest, fn, path, env, want string
}{
	{"hello-go", "hello_go", "/", "", "hello world"},
	{"hello-c", "hello_c", "/", "", "hello world"},
	{"hello-wat", "hello_wat", "/", "", "hello world"},
	{"echo-go", "echo_go", "/a/b?x=1", "", `"url":"/a/b?x=1"`},
	{"echo-c", "echo_c", "/a/b?x=1", "", `"url":"/a/b?x=1"`},
	{"nethttp-go", "nethttp_go", "/users/7", "", `{"id":"7"}`},
	{"env-go", "env_go", "/", "GREETING=hi", "os=hi abi=hi"},
	{"ctx-go", "ctx_go", "/", "", `"function":"ctx_go"`},
	{"cgi-c", "cgi_c", "/p?q=1", "", "path=/p\nquery=q=1\n"},
}

func cacheSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		m[p] = fmt.Sprint(info.Size(), " ", info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestServeDeployInvokeRestart is a newcomer's path end to end: first start
// generates the admin key, every example guest is deployed with the CLI and
// answers through its trigger; after a restart everything is still there
// and the first request to a Go function is served from the compilation
// cache, which does not change.
func TestServeDeployInvokeRestart(t *testing.T) {
	data := t.TempDir()
	p := startFnhost(t, data)
	if !strings.Contains(p.banner, "generated the admin access key") {
		t.Fatalf("first start did not announce a generated key:\n%s", p.banner)
	}
	info, err := os.Stat(filepath.Join(data, credentialsFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", info, err)
	}

	for _, g := range exampleGuests {
		args := []string{"deploy", guestPath(g.guest), "--service", "demo", "--function", g.fn}
		if g.env != "" {
			args = append(args, "--env", g.env)
		}
		out := p.cli(false, args...)
		url := "http://" + p.Addr + "/2016-08-15/proxy/demo/" + g.fn + "/"
		if !strings.Contains(out, url) {
			t.Fatalf("deploy %s printed %q, want the URL %s", g.guest, out, url)
		}
		res, body := httpGet(t, strings.TrimSuffix(url, "/")+g.path)
		if res.StatusCode != 200 || !strings.Contains(body, g.want) {
			t.Fatalf("%s: %d %q, want %q", g.guest, res.StatusCode, body, g.want)
		}
	}

	if out := p.cli(false, "invoke", "demo/hello_c"); out != "hello world" {
		t.Errorf("fnhost invoke: %q", out)
	}
	if out := p.cli(false, "ls", "demo"); !strings.Contains(out, "hello_go") || !strings.Contains(out, "cgi_c") {
		t.Errorf("fnhost ls demo:\n%s", out)
	}
	if out := p.cli(false, "logs", "demo/env_go"); !strings.Contains(out, "env guest called") {
		t.Errorf("fnhost logs demo/env_go:\n%s", out)
	}
	if out := p.cli(true, "invoke", "demo/nope"); !strings.Contains(out, "FunctionNotFound") {
		t.Errorf("invoking a missing function: %q", out)
	}

	// Restart on the same data directory.
	cache := filepath.Join(data, "cache")
	before := cacheSnapshot(t, cache)
	if len(before) == 0 {
		t.Fatal("no compilation cache files in the data directory")
	}
	p.stop()
	p = startFnhost(t, data)
	if strings.Contains(p.banner, "generated") {
		t.Fatalf("restart generated a new key:\n%s", p.banner)
	}
	res, body := httpGet(t, "http://"+p.Addr+"/2016-08-15/proxy/demo/hello_go/")
	if res.StatusCode != 200 || body != "hello world" || res.Header.Get("X-Fnhost-Cold-Start") != "true" {
		t.Fatalf("after restart: %d %q cold=%s", res.StatusCode, body, res.Header.Get("X-Fnhost-Cold-Start"))
	}
	after := cacheSnapshot(t, cache)
	for f, v := range after {
		if before[f] != v {
			t.Errorf("restart recompiled: cache file %s changed (%s → %s)", f, before[f], v)
		}
	}
	for _, g := range exampleGuests {
		res, body := httpGet(t, "http://"+p.Addr+"/2016-08-15/proxy/demo/"+g.fn+g.path)
		if res.StatusCode != 200 || !strings.Contains(body, g.want) {
			t.Errorf("after restart %s: %d %q", g.guest, res.StatusCode, body)
		}
	}

	p.cli(false, "rm", "demo/hello_c")
	if res, _ := httpGet(t, "http://"+p.Addr+"/2016-08-15/proxy/demo/hello_c/"); res.StatusCode != 404 {
		t.Errorf("removed function answers %d", res.StatusCode)
	}
	p.stop()
}

// TestServeRejectsHalfCredentials: one of the two key variables is a
// configuration mistake, not a reason to generate a key.
func TestServeRejectsHalfCredentials(t *testing.T) {
	cmd := exec.Command(fnhostBin, "serve", "--listen", "127.0.0.1:0", "--data", t.TempDir(), "--log-format", "json")
	cmd.Env = append(cleanEnv(), "FNHOST_ACCESS_KEY_ID=only-the-id")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "FNHOST_ACCESS_KEY_SECRET") {
		t.Fatalf("err=%v out=%s", err, out)
	}
}

// TestSecondSignalExitsAtOnce: the first SIGTERM waits for running
// invocations; a second one ends the process without waiting.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	data := t.TempDir()
	p := startFnhost(t, data)
	p.cli(false, "deploy", guestPath("loop"), "--service", "s", "--function", "spin", "--timeout", "20s")
	go http.Get("http://" + p.Addr + "/2016-08-15/proxy/s/spin/")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(scrape(t, p), `fnhost_instances_busy{function="spin",service="s"} 1`) {
		if time.Now().After(deadline) {
			t.Fatal("the spinning call never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond)
	select {
	case <-p.done:
		t.Fatal("exited on the first signal while an invocation was running")
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if took := time.Since(start); took > 10*time.Second {
			t.Fatalf("second signal took %v", took)
		}
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		t.Fatal("second signal did not end the process")
	}
}

func scrape(t *testing.T, p *fnhostProc) string {
	_, body := httpGet(t, "http://"+p.Addr+"/metrics")
	return body
}

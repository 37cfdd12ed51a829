package runtime

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
)

// TestLoadRejects: modules that must not load are rejected when compiled
// or bound to a function, with a one-line message naming the problem and
// what was expected.
func TestLoadRejects(t *testing.T) {
	rt := testRuntime(t)
	cases := []struct {
		guest string
		cfg   FunctionConfig
		want  []string // substrings of the error message
	}{
		{"invalid", FunctionConfig{}, []string{"not a valid WebAssembly module", "bad magic number"}},
		{"badimport", FunctionConfig{}, []string{"unknown function fnhost_v1.exec_shell", "fnhost ABI v1"}},
		{"foreignimport", FunctionConfig{}, []string{"env.evil", `only "fnhost_v1" and "wasi_snapshot_preview1" may be imported`}},
		{"noexport-mem", FunctionConfig{}, []string{`exports no memory named "memory"`}},
		{"nohandler", FunctionConfig{}, []string{`handler "handle" is not exported`, "it exports other"}},
		{"hello-wat", FunctionConfig{Handler: "serve"}, []string{`handler "serve" is not exported`}},
		{"hugemem", FunctionConfig{MemoryMB: 128}, []string{"memory minimum of 40000 pages", "over the function's memory limit of 128 MB"}},
	}
	for _, tc := range cases {
		t.Run(tc.guest, func(t *testing.T) {
			mod, err := rt.Compile(context.Background(), guest(t, tc.guest))
			if err == nil {
				_, err = rt.NewFunction(mod, tc.cfg)
			}
			if err == nil {
				t.Fatal("loaded; want a rejection")
			}
			if k := host.ErrorKind(err); k != host.KindInvalidModule {
				t.Errorf("kind = %v, want %v", k, host.KindInvalidModule)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("message spans lines: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
		})
	}
}

// TestUnknownABI: a module that neither imports fnhost_v1 nor exports
// _start is rejected with the two accepted shapes named.
func TestUnknownABI(t *testing.T) {
	// (module (memory (export "memory") 1) (func (export "handle")))
	wasm := []byte{
		0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
		0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type () -> ()
		0x03, 0x02, 0x01, 0x00, // func 0: type 0
		0x05, 0x03, 0x01, 0x00, 0x01, // memory min 1
		0x07, 0x13, 0x02, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00, 0x06, 'h', 'a', 'n', 'd', 'l', 'e', 0x00, 0x00,
		0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,
	}
	_, err := testRuntime(t).Compile(context.Background(), wasm)
	if err == nil || host.ErrorKind(err) != host.KindInvalidModule {
		t.Fatalf("err = %v, want an invalid-module error", err)
	}
	for _, w := range []string{"unknown ABI", `imports from "fnhost_v1"`, `exports "_start"`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("message %q lacks %q", err, w)
		}
	}
}

// TestCompileOnce: the same bytes give the same Module, compiled once even
// when asked for concurrently.
func TestCompileOnce(t *testing.T) {
	rt := testRuntime(t)
	wasm := guest(t, "hello-c")
	var wg sync.WaitGroup
	mods := make([]*Module, 8)
	for i := range mods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := rt.Compile(context.Background(), wasm)
			if err != nil {
				t.Error(err)
			}
			mods[i] = m
		}()
	}
	wg.Wait()
	for _, m := range mods[1:] {
		if m != mods[0] {
			t.Fatal("concurrent compiles of the same bytes returned different modules")
		}
	}
	if mods[0].Kind != KindABIv1 || len(mods[0].Checksum) != 64 {
		t.Errorf("module = kind %v checksum %q", mods[0].Kind, mods[0].Checksum)
	}
}

// TestHostileGuests runs every hostile guest: each fails with its own kind,
// its instance is not reused, timeouts end near the deadline, and a healthy
// function keeps serving throughout.
func TestHostileGuests(t *testing.T) {
	const timeout = 500 * time.Millisecond
	cases := []struct {
		guest string
		cfg   FunctionConfig
		kind  host.Kind
		msg   string
	}{
		{"loop", FunctionConfig{}, host.KindTimeout, "deadline"},
		{"loop-start", FunctionConfig{}, host.KindTimeout, "deadline"},
		{"loop-init", FunctionConfig{}, host.KindTimeout, "deadline"},
		{"membomb", FunctionConfig{MemoryMB: 16}, host.KindMemoryLimit, "unreachable"},
		// Overflowing wazero's stack (about 400 MB) can take longer than
		// the other cases' deadline, so this one gets more time.
		{"recursion", FunctionConfig{Timeout: 10 * time.Second}, host.KindTrap, "stack overflow"},
		{"trap", FunctionConfig{}, host.KindTrap, "unreachable"},
		{"noresponse", FunctionConfig{}, host.KindNoResponse, "without calling a response function"},
		{"exit", FunctionConfig{}, host.KindExit, "exit_code(3)"},
		{"bigresp", FunctionConfig{MaxResponseBytes: 1 << 20}, host.KindResponseTooLarge, "body over the limit"},
		{"memhog-go", FunctionConfig{MemoryMB: 32}, host.KindMemoryLimit, ""},
	}
	healthy := newFunction(t, "hello-c", FunctionConfig{Service: "ok", Function: "hello"})
	stop := make(chan struct{})
	var served, failedHealthy int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var res host.Response
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := healthy.Invoke(context.Background(), getRequest("/"), &res); err != nil || string(res.Body) != "hello world" {
				failedHealthy++
			}
			served++
			time.Sleep(time.Millisecond)
		}
	}()
	for _, tc := range cases {
		t.Run(tc.guest, func(t *testing.T) {
			if tc.cfg.Timeout == 0 {
				tc.cfg.Timeout = timeout
			}
			f := newFunction(t, tc.guest, tc.cfg)
			for round := 0; round < 2; round++ {
				var res host.Response
				start := time.Now()
				err := f.Invoke(context.Background(), getRequest("/"), &res)
				took := time.Since(start)
				if err == nil {
					t.Fatalf("round %d: invoke succeeded with status %d; want %v", round, res.Status, tc.kind)
				}
				if k := host.ErrorKind(err); k != tc.kind {
					t.Fatalf("round %d: kind = %v (%v), want %v", round, k, err, tc.kind)
				}
				if !strings.Contains(err.Error(), tc.msg) {
					t.Errorf("error %q lacks %q", err, tc.msg)
				}
				if tc.kind == host.KindTimeout && took > timeout+250*time.Millisecond {
					t.Errorf("timeout took %v, want <= %v", took, timeout+250*time.Millisecond)
				}
				if n := f.Idle(); n != 0 {
					t.Errorf("%d instances back in the pool after a failure", n)
				}
			}
		})
	}
	close(stop)
	wg.Wait()
	if served == 0 || failedHealthy != 0 {
		t.Errorf("healthy function: %d of %d invocations failed during the hostile runs", failedHealthy, served)
	}
}

// TestBadPointers: the guest passes out-of-bounds pointers and lengths and
// out-of-domain values to host functions and checks each error code.
func TestBadPointers(t *testing.T) {
	f := newFunction(t, "badptr", FunctionConfig{})
	var res host.Response
	if err := f.Invoke(context.Background(), getRequest("/"), &res); err != nil {
		t.Fatal(err)
	}
	if res.Status != 200 || string(res.Body) != "ok" {
		t.Fatalf("status %d body %q: a host function answered a bad argument wrongly", res.Status, res.Body)
	}
}

// TestPoolLimit: with every instance busy, an invocation waits at most
// MaxQueueWait, then fails with KindTooManyInstances.
func TestPoolLimit(t *testing.T) {
	for _, wait := range []time.Duration{-1, 100 * time.Millisecond} {
		f := newFunction(t, "loop", FunctionConfig{MaxInstances: 1, Timeout: 600 * time.Millisecond, MaxQueueWait: wait})
		done := make(chan error, 1)
		go func() {
			var res host.Response
			done <- f.Invoke(context.Background(), getRequest("/"), &res)
		}()
		for len(f.tokens) == 0 {
			time.Sleep(time.Millisecond)
		}
		var res host.Response
		start := time.Now()
		err := f.Invoke(context.Background(), getRequest("/"), &res)
		if k := host.ErrorKind(err); k != host.KindTooManyInstances {
			t.Fatalf("wait %v: kind = %v (%v), want too many instances", wait, k, err)
		}
		if took := time.Since(start); wait > 0 && (took < wait || took > wait+time.Second) { // generous: CI runs packages in parallel on 2 cores
			t.Errorf("wait %v: failed after %v", wait, took)
		}
		if k := host.ErrorKind(<-done); k != host.KindTimeout {
			t.Errorf("first invocation: kind %v, want timeout", k)
		}
	}
}

// TestPoolReuse: instances are reused by default (warm calls, one instance,
// state kept) and never in fresh mode.
func TestPoolReuse(t *testing.T) {
	for _, fresh := range []bool{false, true} {
		f := newFunction(t, "hello-c", FunctionConfig{Fresh: fresh})
		ids := map[string]bool{}
		for i := 0; i < 3; i++ {
			var res host.Response
			if err := f.Invoke(context.Background(), getRequest("/"), &res); err != nil {
				t.Fatal(err)
			}
			ids[res.Meter.InstanceID] = true
			wantCold := fresh || i == 0
			if res.Meter.Cold != wantCold {
				t.Errorf("fresh=%v call %d: cold=%v, want %v", fresh, i, res.Meter.Cold, wantCold)
			}
		}
		if want := map[bool]int{false: 1, true: 3}[fresh]; len(ids) != want {
			t.Errorf("fresh=%v: %d distinct instances, want %d", fresh, len(ids), want)
		}
		if want := map[bool]int{false: 1, true: 0}[fresh]; f.Idle() != want {
			t.Errorf("fresh=%v: %d idle, want %d", fresh, f.Idle(), want)
		}
	}
}

// TestDeadlineFromContext: a caller's earlier deadline shortens the
// function's timeout.
func TestDeadlineFromContext(t *testing.T) {
	f := newFunction(t, "loop", FunctionConfig{Timeout: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var res host.Response
	start := time.Now()
	err := f.Invoke(ctx, getRequest("/"), &res)
	if host.ErrorKind(err) != host.KindTimeout || time.Since(start) > time.Second {
		t.Fatalf("err %v after %v; want a timeout after ~200ms", err, time.Since(start))
	}
}

func TestClosedFunction(t *testing.T) {
	f := newFunction(t, "hello-c", FunctionConfig{})
	_ = f.Close(context.Background())
	var res host.Response
	err := f.Invoke(context.Background(), getRequest("/"), &res)
	if !errors.Is(err, &host.Error{Kind: host.KindClosed}) {
		t.Fatalf("err = %v, want closed", err)
	}
}

// TestCompilationCachePersists: a second Runtime on the same cache
// directory (a restart) loads machine code instead of compiling: the cache
// gains no file and no file changes.
func TestCompilationCachePersists(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	wasm := guest(t, "hello-go")
	snapshot := func() map[string]string {
		m := map[string]string{}
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			m[p] = fmt.Sprint(info.Size(), info.ModTime().UnixNano())
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	run := func() {
		rt, err := New(ctx, Config{CacheDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer rt.Close(ctx)
		mod, err := rt.Compile(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		f, err := rt.NewFunction(mod, FunctionConfig{})
		if err != nil {
			t.Fatal(err)
		}
		var res host.Response
		if err := f.Invoke(ctx, getRequest("/"), &res); err != nil || string(res.Body) != "hello world" {
			t.Fatalf("invoke: %v %q", err, res.Body)
		}
	}
	run()
	first := snapshot()
	if len(first) == 0 {
		t.Fatal("the first runtime wrote nothing to the cache directory")
	}
	run()
	if second := snapshot(); !reflect.DeepEqual(first, second) {
		t.Errorf("the second runtime changed the cache (it recompiled):\nbefore %v\nafter  %v", first, second)
	}
}

// TestRewriteCache: the rewritten module is cached beside the compilation
// cache, reused by the next Runtime, and replaced when damaged.
func TestRewriteCache(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	wasm := guest(t, "loop-start") // has a start section: the flag must survive the cache
	sum := sha256.Sum256(wasm)
	rc := newRewriteCache(dir)
	compileAndRun := func() {
		t.Helper()
		rt, err := New(ctx, Config{CacheDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer rt.Close(ctx)
		mod, err := rt.Compile(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		if !mod.hasStart {
			t.Fatal("start function lost")
		}
		f, err := rt.NewFunction(mod, FunctionConfig{Timeout: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		var res host.Response
		if err := f.Invoke(ctx, getRequest("/"), &res); host.ErrorKind(err) != host.KindTimeout {
			t.Fatalf("looping start function: %v, want a timeout", err)
		}
	}
	compileAndRun()
	first, ok := rc.load(sum)
	if !ok || !first.HasStart || len(first.Wasm) == 0 {
		t.Fatalf("no usable cache entry after the first compile: %v %+v", ok, first)
	}
	compileAndRun() // from the cache
	// Damage the entry: the next compile must notice and rewrite it.
	path := rc.path(sum)
	if err := os.WriteFile(path, append(append([]byte{}, rewriteMagic...), 1, 0xde, 0xad), 0o600); err != nil {
		t.Fatal(err)
	}
	compileAndRun()
	again, ok := rc.load(sum)
	if !ok || !bytes.Equal(again.Wasm, first.Wasm) {
		t.Fatal("the damaged entry was not replaced")
	}
}

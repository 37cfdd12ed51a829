package server

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/internal/prevalidate/prevalidatetest"
)

// TestHostileModules runs a table of hostile modules — runaway loops,
// memory and stack bombs, traps, broken answers, bad host-call arguments,
// and the compile and decode bombs of prevalidatetest — against one server
// at concurrency 8. The modules are put in the store directly, as if an
// older fnhost had accepted them, so each one reaches the runtime. Every
// call must get its exact status and error type, timeouts must end within
// the deadline + 250 ms, a healthy function must keep answering, and the
// resident memory must come back near where it started.
func TestHostileModules(t *testing.T) {
	if testing.Short() {
		t.Skip("hostile module table: seconds of CPU at concurrency 8; skipped with -short")
	}
	ts := startServer(t, func(o *harnessOptions) { o.maxInstances = 8 })
	ts.deploy("s", "healthy", "hello-c", host.Function{}, anonymous())

	type row struct {
		name    string
		wasm    []byte
		f       host.Function
		status  int
		errType string
		want    string // part of the body
		timeout bool   // ends by its deadline
	}
	const u = "UnhandledInvocationError"
	rows := []row{
		{name: "loop in handler", wasm: guestWasm(t, "loop"), f: host.Function{Timeout: 1}, status: 502, errType: u, want: "timed out", timeout: true},
		{name: "loop in start function", wasm: guestWasm(t, "loop-start"), f: host.Function{Timeout: 1}, status: 502, errType: u, want: "timed out", timeout: true},
		{name: "loop in _initialize", wasm: guestWasm(t, "loop-init"), f: host.Function{Timeout: 1}, status: 502, errType: u, want: "timed out", timeout: true},
		{name: "memory bomb", wasm: guestWasm(t, "membomb"), f: host.Function{MemorySize: 64}, status: 502, errType: u},
		{name: "Go heap until out of memory", wasm: guestWasm(t, "memhog-go"), f: host.Function{MemorySize: 64}, status: 502, errType: u},
		{name: "unbounded recursion", wasm: guestWasm(t, "recursion"), f: host.Function{Timeout: 10}, status: 502, errType: u},
		{name: "trap", wasm: guestWasm(t, "trap"), status: 502, errType: u, want: "trap"},
		{name: "no response", wasm: guestWasm(t, "noresponse"), status: 502, errType: u},
		{name: "proc_exit", wasm: guestWasm(t, "exit"), status: 502, errType: u},
		{name: "oversized response", wasm: guestWasm(t, "bigresp"), status: 502, errType: u},
		{name: "memory minimum over the limit", wasm: guestWasm(t, "hugemem"), f: host.Function{MemorySize: 16}, status: 502, errType: u},
		{name: "no handler export", wasm: guestWasm(t, "nohandler"), status: 502, errType: u},
		{name: "unknown fnhost import", wasm: guestWasm(t, "badimport"), status: 502, errType: u},
		{name: "foreign import module", wasm: guestWasm(t, "foreignimport"), status: 502, errType: u},
		{name: "no exported memory", wasm: guestWasm(t, "noexport-mem"), status: 502, errType: u},
		{name: "not wasm", wasm: guestWasm(t, "invalid"), status: 502, errType: u},
		{name: "bad pointers to every host function", wasm: guestWasm(t, "badptr"), status: 200, want: "ok"},
	}
	for _, b := range prevalidatetest.Bombs() {
		rows = append(rows, row{name: "bomb: " + b.Name, wasm: b.Build(), status: 502, errType: u})
	}
	if len(rows) < 30 {
		t.Fatalf("the table must hold at least 30 modules, has %d", len(rows))
	}
	for i, r := range rows {
		f := r.f
		f.ServiceName, f.FunctionName = "s", "h"+strconv.Itoa(i)
		f.Runtime, f.Handler = host.RuntimeWasm, "handle"
		if f.MemorySize == 0 {
			f.MemorySize = 128
		}
		if f.Timeout == 0 {
			f.Timeout = 3
		}
		if _, err := ts.store.CreateFunction(f, r.wasm); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		if _, err := ts.store.CreateTrigger(host.Trigger{ServiceName: "s", FunctionName: f.FunctionName, TriggerName: "http",
			TriggerType: host.TriggerTypeHTTP, TriggerConfig: anonymous()}); err != nil {
			t.Fatal(err)
		}
		rows[i].f = f
	}
	runtime.GC()
	debug.FreeOSMemory()
	baseline := rssBytes(t)

	// Every module twice, 8 at a time, with a healthy call after each.
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	client := &http.Client{Timeout: 60 * time.Second}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				r := rows[i]
				start := time.Now()
				res, err := client.Get(ts.URL + "/2016-08-15/proxy/s/" + r.f.FunctionName + "/")
				took := time.Since(start)
				if err != nil {
					fail("%s: %v", r.name, err)
					continue
				}
				var b strings.Builder
				buf := make([]byte, 4096)
				for {
					n, err := res.Body.Read(buf)
					b.Write(buf[:n])
					if err != nil || b.Len() > 1<<20 {
						break
					}
				}
				res.Body.Close()
				if res.StatusCode != r.status || res.Header.Get("X-Fc-Error-Type") != r.errType || !strings.Contains(b.String(), r.want) {
					fail("%s: %d %q %.200s, want %d %q %q", r.name, res.StatusCode, res.Header.Get("X-Fc-Error-Type"), b.String(), r.status, r.errType, r.want)
				}
				// The deadline covers the invocation (instance creation and the
				// guest), which the server reports in x-fc-invocation-duration;
				// loading the module on a function's first call comes before
				// it, and the client's wall time also holds this loaded
				// machine's scheduling of the HTTP round trip.
				if r.timeout {
					ms, err := strconv.Atoi(res.Header.Get("X-Fc-Invocation-Duration"))
					if err != nil || time.Duration(ms)*time.Millisecond > time.Duration(r.f.Timeout)*time.Second+250*time.Millisecond {
						fail("%s: invocation took %s ms (%v wall), deadline %ds + 250 ms", r.name, res.Header.Get("X-Fc-Invocation-Duration"), took, r.f.Timeout)
					}
				}
				hres, err := client.Get(ts.URL + "/2016-08-15/proxy/s/healthy/")
				if err != nil || hres.StatusCode != 200 {
					fail("healthy function after %s: %v %v", r.name, err, hres)
				} else {
					hres.Body.Close()
				}
			}
		}()
	}
	for round := 0; round < 2; round++ {
		for i := range rows {
			work <- i
		}
	}
	close(work)
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}

	// Memory comes back: close every pool, then compare.
	for _, r := range rows {
		ts.inv.Invalidate("s", r.f.FunctionName)
	}
	runtime.GC()
	debug.FreeOSMemory()
	after := rssBytes(t)
	t.Logf("%d hostile modules × 2 at concurrency 8: RSS %d MB before, %d MB after", len(rows), baseline>>20, after>>20)
	if after > baseline+256<<20 {
		t.Errorf("resident memory grew from %d MB to %d MB", baseline>>20, after>>20)
	}
}

// rssBytes reads the process's resident set size (Linux).
func rssBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status to read RSS from: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	t.Fatal("VmRSS not found")
	return 0
}

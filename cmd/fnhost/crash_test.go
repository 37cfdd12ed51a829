package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/client"
)

// TestCrashLosesNoAsyncJob is the durability promise behind a 202: fnhost
// runs as a separate process, clients submit async jobs continuously, the
// server is killed with SIGKILL three times mid-run and restarted on the
// same data directory, and every job that got a 202 must reach the
// function's onSuccess destination at least once. Duplicates are allowed
// (at-least-once) and counted.
func TestCrashLosesNoAsyncJob(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: several server restarts and thousands of jobs; skipped with -short")
	}
	const jobs = 2000
	const kills = 3

	// The destination: a local HTTP server recording every delivery.
	var mu sync.Mutex
	delivered := map[string]int{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dest := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Fc-Stateful-Async-Invocation-Id")
		var env struct {
			ResponseContext struct{ StatusCode int } `json:"responseContext"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &env); err != nil || id == "" || env.ResponseContext.StatusCode != 200 {
			http.Error(w, "bad envelope", 400)
			t.Errorf("bad destination call: id %q, %v, %s", id, err, body)
			return
		}
		mu.Lock()
		delivered[id]++
		mu.Unlock()
	})}
	go dest.Serve(ln)
	defer dest.Close()

	data := t.TempDir()
	env := []string{"FNHOST_ACCESS_KEY_ID=crash-key", "FNHOST_ACCESS_KEY_SECRET=crash-secret-0123456789"}
	p := startFnhost(t, data, env...)
	p.cli(false, "deploy", guestPath("hello-c"), "--service", "crash", "--function", "hello",
		"--access-key-id", "crash-key", "--access-key-secret", "crash-secret-0123456789")
	c, err := client.New(client.Config{Endpoint: "http://" + p.Addr, AccessKeyID: "crash-key", AccessKeySecret: "crash-secret-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutAsyncConfig(context.Background(), "crash", "hello", client.AsyncConfigInput{
		DestinationConfig: &host.DestinationConfig{OnSuccess: &host.Destination{Destination: "http://" + ln.Addr().String() + "/done"}},
	}); err != nil {
		t.Fatal(err)
	}

	// Submitters: each job id is sent until it is acknowledged (202) or
	// refused as a duplicate (409: an earlier attempt was stored but its
	// answer was lost in a kill, so it is acknowledged too).
	var addr atomic.Value
	addr.Store(p.Addr)
	var acked sync.Map
	var nacked atomic.Int64
	next := make(chan int, jobs)
	for i := range jobs {
		next <- i
	}
	close(next)
	hc := &http.Client{Timeout: 5 * time.Second}
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				id := "job_" + strconv.Itoa(i)
				for {
					req, _ := http.NewRequest("POST", "http://"+addr.Load().(string)+"/2016-08-15/proxy/crash/hello/", nil)
					req.Header.Set("X-Fc-Invocation-Type", "Async")
					req.Header.Set("X-Fc-Stateful-Async-Invocation-Id", id)
					res, err := hc.Do(req)
					if err == nil {
						io.Copy(io.Discard, res.Body)
						res.Body.Close()
						if res.StatusCode == 202 || res.StatusCode == 409 {
							acked.Store(id, true)
							nacked.Add(1)
							break
						}
					}
					time.Sleep(20 * time.Millisecond) // server down or restarting
				}
			}
		}()
	}

	// Kill the server three times while jobs are being submitted and run.
	for k := 1; k <= kills; k++ {
		target := int64(k * jobs / (kills + 1))
		for nacked.Load() < target {
			time.Sleep(5 * time.Millisecond)
		}
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.done
		t.Logf("kill %d after %d acknowledged jobs", k, nacked.Load())
		p = startFnhost(t, data, env...)
		addr.Store(p.Addr)
	}
	wg.Wait()

	// Every acknowledged job must be delivered.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		mu.Lock()
		missing := 0
		acked.Range(func(k, _ any) bool {
			if delivered[k.(string)] == 0 {
				missing++
			}
			return true
		})
		mu.Unlock()
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged jobs never completed\n%s", missing, nacked.Load(), p.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	dups := 0
	for _, n := range delivered {
		dups += n - 1
	}
	mu.Unlock()
	t.Logf("%d jobs acknowledged, 0 lost, %d duplicate deliveries across %d SIGKILLs", nacked.Load(), dups, kills)
	fmt.Fprintf(os.Stderr, "crash test: %d jobs acknowledged, 0 lost, %d duplicate deliveries across %d SIGKILLs\n", nacked.Load(), dups, kills)
	p.stop()
}

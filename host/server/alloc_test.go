//go:build !race

package server

import (
	"testing"

	"github.com/fnhost/fnhost/host"
)

// TestTriggerAllocs bounds the allocations of a warm trigger call through
// the whole handler (routing, lookup, checks, invoke, response headers).
// The one left is the request id string.
func TestTriggerAllocs(t *testing.T) {
	ts := startServer(t)
	ts.deploy("s", "hello", "hello-c", host.Function{}, anonymous())
	h := ts.srv.Handler()
	ctx := triggerCtx("hello")
	h(ctx) // cold start
	allocs := testing.AllocsPerRun(200, func() {
		ctx.Response.Reset()
		h(ctx)
	})
	if ctx.Response.StatusCode() != 200 || string(ctx.Response.Body()) != "hello world" {
		t.Fatalf("%d %q", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	if allocs > 1 {
		t.Fatalf("%.1f allocations per warm trigger call, want ≤ 1", allocs)
	}
}

//go:build !wasip1

package fnhost_test

import (
	"fmt"

	"github.com/fnhost/fnhost/sdk/go/fnhost"
	"github.com/fnhost/fnhost/sdk/go/fnhost/fnhosttest"
)

func ExampleHandle() {
	// In a guest, this call is in an init function, and main is empty.
	fnhost.Handle(func(w fnhost.ResponseWriter, r *fnhost.Request) {
		name := "world"
		if v, ok := r.Header("X-Name"); ok {
			name = v
		}
		w.AddHeader("Content-Type", "text/plain")
		w.WriteString("hello " + name)
	})

	// Run one invocation against the fake host, as a unit test would.
	resp := fnhosttest.Do(&fnhosttest.Request{
		Path:   "/",
		Header: []fnhost.HeaderField{{Name: "x-name", Value: "gopher"}},
	})
	fmt.Println(resp.Status, resp.Header[0].Value, string(resp.Body))
	// Output: 200 text/plain hello gopher
}

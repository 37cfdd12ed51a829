// Package fnhosttest runs fnhost handlers in native Go tests, against an
// in-process fake of the ABI v1 host. It works in native builds only (not
// GOOS=wasip1), where package fnhost talks to that fake.
//
//	func TestHello(t *testing.T) {
//		fnhost.Handle(hello)
//		resp := fnhosttest.Do(&fnhosttest.Request{Path: "/"})
//		if resp.Status != 200 || string(resp.Body) != "hello world" { ... }
//	}
package fnhosttest

// Package fnhost is the Go guest SDK for fnhost, a WebAssembly function host.
// It implements the guest side of ABI v1 (abi/ABI.md in this repository) for
// Go 1.24 and later.
//
// A function is a Go main package that registers its handler in init and has
// an empty main:
//
//	package main
//
//	import "github.com/fnhost/fnhost/sdk/go/fnhost"
//
//	func init() {
//		fnhost.Handle(func(w fnhost.ResponseWriter, r *fnhost.Request) {
//			w.AddHeader("Content-Type", "text/plain")
//			w.WriteString("hello world")
//		})
//	}
//
//	func main() {}
//
// It is built as a WASI reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o hello.wasm .
//
// The host calls the module's _initialize export once per instance (the Go
// runtime starts and package init functions run; main is never called), then
// the handle export, which this package provides, once per invocation. An
// instance serves one invocation at a time and is usually reused, so package
// variables keep their values from one invocation to the next.
//
// # Memory ownership
//
// The host never keeps pointers into guest memory: every byte slice given to
// a function of this package may be reused by the caller as soon as the call
// returns. Strings and byte slices returned by this package belong to the
// caller unless their documentation says otherwise.
//
// # Native builds
//
// On other platforms than wasip1 the package talks to an in-process fake
// host, so that guests build, vet and test with the ordinary Go tool; see
// package fnhosttest.
package fnhost

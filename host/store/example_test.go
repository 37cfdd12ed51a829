package store_test

import (
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/store"
)

// The management flow: a service, a function with its module, an HTTP
// trigger; then the errors the HTTP layer maps to FC codes.
func Example() {
	dir, err := os.MkdirTemp("", "fnhost-store-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := store.Open(dir, store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	if _, err := s.CreateService(host.Service{ServiceName: "demo"}); err != nil {
		log.Fatal(err)
	}
	wasm := []byte("\x00asm\x01\x00\x00\x00")
	fn, err := s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: "hello", MemorySize: 64, Timeout: 3}, wasm)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("checksum:", fn.CodeChecksum[:12], "size:", fn.CodeSize)

	tr, err := s.CreateTrigger(host.Trigger{ServiceName: "demo", FunctionName: "hello", TriggerName: "web",
		TriggerConfig: host.HTTPTriggerConfig{AuthType: host.AuthAnonymous, Methods: []string{"GET"}}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("trigger:", tr.TriggerName, tr.TriggerType, tr.TriggerConfig.AuthType)

	fns, next, err := s.ListFunctions("demo", store.ListOptions{Limit: 10})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("functions:", len(fns), fns[0].FunctionName, "next:", next == "")

	code, err := s.GetModule(fn.CodeChecksum)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("module bytes:", len(code))

	err = s.DeleteService("demo")
	var re *store.ResourceError
	if errors.As(err, &re) {
		fmt.Println(host.ErrorKind(err), re.Resource, re)
	}
	_, err = s.GetFunction("demo", "bye")
	if errors.As(err, &re) {
		fmt.Println(host.ErrorKind(err), re.Resource, re)
	}
	// Output:
	// checksum: 93a44bbb96c7 size: 8
	// trigger: web http anonymous
	// functions: 1 hello next: true
	// module bytes: 8
	// not empty Service service "demo" is not empty
	// not found Function function "demo/bye" not found
}

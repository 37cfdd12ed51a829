// Command env shows the function's environment: it answers with the value
// of GREETING read through WASI (os.Getenv) and through the ABI
// (fnhost.Getenv), logs one line and writes one line to stderr.
package main

import (
	"os"

	"github.com/fnhost/fnhost/sdk/go/fnhost"
)

func init() {
	fnhost.Handle(func(w fnhost.ResponseWriter, r *fnhost.Request) {
		fnhost.Info("env guest called")
		os.Stderr.WriteString("stderr line\n")
		abiValue, _ := fnhost.Getenv("GREETING")
		w.AddHeader("Content-Type", "text/plain")
		w.WriteString("os=" + os.Getenv("GREETING") + " abi=" + abiValue)
	})
}

func main() {}

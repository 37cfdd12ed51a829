// Command hello is the smallest fnhost function: it answers every request
// with 200 and the text "hello world".
package main

import "github.com/fnhost/fnhost/sdk/go/fnhost"

func init() {
	fnhost.Handle(func(w fnhost.ResponseWriter, r *fnhost.Request) {
		w.AddHeader("Content-Type", "text/plain")
		w.WriteString("hello world")
	})
}

func main() {}

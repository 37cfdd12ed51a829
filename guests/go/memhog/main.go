// Command memhog allocates memory until the Go runtime dies: each invocation
// keeps appending 1 MiB slices to a global. It tests the function's memory
// limit with a Go guest; it never answers.
package main

import "github.com/fnhost/fnhost/sdk/go/fnhost"

var hog [][]byte

func init() {
	fnhost.Handle(func(w fnhost.ResponseWriter, r *fnhost.Request) {
		for i := 1; ; i++ {
			b := make([]byte, 1<<20)
			for j := 0; j < len(b); j += 4096 {
				b[j] = byte(i) // touch every page
			}
			hog = append(hog, b)
			if i%16 == 0 {
				fnhost.Logf(fnhost.LevelInfo, "memhog: %d MiB held", len(hog))
			}
		}
	})
}

func main() {}

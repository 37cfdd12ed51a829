// Command nethttp is an ordinary net/http handler served through the fnhttp
// adapter: a ServeMux with Go 1.22 patterns.
package main

import (
	"encoding/json"
	"net/http"

	"github.com/fnhost/fnhost/sdk/go/fnhost/fnhttp"
)

func init() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := json.Marshal(map[string]string{"id": r.PathValue("id")})
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		// No Content-Type: the adapter detects text/plain; charset=utf-8.
		w.Write([]byte("hello from net/http"))
	})
	fnhttp.Serve(mux)
}

func main() {}

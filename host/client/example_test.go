package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/auth"
	"github.com/fnhost/fnhost/host/client"
)

// exampleServer is a stand-in for fnhost: it checks the signature and
// answers a few calls the way the real server does.
func exampleServer() *httptest.Server {
	v := &auth.Verifier{Keys: func(id string) (string, bool) { return "secret", id == "key" }}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Fc-Request-Id", "1-example")
		if err := v.Verify(&auth.Request{Method: r.Method, Path: r.URL.Path, Header: auth.HTTPHeader(r.Header)}); err != nil {
			w.WriteHeader(http.StatusForbidden)
			json.NewEncoder(w).Encode(map[string]string{"ErrorCode": "SignatureNotMatch", "ErrorMessage": err.Error()})
			return
		}
		switch r.URL.Path {
		case "/2016-08-15/services/demo/functions":
			var in client.FunctionInput
			json.NewDecoder(r.Body).Decode(&in)
			json.NewEncoder(w).Encode(host.Function{FunctionName: in.FunctionName, Runtime: in.Runtime, CodeSize: int64(len(in.Code.ZipFile))})
		case "/2016-08-15/services/demo/functions/hello/invocations":
			body, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "hello, %s", body)
		default:
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(map[string]string{"ErrorCode": "ServiceNotFound", "ErrorMessage": "service does not exist"})
		}
	}))
}

func ExampleClient_TriggerURL() {
	c, err := client.New(client.Config{Endpoint: "http://127.0.0.1:9000"})
	if err != nil {
		panic(err)
	}
	fmt.Println(c.TriggerURL("demo", "hello"))
	// Output:
	// http://127.0.0.1:9000/2016-08-15/proxy/demo/hello/
}

func ExampleClient_CreateFunction() {
	srv := exampleServer()
	defer srv.Close()
	c, _ := client.New(client.Config{Endpoint: srv.URL, AccessKeyID: "key", AccessKeySecret: "secret"})

	wasm := []byte("\x00asm\x01\x00\x00\x00") // the smallest valid module
	f, err := c.CreateFunction(context.Background(), "demo", client.FunctionInput{
		FunctionName: "hello",
		Runtime:      host.RuntimeWasm,
		Code:         client.CodeFromWasm(wasm),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(f.ServiceName, f.FunctionName, f.Runtime, f.CodeSize)
	// Output:
	// demo hello wasm 8
}

func ExampleClient_InvokeFunction() {
	srv := exampleServer()
	defer srv.Close()
	c, _ := client.New(client.Config{Endpoint: srv.URL, AccessKeyID: "key", AccessKeySecret: "secret"})

	res, err := c.InvokeFunction(context.Background(), "demo", "hello", []byte("world"), client.InvokeOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Status, res.RequestID, string(res.Body))
	// Output:
	// 200 1-example hello, world
}

func ExampleIsNotFound() {
	srv := exampleServer()
	defer srv.Close()
	c, _ := client.New(client.Config{Endpoint: srv.URL, AccessKeyID: "key", AccessKeySecret: "secret"})

	_, err := c.GetService(context.Background(), "nope")
	fmt.Println(client.IsNotFound(err))
	fmt.Println(err)

	c, _ = client.New(client.Config{Endpoint: srv.URL, AccessKeyID: "key", AccessKeySecret: "wrong"})
	_, err = c.GetService(context.Background(), "demo")
	fmt.Println(err.(*client.Error).Code)
	// Output:
	// true
	// ServiceNotFound (404): service does not exist [request 1-example]
	// SignatureNotMatch
}

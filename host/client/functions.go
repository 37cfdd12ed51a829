package client

import (
	"context"
	"net/http"

	"github.com/fnhost/fnhost/host"
)

// FunctionInput is the body of CreateFunction and UpdateFunction, with FC's
// JSON names. Nil pointers, empty strings and a nil map are not sent: on
// update they leave the stored value unchanged. A non-nil empty
// EnvironmentVariables map is sent as {} and clears the variables.
type FunctionInput struct {
	// FunctionName is required by CreateFunction; UpdateFunction ignores it.
	FunctionName string  `json:"functionName,omitempty"`
	Description  *string `json:"description,omitempty"`
	// Runtime is host.RuntimeWasm, the server's default.
	Runtime string `json:"runtime,omitempty"`
	// Handler is the export to call; the server's default is abi.DefaultHandler.
	Handler string `json:"handler,omitempty"`
	// MemorySize is the memory limit in MB.
	MemorySize *int `json:"memorySize,omitempty"`
	// Timeout is the invocation timeout in seconds.
	Timeout             *int `json:"timeout,omitempty"`
	InstanceConcurrency *int `json:"instanceConcurrency,omitempty"`
	// MaxInstances caps the function's instance pool (fnhost extension).
	MaxInstances         *int              `json:"maxInstances,omitempty"`
	EnvironmentVariables map[string]string `json:"environmentVariables,omitzero"`
	// Code is the module; required by CreateFunction, nil on update keeps
	// the current code.
	Code *Code `json:"code,omitempty"`
}

// Code is FC's code object. fnhost accepts a raw .wasm module or a zip
// holding one in ZipFile.
type Code struct {
	// ZipFile is sent base64-encoded, as FC's code.zipFile.
	ZipFile []byte `json:"zipFile,omitempty"`
}

// CodeFromWasm returns a Code that uploads wasm (a .wasm module or a zip).
// The Code refers to wasm without copying it: do not modify wasm until the
// request that sends it has returned.
func CodeFromWasm(wasm []byte) *Code { return &Code{ZipFile: wasm} }

// FunctionCode is the answer of GetFunctionCode.
type FunctionCode struct {
	// URL is where the module can be downloaded.
	URL string `json:"url"`
	// Checksum is the module's checksum (fnhost: hex SHA-256).
	Checksum string `json:"checksum"`
}

// CreateFunction creates function in.FunctionName in service svc (POST
// /services/{svc}/functions) and returns it as stored.
func (c *Client) CreateFunction(ctx context.Context, svc string, in FunctionInput) (*host.Function, error) {
	p, err := pathOf("services", svc, "functions")
	if err != nil {
		return nil, err
	}
	return c.functionCall(ctx, svc, http.MethodPost, p, in)
}

// UpdateFunction changes function fn of service svc (PUT
// /services/{svc}/functions/{fn}) and returns it as stored.
func (c *Client) UpdateFunction(ctx context.Context, svc, fn string, in FunctionInput) (*host.Function, error) {
	p, err := pathOf("services", svc, "functions", fn)
	if err != nil {
		return nil, err
	}
	in.FunctionName = ""
	return c.functionCall(ctx, svc, http.MethodPut, p, in)
}

func (c *Client) functionCall(ctx context.Context, svc, method, p string, in FunctionInput) (*host.Function, error) {
	r, err := jsonRequest(method, p, in)
	if err != nil {
		return nil, err
	}
	var out host.Function
	if err := c.call(ctx, r, &out); err != nil {
		return nil, err
	}
	out.ServiceName = svc
	return &out, nil
}

// GetFunction returns function fn of service svc (GET
// /services/{svc}/functions/{fn}).
func (c *Client) GetFunction(ctx context.Context, svc, fn string) (*host.Function, error) {
	p, err := pathOf("services", svc, "functions", fn)
	if err != nil {
		return nil, err
	}
	var out host.Function
	if err := c.call(ctx, &request{method: http.MethodGet, path: p}, &out); err != nil {
		return nil, err
	}
	out.ServiceName = svc
	return &out, nil
}

// DeleteFunction deletes function fn of service svc (DELETE
// /services/{svc}/functions/{fn}). fnhost deletes the function's triggers
// with it.
func (c *Client) DeleteFunction(ctx context.Context, svc, fn string) error {
	p, err := pathOf("services", svc, "functions", fn)
	if err != nil {
		return err
	}
	return c.call(ctx, &request{method: http.MethodDelete, path: p}, nil)
}

// ListFunctions returns one page of service svc's functions (GET
// /services/{svc}/functions) and the token of the next page, "" after the
// last.
func (c *Client) ListFunctions(ctx context.Context, svc, prefix, startKey, nextToken string, limit int) ([]host.Function, string, error) {
	p, err := pathOf("services", svc, "functions")
	if err != nil {
		return nil, "", err
	}
	var out struct {
		Functions []host.Function `json:"functions"`
		NextToken string          `json:"nextToken"`
	}
	r := &request{method: http.MethodGet, path: p, query: listQuery(prefix, startKey, nextToken, limit)}
	if err := c.call(ctx, r, &out); err != nil {
		return nil, "", err
	}
	for i := range out.Functions {
		out.Functions[i].ServiceName = svc
	}
	return out.Functions, out.NextToken, nil
}

// GetFunctionCode returns where function fn's module can be downloaded
// (GET /services/{svc}/functions/{fn}/code).
func (c *Client) GetFunctionCode(ctx context.Context, svc, fn string) (*FunctionCode, error) {
	p, err := pathOf("services", svc, "functions", fn, "code")
	if err != nil {
		return nil, err
	}
	var out FunctionCode
	if err := c.call(ctx, &request{method: http.MethodGet, path: p}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

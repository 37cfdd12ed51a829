// Package host holds the domain types shared by fnhost's host-side packages:
// the invocation request and response that every caller of the runtime
// (HTTP triggers, InvokeFunction, the async worker, the CLI, benchmarks)
// passes through one invoke path, and the error kinds that the HTTP layer
// maps to status codes.
//
// It imports nothing outside the standard library and the abi package.
package host

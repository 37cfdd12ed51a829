// Package client is a Go client for fnhost's management and invocation API,
// which is Alibaba Cloud Function Compute's API 2016-08-15 (FC 2.0): the
// same paths, JSON field names, x-fc-* headers and "FC" request signature
// (see host/auth), plus fnhost's invocation-logs extension.
//
// Create a [Client] with [New], then call its methods; every method takes a
// context first and sends one request (the List methods return one page and
// the token of the next). A non-2xx answer is returned as an *[Error]
// carrying FC's ErrorCode; use [IsNotFound] and [IsConflict] to test for
// the common cases.
//
// Async invocations: InvokeFunction with InvokeOptions.Async returns once the
// server has stored the job (202, InvokeResult.InvocationID); follow it with
// [Client.GetStatefulAsyncInvocation] and [Client.ListStatefulAsyncInvocations],
// stop it with [Client.StopStatefulAsyncInvocation], and set its retries and
// destinations with [Client.PutAsyncConfig].
//
// Requests look like fc-go-sdk's: Date (http.TimeFormat, GMT), Accept:
// application/json, User-Agent, X-Fc-Account-Id when an account is
// configured, and for requests with a body Content-Type and Content-MD5
// (hex MD5 of the body, as fc-go-sdk sends it). They are signed with
// auth.Authorization over the management resource (the path, without the
// query).
//
// The package imports only the standard library, host and host/auth, so the
// CLI, tests and benchmarks can use it without pulling in the server.
package client

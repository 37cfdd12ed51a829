package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/fnhost/fnhost/host"
)

// InvokeOptions are the options of InvokeFunction.
type InvokeOptions struct {
	// Async queues the invocation (X-Fc-Invocation-Type: Async); the server
	// answers 202 with the request ID once the job is stored.
	Async bool
	// InvocationID chooses the async invocation's id
	// (X-Fc-Stateful-Async-Invocation-Id, FC's pattern
	// ^[A-Za-z_][A-Za-z0-9_-]{0,127}$); empty lets the server generate one.
	// A function already holding the id answers 409 (IsConflict). Async
	// only.
	InvocationID string
	// Delay postpones an async invocation's first attempt (X-Fc-Async-Delay):
	// whole seconds, 0 to host.MaxAsyncDelaySeconds. Async only.
	Delay time.Duration
	// LogTail asks for the end of the function's log (X-Fc-Log-Type: Tail),
	// returned in InvokeResult.LogResult.
	LogTail bool
	// Qualifier selects a version or alias ({svc}.{qualifier} in the path);
	// empty means LATEST.
	Qualifier string
	// Headers are extra request headers. Content-Type defaults to
	// application/octet-stream; x-fc-* headers are signed like the others.
	Headers http.Header
}

// InvokeResult is the answer of InvokeFunction. Body is owned by the
// caller.
type InvokeResult struct {
	// Status is the HTTP status: the guest's status for a synchronous call,
	// 202 for an async one.
	Status int
	Header http.Header
	Body   []byte
	// RequestID is X-Fc-Request-Id.
	RequestID string
	// InvocationID is X-Fc-Stateful-Async-Invocation-Id, the id of an
	// accepted async invocation (see GetStatefulAsyncInvocation).
	InvocationID string
	// ErrorType is X-Fc-Error-Type (HandledInvocationError,
	// UnhandledInvocationError, …): set when the function failed, in which
	// case Body is FC's {errorMessage, errorType, …} object.
	ErrorType string
	// LogResult is the decoded X-Fc-Log-Result (with LogTail).
	LogResult string
}

// ErrorMessage returns the message of a function error: errorMessage from
// the JSON body, else the start of the body as text. It is "" when
// ErrorType is empty.
func (r *InvokeResult) ErrorMessage() string {
	if r.ErrorType == "" {
		return ""
	}
	var b struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal(r.Body, &b) == nil && b.ErrorMessage != "" {
		return b.ErrorMessage
	}
	return snippet(r.Body)
}

// InvokeFunction calls function fn of service svc with payload as the
// request body (POST /services/{svc}[.{qualifier}]/functions/{fn}/invocations).
// payload is only read during the call.
//
// A function's answer is returned as an InvokeResult whatever its status:
// fnhost passes the guest's HTTP status through, and reports function
// failures with X-Fc-Error-Type (InvokeResult.ErrorType). A non-2xx answer
// without X-Fc-Error-Type (or with FcCommonError) whose body is an FC error
// object comes from the platform (unknown function, bad signature,
// throttling, …) and is returned as an *Error instead.
func (c *Client) InvokeFunction(ctx context.Context, svc, fn string, payload []byte, opts InvokeOptions) (*InvokeResult, error) {
	if opts.Qualifier != "" {
		svc += "." + opts.Qualifier
	}
	p, err := pathOf("services", svc, "functions", fn, "invocations")
	if err != nil {
		return nil, err
	}
	if !opts.Async && (opts.InvocationID != "" || opts.Delay != 0) {
		return nil, errors.New("client: InvokeOptions.InvocationID and Delay need Async")
	}
	if d := opts.Delay; d < 0 || d%time.Second != 0 || d > host.MaxAsyncDelaySeconds*time.Second {
		return nil, fmt.Errorf("client: InvokeOptions.Delay %v: want whole seconds from 0 to %ds", d, host.MaxAsyncDelaySeconds)
	}
	if payload == nil {
		payload = []byte{}
	}
	h := make(http.Header, len(opts.Headers)+4)
	for k, vs := range opts.Headers {
		h[http.CanonicalHeaderKey(k)] = vs
	}
	if opts.Async {
		h.Set("X-Fc-Invocation-Type", "Async")
		if opts.InvocationID != "" {
			h.Set("X-Fc-Stateful-Async-Invocation-Id", opts.InvocationID)
		}
		if opts.Delay != 0 {
			h.Set("X-Fc-Async-Delay", strconv.FormatInt(int64(opts.Delay/time.Second), 10))
		}
	} else {
		h.Set("X-Fc-Invocation-Type", "Sync")
	}
	if opts.LogTail {
		h.Set("X-Fc-Log-Type", "Tail")
	}
	r := &request{method: http.MethodPost, path: p, header: h, body: payload, ctype: "application/octet-stream"}
	resp, err := c.roundTrip(ctx, r)
	if err != nil {
		return nil, err
	}
	res := &InvokeResult{
		Status:       resp.status,
		Header:       resp.header,
		Body:         resp.body,
		RequestID:    resp.header.Get("X-Fc-Request-Id"),
		InvocationID: resp.header.Get("X-Fc-Stateful-Async-Invocation-Id"),
		ErrorType:    resp.header.Get("X-Fc-Error-Type"),
	}
	if resp.status/100 != 2 && (res.ErrorType == "" || res.ErrorType == "FcCommonError") {
		if fe, ok := parseFCError(resp.body); ok {
			return nil, &Error{Status: resp.status, Code: fe.ErrorCode, Message: fe.ErrorMessage, RequestID: res.RequestID}
		}
	}
	if lr := resp.header.Get("X-Fc-Log-Result"); lr != "" {
		if b, err := base64.StdEncoding.DecodeString(lr); err == nil {
			res.LogResult = string(b)
		} else {
			res.LogResult = lr
		}
	}
	return res, nil
}

// InvocationLogOptions select the records of ListInvocationLogs.
type InvocationLogOptions struct {
	// RequestID, when set, selects only that invocation's record.
	RequestID string
	// Limit is the page size; 0 means the server's default.
	Limit int
	// NextToken is the token of the previous page.
	NextToken string
}

// ListInvocationLogs returns one page of function fn's invocation records,
// newest first, and the token of the next page ("" after the last). It is
// an fnhost extension: GET
// /services/{svc}/functions/{fn}/invocation-logs?requestId=&limit=&nextToken=.
func (c *Client) ListInvocationLogs(ctx context.Context, svc, fn string, opts InvocationLogOptions) ([]host.Invocation, string, error) {
	p, err := pathOf("services", svc, "functions", fn, "invocation-logs")
	if err != nil {
		return nil, "", err
	}
	q := url.Values{}
	if opts.RequestID != "" {
		q.Set("requestId", opts.RequestID)
	}
	if opts.Limit != 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.NextToken != "" {
		q.Set("nextToken", opts.NextToken)
	}
	var out struct {
		Invocations []host.Invocation `json:"invocations"`
		NextToken   string            `json:"nextToken"`
	}
	if err := c.call(ctx, &request{method: http.MethodGet, path: p, query: q}, &out); err != nil {
		return nil, "", err
	}
	return out.Invocations, out.NextToken, nil
}

package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/fnhost/fnhost/host"
)

// InvokeOptions are the options of InvokeFunction.
type InvokeOptions struct {
	// Async queues the invocation (X-Fc-Invocation-Type: Async); the server
	// answers 202 with the request ID once the job is stored.
	Async bool
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
	if payload == nil {
		payload = []byte{}
	}
	h := make(http.Header, len(opts.Headers)+2)
	for k, vs := range opts.Headers {
		h[http.CanonicalHeaderKey(k)] = vs
	}
	if opts.Async {
		h.Set("X-Fc-Invocation-Type", "Async")
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
		Status:    resp.status,
		Header:    resp.header,
		Body:      resp.body,
		RequestID: resp.header.Get("X-Fc-Request-Id"),
		ErrorType: resp.header.Get("X-Fc-Error-Type"),
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

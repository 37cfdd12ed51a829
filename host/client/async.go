package client

import (
	"context"
	"net/http"
	"strconv"

	"github.com/fnhost/fnhost/host"
)

// AsyncConfigInput is the body of PutAsyncConfig, with FC's JSON names. The
// server stores it whole, replacing the function's config: a nil field
// means the default (host.DefaultAsyncRetries, host.DefaultAsyncMaxAge, no
// destinations), not "unchanged".
type AsyncConfigInput struct {
	// MaxAsyncRetryAttempts is 0–host.MaxAsyncRetries.
	MaxAsyncRetryAttempts *int `json:"maxAsyncRetryAttempts,omitempty"`
	// MaxAsyncEventAgeInSeconds is 1–host.MaxAsyncMaxAge.
	MaxAsyncEventAgeInSeconds *int64 `json:"maxAsyncEventAgeInSeconds,omitempty"`
	// DestinationConfig routes outcomes; a destination is an http(s) URL,
	// an FC function ARN or "fnhost:<svc>/<fn>".
	DestinationConfig *host.DestinationConfig `json:"destinationConfig,omitempty"`
	// StatefulInvocation is accepted for FC clients; every fnhost async
	// invocation is stateful.
	StatefulInvocation *bool `json:"statefulInvocation,omitempty"`
}

// PutAsyncConfig sets the async invoke config of function fn (PUT
// /services/{svc}/functions/{fn}/async-invoke-config) and returns it as
// stored.
func (c *Client) PutAsyncConfig(ctx context.Context, svc, fn string, in AsyncConfigInput) (*host.AsyncConfig, error) {
	p, err := pathOf("services", svc, "functions", fn, "async-invoke-config")
	if err != nil {
		return nil, err
	}
	r, err := jsonRequest(http.MethodPut, p, in)
	if err != nil {
		return nil, err
	}
	var out host.AsyncConfig
	if err := c.call(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetAsyncConfig returns the async invoke config of function fn (GET
// /services/{svc}/functions/{fn}/async-invoke-config). A function without
// one gives an *Error for which IsNotFound is true.
func (c *Client) GetAsyncConfig(ctx context.Context, svc, fn string) (*host.AsyncConfig, error) {
	p, err := pathOf("services", svc, "functions", fn, "async-invoke-config")
	if err != nil {
		return nil, err
	}
	var out host.AsyncConfig
	if err := c.call(ctx, &request{method: http.MethodGet, path: p}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteAsyncConfig deletes the async invoke config of function fn (DELETE
// /services/{svc}/functions/{fn}/async-invoke-config); the defaults apply
// again.
func (c *Client) DeleteAsyncConfig(ctx context.Context, svc, fn string) error {
	p, err := pathOf("services", svc, "functions", fn, "async-invoke-config")
	if err != nil {
		return err
	}
	return c.call(ctx, &request{method: http.MethodDelete, path: p}, nil)
}

// ListAsyncConfigs returns one page of function fn's async invoke configs
// (GET /services/{svc}/functions/{fn}/async-invoke-configs; fnhost keeps at
// most one, for LATEST) and the token of the next page, "" after the last.
func (c *Client) ListAsyncConfigs(ctx context.Context, svc, fn, nextToken string, limit int) ([]host.AsyncConfig, string, error) {
	p, err := pathOf("services", svc, "functions", fn, "async-invoke-configs")
	if err != nil {
		return nil, "", err
	}
	var out struct {
		Configs   []host.AsyncConfig `json:"configs"`
		NextToken string             `json:"nextToken"`
	}
	r := &request{method: http.MethodGet, path: p, query: listQuery("", "", nextToken, limit)}
	if err := c.call(ctx, r, &out); err != nil {
		return nil, "", err
	}
	return out.Configs, out.NextToken, nil
}

// ListStatefulAsyncInvocations returns one page of function fn's async
// invocations (GET /services/{svc}/functions/{fn}/stateful-async-invocations)
// and the token of the next page, "" after the last. Zero options are not
// sent: the server then lists every status, newest first, 20 a page,
// without payloads.
func (c *Client) ListStatefulAsyncInvocations(ctx context.Context, svc, fn string, opts host.JobListOptions) ([]host.Job, string, error) {
	p, err := pathOf("services", svc, "functions", fn, "stateful-async-invocations")
	if err != nil {
		return nil, "", err
	}
	q := listQuery("", "", opts.NextToken, opts.Limit)
	if opts.Status != "" {
		q.Set("status", string(opts.Status))
	}
	if opts.StartedTimeBegin != 0 {
		q.Set("startedTimeBegin", strconv.FormatInt(opts.StartedTimeBegin, 10))
	}
	if opts.StartedTimeEnd != 0 {
		q.Set("startedTimeEnd", strconv.FormatInt(opts.StartedTimeEnd, 10))
	}
	if opts.SortOrderByTime != "" {
		q.Set("sortOrderByTime", opts.SortOrderByTime)
	}
	if opts.InvocationIDPrefix != "" {
		q.Set("invocationIdPrefix", opts.InvocationIDPrefix)
	}
	if opts.IncludePayload {
		q.Set("includePayload", "true")
	}
	var out struct {
		Invocations []host.Job `json:"invocations"`
		NextToken   string     `json:"nextToken"`
	}
	if err := c.call(ctx, &request{method: http.MethodGet, path: p, query: q}, &out); err != nil {
		return nil, "", err
	}
	return out.Invocations, out.NextToken, nil
}

// GetStatefulAsyncInvocation returns async invocation id of function fn
// (GET /services/{svc}/functions/{fn}/stateful-async-invocations/{id}).
func (c *Client) GetStatefulAsyncInvocation(ctx context.Context, svc, fn, id string) (*host.Job, error) {
	return c.jobCall(ctx, http.MethodGet, svc, fn, id)
}

// StopStatefulAsyncInvocation stops async invocation id of function fn
// (PUT /services/{svc}/functions/{fn}/stateful-async-invocations/{id}, no
// body) and returns it: Stopped, or still Running with StopRequested set
// while its attempt winds down. Stopping a finished invocation gives an
// *Error with status 409.
func (c *Client) StopStatefulAsyncInvocation(ctx context.Context, svc, fn, id string) (*host.Job, error) {
	return c.jobCall(ctx, http.MethodPut, svc, fn, id)
}

func (c *Client) jobCall(ctx context.Context, method, svc, fn, id string) (*host.Job, error) {
	p, err := pathOf("services", svc, "functions", fn, "stateful-async-invocations", id)
	if err != nil {
		return nil, err
	}
	r := &request{method: method, path: p}
	if method == http.MethodPut {
		// An empty body, so that the request carries Content-MD5 and
		// Content-Type like fc-go-sdk's PUTs.
		r.body, r.ctype = []byte{}, "application/json"
	}
	var out host.Job
	if err := c.call(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

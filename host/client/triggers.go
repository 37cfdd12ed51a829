package client

import (
	"context"
	"net/http"

	"github.com/fnhost/fnhost/host"
)

// TriggerInput is the body of CreateTrigger and UpdateTrigger, with FC's
// JSON names. Nil and empty fields are not sent: on update they leave the
// stored value unchanged.
type TriggerInput struct {
	// TriggerName is required by CreateTrigger; UpdateTrigger ignores it.
	TriggerName string  `json:"triggerName,omitempty"`
	Description *string `json:"description,omitempty"`
	// TriggerType is host.TriggerTypeHTTP, the only type fnhost serves.
	TriggerType string `json:"triggerType,omitempty"`
	// TriggerConfig is sent whole when set.
	TriggerConfig *host.HTTPTriggerConfig `json:"triggerConfig,omitempty"`
}

// CreateTrigger creates trigger in.TriggerName on function fn of service
// svc (POST /services/{svc}/functions/{fn}/triggers).
func (c *Client) CreateTrigger(ctx context.Context, svc, fn string, in TriggerInput) (*host.Trigger, error) {
	p, err := pathOf("services", svc, "functions", fn, "triggers")
	if err != nil {
		return nil, err
	}
	return c.triggerCall(ctx, svc, fn, http.MethodPost, p, in)
}

// UpdateTrigger changes trigger trg (PUT
// /services/{svc}/functions/{fn}/triggers/{trg}).
func (c *Client) UpdateTrigger(ctx context.Context, svc, fn, trg string, in TriggerInput) (*host.Trigger, error) {
	p, err := pathOf("services", svc, "functions", fn, "triggers", trg)
	if err != nil {
		return nil, err
	}
	in.TriggerName = ""
	return c.triggerCall(ctx, svc, fn, http.MethodPut, p, in)
}

func (c *Client) triggerCall(ctx context.Context, svc, fn, method, p string, in TriggerInput) (*host.Trigger, error) {
	r, err := jsonRequest(method, p, in)
	if err != nil {
		return nil, err
	}
	var out host.Trigger
	if err := c.call(ctx, r, &out); err != nil {
		return nil, err
	}
	out.ServiceName, out.FunctionName = svc, fn
	return &out, nil
}

// GetTrigger returns trigger trg (GET
// /services/{svc}/functions/{fn}/triggers/{trg}).
func (c *Client) GetTrigger(ctx context.Context, svc, fn, trg string) (*host.Trigger, error) {
	p, err := pathOf("services", svc, "functions", fn, "triggers", trg)
	if err != nil {
		return nil, err
	}
	var out host.Trigger
	if err := c.call(ctx, &request{method: http.MethodGet, path: p}, &out); err != nil {
		return nil, err
	}
	out.ServiceName, out.FunctionName = svc, fn
	return &out, nil
}

// DeleteTrigger deletes trigger trg (DELETE
// /services/{svc}/functions/{fn}/triggers/{trg}).
func (c *Client) DeleteTrigger(ctx context.Context, svc, fn, trg string) error {
	p, err := pathOf("services", svc, "functions", fn, "triggers", trg)
	if err != nil {
		return err
	}
	return c.call(ctx, &request{method: http.MethodDelete, path: p}, nil)
}

// ListTriggers returns one page of function fn's triggers (GET
// /services/{svc}/functions/{fn}/triggers) and the token of the next page,
// "" after the last.
func (c *Client) ListTriggers(ctx context.Context, svc, fn, prefix, startKey, nextToken string, limit int) ([]host.Trigger, string, error) {
	p, err := pathOf("services", svc, "functions", fn, "triggers")
	if err != nil {
		return nil, "", err
	}
	var out struct {
		Triggers  []host.Trigger `json:"triggers"`
		NextToken string         `json:"nextToken"`
	}
	r := &request{method: http.MethodGet, path: p, query: listQuery(prefix, startKey, nextToken, limit)}
	if err := c.call(ctx, r, &out); err != nil {
		return nil, "", err
	}
	for i := range out.Triggers {
		out.Triggers[i].ServiceName, out.Triggers[i].FunctionName = svc, fn
	}
	return out.Triggers, out.NextToken, nil
}

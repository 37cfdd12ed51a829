package client

import (
	"context"
	"net/http"

	"github.com/fnhost/fnhost/host"
)

// ServiceInput is the body of CreateService and UpdateService, with FC's
// JSON names. Nil and empty fields are not sent: on update they leave the
// stored value unchanged.
type ServiceInput struct {
	// ServiceName is required by CreateService; UpdateService ignores it.
	ServiceName string  `json:"serviceName,omitempty"`
	Description *string `json:"description,omitempty"`
}

// CreateService creates a service (POST /services) and returns it as
// stored.
func (c *Client) CreateService(ctx context.Context, in ServiceInput) (*host.Service, error) {
	r, err := jsonRequest(http.MethodPost, "/services", in)
	if err != nil {
		return nil, err
	}
	var out host.Service
	if err := c.call(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetService returns service svc (GET /services/{svc}).
func (c *Client) GetService(ctx context.Context, svc string) (*host.Service, error) {
	p, err := pathOf("services", svc)
	if err != nil {
		return nil, err
	}
	var out host.Service
	if err := c.call(ctx, &request{method: http.MethodGet, path: p}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateService changes service svc (PUT /services/{svc}) and returns it as
// stored.
func (c *Client) UpdateService(ctx context.Context, svc string, in ServiceInput) (*host.Service, error) {
	p, err := pathOf("services", svc)
	if err != nil {
		return nil, err
	}
	in.ServiceName = ""
	r, err := jsonRequest(http.MethodPut, p, in)
	if err != nil {
		return nil, err
	}
	var out host.Service
	if err := c.call(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteService deletes service svc (DELETE /services/{svc}). The server
// refuses to delete a service that still has functions.
func (c *Client) DeleteService(ctx context.Context, svc string) error {
	p, err := pathOf("services", svc)
	if err != nil {
		return err
	}
	return c.call(ctx, &request{method: http.MethodDelete, path: p}, nil)
}

// ListServices returns one page of services (GET /services) and the token
// of the next page, "" after the last. Empty strings and a zero limit are
// not sent (the server's defaults apply).
func (c *Client) ListServices(ctx context.Context, prefix, startKey, nextToken string, limit int) ([]host.Service, string, error) {
	var out struct {
		Services  []host.Service `json:"services"`
		NextToken string         `json:"nextToken"`
	}
	r := &request{method: http.MethodGet, path: "/services", query: listQuery(prefix, startKey, nextToken, limit)}
	if err := c.call(ctx, r, &out); err != nil {
		return nil, "", err
	}
	return out.Services, out.NextToken, nil
}

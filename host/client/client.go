package client

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fnhost/fnhost/host/auth"
)

// APIVersion is the FC API version every path is prefixed with.
const APIVersion = "2016-08-15"

// DefaultUserAgent is the User-Agent sent when Config.UserAgent is empty.
const DefaultUserAgent = "fnhost-client"

// MaxResponseSize bounds the body of any answer the client reads (the
// management API's JSON and a function's response). A longer body is an
// error rather than an unbounded allocation.
const MaxResponseSize = 256 << 20

// Config configures a Client. The zero value of every field but Endpoint
// has a usable meaning.
type Config struct {
	// Endpoint is the server's base URL, scheme and host only, e.g.
	// "http://127.0.0.1:9000". A trailing slash is ignored. Required.
	Endpoint string
	// AccessKeyID and AccessKeySecret sign every request. Empty means
	// requests are sent unsigned (fnhost then answers 400/403).
	AccessKeyID     string
	AccessKeySecret string
	// AccountID is sent as X-Fc-Account-Id; empty sends none.
	AccountID string
	// HTTPClient sends the requests. Nil means http.DefaultClient.
	HTTPClient *http.Client
	// UserAgent is sent as User-Agent. Empty means DefaultUserAgent.
	UserAgent string
}

// Client talks to one fnhost endpoint. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base url.URL // scheme and host of Config.Endpoint
	hc   *http.Client
	now  func() time.Time
}

// New returns a Client for cfg. It fails when cfg.Endpoint is not an
// absolute http or https URL without a path, query or fragment.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(cfg.Endpoint, "/"))
	if err != nil {
		return nil, fmt.Errorf("client: endpoint: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: endpoint %q: want http://host[:port] or https://host[:port]", cfg.Endpoint)
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("client: endpoint %q: want scheme and host only, no path, query or user", cfg.Endpoint)
	}
	c := &Client{cfg: cfg, base: *u, hc: cfg.HTTPClient, now: time.Now}
	if c.hc == nil {
		c.hc = http.DefaultClient
	}
	if c.cfg.UserAgent == "" {
		c.cfg.UserAgent = DefaultUserAgent
	}
	return c, nil
}

// Endpoint returns the base URL the client talks to, without a trailing
// slash.
func (c *Client) Endpoint() string { return c.base.String() }

// TriggerURL returns the URL of the HTTP trigger of function fn in service
// svc: Endpoint + "/2016-08-15/proxy/{svc}/{fn}/". Requests to paths below
// it reach the function too.
func (c *Client) TriggerURL(svc, fn string) string {
	u := c.base
	u.Path = "/" + APIVersion + "/proxy/" + svc + "/" + fn + "/"
	return u.String()
}

// request is one API call.
type request struct {
	method string
	path   string // below /2016-08-15, segments already escaped by pathOf
	query  url.Values
	header http.Header // extra headers
	body   []byte      // nil: no body
	ctype  string      // Content-Type of body
}

// response is a 2xx answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// pathOf joins "/"-separated segments, escaping each. Empty segments are an
// error: they would address another resource.
func pathOf(segs ...string) (string, error) {
	var b strings.Builder
	for _, s := range segs {
		if s == "" {
			return "", errors.New("client: empty name in path")
		}
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String(), nil
}

// jsonRequest returns a request with v encoded as its JSON body.
func jsonRequest(method, path string, v any) (*request, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("client: encoding %s %s: %w", method, path, err)
	}
	return &request{method: method, path: path, body: b, ctype: "application/json"}, nil
}

// send signs and sends r and reads the answer. A non-2xx answer is returned
// as *Error.
func (c *Client) send(ctx context.Context, r *request) (*response, error) {
	resp, err := c.roundTrip(ctx, r)
	if err != nil {
		return nil, err
	}
	if resp.status/100 != 2 {
		return nil, decodeError(resp.status, resp.header, resp.body)
	}
	return resp, nil
}

// roundTrip signs and sends r and returns the answer whatever its status.
func (c *Client) roundTrip(ctx context.Context, r *request) (*response, error) {
	u := c.base
	rawPath := "/" + APIVersion + r.path
	p, err := url.PathUnescape(rawPath)
	if err != nil {
		return nil, fmt.Errorf("client: path %q: %w", rawPath, err)
	}
	u.Path, u.RawPath = p, rawPath
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", r.method, rawPath, err)
	}
	h := req.Header
	for k, vs := range r.header {
		h[http.CanonicalHeaderKey(k)] = vs
	}
	h.Set("Date", c.now().UTC().Format(http.TimeFormat))
	h.Set("Accept", "application/json")
	h.Set("User-Agent", c.cfg.UserAgent)
	if c.cfg.AccountID != "" {
		h.Set("X-Fc-Account-Id", c.cfg.AccountID)
	}
	if r.body != nil {
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", r.ctype)
		}
		sum := md5.Sum(r.body)
		h.Set("Content-Md5", hex.EncodeToString(sum[:]))
	}
	if c.cfg.AccessKeyID != "" {
		ar := auth.Request{Method: r.method, Path: u.Path, RawQuery: u.RawQuery, Header: auth.HTTPHeader(h)}
		h.Set("Authorization", auth.Authorization(c.cfg.AccessKeyID, c.cfg.AccessKeySecret, &ar))
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err // a *url.Error, naming the method and URL
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseSize+1))
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: reading the answer: %w", r.method, rawPath, err)
	}
	if len(data) > MaxResponseSize {
		return nil, fmt.Errorf("client: %s %s: answer longer than %d bytes", r.method, rawPath, MaxResponseSize)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// decodeJSON decodes a 2xx body into out; an empty body leaves out alone.
func decodeJSON(r *request, resp *response, out any) error {
	if len(bytes.TrimSpace(resp.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(resp.body, out); err != nil {
		return fmt.Errorf("client: %s /%s%s: decoding the answer: %w", r.method, APIVersion, r.path, err)
	}
	return nil
}

// call sends r and decodes a JSON answer into out (nil: ignore the body).
func (c *Client) call(ctx context.Context, r *request, out any) error {
	resp, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return decodeJSON(r, resp, out)
}

// listQuery builds FC's list query; empty values and a zero limit are left
// out.
func listQuery(prefix, startKey, nextToken string, limit int) url.Values {
	q := url.Values{}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	if startKey != "" {
		q.Set("startKey", startKey)
	}
	if nextToken != "" {
		q.Set("nextToken", nextToken)
	}
	if limit != 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	return q
}

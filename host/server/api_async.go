package server

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/valyala/fasthttp"
)

// Jobs runs asynchronous invocations durably. *jobs.Engine implements it.
type Jobs interface {
	// Submit stores j and returns it as stored; it returns only once the
	// job is durable (the 202 is a promise). KindConflict when the
	// function already has a job with j.InvocationID.
	Submit(j host.Job) (host.Job, error)
	Get(svc, fn, id string) (host.Job, error)
	List(svc, fn string, o host.JobListOptions) ([]host.Job, string, error)
	Stop(svc, fn, id string) (host.Job, error)
}

// DefaultMaxAsyncBodyBytes is FC's async payload limit.
const DefaultMaxAsyncBodyBytes = 128 << 10

// invocationIDPattern is FC's rule for stateful async invocation ids.
var invocationIDPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,127}$`)

var errAsyncDisabled = newAPIError(400, CodeInvalidArgument,
	"asynchronous invocation (X-Fc-Invocation-Type: Async) is not enabled on this server")

// submitAsync validates an async request, copies it out of fasthttp's
// buffers into a job, stores it and answers 202. Nothing is acknowledged
// before the job is durable; a request that cannot run is refused here
// rather than accepted and failed later.
func (s *Server) submitAsync(ctx *fasthttp.RequestCtx, c *call, e entryInfo) error {
	if s.cfg.Jobs == nil {
		return errAsyncDisabled
	}
	if n := len(c.req.Body); n > s.cfg.Limits.MaxAsyncBodyBytes {
		return newAPIError(400, CodeInvalidArgument, "asynchronous request body is "+strconv.Itoa(n)+
			" bytes, over the limit of "+strconv.Itoa(s.cfg.Limits.MaxAsyncBodyBytes))
	}
	id := string(ctx.Request.Header.Peek("X-Fc-Stateful-Async-Invocation-Id"))
	if id != "" && !invocationIDPattern.MatchString(id) {
		return newAPIError(400, CodeInvalidArgument, "X-Fc-Stateful-Async-Invocation-Id "+quoteBounded(id)+
			" must match ^[A-Za-z_][A-Za-z0-9_-]{0,127}$")
	}
	var delay int64
	if d := ctx.Request.Header.Peek("X-Fc-Async-Delay"); len(d) > 0 {
		n, err := strconv.ParseInt(string(d), 10, 64)
		if err != nil || n < 0 || n > host.MaxAsyncDelaySeconds {
			return newAPIError(400, CodeInvalidArgument, "X-Fc-Async-Delay must be an integer number of seconds from 0 to "+
				strconv.Itoa(host.MaxAsyncDelaySeconds)+", not "+quoteBounded(string(d)))
		}
		delay = n
	}
	now := s.cfg.Now()
	r := &c.req
	j := host.Job{
		ServiceName:    e.svc,
		FunctionName:   e.fn,
		Qualifier:      qualifierLatest,
		InvocationID:   id,
		RequestID:      r.RequestID,
		NotBefore:      now.Add(time.Duration(delay) * time.Second).UnixMilli(),
		TimeoutSeconds: e.timeout,
		Request: host.JobRequest{
			Method:   string(r.Method),
			Path:     string(r.Path),
			RawQuery: string(r.RawQuery),
			ClientIP: string(r.ClientIP),
			Body:     append([]byte(nil), r.Body...),
		},
	}
	j.Request.Headers = make([][2]string, 0, len(r.Headers))
	for _, h := range r.Headers {
		j.Request.Headers = append(j.Request.Headers, [2]string{string(h.Name), string(h.Value)})
	}
	stored, err := s.cfg.Jobs.Submit(j)
	if err != nil {
		return err
	}
	h := &ctx.Response.Header
	h.Set("X-Fc-Stateful-Async-Invocation-Id", stored.InvocationID)
	ctx.SetStatusCode(fasthttp.StatusAccepted)
	ctx.Response.ResetBody()
	return nil
}

// entryInfo is what submitAsync needs of the function.
type entryInfo struct {
	svc, fn string
	timeout int
}

// ---- async invoke config ----

// asyncConfigInput is the body of PutFunctionAsyncInvokeConfig.
type asyncConfigInput struct {
	MaxAsyncRetryAttempts     *int                    `json:"maxAsyncRetryAttempts"`
	MaxAsyncEventAgeInSeconds *int64                  `json:"maxAsyncEventAgeInSeconds"`
	DestinationConfig         *host.DestinationConfig `json:"destinationConfig"`
	StatefulInvocation        *bool                   `json:"statefulInvocation"`
}

var armPattern = regexp.MustCompile(`^acs:fc:[^:]*:[^:]*:services/([^/]+)/functions/([^/]+)$`)

// checkDestination accepts an http(s) URL or a function (FC's ARN or
// "fnhost:<svc>/<fn>").
func checkDestination(which string, d *host.Destination) error {
	if d == nil {
		return nil
	}
	v := d.Destination
	switch {
	case strings.HasPrefix(v, "http://"), strings.HasPrefix(v, "https://"):
		u, err := url.Parse(v)
		if err != nil || u.Host == "" {
			return badRequest("destinationConfig.%s.destination %s is not a valid URL", which, quoteBounded(v))
		}
		return nil
	case strings.HasPrefix(v, "fnhost:"):
		svc, fn, ok := strings.Cut(strings.TrimPrefix(v, "fnhost:"), "/")
		if !ok || host.ValidName(svc) != nil || host.ValidName(fn) != nil {
			return badRequest("destinationConfig.%s.destination %s: use fnhost:<service>/<function>", which, quoteBounded(v))
		}
		return nil
	case armPattern.MatchString(v):
		m := armPattern.FindStringSubmatch(v)
		if host.ValidName(m[1]) != nil || host.ValidName(m[2]) != nil {
			return badRequest("destinationConfig.%s.destination %s names an invalid service or function", which, quoteBounded(v))
		}
		return nil
	}
	return badRequest("destinationConfig.%s.destination %s: use an http(s) URL, a function ARN "+
		"(acs:fc:<region>:<account>:services/<svc>/functions/<fn>) or fnhost:<svc>/<fn>", which, quoteBounded(v))
}

func (s *Server) putAsyncConfig(ctx *fasthttp.RequestCtx, svc, fn string) error {
	var in asyncConfigInput
	if err := decodeJSON(ctx, &in); err != nil {
		return err
	}
	if n := in.MaxAsyncRetryAttempts; n != nil && (*n < 0 || *n > host.MaxAsyncRetries) {
		return badRequest("maxAsyncRetryAttempts must be 0 to %d, not %d", host.MaxAsyncRetries, *n)
	}
	if n := in.MaxAsyncEventAgeInSeconds; n != nil && (*n < 1 || *n > host.MaxAsyncMaxAge) {
		return badRequest("maxAsyncEventAgeInSeconds must be 1 to %d, not %d", host.MaxAsyncMaxAge, *n)
	}
	if dc := in.DestinationConfig; dc != nil {
		if err := checkDestination("onSuccess", dc.OnSuccess); err != nil {
			return err
		}
		if err := checkDestination("onFailure", dc.OnFailure); err != nil {
			return err
		}
	}
	if _, err := s.cfg.Store.GetFunction(svc, fn); err != nil {
		return err
	}
	c := host.AsyncConfig{
		ServiceName: svc, FunctionName: fn, Qualifier: qualifierLatest,
		MaxAsyncRetryAttempts:     in.MaxAsyncRetryAttempts,
		MaxAsyncEventAgeInSeconds: in.MaxAsyncEventAgeInSeconds,
		DestinationConfig:         in.DestinationConfig,
		StatefulInvocation:        true,
	}
	out, err := s.cfg.Store.PutAsyncConfig(c)
	if err != nil {
		return err
	}
	return writeJSON(ctx, 200, out)
}

func (s *Server) getAsyncConfig(ctx *fasthttp.RequestCtx, svc, fn string) error {
	if _, err := s.cfg.Store.GetFunction(svc, fn); err != nil {
		return err
	}
	c, err := s.cfg.Store.GetAsyncConfig(svc, fn)
	if err != nil {
		return err
	}
	return writeJSON(ctx, 200, c)
}

func (s *Server) deleteAsyncConfig(ctx *fasthttp.RequestCtx, svc, fn string) error {
	if err := s.cfg.Store.DeleteAsyncConfig(svc, fn); err != nil {
		return err
	}
	return writeNoContent(ctx)
}

func (s *Server) listAsyncConfigs(ctx *fasthttp.RequestCtx, svc, fn string) error {
	if _, err := s.cfg.Store.GetFunction(svc, fn); err != nil {
		return err
	}
	cs, err := s.cfg.Store.ListAsyncConfigs(svc, fn)
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []host.AsyncConfig{}
	}
	return writeJSON(ctx, 200, struct {
		Configs   []host.AsyncConfig `json:"configs"`
		NextToken string             `json:"nextToken,omitempty"`
	}{Configs: cs})
}

// ---- stateful async invocations ----

func (s *Server) listJobs(ctx *fasthttp.RequestCtx, svc, fn string) error {
	if s.cfg.Jobs == nil {
		return errAsyncDisabled
	}
	limit, err := queryLimit(ctx)
	if err != nil {
		return err
	}
	q := ctx.QueryArgs()
	o := host.JobListOptions{
		Status:             host.JobStatus(q.Peek("status")),
		InvocationIDPrefix: string(q.Peek("invocationIdPrefix")),
		SortOrderByTime:    string(q.Peek("sortOrderByTime")),
		NextToken:          string(q.Peek("nextToken")),
		Limit:              limit,
	}
	switch o.Status {
	case "", host.JobEnqueued, host.JobRunning, host.JobRetrying, host.JobSucceeded, host.JobFailed,
		host.JobStopped, host.JobExpired, host.JobInvalid:
	default:
		return badRequest("status %s is not one of Enqueued, Running, Retrying, Succeeded, Failed, Stopped, Expired, Invalid", quoteBounded(string(o.Status)))
	}
	switch strings.ToLower(o.SortOrderByTime) {
	case "", "asc", "desc":
		o.SortOrderByTime = strings.ToLower(o.SortOrderByTime)
	default:
		return badRequest("sortOrderByTime must be asc or desc")
	}
	for _, p := range [...]struct {
		name string
		dst  *int64
	}{{"startedTimeBegin", &o.StartedTimeBegin}, {"startedTimeEnd", &o.StartedTimeEnd}} {
		if v := q.Peek(p.name); len(v) > 0 {
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil || n < 0 {
				return badRequest("%s must be a time in Unix milliseconds", p.name)
			}
			*p.dst = n
		}
	}
	if v := string(q.Peek("includePayload")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return badRequest("includePayload must be true or false")
		}
		o.IncludePayload = b
	}
	if _, err := s.cfg.Store.GetFunction(svc, fn); err != nil {
		return err
	}
	jobs, next, err := s.cfg.Jobs.List(svc, fn, o)
	if err != nil {
		return err
	}
	if jobs == nil {
		jobs = []host.Job{}
	}
	return writeJSON(ctx, 200, struct {
		Invocations []host.Job `json:"invocations"`
		NextToken   string     `json:"nextToken,omitempty"`
	}{jobs, next})
}

func (s *Server) getJob(ctx *fasthttp.RequestCtx, svc, fn, id string) error {
	if s.cfg.Jobs == nil {
		return errAsyncDisabled
	}
	j, err := s.cfg.Jobs.Get(svc, fn, id)
	if err != nil {
		return err
	}
	return writeJSON(ctx, 200, j)
}

func (s *Server) stopJob(ctx *fasthttp.RequestCtx, svc, fn, id string) error {
	if s.cfg.Jobs == nil {
		return errAsyncDisabled
	}
	j, err := s.cfg.Jobs.Stop(svc, fn, id)
	if err != nil {
		return err
	}
	return writeJSON(ctx, 200, j)
}

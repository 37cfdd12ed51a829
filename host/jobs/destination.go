package jobs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/fnhost/fnhost/host"
)

// Envelope is what a destination receives: FC's destination event
// (fc-compat.md §8), as JSON. Timestamp is the job's EndTime (Unix ms), so
// a redelivery sends the same bytes.
type Envelope struct {
	Timestamp       int64           `json:"timestamp"`
	RequestContext  RequestContext  `json:"requestContext"`
	RequestPayload  string          `json:"requestPayload"` // the request body
	ResponseContext ResponseContext `json:"responseContext"`
	// ResponsePayload is the function's response body on success; on
	// failure {"errorMessage": …, "errorType": …}; "" when it never ran.
	ResponsePayload string `json:"responsePayload"`
}

// RequestContext is an Envelope's requestContext.
type RequestContext struct {
	RequestID string `json:"requestId"`
	// FunctionArn is "acs:fc:<region>:<account>:services/<svc>.<qualifier>/functions/<fn>".
	FunctionArn string `json:"functionArn"`
	// Condition is "" on success, else ConditionUnhandledInvocationError
	// or ConditionEventMaxAgeExceeded.
	Condition string `json:"condition"`
	// ApproximateInvokeCount is the number of attempts that ran.
	ApproximateInvokeCount int `json:"approximateInvokeCount"`
}

// ResponseContext is an Envelope's responseContext.
type ResponseContext struct {
	// StatusCode is the function's HTTP status on success, 200 on a
	// function error (as InvokeFunction answers it), 0 when it never ran.
	StatusCode    int    `json:"statusCode"`
	FunctionError string `json:"functionError"` // "" or "UnhandledInvocationError"
}

// Envelope conditions.
const (
	ConditionUnhandledInvocationError = "UnhandledInvocationError"
	ConditionEventMaxAgeExceeded      = "EventMaxAgeExceeded"
)

// FunctionARN names a function in FC's ARN form, with this engine's region
// and account.
func (e *Engine) FunctionARN(svc, qualifier, fn string) string {
	if qualifier == "" {
		qualifier = "LATEST"
	}
	return "acs:fc:" + e.cfg.Region + ":" + e.cfg.AccountID + ":services/" + svc + "." + qualifier + "/functions/" + fn
}

// envelope builds the destination event of a finished job.
func (e *Engine) envelope(j *host.Job) []byte {
	payload := j.InvocationPayload
	if payload == "" {
		payload = string(j.Request.Body)
	}
	env := Envelope{
		Timestamp: j.EndTime,
		RequestContext: RequestContext{
			RequestID:              j.RequestID,
			FunctionArn:            e.FunctionARN(j.ServiceName, j.Qualifier, j.FunctionName),
			ApproximateInvokeCount: j.Attempts,
		},
		RequestPayload: payload,
	}
	r := j.Result
	if r == nil {
		r = &host.JobResult{}
	}
	switch j.Status {
	case host.JobSucceeded:
		env.ResponseContext.StatusCode = r.Status
		env.ResponsePayload = string(r.Body)
	case host.JobFailed:
		env.RequestContext.Condition = ConditionUnhandledInvocationError
		env.ResponseContext.StatusCode = http.StatusOK
		env.ResponseContext.FunctionError = ConditionUnhandledInvocationError
		env.ResponsePayload = string(marshal(struct {
			ErrorMessage string `json:"errorMessage"`
			ErrorType    string `json:"errorType"`
		}{r.ErrorMessage, r.ErrorKind}))
	case host.JobExpired:
		env.RequestContext.Condition = ConditionEventMaxAgeExceeded
	}
	return marshal(env)
}

// marshal is json.Marshal without HTML escaping and trailing newline.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // plain structs of strings and ints: cannot fail
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// destination is a parsed Destination: an HTTP URL, or a function.
type destination struct {
	url     string
	svc, fn string
}

var errUnsupported = errors.New("unsupported destination")

// ValidDestination checks a destination as the engine reads it: an
// http(s) URL, "acs:fc:<region>:<account>:services/<svc>[.<qualifier>]/functions/<fn>"
// or "fnhost:<svc>/<fn>". The management API can use it to refuse others.
func ValidDestination(s string) error {
	_, err := parseDestination(s)
	return err
}

func parseDestination(s string) (destination, error) {
	bad := func(why string) (destination, error) {
		return destination{}, fmt.Errorf("%w %.200q: %s", errUnsupported, s, why)
	}
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return bad("not a valid URL")
		}
		return destination{url: s}, nil
	case strings.HasPrefix(s, "acs:fc:"):
		parts := strings.SplitN(s[len("acs:fc:"):], ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "services/") {
			return bad("want acs:fc:<region>:<account>:services/<service>/functions/<function>")
		}
		svcq, fn, ok := strings.Cut(parts[2][len("services/"):], "/functions/")
		svc, _, _ := strings.Cut(svcq, ".") // the qualifier: fnhost runs LATEST
		if !ok || host.ValidName(svc) != nil || host.ValidName(fn) != nil {
			return bad("want acs:fc:<region>:<account>:services/<service>/functions/<function>")
		}
		return destination{svc: svc, fn: fn}, nil
	case strings.HasPrefix(s, "fnhost:"):
		svc, fn, ok := strings.Cut(s[len("fnhost:"):], "/")
		if !ok || host.ValidName(svc) != nil || host.ValidName(fn) != nil {
			return bad("want fnhost:<service>/<function>")
		}
		return destination{svc: svc, fn: fn}, nil
	}
	return bad("fnhost delivers to http(s) URLs and functions only")
}

// String names the destination for events and logs, without credentials.
func (d destination) String() string {
	if d.url != "" {
		if u, err := url.Parse(d.url); err == nil {
			return u.Redacted()
		}
		return "URL"
	}
	return "function " + d.svc + "/" + d.fn
}

// destPrefix starts the detail of every delivery event.
const destPrefix = "destination attempt "

// destAttempts returns the number of the last delivery attempt recorded
// in a job's events, 0 when none.
func destAttempts(ev []host.JobEvent) int {
	for i := len(ev) - 1; i >= 0; i-- {
		if d, ok := strings.CutPrefix(ev[i].EventDetail, destPrefix); ok {
			num, _, _ := strings.Cut(d, ":")
			n, _ := strconv.Atoi(num)
			return n
		}
	}
	return 0
}

// deliver makes one delivery attempt of a finished job's destination.
func (e *Engine) deliver(t *task) {
	j := &t.j
	attempt := destAttempts(j.Events) + 1
	ac, err := e.cfg.Store.GetAsyncConfig(j.ServiceName, j.FunctionName)
	if err != nil && host.ErrorKind(err) != host.KindNotFound {
		e.afterDelivery(t, attempt, destination{}, fmt.Errorf("reading the async config: %w", err))
		return
	}
	target := destinationFor(ac, j.Status) // ac is zero on KindNotFound
	if target == "" {
		e.settleDelivery(t, host.DestinationNone, 0, "destination no longer configured; nothing delivered")
		return
	}
	d, err := parseDestination(target)
	if err == nil {
		body := e.envelope(j)
		if d.url != "" {
			err = e.post(j, d.url, body)
		} else {
			err = e.submitTo(j, d, body)
		}
		if err != nil && e.ctx.Err() != nil {
			e.drop(t)
			return // shutting down: the job stays leased and is delivered after the next Start
		}
	}
	e.afterDelivery(t, attempt, d, err)
}

func (e *Engine) afterDelivery(t *task, attempt int, d destination, err error) {
	j := &t.j
	prefix := destPrefix + strconv.Itoa(attempt) + ": "
	switch {
	case err == nil:
		e.met.deliveries.WithLabelValues("delivered").Inc()
		e.settleDelivery(t, host.DestinationSucceeded, 0, prefix+"delivered to "+d.String())
	case errors.Is(err, errUnsupported) || attempt >= e.t.destAttempts:
		e.met.deliveries.WithLabelValues("failed").Inc()
		e.log.Warn().Err(err).Str("service", j.ServiceName).Str("function", j.FunctionName).
			Str("invocation_id", j.InvocationID).Int("attempts", attempt).Msg("async: destination not delivered; giving up")
		e.settleDelivery(t, host.DestinationFailed, 0, prefix+err.Error()+"; giving up")
	default:
		e.met.deliveries.WithLabelValues("retry").Inc()
		delay := backoff(e.t.destBase, e.t.destCap, attempt)
		e.settleDelivery(t, host.DestinationPending, e.cfg.Now().Add(delay).UnixMilli(),
			prefix+err.Error()+"; next attempt in "+delay.Round(time.Millisecond).String())
	}
}

// settleDelivery hands a delivery attempt's record to the committer,
// which stores it if t's lease still holds.
func (e *Engine) settleDelivery(t *task, status string, notBefore int64, detail string) {
	j := &t.j
	ms := e.cfg.Now().UnixMilli()
	e.commit(t, func(cur *host.Job) error {
		if !holds(cur, j) {
			return errLeaseLost
		}
		cur.LeaseUntil = 0
		cur.DestinationStatus = status
		if status == host.DestinationPending {
			cur.NotBefore = notBefore
		}
		cur.AddEvent(cur.Status, ms, detail)
		return nil
	}, func(out *host.Job, err error) {
		if err != nil {
			e.storeFailed(j, err)
			return
		}
		if out.DestinationStatus == host.DestinationPending {
			e.noteDue(out.NotBefore, "")
		}
	})
}

// post sends the envelope to an HTTP destination; a 2xx answer delivers.
func (e *Engine) post(j *host.Job, target string, body []byte) error {
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Fc-Stateful-Async-Invocation-Id", j.InvocationID)
	req.Header.Set("X-Fc-Request-Id", j.RequestID)
	resp, err := e.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("POST %s: HTTP %d", destination{url: target}, resp.StatusCode)
	}
	return nil
}

// submitTo delivers the envelope as a new async invocation of a function.
// The invocation id is derived from the source job and outcome, so a
// redelivery gets KindConflict: already delivered.
func (e *Engine) submitTo(j *host.Job, d destination, body []byte) error {
	entry, err := e.cfg.Invoker.Lookup(e.ctx, d.svc, d.fn)
	if err != nil {
		return fmt.Errorf("%s: %s", d, message(nil, err))
	}
	timeout := int((entry.Pool().Config().Timeout + time.Second - 1) / time.Second)
	_, err = e.Submit(host.Job{
		ServiceName:    d.svc,
		FunctionName:   d.fn,
		InvocationID:   destinationID(j),
		RequestID:      newRequestID(),
		TimeoutSeconds: timeout,
		Request: host.JobRequest{
			Method:  http.MethodPost,
			Path:    "/",
			Headers: [][2]string{{"Content-Type", "application/json"}},
			Body:    body,
		},
	})
	if err != nil && host.ErrorKind(err) != host.KindConflict {
		return fmt.Errorf("%s: %s", d, message(nil, err))
	}
	return nil
}

// destinationID is the invocation id of the job that delivers j's outcome
// to a function destination.
func destinationID(j *host.Job) string {
	kind := "onFailure"
	if j.Status == host.JobSucceeded {
		kind = "onSuccess"
	}
	h := sha256.Sum256([]byte(j.ServiceName + "\x00" + j.FunctionName + "\x00" + j.InvocationID + "\x00" + kind))
	return "dst_" + hex.EncodeToString(h[:16])
}

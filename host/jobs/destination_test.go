package jobs

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/fnhost/fnhost/host"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type destRequest struct {
	header http.Header
	body   []byte
}

type destServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []destRequest
}

// newDestServer answers the n-th request (from 1) with status(n).
func newDestServer(t *testing.T, status func(n int) int) *destServer {
	d := &destServer{}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d.mu.Lock()
		d.reqs = append(d.reqs, destRequest{header: r.Header.Clone(), body: body})
		n := len(d.reqs)
		d.mu.Unlock()
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.WriteHeader(status(n))
	}))
	t.Cleanup(d.Close)
	return d
}

func (d *destServer) requests() []destRequest {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]destRequest(nil), d.reqs...)
}

// TestHTTPDestination: onSuccess to an HTTP endpoint that fails twice: the
// engine retries and delivers FC's envelope, the same bytes every time.
func TestHTTPDestination(t *testing.T) {
	en := newEnv(t)
	en.src.put(t, "s", "hello", "hello-c", 2, 0)
	srv := newDestServer(t, func(n int) int {
		if n <= 2 {
			return 500
		}
		return 204
	})
	en.st.putAsyncConfig("s", "hello", host.AsyncConfig{DestinationConfig: &host.DestinationConfig{OnSuccess: &host.Destination{Destination: srv.URL + "/hook"}}})
	e := en.start(nil)
	j := en.submit("s", "hello", `{"in":"<put>"}`, nil)
	got := en.waitDone(j)
	if got.Status != host.JobSucceeded || got.DestinationStatus != host.DestinationSucceeded {
		t.Fatalf("\n%s", dump(got))
	}
	reqs := srv.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if r.header.Get("Content-Type") != "application/json" || r.header.Get("X-Fc-Stateful-Async-Invocation-Id") != j.InvocationID ||
			string(r.body) != string(reqs[0].body) {
			t.Fatalf("request %d: %v %s", i, r.header, r.body)
		}
	}
	// The exact members, as FC names them.
	var raw map[string]any
	if err := json.Unmarshal(reqs[0].body, &raw); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"timestamp": float64(got.EndTime),
		"requestContext": map[string]any{
			"requestId":              got.RequestID,
			"functionArn":            "acs:fc:local:123:services/s.LATEST/functions/hello",
			"condition":              "",
			"approximateInvokeCount": float64(1),
		},
		"requestPayload":  `{"in":"<put>"}`,
		"responseContext": map[string]any{"statusCode": float64(200), "functionError": ""},
		"responsePayload": "hello world",
	}
	if !reflect.DeepEqual(raw, want) {
		t.Fatalf("envelope\n got %v\nwant %v", raw, want)
	}
	if strings.Contains(string(reqs[0].body), `\u003c`) {
		t.Errorf("HTML-escaped envelope: %s", reqs[0].body)
	}
	// The delivery attempts are in the job's history.
	var details []string
	for _, ev := range got.Events[3:] {
		if ev.Status != host.JobSucceeded {
			t.Fatalf("\n%s", dump(got))
		}
		details = append(details, ev.EventDetail)
	}
	if len(details) != 3 || !strings.HasPrefix(details[0], "destination attempt 1: POST ") || !strings.Contains(details[0], "HTTP 500; next attempt in") ||
		!strings.HasPrefix(details[2], "destination attempt 3: delivered to http://") || destAttempts(got.Events) != 3 {
		t.Fatalf("delivery events:\n%s", dump(got))
	}
	if _, err := e.Stop("s", "hello", j.InvocationID); !strings.Contains(err.Error(), "invocation already finished (Succeeded)") {
		t.Fatalf("stop after success: %v", err)
	}
}

// TestHTTPDestinationGivesUp: onFailure to an endpoint that always fails:
// 8 attempts, then DestinationFailed. The envelope says why the job failed.
func TestHTTPDestinationGivesUp(t *testing.T) {
	en := newEnv(t)
	en.src.put(t, "s", "trap", "trap", 2, 0)
	srv := newDestServer(t, func(int) int { return 503 })
	en.st.putAsyncConfig("s", "trap", host.AsyncConfig{MaxAsyncRetryAttempts: intp(0),
		DestinationConfig: &host.DestinationConfig{
			OnSuccess: &host.Destination{Destination: "http://127.0.0.1:1/never"},
			OnFailure: &host.Destination{Destination: srv.URL}}})
	e := en.start(nil)
	j := en.submit("s", "trap", "in", nil)
	got := en.waitDone(j)
	if got.Status != host.JobFailed || got.DestinationStatus != host.DestinationFailed || destAttempts(got.Events) != 8 {
		t.Fatalf("\n%s", dump(got))
	}
	reqs := srv.requests()
	if len(reqs) != 8 {
		t.Fatalf("%d requests", len(reqs))
	}
	var env Envelope
	if err := json.Unmarshal(reqs[7].body, &env); err != nil {
		t.Fatal(err)
	}
	if env.RequestContext.Condition != ConditionUnhandledInvocationError || env.ResponseContext.FunctionError != ConditionUnhandledInvocationError ||
		env.ResponseContext.StatusCode != 200 || env.RequestContext.ApproximateInvokeCount != 1 || env.RequestPayload != "in" {
		t.Fatalf("%+v", env)
	}
	var payload struct{ ErrorMessage, ErrorType string }
	if err := json.Unmarshal([]byte(env.ResponsePayload), &payload); err != nil || payload.ErrorType != "trap" || payload.ErrorMessage == "" {
		t.Fatalf("%v %q", err, env.ResponsePayload)
	}
	if !strings.Contains(en.logs.String(), "giving up") {
		t.Fatal("give-up not logged")
	}
	if f, r := testutil.ToFloat64(e.met.deliveries.WithLabelValues("failed")), testutil.ToFloat64(e.met.deliveries.WithLabelValues("retry")); f != 1 || r != 7 {
		t.Fatalf("delivery metrics: failed %v, retry %v", f, r)
	}
}

// TestFunctionDestination: onSuccess to a function submits a job to it
// with the envelope as body; a redelivery (the status update was lost) is
// deduplicated by the derived invocation id.
func TestFunctionDestination(t *testing.T) {
	en := newEnv(t)
	en.src.put(t, "s", "hello", "hello-c", 2, 0)
	en.src.put(t, "s", "trap", "trap", 2, 0)
	en.src.put(t, "s", "sink", "echo-c", 2, 0)
	en.st.putAsyncConfig("s", "hello", host.AsyncConfig{DestinationConfig: &host.DestinationConfig{OnSuccess: &host.Destination{Destination: "fnhost:s/sink"}}})
	en.st.putAsyncConfig("s", "trap", host.AsyncConfig{MaxAsyncRetryAttempts: intp(0),
		DestinationConfig: &host.DestinationConfig{OnFailure: &host.Destination{Destination: "acs:fc:cn-hangzhou:123:services/s.LATEST/functions/sink"}}})
	en.start(nil)

	src := en.waitDone(en.submit("s", "hello", "ping", nil))
	if src.DestinationStatus != host.DestinationSucceeded {
		t.Fatalf("\n%s", dump(src))
	}
	sinkJobs := en.st.all("s", "sink")
	if len(sinkJobs) != 1 || sinkJobs[0].InvocationID != destinationID(&src) || !strings.HasPrefix(sinkJobs[0].InvocationID, "dst_") {
		t.Fatalf("sink jobs: %+v", sinkJobs)
	}
	sink := en.waitDone(sinkJobs[0])
	var env Envelope
	if err := json.Unmarshal([]byte(sink.InvocationPayload), &env); err != nil {
		t.Fatal(err)
	}
	if env.RequestContext.RequestID != src.RequestID || env.ResponsePayload != "hello world" || env.RequestPayload != "ping" ||
		env.Timestamp != src.EndTime {
		t.Fatalf("%+v", env)
	}
	var echo struct {
		Method  string
		Path    string
		Headers map[string][]string
		Body    string
	}
	if sink.Status != host.JobSucceeded || json.Unmarshal(sink.Result.Body, &echo) != nil || echo.Method != "POST" || echo.Path != "/" ||
		echo.Body != sink.InvocationPayload || echo.Headers["content-type"][0] != "application/json" {
		t.Fatalf("sink:\n%s", dump(sink))
	}

	// The source's "delivered" update is lost (crash): it is delivered again.
	if _, err := en.st.UpdateJob("s", "hello", src.InvocationID, func(j *host.Job) error {
		j.DestinationStatus = host.DestinationPending
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	again := en.wait(src, "redelivered", func(j host.Job) bool { return destAttempts(j.Events) == 2 && done(j) })
	if again.DestinationStatus != host.DestinationSucceeded {
		t.Fatalf("\n%s", dump(again))
	}
	if n := len(en.st.all("s", "sink")); n != 1 {
		t.Fatalf("redelivery made %d sink jobs", n)
	}

	// onFailure, by ARN.
	failed := en.waitDone(en.submit("s", "trap", "boom", nil))
	if failed.Status != host.JobFailed || failed.DestinationStatus != host.DestinationSucceeded {
		t.Fatalf("\n%s", dump(failed))
	}
	fj, err := en.st.GetJob("s", "sink", destinationID(&failed))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(fj.InvocationPayload), &env); err != nil || env.RequestContext.Condition != ConditionUnhandledInvocationError {
		t.Fatalf("%v %+v", err, env)
	}
	if destinationID(&failed) == destinationID(&src) {
		t.Fatal("same derived id for two sources")
	}
}

// TestDestinationEdgeCases: a destination removed before delivery, an
// unsupported one, a missing target function.
func TestDestinationEdgeCases(t *testing.T) {
	en := newEnv(t)
	en.src.put(t, "s", "hello", "hello-c", 2, 0)
	en.start(nil)
	set := func(dest string) {
		en.st.putAsyncConfig("s", "hello", host.AsyncConfig{DestinationConfig: &host.DestinationConfig{OnSuccess: &host.Destination{Destination: dest}}})
	}

	set("mns:queue/q1")
	got := en.waitDone(en.submit("s", "hello", "", nil))
	if got.DestinationStatus != host.DestinationFailed || destAttempts(got.Events) != 1 {
		t.Fatalf("unsupported:\n%s", dump(got))
	}

	set("fnhost:s/missing")
	got = en.waitDone(en.submit("s", "hello", "", nil))
	if got.DestinationStatus != host.DestinationFailed || destAttempts(got.Events) != 8 ||
		!strings.Contains(got.Events[len(got.Events)-1].EventDetail, "function s/missing") {
		t.Fatalf("missing function:\n%s", dump(got))
	}

	// The config goes away between the outcome and the delivery.
	set("fnhost:s/missing")
	j := en.submit("s", "hello", "", func(j *host.Job) { j.NotBefore = en.clock.ms() + 3600e3 })
	en.st.mu.Lock()
	delete(en.st.async, "s/hello")
	en.st.mu.Unlock()
	if _, err := en.st.UpdateJob("s", "hello", j.InvocationID, func(c *host.Job) error {
		c.Status, c.EndTime, c.NotBefore, c.DestinationStatus = host.JobSucceeded, c.StartedTime, 0, host.DestinationPending
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got = en.waitDone(j)
	if got.DestinationStatus != host.DestinationNone || !strings.Contains(got.Events[len(got.Events)-1].EventDetail, "no longer configured") {
		t.Fatalf("removed:\n%s", dump(got))
	}
}

func TestParseDestination(t *testing.T) {
	for in, want := range map[string]destination{
		"http://example.com/x": {url: "http://example.com/x"},
		"HTTPS://example.com":  {url: "HTTPS://example.com"},
		"fnhost:svc/fn":        {svc: "svc", fn: "fn"},
		"acs:fc:cn-hangzhou:123:services/svc/functions/fn":        {svc: "svc", fn: "fn"},
		"acs:fc:cn-hangzhou:123:services/svc.LATEST/functions/fn": {svc: "svc", fn: "fn"},
		"acs:fc:::services/my_svc.prod/functions/fn-2":            {svc: "my_svc", fn: "fn-2"},
		"acs:mns:cn-hangzhou:123:/queues/q/messages":              {},
		"acs:fc:cn-hangzhou:123:services/svc/functions/":          {},
		"acs:fc:cn-hangzhou:123:services/svc/functions/fn/x":      {},
		"acs:fc:cn-hangzhou:123:functions/fn":                     {},
		"fnhost:svc":                                              {},
		"fnhost:svc/1fn":                                          {},
		"http://":                                                 {},
		"ftp://example.com":                                       {},
		"":                                                        {},
		"acs:fc:cn-hangzhou:123:services/svc.LATEST/functions/fn?x=1": {},
	} {
		got, err := parseDestination(in)
		if (err == nil) != (want != destination{}) || got != want {
			t.Errorf("%q: %+v %v, want %+v", in, got, err, want)
		}
		if (ValidDestination(in) == nil) != (want != destination{}) {
			t.Errorf("ValidDestination(%q) disagrees", in)
		}
	}
	if s := (destination{url: "https://u:secret@example.com/x"}).String(); strings.Contains(s, "secret") {
		t.Fatal(s)
	}
}

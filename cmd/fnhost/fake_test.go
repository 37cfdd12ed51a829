package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/auth"
	"github.com/fnhost/fnhost/host/client"
)

// fakeFC is a small in-memory stand-in for the fnhost server's FC API, so
// the commands' flows (deploy create/update, rm --force, paging, output)
// can be tested before and apart from the real server. The real server is
// exercised by the e2e tests.
type fakeFC struct {
	t        *testing.T
	pageSize int // list page size, small to exercise paging
	// badSignatureOK answers a bad signature with 403 without failing t.
	badSignatureOK bool

	mu          sync.Mutex
	services    map[string]*host.Service
	functions   map[string]map[string]*fakeFunction
	invocations []host.Invocation // served by invocation-logs as is
	calls       []string          // "METHOD /path" of every request
}

type fakeFunction struct {
	f        host.Function
	triggers map[string]*host.Trigger
	async    *host.AsyncConfig // nil: none
	jobs     []host.Job        // async invocations, oldest first
}

const (
	fakeKeyID  = "testkey"
	fakeSecret = "testsecret"
)

// newFake starts a fake server; it fails t on a request with a bad
// signature.
func newFake(t *testing.T) (*fakeFC, string) {
	t.Helper()
	f := &fakeFC{t: t, pageSize: 2, services: map[string]*host.Service{}, functions: map[string]map[string]*fakeFunction{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

type fcErr struct {
	status int
	code   string
	msg    string
}

func (f *fakeFC) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	w.Header().Set("X-Fc-Request-Id", "req-"+strconv.Itoa(len(f.calls)))
	v := &auth.Verifier{Keys: func(id string) (string, bool) { return fakeSecret, id == fakeKeyID }}
	if err := v.Verify(&auth.Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: auth.HTTPHeader(r.Header)}); err != nil {
		if !f.badSignatureOK {
			f.t.Errorf("%s %s: %v", r.Method, r.URL.Path, err)
		}
		writeFCError(w, fcErr{403, "SignatureNotMatch", err.Error()})
		return
	}
	body, _ := io.ReadAll(r.Body)
	out, ferr := f.route(r, w, body)
	switch {
	case ferr != nil:
		writeFCError(w, *ferr)
	case out == nil:
		// route wrote the answer
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	}
}

func writeFCError(w http.ResponseWriter, e fcErr) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(map[string]string{"ErrorCode": e.code, "ErrorMessage": e.msg})
}

type deleted struct{}

// route serves the API; it returns the JSON answer, or nil when it wrote
// the response itself.
func (f *fakeFC) route(r *http.Request, w http.ResponseWriter, body []byte) (any, *fcErr) {
	p, ok := strings.CutPrefix(r.URL.Path, "/2016-08-15/services")
	if !ok {
		return nil, &fcErr{404, "PathNotSupported", r.URL.Path}
	}
	seg := strings.Split(strings.Trim(p, "/"), "/")
	if seg[0] == "" {
		seg = nil
	}
	m := r.Method
	switch {
	case len(seg) == 0 && m == http.MethodPost:
		var in client.ServiceInput
		json.Unmarshal(body, &in)
		if f.services[in.ServiceName] != nil {
			return nil, &fcErr{409, "ServiceAlreadyExists", "service exists"}
		}
		s := &host.Service{ServiceName: in.ServiceName, LastModifiedTime: "2026-01-02T03:04:05Z"}
		if in.Description != nil {
			s.Description = *in.Description
		}
		f.services[s.ServiceName] = s
		f.functions[s.ServiceName] = map[string]*fakeFunction{}
		return s, nil
	case len(seg) == 0 && m == http.MethodGet:
		var all []host.Service
		for _, s := range f.services {
			all = append(all, *s)
		}
		slices.SortFunc(all, func(a, b host.Service) int { return strings.Compare(a.ServiceName, b.ServiceName) })
		page, next := paginate(all, r, f.pageSize, func(s host.Service) string { return s.ServiceName })
		return map[string]any{"services": page, "nextToken": next}, nil
	}

	svc := f.services[seg[0]]
	if svc == nil {
		return nil, &fcErr{404, "ServiceNotFound", "service " + strconv.Quote(seg[0]) + " does not exist"}
	}
	fns := f.functions[seg[0]]
	switch {
	case len(seg) == 1 && m == http.MethodGet:
		return svc, nil
	case len(seg) == 1 && m == http.MethodDelete:
		if len(fns) > 0 {
			return nil, &fcErr{409, "ServiceNotEmpty", "service " + strconv.Quote(seg[0]) + " still has functions"}
		}
		delete(f.services, seg[0])
		return deleted{}, nil
	case len(seg) == 2 && m == http.MethodPost:
		var in client.FunctionInput
		json.Unmarshal(body, &in)
		if fns[in.FunctionName] != nil {
			return nil, &fcErr{409, "FunctionAlreadyExists", "function exists"}
		}
		fn := &fakeFunction{f: host.Function{FunctionName: in.FunctionName, MemorySize: 128, Timeout: 3}, triggers: map[string]*host.Trigger{}}
		applyFunction(&fn.f, in)
		fns[in.FunctionName] = fn
		return fn.f, nil
	case len(seg) == 2 && m == http.MethodGet:
		var all []host.Function
		for _, fn := range fns {
			all = append(all, fn.f)
		}
		slices.SortFunc(all, func(a, b host.Function) int { return strings.Compare(a.FunctionName, b.FunctionName) })
		page, next := paginate(all, r, f.pageSize, func(f host.Function) string { return f.FunctionName })
		return map[string]any{"functions": page, "nextToken": next}, nil
	}

	fn := fns[seg[2]]
	if fn == nil {
		return nil, &fcErr{404, "FunctionNotFound", "function does not exist"}
	}
	switch {
	case len(seg) == 3 && m == http.MethodGet:
		return fn.f, nil
	case len(seg) == 3 && m == http.MethodPut:
		var in client.FunctionInput
		json.Unmarshal(body, &in)
		applyFunction(&fn.f, in)
		return fn.f, nil
	case len(seg) == 3 && m == http.MethodDelete:
		if len(fn.triggers) > 0 {
			return nil, &fcErr{400, "FunctionNotEmpty", "function still has triggers"}
		}
		delete(fns, seg[2])
		return deleted{}, nil
	case len(seg) == 4 && seg[3] == "invocations" && m == http.MethodPost:
		if r.Header.Get("X-Fc-Invocation-Type") == "Async" {
			return nil, f.submit(w, r, seg[0], fn, body)
		}
		f.invoke(w, r, body)
		return nil, nil
	case len(seg) == 4 && seg[3] == "async-invoke-config":
		return f.asyncConfig(r, seg[0], fn, body)
	case len(seg) == 4 && seg[3] == "stateful-async-invocations" && m == http.MethodGet:
		return f.listJobs(r, fn), nil
	case len(seg) == 5 && seg[3] == "stateful-async-invocations":
		i := slices.IndexFunc(fn.jobs, func(j host.Job) bool { return j.InvocationID == seg[4] })
		if i < 0 {
			return nil, &fcErr{404, "InvocationNotFound", "invocation " + strconv.Quote(seg[4]) + " does not exist"}
		}
		j := &fn.jobs[i]
		switch m {
		case http.MethodGet:
			return j, nil
		case http.MethodPut:
			if j.Status.Finished() {
				return nil, &fcErr{409, "InvocationFinished", "invocation " + strconv.Quote(j.InvocationID) + " is " + string(j.Status)}
			}
			if j.Status == host.JobRunning {
				j.StopRequested = true
			} else {
				j.Status, j.EndTime = host.JobStopped, j.StartedTime+500
			}
			return j, nil
		}
	case len(seg) == 4 && seg[3] == "invocation-logs" && m == http.MethodGet:
		page, next := paginate(f.invocations, r, f.pageSize, func(i host.Invocation) string { return i.RequestID })
		return map[string]any{"invocations": page, "nextToken": next}, nil
	case len(seg) == 4 && seg[3] == "triggers" && m == http.MethodPost:
		var in client.TriggerInput
		json.Unmarshal(body, &in)
		if fn.triggers[in.TriggerName] != nil {
			return nil, &fcErr{409, "TriggerAlreadyExists", "trigger exists"}
		}
		t := &host.Trigger{TriggerName: in.TriggerName, TriggerType: in.TriggerType, TriggerConfig: *in.TriggerConfig}
		fn.triggers[t.TriggerName] = t
		return t, nil
	case len(seg) == 4 && seg[3] == "triggers" && m == http.MethodGet:
		var all []host.Trigger
		for _, t := range fn.triggers {
			all = append(all, *t)
		}
		page, next := paginate(all, r, f.pageSize, func(t host.Trigger) string { return t.TriggerName })
		return map[string]any{"triggers": page, "nextToken": next}, nil
	case len(seg) == 5 && seg[3] == "triggers":
		t := fn.triggers[seg[4]]
		if t == nil {
			return nil, &fcErr{404, "TriggerNotFound", "trigger does not exist"}
		}
		switch m {
		case http.MethodGet:
			return t, nil
		case http.MethodPut:
			var in client.TriggerInput
			json.Unmarshal(body, &in)
			if in.TriggerConfig != nil {
				t.TriggerConfig = *in.TriggerConfig
			}
			return t, nil
		case http.MethodDelete:
			delete(fn.triggers, seg[4])
			return deleted{}, nil
		}
	}
	return nil, &fcErr{404, "PathNotSupported", r.Method + " " + r.URL.Path}
}

func applyFunction(f *host.Function, in client.FunctionInput) {
	if in.Description != nil {
		f.Description = *in.Description
	}
	if in.Runtime != "" {
		f.Runtime = in.Runtime
	}
	if in.Handler != "" {
		f.Handler = in.Handler
	}
	if in.MemorySize != nil {
		f.MemorySize = *in.MemorySize
	}
	if in.Timeout != nil {
		f.Timeout = *in.Timeout
	}
	if in.MaxInstances != nil {
		f.MaxInstances = *in.MaxInstances
	}
	if in.EnvironmentVariables != nil {
		f.EnvironmentVariables = in.EnvironmentVariables
	}
	if in.Code != nil {
		sum := sha256.Sum256(in.Code.ZipFile)
		f.CodeChecksum, f.CodeSize = hex.EncodeToString(sum[:]), int64(len(in.Code.ZipFile))
	}
}

// invoke echoes the payload; "trap" fails like a trapping guest (200 with
// X-Fc-Error-Type, as InvokeFunction reports function errors) and
// "status:NNN" answers with that status.
func (f *fakeFC) invoke(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Header.Get("X-Fc-Log-Type") == "Tail" {
		w.Header().Set("X-Fc-Log-Result", base64.StdEncoding.EncodeToString([]byte("got "+strconv.Itoa(len(body))+" bytes\n")))
	}
	switch s := string(body); {
	case s == "trap":
		w.Header().Set("X-Fc-Error-Type", "UnhandledInvocationError")
		io.WriteString(w, `{"errorMessage":"wasm trap: unreachable","errorType":"trap"}`)
	case strings.HasPrefix(s, "status:"):
		n, _ := strconv.Atoi(s[len("status:"):])
		w.WriteHeader(n)
	default:
		w.Header().Set("X-Echo-Header", r.Header.Get("X-Test"))
		w.Write(body)
	}
}

// fakeJobTime is when the fake's first async job was accepted (Unix ms);
// each later one is a second later.
const fakeJobTime = 1_795_000_000_000

// submit stores an async invocation as a job and answers 202, or 409 for
// an invocation ID the function already has.
func (f *fakeFC) submit(w http.ResponseWriter, r *http.Request, svc string, fn *fakeFunction, body []byte) *fcErr {
	id := r.Header.Get("X-Fc-Stateful-Async-Invocation-Id")
	if id == "" {
		id = "job-" + strconv.Itoa(len(fn.jobs)+1)
	}
	if slices.ContainsFunc(fn.jobs, func(j host.Job) bool { return j.InvocationID == id }) {
		return &fcErr{409, "InvocationAlreadyExists", "invocation " + strconv.Quote(id) + " already exists"}
	}
	delay, _ := strconv.ParseInt(r.Header.Get("X-Fc-Async-Delay"), 10, 64)
	started := int64(fakeJobTime + len(fn.jobs)*1000)
	j := host.Job{
		ServiceName: svc, FunctionName: fn.f.FunctionName, Qualifier: "LATEST",
		InvocationID: id, RequestID: w.Header().Get("X-Fc-Request-Id"), Status: host.JobEnqueued,
		StartedTime: started, NotBefore: started + delay*1000,
		Request: host.JobRequest{Method: http.MethodPost, Body: body},
	}
	j.AddEvent(host.JobEnqueued, started, "accepted")
	fn.jobs = append(fn.jobs, j)
	w.Header().Set("X-Fc-Stateful-Async-Invocation-Id", id)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// listJobs serves ListStatefulAsyncInvocations: filtered by status and id
// prefix, newest first unless sortOrderByTime=asc, paged by invocation ID.
func (f *fakeFC) listJobs(r *http.Request, fn *fakeFunction) any {
	q := r.URL.Query()
	var all []host.Job
	for _, j := range fn.jobs {
		if (q.Get("status") == "" || string(j.Status) == q.Get("status")) && strings.HasPrefix(j.InvocationID, q.Get("invocationIdPrefix")) {
			all = append(all, j)
		}
	}
	if q.Get("sortOrderByTime") != "asc" {
		slices.Reverse(all)
	}
	page, next := paginate(all, r, f.pageSize, func(j host.Job) string { return j.InvocationID })
	return map[string]any{"invocations": page, "nextToken": next}
}

// asyncConfig serves PUT, GET and DELETE of a function's async config.
func (f *fakeFC) asyncConfig(r *http.Request, svc string, fn *fakeFunction, body []byte) (any, *fcErr) {
	notFound := &fcErr{404, "AsyncConfigNotFound", "function " + strconv.Quote(fn.f.FunctionName) + " has no async invoke config"}
	switch r.Method {
	case http.MethodPut:
		var in client.AsyncConfigInput
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, &fcErr{400, "InvalidArgument", err.Error()}
		}
		fn.async = &host.AsyncConfig{
			ServiceName: svc, FunctionName: fn.f.FunctionName, Qualifier: "LATEST",
			MaxAsyncRetryAttempts: in.MaxAsyncRetryAttempts, MaxAsyncEventAgeInSeconds: in.MaxAsyncEventAgeInSeconds,
			DestinationConfig: in.DestinationConfig, StatefulInvocation: true,
			CreatedTime: "2026-01-02T03:04:05Z", LastModifiedTime: "2026-01-02T03:04:05Z",
		}
		return fn.async, nil
	case http.MethodGet:
		if fn.async == nil {
			return nil, notFound
		}
		return fn.async, nil
	case http.MethodDelete:
		if fn.async == nil {
			return nil, notFound
		}
		fn.async = nil
		return deleted{}, nil
	}
	return nil, &fcErr{405, "MethodNotAllowed", r.Method}
}

// paginate returns the page starting at the nextToken query parameter (a
// name) and the name that starts the next page.
func paginate[T any](all []T, r *http.Request, size int, name func(T) string) ([]T, string) {
	start := 0
	if tok := r.URL.Query().Get("nextToken"); tok != "" {
		start = slices.IndexFunc(all, func(x T) bool { return name(x) == tok })
		if start < 0 {
			return []T{}, ""
		}
	}
	limit := size
	if l, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && l > 0 && l < limit {
		limit = l
	}
	end := min(start+limit, len(all))
	next := ""
	if end < len(all) {
		next = name(all[end])
	}
	page := all[start:end]
	if page == nil {
		page = []T{}
	}
	return page, next
}

// cli runs the CLI against endpoint with the fake's key in the
// environment and returns stdout, stderr and the exit code.
func cli(t *testing.T, endpoint, stdin string, args ...string) (string, string, int) {
	t.Helper()
	env := map[string]string{
		envEndpoint: endpoint, envAccessKeyID: fakeKeyID, envAccessKeySecret: fakeSecret,
		"HOME": t.TempDir(),
	}
	return cliEnv(t, env, stdin, args...)
}

func cliEnv(t *testing.T, env map[string]string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr, func(k string) string { return env[k] })
	return stdout.String(), stderr.String(), code
}

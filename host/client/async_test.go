package client_test

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/client"
)

func TestInvokeAsync(t *testing.T) {
	c, reqs := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Fc-Stateful-Async-Invocation-Id") == "dup" {
			writeJSON(w, 409, map[string]string{"ErrorCode": "ResourceAlreadyExists", "ErrorMessage": "invocation dup exists"})
			return
		}
		id := r.Header.Get("X-Fc-Stateful-Async-Invocation-Id")
		if id == "" {
			id = "gen-1"
		}
		w.Header().Set("X-Fc-Stateful-Async-Invocation-Id", id)
		w.WriteHeader(202)
	})
	ctx := context.Background()

	res, err := c.InvokeFunction(ctx, "s", "f", []byte("job"), client.InvokeOptions{Async: true, InvocationID: "job_1", Delay: 30 * time.Second})
	if err != nil || res.Status != 202 || res.InvocationID != "job_1" || res.RequestID != "1-req" {
		t.Fatalf("async: %+v, %v", res, err)
	}
	h := (*reqs)[0].Header
	for name, want := range map[string]string{
		"X-Fc-Invocation-Type": "Async", "X-Fc-Stateful-Async-Invocation-Id": "job_1", "X-Fc-Async-Delay": "30",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}

	res, err = c.InvokeFunction(ctx, "s", "f", nil, client.InvokeOptions{Async: true})
	if err != nil || res.InvocationID != "gen-1" {
		t.Fatalf("generated id: %+v, %v", res, err)
	}
	if h := (*reqs)[1].Header; h.Get("X-Fc-Async-Delay") != "" || h.Get("X-Fc-Stateful-Async-Invocation-Id") != "" {
		t.Errorf("zero options sent: delay %q id %q", h.Get("X-Fc-Async-Delay"), h.Get("X-Fc-Stateful-Async-Invocation-Id"))
	}

	_, err = c.InvokeFunction(ctx, "s", "f", nil, client.InvokeOptions{Async: true, InvocationID: "dup"})
	if !client.IsConflict(err) || !strings.Contains(err.Error(), "invocation dup exists") {
		t.Errorf("duplicate id: %v", err)
	}

	n := len(*reqs)
	for _, o := range []client.InvokeOptions{
		{InvocationID: "x"},
		{Delay: time.Second},
		{Async: true, Delay: 1500 * time.Millisecond},
		{Async: true, Delay: -time.Second},
		{Async: true, Delay: (host.MaxAsyncDelaySeconds + 1) * time.Second},
	} {
		if _, err := c.InvokeFunction(ctx, "s", "f", nil, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if len(*reqs) != n {
		t.Error("an invalid invocation was sent")
	}
}

func TestAsyncConfig(t *testing.T) {
	retries, age := 2, int64(3600)
	stored := host.AsyncConfig{
		ServiceName: "s", FunctionName: "f", Qualifier: "LATEST",
		MaxAsyncRetryAttempts: &retries, MaxAsyncEventAgeInSeconds: &age,
		DestinationConfig:  &host.DestinationConfig{OnFailure: &host.Destination{Destination: "fnhost:s/dlq"}},
		StatefulInvocation: true, LastModifiedTime: "2026-01-02T03:04:05Z",
	}
	c, reqs := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		case strings.HasSuffix(r.URL.Path, "/async-invoke-configs"):
			writeJSON(w, 200, map[string]any{"configs": []host.AsyncConfig{stored}})
		case r.URL.Path == "/2016-08-15/services/s/functions/none/async-invoke-config":
			writeJSON(w, 404, map[string]string{"ErrorCode": "AsyncConfigNotFound", "ErrorMessage": "none"})
		default:
			writeJSON(w, 200, stored)
		}
	})
	ctx := context.Background()
	zero := 0
	got, err := c.PutAsyncConfig(ctx, "s", "f", client.AsyncConfigInput{
		MaxAsyncRetryAttempts: &zero, MaxAsyncEventAgeInSeconds: &age,
		DestinationConfig: &host.DestinationConfig{OnFailure: &host.Destination{Destination: "fnhost:s/dlq"}},
	})
	if err != nil || !reflect.DeepEqual(*got, stored) {
		t.Fatalf("PutAsyncConfig = %+v, %v", got, err)
	}
	if got, err = c.GetAsyncConfig(ctx, "s", "f"); err != nil || *got.MaxAsyncRetryAttempts != 2 {
		t.Fatalf("GetAsyncConfig = %+v, %v", got, err)
	}
	if _, err := c.GetAsyncConfig(ctx, "s", "none"); !client.IsNotFound(err) {
		t.Errorf("GetAsyncConfig without one: %v", err)
	}
	if err := c.DeleteAsyncConfig(ctx, "s", "f"); err != nil {
		t.Fatal(err)
	}
	cs, next, err := c.ListAsyncConfigs(ctx, "s", "f", "", 0)
	if err != nil || len(cs) != 1 || cs[0].FunctionName != "f" || next != "" {
		t.Fatalf("ListAsyncConfigs = %+v, %q, %v", cs, next, err)
	}
	if _, err := c.PutAsyncConfig(ctx, "s", "f", client.AsyncConfigInput{}); err != nil {
		t.Fatal(err)
	}

	want := []struct{ method, path, body string }{
		{"PUT", "/2016-08-15/services/s/functions/f/async-invoke-config",
			`{"maxAsyncRetryAttempts":0,"maxAsyncEventAgeInSeconds":3600,"destinationConfig":{"onFailure":{"destination":"fnhost:s/dlq"}}}`},
		{"GET", "/2016-08-15/services/s/functions/f/async-invoke-config", ""},
		{"GET", "/2016-08-15/services/s/functions/none/async-invoke-config", ""},
		{"DELETE", "/2016-08-15/services/s/functions/f/async-invoke-config", ""},
		{"GET", "/2016-08-15/services/s/functions/f/async-invoke-configs", ""},
		{"PUT", "/2016-08-15/services/s/functions/f/async-invoke-config", `{}`},
	}
	if len(*reqs) != len(want) {
		t.Fatalf("%d requests, want %d", len(*reqs), len(want))
	}
	for i, w := range want {
		got := (*reqs)[i]
		if got.Method != w.method || got.Path != w.path || string(got.Body) != w.body {
			t.Errorf("request %d: %s %s %s\nwant %s %s %s", i, got.Method, got.Path, got.Body, w.method, w.path, w.body)
		}
	}
}

func TestStatefulAsyncInvocations(t *testing.T) {
	job := host.Job{
		ServiceName: "s", FunctionName: "f", InvocationID: "job_1", RequestID: "r1", Status: host.JobFailed,
		StartedTime: 1000, EndTime: 2500, AlreadyRetriedTimes: 3, InvocationErrorMessage: "trap",
		Events: []host.JobEvent{{EventID: 1, Status: host.JobEnqueued, Timestamp: 1000}},
		Result: &host.JobResult{ErrorKind: "trap", ErrorMessage: "trap", DurationMs: 1.5},
	}
	c, reqs := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/stateful-async-invocations"):
			writeJSON(w, 200, map[string]any{"invocations": []host.Job{job}, "nextToken": "job_0"})
		case strings.HasSuffix(r.URL.Path, "/done") && r.Method == http.MethodPut:
			writeJSON(w, 409, map[string]string{"ErrorCode": "InvalidArgument", "ErrorMessage": "invocation done already finished"})
		case r.Method == http.MethodPut:
			stopped := job
			stopped.Status = host.JobStopped
			writeJSON(w, 200, stopped)
		default:
			writeJSON(w, 200, job)
		}
	})
	ctx := context.Background()

	jobs, next, err := c.ListStatefulAsyncInvocations(ctx, "s", "f", host.JobListOptions{
		Status: host.JobFailed, StartedTimeBegin: 1, StartedTimeEnd: 2, InvocationIDPrefix: "job_",
		SortOrderByTime: "asc", IncludePayload: true, Limit: 5, NextToken: "t1",
	})
	if err != nil || len(jobs) != 1 || !reflect.DeepEqual(jobs[0], job) || next != "job_0" {
		t.Fatalf("List = %+v, %q, %v", jobs, next, err)
	}
	if _, _, err := c.ListStatefulAsyncInvocations(ctx, "s", "f", host.JobListOptions{}); err != nil {
		t.Fatal(err)
	}
	j, err := c.GetStatefulAsyncInvocation(ctx, "s", "f", "job_1")
	if err != nil || !reflect.DeepEqual(*j, job) {
		t.Fatalf("Get = %+v, %v", j, err)
	}
	j, err = c.StopStatefulAsyncInvocation(ctx, "s", "f", "job_1")
	if err != nil || j.Status != host.JobStopped {
		t.Fatalf("Stop = %+v, %v", j, err)
	}
	_, err = c.StopStatefulAsyncInvocation(ctx, "s", "f", "done")
	if !client.IsConflict(err) || !strings.Contains(err.Error(), "already finished") {
		t.Errorf("stop finished: %v", err)
	}
	if _, err := c.GetStatefulAsyncInvocation(ctx, "s", "f", ""); err == nil {
		t.Error("empty id accepted")
	}

	const base = "/2016-08-15/services/s/functions/f/stateful-async-invocations"
	want := []struct{ method, path, query, body string }{
		{"GET", base, "includePayload=true&invocationIdPrefix=job_&limit=5&nextToken=t1&sortOrderByTime=asc&startedTimeBegin=1&startedTimeEnd=2&status=Failed", ""},
		{"GET", base, "", ""},
		{"GET", base + "/job_1", "", ""},
		{"PUT", base + "/job_1", "", ""},
		{"PUT", base + "/done", "", ""},
	}
	if len(*reqs) != len(want) {
		t.Fatalf("%d requests, want %d", len(*reqs), len(want))
	}
	for i, w := range want {
		got := (*reqs)[i]
		if got.Method != w.method || got.Path != w.path || got.RawQuery != w.query || string(got.Body) != w.body {
			t.Errorf("request %d: %s %s?%s %q\nwant %s %s?%s %q", i, got.Method, got.Path, got.RawQuery, got.Body, w.method, w.path, w.query, w.body)
		}
	}
}

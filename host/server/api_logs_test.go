package server

import (
	"context"
	"testing"

	"github.com/fnhost/fnhost/host"
)

func TestInvocationLogs(t *testing.T) {
	ts := startServer(t)
	ts.mustAPI("POST", "/services", map[string]string{"serviceName": "svc"}, 200)
	ts.mustAPI("POST", "/services/svc/functions", fnBody("fn", guestWasm(t, "trap"), nil), 200)
	ts.mustAPI("POST", "/services/svc/functions", fnBody("quiet", guestWasm(t, "hello-c"), nil), 200)
	ts.mustAPI("POST", "/services/svc/functions/fn/triggers", map[string]any{
		"triggerName": "http", "triggerConfig": map[string]any{"authType": "anonymous", "methods": []string{"GET"}},
	}, 200)
	var ids []string
	for range 3 {
		res, _ := ts.get("GET", "/2016-08-15/proxy/svc/fn/", nil)
		if res.StatusCode != 502 {
			t.Fatalf("trap: status %d", res.StatusCode)
		}
		ids = append(ids, res.Header.Get("X-Fc-Request-Id"))
	}
	if err := ts.logs.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	type page struct {
		Invocations []host.Invocation `json:"invocations"`
		NextToken   string            `json:"nextToken"`
	}
	const path = "/services/svc/functions/fn/invocation-logs"

	all := decodeAs[page](t, ts.mustAPI("GET", path, nil, 200))
	if len(all.Invocations) != 3 || all.NextToken != "" {
		t.Fatalf("all: %+v", all)
	}
	for i, inv := range all.Invocations { // newest first
		if inv.RequestID != ids[2-i] || inv.ErrorKind != "trap" || inv.ServiceName != "svc" || inv.FunctionName != "fn" {
			t.Errorf("record %d: %+v", i, inv)
		}
	}
	b := ts.mustAPI("GET", path+"?limit=2", nil, 200)
	if got := jsonKeys(t, b); got != "invocations,nextToken" {
		t.Errorf("keys %s", got)
	}
	p1 := decodeAs[page](t, b)
	p2 := decodeAs[page](t, ts.mustAPI("GET", path+"?limit=2&nextToken="+p1.NextToken, nil, 200))
	if len(p1.Invocations) != 2 || len(p2.Invocations) != 1 || p2.NextToken != "" || p2.Invocations[0].RequestID != ids[0] {
		t.Errorf("pages: %+v / %+v", p1, p2)
	}
	one := decodeAs[page](t, ts.mustAPI("GET", path+"?requestId="+ids[1], nil, 200))
	if len(one.Invocations) != 1 || one.Invocations[0].RequestID != ids[1] {
		t.Errorf("by request id: %+v", one)
	}
	if got := jsonKeys(t, ts.mustAPI("GET", "/services/svc/functions/quiet/invocation-logs", nil, 200)); got != "invocations" {
		t.Errorf("empty: keys %s", got)
	}
	if got := string(ts.mustAPI("GET", "/services/svc/functions/quiet/invocation-logs", nil, 200)); got != "{\"invocations\":[]}\n" {
		t.Errorf("empty: %s", got)
	}

	for _, c := range []errCase{
		{name: "unknown function", method: "GET", path: "/services/svc/functions/nope/invocation-logs", status: 404, code: "FunctionNotFound"},
		{name: "unknown service", method: "GET", path: "/services/nosvc/functions/fn/invocation-logs", status: 404, code: "ServiceNotFound"},
		{name: "bad limit", method: "GET", path: path + "?limit=many", status: 400, code: "InvalidArgument", msg: "limit"},
		{name: "negative limit", method: "GET", path: path + "?limit=-2", status: 400, code: "InvalidArgument", msg: "limit"},
		{name: "bad token", method: "GET", path: path + "?nextToken=zzz", status: 400, code: "InvalidArgument", msg: "nextToken"},
		{name: "method", method: "POST", path: path, status: 405, code: "MethodNotAllowed"},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, ts) })
	}
}

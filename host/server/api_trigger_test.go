package server

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

type triggerJSON struct {
	TriggerName   string `json:"triggerName"`
	TriggerID     string `json:"triggerID"`
	Description   string `json:"description"`
	TriggerType   string `json:"triggerType"`
	TriggerConfig struct {
		AuthType           string   `json:"authType"`
		Methods            []string `json:"methods"`
		DisableURLInternet bool     `json:"disableURLInternet"`
	} `json:"triggerConfig"`
	CreatedTime      string `json:"createdTime"`
	LastModifiedTime string `json:"lastModifiedTime"`
}

const triggerPath = "/services/svc/functions/fn/triggers"

func TestTriggerCRUD(t *testing.T) {
	ts := startServer(t)
	ts.mustAPI("POST", "/services", map[string]string{"serviceName": "svc"}, 200)
	ts.mustAPI("POST", "/services/svc/functions", fnBody("fn", guestWasm(t, "hello-c"), nil), 200)
	proxy := func(method string) int {
		t.Helper()
		res, _ := ts.get(method, "/2016-08-15/proxy/svc/fn/x", nil)
		return res.StatusCode
	}
	if got := proxy("GET"); got != 404 {
		t.Errorf("before the trigger: %d, want 404", got)
	}

	b := ts.mustAPI("POST", triggerPath, map[string]any{
		"triggerName": "web", "triggerType": "http", "description": "d", "qualifier": "LATEST", "sourceArn": "ignored",
		"triggerConfig": map[string]any{"authType": "Anonymous", "methods": []string{"get", "POST", "Get"}},
	}, 200)
	if got, want := jsonKeys(t, b), "createdTime,description,lastModifiedTime,triggerConfig,triggerID,triggerName,triggerType"; got != want {
		t.Errorf("keys %s, want %s", got, want)
	}
	var cfg map[string]json.RawMessage
	json.Unmarshal(decodeAs[map[string]json.RawMessage](t, b)["triggerConfig"], &cfg)
	if got := string(cfg["methods"]) + " " + string(cfg["authType"]) + " " + string(cfg["disableURLInternet"]); got != `["GET","POST"] "anonymous" false` {
		t.Errorf("triggerConfig %s", got)
	}
	tr := decodeAs[triggerJSON](t, b)
	if tr.TriggerName != "web" || tr.TriggerType != "http" || tr.TriggerID == "" || tr.Description != "d" || tr.CreatedTime == "" {
		t.Errorf("create: %s", b)
	}
	if got := ts.mustAPI("GET", triggerPath+"/web", nil, 200); !bytes.Equal(got, b) {
		t.Errorf("get: %s, want %s", got, b)
	}
	if got := proxy("GET"); got != 200 {
		t.Errorf("anonymous GET: %d", got)
	}
	if got := proxy("PUT"); got != 403 {
		t.Errorf("PUT not in methods: %d, want 403", got)
	}

	// triggerConfig as a JSON string; fields not sent stay.
	up := decodeAs[triggerJSON](t, ts.mustAPI("PUT", triggerPath+"/web", map[string]any{
		"triggerConfig": `{"methods": ["PUT"], "disableURLInternet": false}`,
	}, 200))
	if up.TriggerConfig.AuthType != "anonymous" || strings.Join(up.TriggerConfig.Methods, ",") != "PUT" || up.TriggerID != tr.TriggerID || up.Description != "d" {
		t.Errorf("update: %+v", up)
	}
	if got := proxy("PUT"); got != 200 {
		t.Errorf("PUT after update: %d", got)
	}
	if got := proxy("GET"); got != 403 {
		t.Errorf("GET after update: %d, want 403", got)
	}
	up = decodeAs[triggerJSON](t, ts.mustAPI("PUT", triggerPath+"/web", map[string]any{
		"description": "", "triggerType": "http", "triggerConfig": map[string]any{"authType": "function"},
	}, 200))
	if up.TriggerConfig.AuthType != "function" || up.Description != "" {
		t.Errorf("update: %+v", up)
	}
	if got := proxy("PUT"); got != 400 { // unsigned request to a function-auth trigger
		t.Errorf("unsigned PUT to function auth: %d, want 400", got)
	}
	ts.mustAPI("PUT", triggerPath+"/web", map[string]any{"triggerConfig": map[string]any{"disableURLInternet": true, "authType": "anonymous"}}, 200)
	if got := proxy("PUT"); got != 403 {
		t.Errorf("disableURLInternet: %d, want 403", got)
	}

	lb := ts.mustAPI("GET", triggerPath, nil, 200)
	l := decodeAs[struct{ Triggers []triggerJSON }](t, lb)
	if jsonKeys(t, lb) != "triggers" || len(l.Triggers) != 1 || l.Triggers[0].TriggerName != "web" {
		t.Errorf("list: %s", lb)
	}

	res, body := ts.api("DELETE", triggerPath+"/web", nil)
	if res.StatusCode != 204 || len(body) != 0 {
		t.Fatalf("delete: %d %q", res.StatusCode, body)
	}
	errCase{method: "GET", path: triggerPath + "/web", status: 404, code: "TriggerNotFound"}.run(t, ts)
	if got := proxy("PUT"); got != 404 {
		t.Errorf("after delete: %d, want 404", got)
	}
	if got := string(bytes.TrimSpace(ts.mustAPI("GET", triggerPath, nil, 200))); got != `{"triggers":[]}` {
		t.Errorf("empty list: %s", got)
	}

	// Defaults: authType function, type http.
	d := decodeAs[triggerJSON](t, ts.mustAPI("POST", triggerPath, map[string]any{
		"triggerName": "again", "triggerConfig": map[string]any{"methods": []string{"GET"}},
	}, 200))
	if d.TriggerType != "http" || d.TriggerConfig.AuthType != "function" {
		t.Errorf("defaults: %+v", d)
	}
	// Deleting the function deletes its trigger.
	ts.mustAPI("DELETE", "/services/svc/functions/fn", nil, 204)
	ts.mustAPI("POST", "/services/svc/functions", fnBody("fn", guestWasm(t, "hello-c"), nil), 200)
	if got := string(bytes.TrimSpace(ts.mustAPI("GET", triggerPath, nil, 200))); got != `{"triggers":[]}` {
		t.Errorf("triggers of a re-created function: %s", got)
	}
}

func TestTriggerBadInput(t *testing.T) {
	ts := startServer(t)
	ts.mustAPI("POST", "/services", map[string]string{"serviceName": "svc"}, 200)
	ts.mustAPI("POST", "/services/svc/functions", fnBody("fn", guestWasm(t, "hello-c"), nil), 200)
	ts.mustAPI("POST", triggerPath, map[string]any{"triggerName": "web", "triggerType": "http",
		"triggerConfig": map[string]any{"authType": "anonymous", "methods": []string{"GET"}}}, 200)
	before := ts.mustAPI("GET", triggerPath, nil, 200)

	body := func(name string, cfg any, extra ...any) map[string]any {
		m := map[string]any{"triggerName": name, "triggerType": "http", "triggerConfig": cfg}
		for i := 0; i+1 < len(extra); i += 2 {
			if extra[i+1] == nil {
				delete(m, extra[i].(string))
			} else {
				m[extra[i].(string)] = extra[i+1]
			}
		}
		return m
	}
	get := map[string]any{"methods": []string{"GET"}}
	create := func(name string, b any, status int, code, msg string) errCase {
		return errCase{name: "create " + name, method: "POST", path: triggerPath, body: b, status: status, code: code, msg: msg}
	}
	update := func(name string, b any, status int, code, msg string) errCase {
		return errCase{name: "update " + name, method: "PUT", path: triggerPath + "/web", body: b, status: status, code: code, msg: msg}
	}
	const bad = "InvalidArgument"
	for _, c := range []errCase{
		create("malformed JSON", []byte(`{"triggerName": "t2"`), 400, bad, "invalid JSON"),
		create("name not string", body("t2", get, "triggerName", 3), 400, bad, "triggerName"),
		create("missing name", body("t2", get, "triggerName", nil), 400, bad, "triggerName is required"),
		create("invalid name", body("t 2", get), 400, bad, "invalid name"),
		create("timer type", body("t2", get, "triggerType", "timer"), 400, bad, "only http triggers are supported"),
		create("oss type", body("t2", get, "triggerType", "oss"), 400, bad, "only http triggers are supported"),
		create("qualifier", body("t2", get, "qualifier", "1"), 400, bad, "qualifier"),
		create("missing config", body("t2", nil), 400, bad, "methods is required"),
		create("config number", body("t2", 5), 400, bad, "triggerConfig must be an object"),
		create("config bad string", body("t2", "not json"), 400, bad, "triggerConfig must be an object"),
		create("config string bad JSON", body("t2", `{"methods": [`), 400, bad, "invalid triggerConfig"),
		create("config string bad type", body("t2", `{"methods": "GET"}`), 400, bad, "methods must be an array"),
		create("missing methods", body("t2", map[string]any{"authType": "anonymous"}), 400, bad, "methods is required"),
		create("empty methods", body("t2", map[string]any{"methods": []string{}}), 400, bad, "at least one"),
		create("unknown method", body("t2", map[string]any{"methods": []string{"GET", "FETCH"}}), 400, bad, `"FETCH"`),
		create("methods not array", body("t2", map[string]any{"methods": "GET"}), 400, bad, "methods must be an array"),
		create("bad auth", body("t2", map[string]any{"methods": []string{"GET"}, "authType": "jwt"}), 400, bad, `"jwt"`),
		create("auth not string", body("t2", map[string]any{"methods": []string{"GET"}, "authType": true}), 400, bad, "authType"),
		create("disable not bool", body("t2", map[string]any{"methods": []string{"GET"}, "disableURLInternet": "yes"}), 400, bad, "disableURLInternet"),
		create("long description", body("t2", get, "description", strings.Repeat("x", 300)), 400, bad, "description"),
		create("second http trigger", body("t2", get), 409, "TriggerAlreadyExists", "only one"),
		create("duplicate name", body("web", get), 409, "TriggerAlreadyExists", "web"),
		{name: "create on unknown function", method: "POST", path: "/services/svc/functions/nope/triggers", body: body("t2", get), status: 404, code: "FunctionNotFound"},
		{name: "create on unknown service", method: "POST", path: "/services/nosvc/functions/fn/triggers", body: body("t2", get), status: 404, code: "ServiceNotFound"},
		update("malformed JSON", []byte(`[`), 400, bad, "invalid JSON"),
		update("type change", map[string]any{"triggerType": "timer"}, 400, bad, "triggerType cannot change"),
		update("rename", map[string]any{"triggerName": "other"}, 400, bad, "cannot change"),
		update("empty methods", map[string]any{"triggerConfig": map[string]any{"methods": []string{}}}, 400, bad, "at least one"),
		update("bad method", map[string]any{"triggerConfig": map[string]any{"methods": []string{"TRACE"}}}, 400, bad, "TRACE"),
		update("bad auth", map[string]any{"triggerConfig": `{"authType": "none"}`}, 400, bad, "authType"),
		update("qualifier", map[string]any{"qualifier": "prod"}, 400, bad, "qualifier"),
		{name: "update unknown", method: "PUT", path: triggerPath + "/nope", body: map[string]any{"description": "x"}, status: 404, code: "TriggerNotFound"},
		{name: "get unknown", method: "GET", path: triggerPath + "/nope", status: 404, code: "TriggerNotFound"},
		{name: "get on unknown function", method: "GET", path: "/services/svc/functions/nope/triggers/web", status: 404, code: "FunctionNotFound"},
		{name: "delete unknown", method: "DELETE", path: triggerPath + "/nope", status: 404, code: "TriggerNotFound"},
		{name: "list unknown function", method: "GET", path: "/services/svc/functions/nope/triggers", status: 404, code: "FunctionNotFound"},
		{name: "list bad limit", method: "GET", path: triggerPath + "?limit=x", status: 400, code: bad, msg: "limit"},
		{name: "qualified path", method: "GET", path: "/services/svc.LATEST/functions/fn/triggers", status: 400, code: bad, msg: "qualifier"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, ts)
			if got := ts.mustAPI("GET", triggerPath, nil, 200); !bytes.Equal(got, before) {
				t.Errorf("triggers changed:\n%s\nwas\n%s", got, before)
			}
		})
	}
	// The trigger still serves as before.
	if res, b := ts.get("GET", "/2016-08-15/proxy/svc/fn/", nil); res.StatusCode != 200 || string(b) != "hello world" {
		t.Errorf("trigger after rejected changes: %d %q", res.StatusCode, b)
	}
}

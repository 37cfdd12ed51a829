package server

// Management API: HTTP triggers. fnhost serves only triggerType "http",
// at most one per function (the store refuses a second with a 409), for
// the LATEST qualifier.

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"github.com/fnhost/fnhost/host"
	"github.com/valyala/fasthttp"
)

// httpMethods are the methods an HTTP trigger may allow (FC's list).
var httpMethods = []string{"HEAD", "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}

// triggerInput is the body of CreateTrigger and UpdateTrigger. FC's other
// fields (sourceArn, invocationRole) are accepted and ignored.
type triggerInput struct {
	TriggerName *string `json:"triggerName"`
	Description *string `json:"description"`
	TriggerType *string `json:"triggerType"`
	Qualifier   *string `json:"qualifier"`
	// TriggerConfig is an object, or a string holding one (some FC tools
	// send it that way).
	TriggerConfig json.RawMessage `json:"triggerConfig"`
}

// triggerConfigInput is an HTTP triggerConfig; pointers mark the fields
// that were sent.
type triggerConfigInput struct {
	AuthType           *string   `json:"authType"`
	Methods            *[]string `json:"methods"`
	DisableURLInternet *bool     `json:"disableURLInternet"`
}

type triggerList struct {
	Triggers  []host.Trigger `json:"triggers"`
	NextToken string         `json:"nextToken,omitempty"`
}

// parseTriggerConfig decodes and checks triggerConfig; nil when absent or
// null. authType comes back canonical (lower case) when set, methods
// upper-cased without duplicates.
func parseTriggerConfig(raw json.RawMessage) (*triggerConfigInput, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badRequest("invalid triggerConfig: %s", jsonErrorText(err))
		}
		raw = bytes.TrimSpace([]byte(s))
	}
	if len(raw) == 0 || raw[0] != '{' {
		return nil, badRequest(`triggerConfig must be an object (or a string holding one): {"authType": "function"|"anonymous", "methods": [...]}`)
	}
	var c triggerConfigInput
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, badRequest("invalid triggerConfig: %s", jsonErrorText(err))
	}
	if c.AuthType != nil && *c.AuthType != "" {
		switch {
		case strings.EqualFold(*c.AuthType, host.AuthFunction):
			*c.AuthType = host.AuthFunction
		case strings.EqualFold(*c.AuthType, host.AuthAnonymous):
			*c.AuthType = host.AuthAnonymous
		default:
			return nil, badRequest("triggerConfig.authType %s is not supported: use %q or %q",
				quoteBounded(*c.AuthType), host.AuthFunction, host.AuthAnonymous)
		}
	}
	if c.Methods != nil {
		ms, err := normalizeMethods(*c.Methods)
		if err != nil {
			return nil, err
		}
		c.Methods = &ms
	}
	return &c, nil
}

func normalizeMethods(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, badRequest("triggerConfig.methods must list at least one of %s", strings.Join(httpMethods, ", "))
	}
	out := make([]string, 0, min(len(in), len(httpMethods)))
	for _, m := range in {
		u := strings.ToUpper(m)
		if !slices.Contains(httpMethods, u) {
			return nil, badRequest("triggerConfig.methods: %s is not one of %s", quoteBounded(m), strings.Join(httpMethods, ", "))
		}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out, nil
}

// apply sets the fields of c that were sent on tc. An empty authType
// counts as not sent.
func (c *triggerConfigInput) apply(tc *host.HTTPTriggerConfig) {
	if c.AuthType != nil && *c.AuthType != "" {
		tc.AuthType = *c.AuthType
	}
	if c.Methods != nil {
		tc.Methods = slices.Clone(*c.Methods)
	}
	if c.DisableURLInternet != nil {
		tc.DisableURLInternet = *c.DisableURLInternet
	}
}

func checkQualifier(q *string) error {
	if q != nil && *q != "" && *q != qualifierLatest {
		return badRequest("qualifier %s is not supported: fnhost serves %s only", quoteBounded(*q), qualifierLatest)
	}
	return nil
}

func (s *Server) createTrigger(ctx *fasthttp.RequestCtx, svc, fn string) error {
	var in triggerInput
	if err := decodeJSON(ctx, &in); err != nil {
		return err
	}
	if in.TriggerName == nil {
		return badRequest("triggerName is required")
	}
	if err := checkName("triggerName", *in.TriggerName); err != nil {
		return err
	}
	if in.TriggerType != nil && *in.TriggerType != "" && *in.TriggerType != host.TriggerTypeHTTP {
		return badRequest("triggerType %s: only http triggers are supported", quoteBounded(*in.TriggerType))
	}
	if err := checkQualifier(in.Qualifier); err != nil {
		return err
	}
	if err := checkDescription(in.Description); err != nil {
		return err
	}
	c, err := parseTriggerConfig(in.TriggerConfig)
	if err != nil {
		return err
	}
	if c == nil || c.Methods == nil {
		return badRequest(`triggerConfig.methods is required: triggerConfig is {"authType": "function"|"anonymous", "methods": ["GET", …], "disableURLInternet": false}`)
	}
	t := host.Trigger{
		ServiceName:   svc,
		FunctionName:  fn,
		TriggerName:   *in.TriggerName,
		TriggerType:   host.TriggerTypeHTTP,
		TriggerConfig: host.HTTPTriggerConfig{AuthType: host.AuthFunction}, // FC's default
	}
	if in.Description != nil {
		t.Description = *in.Description
	}
	c.apply(&t.TriggerConfig)
	rec, err := s.cfg.Store.CreateTrigger(t)
	if err != nil {
		return err
	}
	s.cfg.Invoker.Invalidate(svc, fn)
	return writeJSON(ctx, 200, rec)
}

func (s *Server) getTrigger(ctx *fasthttp.RequestCtx, svc, fn, trg string) error {
	rec, err := s.cfg.Store.GetTrigger(svc, fn, trg)
	if err != nil {
		return err
	}
	return writeJSON(ctx, 200, rec)
}

func (s *Server) updateTrigger(ctx *fasthttp.RequestCtx, svc, fn, trg string) error {
	var in triggerInput
	if err := decodeJSON(ctx, &in); err != nil {
		return err
	}
	if in.TriggerName != nil && *in.TriggerName != "" && *in.TriggerName != trg {
		return badRequest("triggerName cannot change (the path names %s)", quoteBounded(trg))
	}
	if in.TriggerType != nil && *in.TriggerType != "" && *in.TriggerType != host.TriggerTypeHTTP {
		return badRequest("triggerType cannot change: %s is an http trigger, and only http triggers are supported", quoteBounded(trg))
	}
	if err := checkQualifier(in.Qualifier); err != nil {
		return err
	}
	if err := checkDescription(in.Description); err != nil {
		return err
	}
	c, err := parseTriggerConfig(in.TriggerConfig)
	if err != nil {
		return err
	}
	rec, err := s.cfg.Store.UpdateTrigger(svc, fn, trg, func(t *host.Trigger) error {
		if in.Description != nil {
			t.Description = *in.Description
		}
		if c != nil {
			c.apply(&t.TriggerConfig)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.cfg.Invoker.Invalidate(svc, fn)
	return writeJSON(ctx, 200, rec)
}

func (s *Server) deleteTrigger(ctx *fasthttp.RequestCtx, svc, fn, trg string) error {
	if err := s.cfg.Store.DeleteTrigger(svc, fn, trg); err != nil {
		return err
	}
	s.cfg.Invoker.Invalidate(svc, fn)
	return writeNoContent(ctx)
}

func (s *Server) listTriggers(ctx *fasthttp.RequestCtx, svc, fn string) error {
	o, err := listOptions(ctx)
	if err != nil {
		return err
	}
	recs, next, err := s.cfg.Store.ListTriggers(svc, fn, o)
	if err != nil {
		return err
	}
	if recs == nil {
		recs = []host.Trigger{}
	}
	return writeJSON(ctx, 200, triggerList{Triggers: recs, NextToken: next})
}

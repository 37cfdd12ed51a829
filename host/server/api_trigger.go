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
	"github.com/fnhost/fnhost/host/auth"
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

	// fnhost's extensions (trigger_auth.go). Each is replaced whole when
	// sent; null (or [] for the lists) removes it.
	AuthConfig optionalJSON `json:"authConfig"`
	IPAllow    optionalJSON `json:"ipAllow"`
	IPDeny     optionalJSON `json:"ipDeny"`
	CORSConfig optionalJSON `json:"corsConfig"`

	// Decoded from the above by parseTriggerConfig.
	authConfig      *host.TriggerAuthConfig
	ipAllow, ipDeny []string
	corsConfig      *host.CORSConfig
}

// optionalJSON records whether a field was sent, and its JSON unless null.
type optionalJSON struct {
	set bool
	raw json.RawMessage
}

func (o *optionalJSON) UnmarshalJSON(b []byte) error {
	o.set = true
	if string(b) != "null" {
		o.raw = append(o.raw[:0], b...)
	}
	return nil
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
		case strings.EqualFold(*c.AuthType, host.AuthJWT):
			*c.AuthType = host.AuthJWT
		case strings.EqualFold(*c.AuthType, host.AuthBasic):
			*c.AuthType = host.AuthBasic
		default:
			return nil, badRequest("triggerConfig.authType %s is not supported: use %q, %q, %q or %q",
				quoteBounded(*c.AuthType), host.AuthFunction, host.AuthAnonymous, host.AuthJWT, host.AuthBasic)
		}
	}
	if c.Methods != nil {
		ms, err := normalizeMethods(*c.Methods)
		if err != nil {
			return nil, err
		}
		c.Methods = &ms
	}
	if err := c.decodeExtensions(); err != nil {
		return nil, err
	}
	return &c, nil
}

// decodeExtensions decodes the extension fields that were sent, strictly
// (unknown fields are errors, to catch misspellings). authConfig,
// corsConfig and authConfig.jwks may be objects or strings holding one,
// as FC 3.0 sends them. Their contents are checked later, on the whole
// config (checkTriggerConfig).
func (c *triggerConfigInput) decodeExtensions() error {
	if raw := c.AuthConfig.raw; raw != nil {
		var a host.TriggerAuthConfig
		if err := decodeObject("triggerConfig.authConfig", raw, &a); err != nil {
			return err
		}
		if len(a.JWKS) > 0 {
			jwks, err := objectJSON("triggerConfig.authConfig.jwks", a.JWKS)
			if err != nil {
				return err
			}
			a.JWKS = jwks
		}
		c.authConfig = &a
	}
	for _, l := range [...]struct {
		name string
		in   optionalJSON
		out  *[]string
	}{{"ipAllow", c.IPAllow, &c.ipAllow}, {"ipDeny", c.IPDeny, &c.ipDeny}} {
		if l.in.raw == nil {
			continue
		}
		if err := json.Unmarshal(l.in.raw, l.out); err != nil {
			return badRequest("triggerConfig.%s must be an array of strings (CIDR prefixes or addresses)", l.name)
		}
		if len(*l.out) == 0 {
			*l.out = nil
		}
	}
	if raw := c.CORSConfig.raw; raw != nil {
		var cc host.CORSConfig
		if err := decodeObject("triggerConfig.corsConfig", raw, &cc); err != nil {
			return err
		}
		c.corsConfig = &cc
	}
	return nil
}

// objectJSON returns raw, a JSON object or a string holding one, as a
// compact object.
func objectJSON(field string, raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badRequest("invalid %s: %s", field, jsonErrorText(err))
		}
		raw = bytes.TrimSpace([]byte(s))
	}
	if len(raw) == 0 || raw[0] != '{' || !json.Valid(raw) {
		return nil, badRequest("%s must be a JSON object (or a string holding one)", field)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, badRequest("invalid %s: %s", field, jsonErrorText(err))
	}
	return b.Bytes(), nil
}

// decodeObject decodes raw (an object or a string holding one) into v,
// refusing unknown fields.
func decodeObject(field string, raw json.RawMessage, v any) error {
	obj, err := objectJSON(field, raw)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("invalid %s: %s", field, jsonErrorText(err))
	}
	return nil
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
// counts as not sent. Switching to an auth type without authConfig
// (function, anonymous) drops the stored authConfig unless one is sent.
func (c *triggerConfigInput) apply(tc *host.HTTPTriggerConfig) {
	if c.AuthType != nil && *c.AuthType != "" {
		tc.AuthType = *c.AuthType
		if (tc.AuthType == host.AuthFunction || tc.AuthType == host.AuthAnonymous) && !c.AuthConfig.set {
			tc.AuthConfig = nil
		}
	}
	if c.AuthConfig.set {
		tc.AuthConfig = c.authConfig
	}
	if c.IPAllow.set {
		tc.IPAllow = slices.Clone(c.ipAllow)
	}
	if c.IPDeny.set {
		tc.IPDeny = slices.Clone(c.ipDeny)
	}
	if c.CORSConfig.set {
		tc.CORSConfig = c.corsConfig
	}
	if c.Methods != nil {
		tc.Methods = slices.Clone(*c.Methods)
	}
	if c.DisableURLInternet != nil {
		tc.DisableURLInternet = *c.DisableURLInternet
	}
}

// checkTriggerConfig checks the extensions of a whole trigger config (after
// apply), as the trigger path will compile them: a 400 naming the field.
// Nothing is fetched (a jwksUrl is only checked for form).
func checkTriggerConfig(tc *host.HTTPTriggerConfig) error {
	if !hasPolicy(tc) {
		return nil
	}
	if _, err := compilePolicy(tc, &auth.JWKSCache{}, nil); err != nil {
		return badRequest("triggerConfig.%v", err)
	}
	return nil
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
	if err := checkTriggerConfig(&t.TriggerConfig); err != nil {
		return err
	}
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
			return checkTriggerConfig(&t.TriggerConfig) // a 400 through the store
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

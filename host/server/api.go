package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/auth"
	"github.com/valyala/fasthttp"
)

// serveAPI answers the management API; path is the request path after
// "/2016-08-15" (e.g. "/services/demo/functions"). Every call is signed.
func (s *Server) serveAPI(ctx *fasthttp.RequestCtx, path string) {
	setRequestID(ctx, host.NewRequestID())
	seg := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(seg) > 0 && seg[len(seg)-1] == "" { // tolerate one trailing slash
		seg = seg[:len(seg)-1]
	}
	// The code download link is a presigned URL (GetFunctionCode hands it
	// out); it is signed over the query like a trigger URL.
	presigned := len(seg) == 6 && seg[0] == "services" && seg[2] == "functions" && seg[4] == "code" && seg[5] == "download"
	if err := s.verifyAPI(ctx, presigned); err != nil {
		var ae *auth.Error
		if errors.As(err, &ae) && errors.Is(err, auth.ErrMissingRequiredHeader) {
			// Triggers answer 400 here (the seed's table); the management
			// API is never anonymous and answers 403, as FC's signature
			// documentation says for a missing Authorization.
			err = newAPIError(403, CodeAccessDenied, "the request is not signed: the management API needs "+
				"Date and Authorization: FC <AccessKeyID>:<Signature> ("+ae.Message+")")
		}
		s.writeError(ctx, err, false)
		return
	}
	if err := s.route(ctx, seg); err != nil {
		s.writeError(ctx, err, false)
	}
}

func (s *Server) verifyAPI(ctx *fasthttp.RequestCtx, presigned bool) error {
	return s.verifier.Verify(&auth.Request{
		Method:   string(ctx.Method()),
		Path:     string(ctx.Path()),
		RawQuery: string(ctx.URI().QueryString()),
		Header:   fastHeader{&ctx.Request.Header},
		Trigger:  presigned,
	})
}

var errNoRoute = newAPIError(404, CodePathNotSupported, "no such API path")

// route dispatches a signed management request. Paths follow FC 2016-08-15
// (fc-compat.md §2); a qualifier ({svc}.LATEST) is accepted where FC
// accepts one, on reads and invocations.
func (s *Server) route(ctx *fasthttp.RequestCtx, seg []string) error {
	m := string(ctx.Method())
	if len(seg) == 0 || seg[0] != "services" {
		return errNoRoute
	}
	if len(seg) == 1 {
		switch m {
		case "POST":
			return s.createService(ctx)
		case "GET":
			return s.listServices(ctx)
		}
		return methodNotAllowed(m, "POST, GET")
	}
	svc, qualified, err := serviceSegment(seg[1])
	if err != nil {
		return err
	}
	writeOK := func() error {
		if qualified {
			return newAPIError(400, CodeInvalidArgument, "a qualifier is accepted only on reads and invocations")
		}
		return nil
	}
	switch {
	case len(seg) == 2:
		switch m {
		case "GET":
			return s.getService(ctx, svc)
		case "PUT":
			if err := writeOK(); err != nil {
				return err
			}
			return s.updateService(ctx, svc)
		case "DELETE":
			if err := writeOK(); err != nil {
				return err
			}
			return s.deleteService(ctx, svc)
		}
		return methodNotAllowed(m, "GET, PUT, DELETE")
	case seg[2] != "functions":
		return errNoRoute
	case len(seg) == 3:
		switch m {
		case "POST":
			if err := writeOK(); err != nil {
				return err
			}
			return s.createFunction(ctx, svc)
		case "GET":
			return s.listFunctions(ctx, svc)
		}
		return methodNotAllowed(m, "POST, GET")
	}
	fn := seg[3]
	switch {
	case len(seg) == 4:
		switch m {
		case "GET":
			return s.getFunction(ctx, svc, fn)
		case "PUT":
			if err := writeOK(); err != nil {
				return err
			}
			return s.updateFunction(ctx, svc, fn)
		case "DELETE":
			if err := writeOK(); err != nil {
				return err
			}
			return s.deleteFunction(ctx, svc, fn)
		}
		return methodNotAllowed(m, "GET, PUT, DELETE")
	case len(seg) == 5 && seg[4] == "code" && m == "GET":
		return s.getFunctionCode(ctx, svc, fn)
	case len(seg) == 6 && seg[4] == "code" && seg[5] == "download" && m == "GET":
		return s.downloadCode(ctx, svc, fn)
	case len(seg) == 5 && seg[4] == "invocations":
		if m != "POST" {
			return methodNotAllowed(m, "POST")
		}
		return s.invokeFunction(ctx, svc, fn)
	case len(seg) == 5 && seg[4] == "invocation-logs":
		if m != "GET" {
			return methodNotAllowed(m, "GET")
		}
		return s.listInvocationLogs(ctx, svc, fn)
	case len(seg) == 5 && seg[4] == "async-invoke-config":
		switch m {
		case "PUT":
			return s.putAsyncConfig(ctx, svc, fn)
		case "GET":
			return s.getAsyncConfig(ctx, svc, fn)
		case "DELETE":
			return s.deleteAsyncConfig(ctx, svc, fn)
		}
		return methodNotAllowed(m, "PUT, GET, DELETE")
	case len(seg) == 5 && seg[4] == "async-invoke-configs":
		if m != "GET" {
			return methodNotAllowed(m, "GET")
		}
		return s.listAsyncConfigs(ctx, svc, fn)
	case len(seg) == 5 && seg[4] == "stateful-async-invocations":
		if m != "GET" {
			return methodNotAllowed(m, "GET")
		}
		return s.listJobs(ctx, svc, fn)
	case len(seg) == 6 && seg[4] == "stateful-async-invocations":
		switch m {
		case "GET":
			return s.getJob(ctx, svc, fn, seg[5])
		case "PUT":
			return s.stopJob(ctx, svc, fn, seg[5])
		}
		return methodNotAllowed(m, "GET, PUT")
	case seg[4] != "triggers":
		return errNoRoute
	}
	if err := writeOK(); err != nil {
		return err
	}
	switch len(seg) {
	case 5:
		switch m {
		case "POST":
			return s.createTrigger(ctx, svc, fn)
		case "GET":
			return s.listTriggers(ctx, svc, fn)
		}
		return methodNotAllowed(m, "POST, GET")
	case 6:
		trg := seg[5]
		switch m {
		case "GET":
			return s.getTrigger(ctx, svc, fn, trg)
		case "PUT":
			return s.updateTrigger(ctx, svc, fn, trg)
		case "DELETE":
			return s.deleteTrigger(ctx, svc, fn, trg)
		}
		return methodNotAllowed(m, "GET, PUT, DELETE")
	}
	return errNoRoute
}

// serviceSegment splits "{svc}[.{qualifier}]"; only LATEST is served.
func serviceSegment(s string) (svc string, qualified bool, err error) {
	svc, q, qualified := strings.Cut(s, ".")
	if qualified && q != qualifierLatest {
		return "", false, newAPIError(404, "VersionNotFound",
			"version or alias "+strconv.Quote(q)+" not found: fnhost serves LATEST only")
	}
	return svc, qualified, nil
}

func methodNotAllowed(m, allowed string) error {
	return newAPIError(405, CodeMethodNotAllowed, "method "+m+" is not allowed on this path (allowed: "+allowed+")")
}

// decodeJSON decodes the request body into v. Unknown fields are ignored
// (FC SDKs send fields fnhost does not use); anything else wrong is a 400
// that names the field.
func decodeJSON(ctx *fasthttp.RequestCtx, v any) error {
	body := ctx.Request.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return newAPIError(400, CodeInvalidArgument, "request body is empty; a JSON object is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return newAPIError(400, CodeInvalidArgument, "invalid JSON body: "+jsonErrorText(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return newAPIError(400, CodeInvalidArgument, "invalid JSON body: unexpected data after the JSON object")
	}
	return nil
}

func jsonErrorText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "(body)"
		}
		return fmt.Sprintf("field %s must be %s, not %s", field, jsonTypeName(te.Type.Kind().String()), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v at byte %d", se, se.Offset)
	}
	return err.Error()
}

func jsonTypeName(k string) string {
	switch k {
	case "int", "int64", "int32", "uint64", "uint32", "uint":
		return "an integer"
	case "float64", "float32":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "map", "struct":
		return "an object"
	case "slice":
		return "an array"
	}
	return k
}

// writeJSON answers status with v as JSON.
func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return &host.Error{Kind: host.KindInternal, Op: "server.writeJSON", Err: err}
	}
	ctx.SetStatusCode(status)
	ctx.Response.Header.SetContentType("application/json")
	ctx.Response.SetBody(append(b, '\n'))
	return nil
}

// invokeFunction is InvokeFunction: the body is the payload, the guest
// sees a POST to "/" with the caller's headers. A function error is FC's
// 200 with X-Fc-Error-Type (a 2xx does not mean success).
func (s *Server) invokeFunction(ctx *fasthttp.RequestCtx, svc, fn string) error {
	if n := len(ctx.Request.Body()); n > s.cfg.Limits.MaxBodyBytes {
		return newAPIError(400, CodeInvalidArgument, "payload is "+strconv.Itoa(n)+" bytes, over the limit of "+strconv.Itoa(s.cfg.Limits.MaxBodyBytes))
	}
	e, err := s.cfg.Invoker.Lookup(ctx, svc, fn)
	if err != nil {
		return err
	}
	c := getCall()
	defer putCall(c)
	if err := s.fillRequest(ctx, c, requestID(ctx), slash, e); err != nil {
		return err
	}
	c.req.Method = methodPOST
	c.req.RawQuery = nil
	if c.async {
		return s.submitAsync(ctx, c, entryInfo{svc, fn, e.Function.Timeout})
	}
	err = s.cfg.Invoker.Invoke(ctx, e, &c.req, &c.res)
	s.writeInvocation(ctx, c, e, err, true)
	return nil
}

var methodPOST = []byte("POST")

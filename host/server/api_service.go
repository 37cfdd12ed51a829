package server

// Management API: services, and the helpers every resource shares (list
// queries and envelopes, field checks).
//
// Every handler validates the whole request before it calls the store, and
// the store writes each change in one transaction, so a rejected request
// leaves nothing behind. Create answers 200 with the stored record (as FC
// does), get and update 200, delete 204 without a body.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fnhost/fnhost/host"
	"github.com/valyala/fasthttp"
)

// MaxDescriptionLen is the longest description of a service, function or
// trigger, in characters (FC's limit).
const MaxDescriptionLen = 256

func badRequest(format string, args ...any) error {
	return newAPIError(400, CodeInvalidArgument, fmt.Sprintf(format, args...))
}

// checkName checks a name from a request body (field names it) with FC's
// naming rule.
func checkName(field, name string) error {
	if name == "" {
		return badRequest("%s is required", field)
	}
	if err := host.ValidName(name); err != nil {
		return badRequest("%s: %v", field, err)
	}
	return nil
}

func checkDescription(d *string) error {
	if d != nil && utf8.RuneCountInString(*d) > MaxDescriptionLen {
		return badRequest("description is %d characters, over the limit of %d", utf8.RuneCountInString(*d), MaxDescriptionLen)
	}
	return nil
}

// listOptions reads FC's list query: prefix, startKey, nextToken, limit.
// The three names are bounded and may not contain '/' (no name does); a
// limit that is not a non-negative integer is a 400.
func listOptions(ctx *fasthttp.RequestCtx) (host.ListOptions, error) {
	q := ctx.QueryArgs()
	o := host.ListOptions{
		Prefix:    string(q.Peek("prefix")),
		StartKey:  string(q.Peek("startKey")),
		NextToken: string(q.Peek("nextToken")),
	}
	for _, p := range [...]struct{ name, v string }{{"prefix", o.Prefix}, {"startKey", o.StartKey}, {"nextToken", o.NextToken}} {
		if len(p.v) > host.MaxNameLen || strings.ContainsAny(p.v, "/\x00") {
			return o, badRequest("query parameter %s must be at most %d characters without '/'", p.name, host.MaxNameLen)
		}
	}
	var err error
	o.Limit, err = queryLimit(ctx)
	return o, err
}

// queryLimit parses the limit query parameter: absent means 0 (the store's
// default page size).
func queryLimit(ctx *fasthttp.RequestCtx) (int, error) {
	v := ctx.QueryArgs().Peek("limit")
	if len(v) == 0 {
		return 0, nil
	}
	n, err := strconv.Atoi(string(v))
	if err != nil || n < 0 {
		return 0, badRequest("query parameter limit must be a non-negative integer, not %s", quoteBounded(string(v)))
	}
	return n, nil
}

// quoteBounded quotes at most the first 64 bytes of s, so a hostile value
// cannot make a huge error message.
func quoteBounded(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "…"
	}
	return strconv.Quote(s)
}

func writeNoContent(ctx *fasthttp.RequestCtx) error {
	ctx.SetStatusCode(fasthttp.StatusNoContent)
	ctx.Response.ResetBody()
	return nil
}

// ---- services ----

// serviceInput is the body of CreateService and UpdateService. FC's other
// service fields (role, logConfig, vpcConfig, …) are accepted and ignored.
type serviceInput struct {
	ServiceName *string `json:"serviceName"`
	Description *string `json:"description"`
}

type serviceList struct {
	Services  []host.Service `json:"services"`
	NextToken string         `json:"nextToken,omitempty"`
}

func (s *Server) createService(ctx *fasthttp.RequestCtx) error {
	var in serviceInput
	if err := decodeJSON(ctx, &in); err != nil {
		return err
	}
	if in.ServiceName == nil {
		return badRequest("serviceName is required")
	}
	if err := checkName("serviceName", *in.ServiceName); err != nil {
		return err
	}
	if err := checkDescription(in.Description); err != nil {
		return err
	}
	svc := host.Service{ServiceName: *in.ServiceName}
	if in.Description != nil {
		svc.Description = *in.Description
	}
	rec, err := s.cfg.Store.CreateService(svc)
	if err != nil {
		return err
	}
	return writeJSON(ctx, 200, rec)
}

func (s *Server) getService(ctx *fasthttp.RequestCtx, svc string) error {
	rec, err := s.cfg.Store.GetService(svc)
	if err != nil {
		return err
	}
	return writeJSON(ctx, 200, rec)
}

func (s *Server) updateService(ctx *fasthttp.RequestCtx, svc string) error {
	var in serviceInput
	if err := decodeJSON(ctx, &in); err != nil {
		return err
	}
	if in.ServiceName != nil && *in.ServiceName != "" && *in.ServiceName != svc {
		return badRequest("serviceName cannot change (the path names %s)", quoteBounded(svc))
	}
	if err := checkDescription(in.Description); err != nil {
		return err
	}
	rec, err := s.cfg.Store.UpdateService(svc, func(r *host.Service) error {
		if in.Description != nil {
			r.Description = *in.Description
		}
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(ctx, 200, rec)
}

func (s *Server) deleteService(ctx *fasthttp.RequestCtx, svc string) error {
	if err := s.cfg.Store.DeleteService(svc); err != nil {
		return notEmptyHint(err)
	}
	return writeNoContent(ctx)
}

// notEmptyHint makes sure a ServiceNotEmpty error tells the caller what to
// do. The store's message is kept when it already says so; otherwise the
// hint is appended and the resource error stays in the chain, so the code
// is still ServiceNotEmpty.
func notEmptyHint(err error) error {
	if host.ErrorKind(err) != host.KindNotEmpty {
		return err
	}
	var rt resourceTyped
	if !errors.As(err, &rt) || strings.Contains(rt.Error(), "delete") {
		return err
	}
	var he *host.Error
	if errors.As(err, &he) && he.Err != nil && strings.Contains(he.Err.Error(), "delete") {
		return err
	}
	return &host.Error{Kind: host.KindNotEmpty, Op: "server.DeleteService",
		Err: fmt.Errorf("%w: it still has functions; delete them first", rt)}
}

func (s *Server) listServices(ctx *fasthttp.RequestCtx) error {
	o, err := listOptions(ctx)
	if err != nil {
		return err
	}
	recs, next, err := s.cfg.Store.ListServices(o)
	if err != nil {
		return err
	}
	if recs == nil {
		recs = []host.Service{}
	}
	return writeJSON(ctx, 200, serviceList{Services: recs, NextToken: next})
}

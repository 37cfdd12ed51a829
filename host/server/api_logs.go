package server

// Management API: invocation logs, fnhost's extension at
// GET /services/{svc}/functions/{fn}/invocation-logs?requestId=&limit=&nextToken=.

import (
	"github.com/fnhost/fnhost/host"
	"github.com/valyala/fasthttp"
)

type invocationList struct {
	Invocations []host.Invocation `json:"invocations"`
	NextToken   string            `json:"nextToken,omitempty"`
}

// listInvocationLogs answers one page of the function's invocation
// records, newest first. The store lists the records of any name, so the
// function is looked up first: a missing one is a 404, as for every other
// function path.
func (s *Server) listInvocationLogs(ctx *fasthttp.RequestCtx, svc, fn string) error {
	limit, err := queryLimit(ctx)
	if err != nil {
		return err
	}
	q := ctx.QueryArgs()
	o := host.InvocationListOptions{
		RequestID: string(q.Peek("requestId")),
		Limit:     limit,
		NextToken: string(q.Peek("nextToken")),
	}
	if _, err := s.cfg.Store.GetFunction(svc, fn); err != nil {
		return err
	}
	recs, next, err := s.cfg.Store.ListInvocations(svc, fn, o)
	if err != nil {
		return err
	}
	if recs == nil {
		recs = []host.Invocation{}
	}
	return writeJSON(ctx, 200, invocationList{Invocations: recs, NextToken: next})
}

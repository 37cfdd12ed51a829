package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/client"
)

var rmCommand = &command{
	name:    "rm",
	args:    "SERVICE/FUNCTION|SERVICE... [flags]",
	summary: "remove a function (with its triggers) or an empty service",
	help: `SERVICE/FUNCTION deletes the function's triggers, then the function.
SERVICE deletes the service; like the server, it refuses while the service
still has functions, unless --force, which first removes them (and their
triggers). Each removed resource is printed.
`,
	flags: func(fs *flag.FlagSet, sio *stdio) func(context.Context, []string) error {
		cf := addClientFlags(fs)
		force := fs.Bool("force", false, "remove a service's functions and triggers first")
		return func(ctx context.Context, args []string) error {
			if len(args) == 0 {
				return usagef("missing SERVICE/FUNCTION or SERVICE")
			}
			var targets []funcRef
			for _, a := range args {
				if strings.Contains(a, "/") {
					r, err := parseFuncRef(a, false)
					if err != nil {
						return err
					}
					targets = append(targets, r)
					continue
				}
				if err := host.ValidName(a); err != nil {
					return usagef("service: %v", err)
				}
				targets = append(targets, funcRef{service: a})
			}
			c, err := cf.newClient(sio)
			if err != nil {
				return err
			}
			rm := &remover{c: c, sio: sio, json: cf.json}
			for _, t := range targets {
				if t.function != "" {
					err = rm.function(ctx, t.service, t.function)
				} else {
					err = rm.service(ctx, t.service, *force)
				}
				if err != nil {
					break
				}
			}
			if cf.json {
				if jerr := printJSON(sio.stdout, map[string]any{"removed": rm.removed}); err == nil {
					err = jerr
				}
			}
			return err
		}
	},
}

// removed is one deleted resource, as `rm --json` prints it.
type removed struct {
	Type string `json:"type"` // service, function or trigger
	Name string `json:"name"` // S, S/F or S/F/T
}

type remover struct {
	c       *client.Client
	sio     *stdio
	json    bool
	removed []removed
}

func (r *remover) done(typ, name string) {
	r.removed = append(r.removed, removed{typ, name})
	if !r.json {
		fmt.Fprintf(r.sio.stdout, "removed %s %s\n", typ, name)
	}
}

func (r *remover) function(ctx context.Context, svc, fn string) error {
	ts, err := allTriggers(ctx, r.c, svc, fn)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if err := r.c.DeleteTrigger(ctx, svc, fn, t.TriggerName); err != nil && !client.IsNotFound(err) {
			return err
		}
		r.done("trigger", svc+"/"+fn+"/"+t.TriggerName)
	}
	if err := r.c.DeleteFunction(ctx, svc, fn); err != nil {
		return err
	}
	r.done("function", svc+"/"+fn)
	return nil
}

func (r *remover) service(ctx context.Context, svc string, force bool) error {
	if force {
		fns, err := allFunctions(ctx, r.c, svc)
		if err != nil {
			return err
		}
		for _, f := range fns {
			if err := r.function(ctx, svc, f.FunctionName); err != nil {
				return err
			}
		}
	}
	if err := r.c.DeleteService(ctx, svc); err != nil {
		return err
	}
	r.done("service", svc)
	return nil
}

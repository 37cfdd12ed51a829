package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/client"
)

var lsCommand = &command{
	name:    "ls",
	args:    "[SERVICE] [flags]",
	summary: "list services, or a service's functions with their trigger URLs",
	flags: func(fs *flag.FlagSet, sio *stdio) func(context.Context, []string) error {
		cf := addClientFlags(fs)
		return func(ctx context.Context, args []string) error {
			if len(args) > 1 {
				return usagef("unexpected arguments: %v", args[1:])
			}
			if len(args) == 1 {
				if err := host.ValidName(args[0]); err != nil {
					return usagef("service: %v", err)
				}
			}
			c, err := cf.newClient(sio)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				return lsServices(ctx, c, sio, cf.json)
			}
			return lsFunctions(ctx, c, sio, args[0], cf.json)
		}
	},
}

// listLimit is the page size the list commands ask for (FC's maximum).
const listLimit = 100

func allServices(ctx context.Context, c *client.Client) ([]host.Service, error) {
	var all []host.Service
	for token := ""; ; {
		page, next, err := c.ListServices(ctx, "", "", token, listLimit)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if next == "" || next == token {
			return all, nil
		}
		token = next
	}
}

func allFunctions(ctx context.Context, c *client.Client, svc string) ([]host.Function, error) {
	var all []host.Function
	for token := ""; ; {
		page, next, err := c.ListFunctions(ctx, svc, "", "", token, listLimit)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if next == "" || next == token {
			return all, nil
		}
		token = next
	}
}

func allTriggers(ctx context.Context, c *client.Client, svc, fn string) ([]host.Trigger, error) {
	var all []host.Trigger
	for token := ""; ; {
		page, next, err := c.ListTriggers(ctx, svc, fn, "", "", token, listLimit)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if next == "" || next == token {
			return all, nil
		}
		token = next
	}
}

func lsServices(ctx context.Context, c *client.Client, sio *stdio, asJSON bool) error {
	svcs, err := allServices(ctx, c)
	if err != nil {
		return err
	}
	if asJSON {
		if svcs == nil {
			svcs = []host.Service{}
		}
		return printJSON(sio.stdout, svcs)
	}
	if len(svcs) == 0 {
		fmt.Fprintln(sio.stderr, "no services")
		return nil
	}
	tw := tabwriter.NewWriter(sio.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tMODIFIED\tDESCRIPTION")
	for _, s := range svcs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.ServiceName, dash(s.LastModifiedTime), s.Description)
	}
	return tw.Flush()
}

// functionRow is one function as `ls SERVICE --json` prints it: FC's
// function fields plus its HTTP trigger.
type functionRow struct {
	host.Function
	ServiceName string `json:"serviceName"`
	URL         string `json:"url,omitempty"`
	AuthType    string `json:"authType,omitempty"`
}

func lsFunctions(ctx context.Context, c *client.Client, sio *stdio, svc string, asJSON bool) error {
	fns, err := allFunctions(ctx, c, svc)
	if err != nil {
		return err
	}
	rows := make([]functionRow, 0, len(fns))
	for _, f := range fns {
		r := functionRow{Function: f, ServiceName: svc}
		ts, err := allTriggers(ctx, c, svc, f.FunctionName)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if t.TriggerType == host.TriggerTypeHTTP || t.TriggerType == "" {
				r.URL, r.AuthType = c.TriggerURL(svc, f.FunctionName), t.TriggerConfig.AuthType
				break
			}
		}
		rows = append(rows, r)
	}
	if asJSON {
		return printJSON(sio.stdout, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintf(sio.stderr, "no functions in service %s\n", svc)
		return nil
	}
	tw := tabwriter.NewWriter(sio.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FUNCTION\tMEMORY\tTIMEOUT\tSIZE\tSHA256\tAUTH\tURL")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.FunctionName,
			orDash(r.MemorySize, "MB"), orDash(r.Timeout, "s"), formatSize(r.CodeSize),
			shortSum(r.CodeChecksum), dash(r.AuthType), dash(r.URL))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orDash(n int, unit string) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n) + unit
}

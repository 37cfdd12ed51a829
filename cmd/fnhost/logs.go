package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/client"
)

// defaultLogLimit is how many invocations logs shows without --limit.
const defaultLogLimit = 20

var logsCommand = &command{
	name:    "logs",
	args:    "SERVICE/FUNCTION [flags]",
	summary: "show a function's recent invocations and what they logged, newest first",
	help: `Each invocation is one line (start time in UTC, request ID, the guest's HTTP
status or the kind of failure, duration, "cold" for a cold start, the error
message) followed by its log, indented. The server keeps a record of the
invocations that logged something or failed.
`,
	flags: func(fs *flag.FlagSet, sio *stdio) func(context.Context, []string) error {
		cf := addClientFlags(fs)
		requestID := fs.String("request-id", "", "show only the invocation with this request `ID`")
		limit := fs.Int("limit", defaultLogLimit, "show at most `N` invocations")
		return func(ctx context.Context, args []string) error {
			arg, err := oneArg(args, "SERVICE/FUNCTION")
			if err != nil {
				return err
			}
			ref, err := parseFuncRef(arg, false)
			if err != nil {
				return err
			}
			if *limit <= 0 {
				return usagef("--limit %d: want a positive number", *limit)
			}
			c, err := cf.newClient(sio)
			if err != nil {
				return err
			}
			invs, err := fetchLogs(ctx, c, ref, *requestID, *limit)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(sio.stdout, invs)
			}
			if len(invs) == 0 {
				fmt.Fprintf(sio.stderr, "no invocations recorded for %s\n", ref)
				return nil
			}
			return writeLogs(sio.stdout, invs)
		}
	},
}

// fetchLogs pages through the invocation records until it has limit of
// them, and returns them newest first.
func fetchLogs(ctx context.Context, c *client.Client, ref funcRef, requestID string, limit int) ([]host.Invocation, error) {
	invs := []host.Invocation{}
	for token := ""; len(invs) < limit; {
		page, next, err := c.ListInvocationLogs(ctx, ref.service, ref.function, client.InvocationLogOptions{
			RequestID: requestID, Limit: min(limit-len(invs), listLimit), NextToken: token,
		})
		if err != nil {
			return nil, err
		}
		invs = append(invs, page...)
		if next == "" || next == token || len(page) == 0 {
			break
		}
		token = next
	}
	if len(invs) > limit {
		invs = invs[:limit]
	}
	slices.SortStableFunc(invs, func(a, b host.Invocation) int { return b.Time.Compare(a.Time) })
	return invs, nil
}

// writeLogs prints invocation records, one header line each and the log
// indented below it.
func writeLogs(w io.Writer, invs []host.Invocation) error {
	var b strings.Builder
	for _, inv := range invs {
		outcome := fmt.Sprint(inv.Status)
		if inv.ErrorKind != "" {
			outcome = inv.ErrorKind
		}
		fmt.Fprintf(&b, "%s  %s  %s  %s", inv.Time.UTC().Format("2006-01-02T15:04:05.000Z"), dash(inv.RequestID), outcome, formatMs(inv.DurationMs))
		if inv.Qualifier != "" && inv.Qualifier != "LATEST" {
			fmt.Fprintf(&b, "  qualifier=%s", inv.Qualifier)
		}
		if inv.Cold {
			b.WriteString("  cold")
		}
		if inv.ErrorMessage != "" {
			b.WriteString("  ")
			b.WriteString(oneLine(inv.ErrorMessage))
		}
		b.WriteByte('\n')
		if log := strings.TrimRight(inv.Log, "\n"); log != "" {
			for line := range strings.SplitSeq(log, "\n") {
				b.WriteString("    ")
				b.WriteString(strings.TrimSuffix(line, "\r"))
				b.WriteByte('\n')
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// formatMs formats a duration in milliseconds with microsecond precision:
// "850µs", "1.234ms", "2.5s".
func formatMs(ms float64) string {
	return time.Duration(ms * float64(time.Millisecond)).Round(time.Microsecond).String()
}

// oneLine joins the lines of s with spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

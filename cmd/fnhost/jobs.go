package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/client"
)

// defaultJobLimit is how many invocations `jobs ls` shows without --limit.
const defaultJobLimit = 20

// maxJobErrorColumn bounds the error message in the `jobs ls` table.
const maxJobErrorColumn = 60

var jobsCommand = &command{
	name:    "jobs",
	args:    "ls|get|stop SERVICE/FUNCTION [ID] [flags]",
	summary: "list, inspect or stop a function's async invocations",
	help: `jobs ls SERVICE/FUNCTION lists the function's async invocations (invoke
--async), newest first: invocation ID, status, start time (local), duration
until the final state, retries after the first attempt, and the error message.

jobs get SERVICE/FUNCTION ID shows one invocation: its status and times, its
attempts, where its outcome was delivered, the last attempt's result (status,
headers, body, log tail) and its event history.

jobs stop SERVICE/FUNCTION ID stops an invocation that has not finished and
prints its status: Stopped, or Running while its current attempt winds down.
A finished invocation cannot be stopped.

--status, --limit, --asc and --prefix apply to jobs ls. The statuses are
Enqueued, Running, Retrying, Succeeded, Failed, Stopped, Expired and Invalid.
`,
	flags: func(fs *flag.FlagSet, sio *stdio) func(context.Context, []string) error {
		o := &jobsOptions{}
		o.cf = addClientFlags(fs)
		fs.StringVar(&o.status, "status", "", "list only invocations in `STATUS` (Failed, Running, …)")
		fs.IntVar(&o.limit, "limit", defaultJobLimit, "list at most `N` invocations")
		fs.BoolVar(&o.asc, "asc", false, "list the oldest first")
		fs.StringVar(&o.prefix, "prefix", "", "list only invocation IDs starting with `P`")
		return func(ctx context.Context, args []string) error {
			o.set = map[string]bool{}
			fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
			if err := o.parse(args); err != nil {
				return err
			}
			c, err := o.cf.newClient(sio)
			if err != nil {
				return err
			}
			switch o.verb {
			case "ls":
				return o.ls(ctx, c, sio)
			case "get":
				return o.get(ctx, c, sio)
			default:
				return o.stop(ctx, c, sio)
			}
		}
	},
}

type jobsOptions struct {
	cf  *clientFlags
	set map[string]bool // flags given explicitly

	status, prefix string
	limit          int
	asc            bool

	verb string // ls, get, stop
	ref  funcRef
	id   string
}

// jobStatuses are the statuses --status takes.
var jobStatuses = []host.JobStatus{
	host.JobEnqueued, host.JobRunning, host.JobRetrying, host.JobSucceeded,
	host.JobFailed, host.JobStopped, host.JobExpired, host.JobInvalid,
}

// parseJobStatus returns the status s names, ignoring case.
func parseJobStatus(s string) (host.JobStatus, error) {
	for _, st := range jobStatuses {
		if strings.EqualFold(s, string(st)) {
			return st, nil
		}
	}
	names := make([]string, len(jobStatuses))
	for i, st := range jobStatuses {
		names[i] = string(st)
	}
	return "", fmt.Errorf("%q is not one of %s", s, strings.Join(names, ", "))
}

// parse checks the subcommand, its arguments and the flags that apply.
func (o *jobsOptions) parse(args []string) error {
	if len(args) == 0 {
		return usagef("missing ls, get or stop")
	}
	o.verb = args[0]
	if o.verb == "list" {
		o.verb = "ls"
	}
	rest := args[1:]
	switch o.verb {
	case "ls":
		arg, err := oneArg(rest, "SERVICE/FUNCTION")
		if err != nil {
			return err
		}
		if o.ref, err = parseFuncRef(arg, false); err != nil {
			return err
		}
		if o.limit <= 0 {
			return usagef("--limit %d: want a positive number", o.limit)
		}
		if o.status != "" {
			st, err := parseJobStatus(o.status)
			if err != nil {
				return usageError{fmt.Errorf("--status: %w", err)}
			}
			o.status = string(st)
		}
		return nil
	case "get", "stop":
		switch len(rest) {
		case 0:
			return usagef("missing SERVICE/FUNCTION and ID")
		case 1:
			return usagef("missing the invocation ID after %s", rest[0])
		case 2:
		default:
			return usagef("unexpected arguments after the invocation ID: %s", strings.Join(rest[2:], " "))
		}
		var err error
		if o.ref, err = parseFuncRef(rest[0], false); err != nil {
			return err
		}
		if o.id = rest[1]; strings.TrimSpace(o.id) == "" {
			return usagef("empty invocation ID")
		}
		for _, name := range []string{"status", "limit", "asc", "prefix"} {
			if o.set[name] {
				return usagef("--%s applies to jobs ls only", name)
			}
		}
		return nil
	}
	return usagef("unknown subcommand %q: want ls, get or stop", args[0])
}

func (o *jobsOptions) ls(ctx context.Context, c *client.Client, sio *stdio) error {
	order := "desc"
	if o.asc {
		order = "asc"
	}
	jobs := []host.Job{}
	for token := ""; len(jobs) < o.limit; {
		page, next, err := c.ListStatefulAsyncInvocations(ctx, o.ref.service, o.ref.function, host.JobListOptions{
			Status: host.JobStatus(o.status), InvocationIDPrefix: o.prefix, SortOrderByTime: order,
			Limit: min(o.limit-len(jobs), listLimit), NextToken: token,
		})
		if err != nil {
			return err
		}
		jobs = append(jobs, page...)
		if next == "" || next == token || len(page) == 0 {
			break
		}
		token = next
	}
	if len(jobs) > o.limit {
		jobs = jobs[:o.limit]
	}
	if o.cf.json {
		return printJSON(sio.stdout, jobs)
	}
	if len(jobs) == 0 {
		what := ""
		if o.status != "" {
			what = " " + o.status
		}
		fmt.Fprintf(sio.stderr, "no%s async invocations for %s\n", what, o.ref)
		return nil
	}
	return writeJobTable(sio.stdout, jobs)
}

// writeJobTable prints one line per job.
func writeJobTable(w io.Writer, jobs []host.Job) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INVOCATION\tSTATUS\tSTARTED\tDURATION\tRETRIED\tERROR")
	for _, j := range jobs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", dash(j.InvocationID), dash(string(j.Status)),
			localTime(j.StartedTime, "2006-01-02 15:04:05"), jobDuration(j), j.AlreadyRetriedTimes,
			truncate(oneLine(j.InvocationErrorMessage), maxJobErrorColumn))
	}
	return tw.Flush()
}

// localTime formats Unix milliseconds in the local time zone; 0 is "-".
func localTime(ms int64, layout string) string {
	if ms <= 0 {
		return "-"
	}
	return time.UnixMilli(ms).Local().Format(layout)
}

// jobDuration is the time from acceptance to the final state, "-" until
// then.
func jobDuration(j host.Job) string {
	if j.EndTime <= 0 || j.EndTime < j.StartedTime {
		return "-"
	}
	return formatMs(float64(j.EndTime - j.StartedTime))
}

// truncate cuts s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func (o *jobsOptions) get(ctx context.Context, c *client.Client, sio *stdio) error {
	j, err := c.GetStatefulAsyncInvocation(ctx, o.ref.service, o.ref.function, o.id)
	if err != nil {
		return err
	}
	if o.cf.json {
		return printJSON(sio.stdout, j)
	}
	return writeJob(sio.stdout, j)
}

// jobTimeLayout is how `jobs get` shows times.
const jobTimeLayout = "2006-01-02 15:04:05.000 MST"

// writeJob prints one job for people.
func writeJob(w io.Writer, j *host.Job) error {
	var b strings.Builder
	kv := func(indent, k, v string) { fmt.Fprintf(&b, "%s%-*s %s\n", indent, 13-len(indent), k, v) }
	kv("", "invocation", dash(j.InvocationID))
	kv("", "request", dash(j.RequestID))
	fn := j.ServiceName + "/" + j.FunctionName
	if j.Qualifier != "" && j.Qualifier != "LATEST" {
		fn += " (" + j.Qualifier + ")"
	}
	kv("", "function", fn)
	status := dash(string(j.Status))
	if j.StopRequested && !j.Status.Finished() {
		status += " (stop requested)"
	}
	kv("", "status", status)
	kv("", "started", localTime(j.StartedTime, jobTimeLayout))
	if j.EndTime > 0 {
		kv("", "ended", localTime(j.EndTime, jobTimeLayout)+" (after "+jobDuration(*j)+")")
	} else if j.NotBefore > 0 {
		kv("", "next attempt", localTime(j.NotBefore, jobTimeLayout))
	}
	kv("", "attempts", fmt.Sprintf("%d (retried %d, at most %d retries)", j.Attempts, j.AlreadyRetriedTimes, j.MaxRetries))
	if j.DestinationStatus != "" {
		kv("", "destination", j.DestinationStatus)
	}
	if j.InvocationErrorMessage != "" {
		kv("", "error", oneLine(j.InvocationErrorMessage))
	}
	if r := j.Result; r != nil {
		b.WriteString("result\n")
		switch {
		case r.Status != 0:
			kv("  ", "status", strconv.Itoa(r.Status))
		case r.ErrorKind != "":
			kv("  ", "status", "failed ("+r.ErrorKind+")")
		}
		if r.ErrorMessage != "" && r.ErrorMessage != j.InvocationErrorMessage {
			kv("  ", "error", oneLine(r.ErrorMessage))
		}
		kv("  ", "duration", formatMs(r.DurationMs))
		for i, h := range r.Headers {
			k := ""
			if i == 0 {
				k = "headers"
			}
			kv("  ", k, h[0]+": "+h[1])
		}
		if len(r.Body) > 0 || r.Status != 0 {
			body := fmt.Sprintf("%d bytes", len(r.Body))
			if r.BodyTruncated {
				body += " (truncated)"
			}
			text := printable(r.Body)
			if !text {
				body += ", not text"
			}
			kv("  ", "body", body)
			if text && len(r.Body) > 0 {
				writeIndented(&b, "    ", string(r.Body))
			}
		}
		if log := strings.TrimRight(r.LogTail, "\n"); log != "" {
			b.WriteString("  log\n")
			writeIndented(&b, "    ", log)
		}
	}
	if len(j.Events) > 0 {
		b.WriteString("events\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, e := range j.Events {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", localTime(e.Timestamp, jobTimeLayout), e.Status, oneLine(e.EventDetail))
		}
		tw.Flush()
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeIndented writes the lines of s, each after indent.
func writeIndented(b *strings.Builder, indent, s string) {
	for line := range strings.SplitSeq(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(indent)
		b.WriteString(strings.TrimSuffix(line, "\r"))
		b.WriteByte('\n')
	}
}

// printable reports whether b is UTF-8 text without control characters
// other than tab and line ends.
func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r != '\n' && r != '\r' && r != '\t' && !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

func (o *jobsOptions) stop(ctx context.Context, c *client.Client, sio *stdio) error {
	j, err := c.StopStatefulAsyncInvocation(ctx, o.ref.service, o.ref.function, o.id)
	if err != nil {
		return err
	}
	if o.cf.json {
		return printJSON(sio.stdout, j)
	}
	status := dash(string(j.Status))
	if !j.Status.Finished() {
		status += " (stop requested)"
	}
	_, err = fmt.Fprintf(sio.stdout, "invocation %s: %s\n", o.id, status)
	return err
}

// ---- async-config ----

var asyncConfigCommand = &command{
	name:    "async-config",
	args:    "SERVICE/FUNCTION [flags]",
	summary: "show or change a function's async retries, event age and destinations",
	help: `Without flags, prints the function's async invoke config. The flags change it:
those not given keep their current value, --on-success '' or --on-failure ''
removes a destination, and --delete removes the whole config so that the
defaults apply again (` + strconv.Itoa(host.DefaultAsyncRetries) + ` retries, events up to 24h old, no destinations).

A destination receives the outcome of every async invocation that succeeds
or fails: an http(s) URL (POSTed FC's destination JSON), a function as
fnhost:SERVICE/FUNCTION, or FC's ARN
acs:fc:REGION:ACCOUNT:services/SERVICE/functions/FUNCTION (invoked
asynchronously with that JSON as its body).
`,
	flags: func(fs *flag.FlagSet, sio *stdio) func(context.Context, []string) error {
		o := &asyncConfigOptions{}
		o.cf = addClientFlags(fs)
		fs.IntVar(&o.retries, "retries", 0, fmt.Sprintf("retry a failed invocation up to `N` times (0-%d; default %d)", host.MaxAsyncRetries, host.DefaultAsyncRetries))
		fs.StringVar(&o.maxAgeFlag, "max-age", "", "drop events older than `DURATION` (1s to 168h; default 24h)")
		fs.StringVar(&o.onSuccess, "on-success", "", "send successful outcomes to `DEST`")
		fs.StringVar(&o.onFailure, "on-failure", "", "send failed outcomes to `DEST`")
		fs.BoolVar(&o.delete, "delete", false, "delete the config (the defaults apply)")
		return func(ctx context.Context, args []string) error {
			o.set = map[string]bool{}
			fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
			if err := o.parse(args); err != nil {
				return err
			}
			c, err := o.cf.newClient(sio)
			if err != nil {
				return err
			}
			return o.run(ctx, c, sio)
		}
	},
}

type asyncConfigOptions struct {
	cf  *clientFlags
	set map[string]bool // flags given explicitly

	ref                  funcRef
	retries              int
	maxAgeFlag           string
	maxAge               int64
	onSuccess, onFailure string
	delete               bool
}

// asyncConfigFlags are the flags that change the config.
var asyncConfigFlags = []string{"retries", "max-age", "on-success", "on-failure"}

func (o *asyncConfigOptions) parse(args []string) error {
	arg, err := oneArg(args, "SERVICE/FUNCTION")
	if err != nil {
		return err
	}
	if o.ref, err = parseFuncRef(arg, false); err != nil {
		return err
	}
	if o.delete {
		for _, name := range asyncConfigFlags {
			if o.set[name] {
				return usagef("--delete and --%s exclude each other", name)
			}
		}
	}
	if o.set["retries"] && (o.retries < 0 || o.retries > host.MaxAsyncRetries) {
		return usagef("--retries %d: want 0 to %d", o.retries, host.MaxAsyncRetries)
	}
	if o.set["max-age"] {
		if o.maxAge, err = parseSeconds(o.maxAgeFlag, 1, host.MaxAsyncMaxAge); err != nil {
			return usageError{fmt.Errorf("--max-age: %w", err)}
		}
	}
	for _, d := range []struct{ name, value string }{{"on-success", o.onSuccess}, {"on-failure", o.onFailure}} {
		if err := checkDestination(d.value); err != nil {
			return usageError{fmt.Errorf("--%s: %w", d.name, err)}
		}
	}
	return nil
}

// parseSeconds parses a duration ("90s", "1h") or a number of seconds into
// whole seconds from lo to hi.
func parseSeconds(s string, lo, hi int64) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		d, derr := time.ParseDuration(s)
		if derr != nil {
			return 0, fmt.Errorf("%q: want a duration such as 30s or 1h, or a number of seconds", s)
		}
		if d%time.Second != 0 {
			return 0, fmt.Errorf("%q: want a whole number of seconds", s)
		}
		n = int64(d / time.Second)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%q: want %s to %s", s, formatSeconds(lo), formatSeconds(hi))
	}
	return n, nil
}

// formatSeconds formats seconds as a short duration: "0s", "90s" → "1m30s",
// "86400" → "24h".
func formatSeconds(n int64) string {
	s := (time.Duration(n) * time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// destinationPrefixes are the forms of destination the server accepts; it
// checks the rest.
var destinationPrefixes = []string{"http://", "https://", "fnhost:", "acs:fc:"}

// checkDestination accepts "" (no destination) and the forms the server
// takes.
func checkDestination(d string) error {
	if d == "" {
		return nil
	}
	for _, p := range destinationPrefixes {
		if strings.HasPrefix(d, p) && len(d) > len(p) {
			return nil
		}
	}
	return fmt.Errorf("%q: want an http(s) URL, fnhost:SERVICE/FUNCTION or acs:fc:REGION:ACCOUNT:services/SERVICE/functions/FUNCTION", d)
}

func (o *asyncConfigOptions) run(ctx context.Context, c *client.Client, sio *stdio) error {
	svc, fn := o.ref.service, o.ref.function
	if o.delete {
		if err := c.DeleteAsyncConfig(ctx, svc, fn); err != nil {
			return err
		}
		if o.cf.json {
			return printJSON(sio.stdout, map[string]any{"service": svc, "function": fn, "deleted": true})
		}
		_, err := fmt.Fprintf(sio.stdout, "deleted the async config of %s\n", o.ref)
		return err
	}
	changing := slices.ContainsFunc(asyncConfigFlags, func(name string) bool { return o.set[name] })
	cur, err := c.GetAsyncConfig(ctx, svc, fn)
	switch {
	case err == nil:
	case isNoAsyncConfig(err):
		cur = nil
	default:
		return err
	}
	if !changing {
		if cur == nil {
			if o.cf.json {
				_, err := io.WriteString(sio.stdout, "null\n")
				return err
			}
			fmt.Fprintf(sio.stderr, "%s has no async config; the defaults apply: %d retries, events up to %s old, no destinations\n",
				o.ref, host.DefaultAsyncRetries, formatSeconds(host.DefaultAsyncMaxAge))
			return nil
		}
		return o.print(sio, cur)
	}

	in := client.AsyncConfigInput{}
	var dc host.DestinationConfig
	if cur != nil {
		in.MaxAsyncRetryAttempts, in.MaxAsyncEventAgeInSeconds = cur.MaxAsyncRetryAttempts, cur.MaxAsyncEventAgeInSeconds
		if cur.DestinationConfig != nil {
			dc = *cur.DestinationConfig
		}
	}
	if o.set["retries"] {
		in.MaxAsyncRetryAttempts = &o.retries
	}
	if o.set["max-age"] {
		in.MaxAsyncEventAgeInSeconds = &o.maxAge
	}
	setDest := func(name, value string, d **host.Destination) {
		switch {
		case !o.set[name]:
		case value == "":
			*d = nil
		default:
			*d = &host.Destination{Destination: value}
		}
	}
	setDest("on-success", o.onSuccess, &dc.OnSuccess)
	setDest("on-failure", o.onFailure, &dc.OnFailure)
	if dc.OnSuccess != nil || dc.OnFailure != nil {
		in.DestinationConfig = &dc
	}
	out, err := c.PutAsyncConfig(ctx, svc, fn, in)
	if err != nil {
		return err
	}
	return o.print(sio, out)
}

// isNoAsyncConfig reports whether err says that the function has no async
// config, as opposed to the function or service not existing.
func isNoAsyncConfig(err error) bool {
	var e *client.Error
	if !client.IsNotFound(err) || !errors.As(err, &e) {
		return false
	}
	return e.Code != "ServiceNotFound" && e.Code != "FunctionNotFound"
}

func (o *asyncConfigOptions) print(sio *stdio, c *host.AsyncConfig) error {
	if o.cf.json {
		return printJSON(sio.stdout, c)
	}
	retries := strconv.Itoa(host.DefaultAsyncRetries) + " (default)"
	if c.MaxAsyncRetryAttempts != nil {
		retries = strconv.Itoa(*c.MaxAsyncRetryAttempts)
	}
	maxAge := formatSeconds(host.DefaultAsyncMaxAge) + " (default)"
	if c.MaxAsyncEventAgeInSeconds != nil {
		maxAge = formatSeconds(*c.MaxAsyncEventAgeInSeconds)
	}
	var onSuccess, onFailure string
	if dc := c.DestinationConfig; dc != nil {
		if dc.OnSuccess != nil {
			onSuccess = dc.OnSuccess.Destination
		}
		if dc.OnFailure != nil {
			onFailure = dc.OnFailure.Destination
		}
	}
	tw := tabwriter.NewWriter(sio.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "function\t%s\n", o.ref)
	fmt.Fprintf(tw, "retries\t%s\n", retries)
	fmt.Fprintf(tw, "max age\t%s\n", maxAge)
	fmt.Fprintf(tw, "on success\t%s\n", dash(onSuccess))
	fmt.Fprintf(tw, "on failure\t%s\n", dash(onFailure))
	if c.LastModifiedTime != "" {
		fmt.Fprintf(tw, "modified\t%s\n", c.LastModifiedTime)
	}
	return tw.Flush()
}

// invocationIDPattern is FC's rule for a caller-chosen async invocation ID.
var invocationIDPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,127}$`)

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/client"
)

var invokeCommand = &command{
	name:    "invoke",
	args:    "SERVICE[.QUALIFIER]/FUNCTION [flags]",
	summary: "call a function through the InvokeFunction API and print its response",
	help: `Writes the function's response body to stdout exactly as received. Exits 1 with
the error on stderr when the call fails or the function reports an error
(X-Fc-Error-Type). The guest's HTTP status is shown with -v.

--data takes the request body: a literal string, @FILE for a file's content, or
@- for stdin. Without --data the body is empty.

--async queues the call instead (X-Fc-Invocation-Type: Async) and prints
"accepted: invocation ID (request RID)" once the server has stored it; see
'fnhost jobs' for its progress and 'fnhost async-config' for its retries and
destinations. --invocation-id chooses the ID (letters, digits, '_' and '-',
not starting with a digit or '-', at most 128; an ID the function already has
is refused) and --delay postpones the first attempt (whole seconds, up to 1h).
`,
	flags: func(fs *flag.FlagSet, sio *stdio) func(context.Context, []string) error {
		o := &invokeOptions{}
		o.cf = addClientFlags(fs)
		fs.StringVar(&o.data, "data", "", "request body: `STRING`, @FILE or @- (stdin)")
		fs.BoolVar(&o.async, "async", false, "queue the call and print its invocation ID")
		fs.StringVar(&o.invocationID, "invocation-id", "", "with --async: the invocation `ID` (default generated)")
		fs.StringVar(&o.delayFlag, "delay", "", "with --async: run after `DURATION` (e.g. 30s; at most 1h)")
		fs.BoolVar(&o.log, "log", false, "print the function's log tail to stderr (X-Fc-Log-Type: Tail)")
		fs.Var(&o.headerFlags, "header", "add header `'K: V'` to the request (repeatable)")
		fs.StringVar(&o.qualifier, "qualifier", "", "version or alias `Q` (default LATEST)")
		fs.BoolVar(&o.verbose, "verbose", false, "print the status and response headers to stderr (also -v)")
		fs.BoolVar(&o.verbose, "v", false, hiddenUsage)
		return func(ctx context.Context, args []string) error {
			if err := o.parse(args, sio); err != nil {
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

type invokeOptions struct {
	cf *clientFlags

	ref         funcRef
	data        string
	async, log  bool
	headerFlags stringList
	qualifier   string
	verbose     bool

	invocationID, delayFlag string

	payload []byte
	header  http.Header
	delay   time.Duration
}

// parse checks the arguments and reads the body.
func (o *invokeOptions) parse(args []string, sio *stdio) error {
	arg, err := oneArg(args, "SERVICE/FUNCTION")
	if err != nil {
		return err
	}
	if o.ref, err = parseFuncRef(arg, true); err != nil {
		return err
	}
	if o.qualifier != "" {
		if o.ref.qualifier != "" && o.ref.qualifier != o.qualifier {
			return usagef("qualifier %q in %q and --qualifier %q differ", o.ref.qualifier, arg, o.qualifier)
		}
		o.ref.qualifier = o.qualifier
	}
	if !o.async && (o.invocationID != "" || o.delayFlag != "") {
		return usagef("--invocation-id and --delay need --async")
	}
	if o.invocationID != "" && !invocationIDPattern.MatchString(o.invocationID) {
		return usagef("--invocation-id %q: want letters, digits, '_' and '-', starting with a letter or '_', at most 128", o.invocationID)
	}
	if o.delayFlag != "" {
		n, err := parseSeconds(o.delayFlag, 0, host.MaxAsyncDelaySeconds)
		if err != nil {
			return usageError{fmt.Errorf("--delay: %w", err)}
		}
		o.delay = time.Duration(n) * time.Second
	}
	if o.header, err = parseHeaders(o.headerFlags); err != nil {
		return usageError{fmt.Errorf("--header: %w", err)}
	}
	o.payload, err = readData(o.data, sio.stdin)
	return err
}

// readData returns the body --data names: "@-" reads r, "@FILE" the file,
// anything else is the body itself.
func readData(data string, r io.Reader) ([]byte, error) {
	switch {
	case data == "@-":
		if r == nil {
			return nil, errors.New("--data @-: no stdin")
		}
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("--data @-: reading stdin: %w", err)
		}
		return b, nil
	case strings.HasPrefix(data, "@"):
		if data == "@" {
			return nil, usagef("--data @: want @FILE or @-")
		}
		return os.ReadFile(data[1:])
	default:
		return []byte(data), nil
	}
}

// parseHeaders parses "K: V" lines.
func parseHeaders(lines []string) (http.Header, error) {
	h := http.Header{}
	for _, l := range lines {
		k, v, ok := strings.Cut(l, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || !validToken(k) {
			return nil, fmt.Errorf("%q: want 'Name: value'", l)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return nil, fmt.Errorf("%q: control characters in the value", l)
		}
		h.Add(k, v)
	}
	return h, nil
}

// validToken reports whether s is an HTTP token (a valid header name).
func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// invokeJSON is what invoke prints with --json.
type invokeJSON struct {
	Status     int                 `json:"status"`
	RequestID  string              `json:"requestId"`
	ErrorType  string              `json:"errorType,omitempty"`
	Headers    map[string][]string `json:"headers"`
	Body       *string             `json:"body,omitempty"`       // when UTF-8
	BodyBase64 []byte              `json:"bodyBase64,omitempty"` // otherwise
	Log        string              `json:"log,omitempty"`
}

func (o *invokeOptions) run(ctx context.Context, c *client.Client, sio *stdio) error {
	res, err := c.InvokeFunction(ctx, o.ref.service, o.ref.function, o.payload, client.InvokeOptions{
		Async: o.async, InvocationID: o.invocationID, Delay: o.delay,
		LogTail: o.log, Qualifier: o.ref.qualifier, Headers: o.header,
	})
	if err != nil {
		return err
	}
	if o.verbose {
		writeResponseHead(sio.stderr, res)
	}
	if o.log && res.LogResult != "" {
		io.WriteString(sio.stderr, res.LogResult)
		if !strings.HasSuffix(res.LogResult, "\n") {
			io.WriteString(sio.stderr, "\n")
		}
	}
	if o.async {
		return o.accepted(res, sio)
	}
	switch {
	case o.cf.json:
		out := invokeJSON{Status: res.Status, RequestID: res.RequestID, ErrorType: res.ErrorType, Headers: res.Header, Log: res.LogResult}
		if utf8.Valid(res.Body) {
			s := string(res.Body)
			out.Body = &s
		} else {
			out.BodyBase64 = res.Body
		}
		if err := printJSON(sio.stdout, out); err != nil {
			return err
		}
	case res.ErrorType != "":
	default:
		if _, err := sio.stdout.Write(res.Body); err != nil {
			return err
		}
	}
	if res.ErrorType != "" {
		return invokeError(res)
	}
	return nil
}

// asyncJSON is what invoke --async prints with --json.
type asyncJSON struct {
	InvocationID string `json:"invocationId"`
	RequestID    string `json:"requestId"`
}

// accepted reports an async invocation: 202 and its IDs, or the failure.
func (o *invokeOptions) accepted(res *client.InvokeResult, sio *stdio) error {
	if res.Status != http.StatusAccepted {
		if res.ErrorType != "" {
			return invokeError(res)
		}
		msg := fmt.Sprintf("the server did not accept the async invocation: %d %s", res.Status, http.StatusText(res.Status))
		if res.RequestID != "" {
			msg += " [request " + res.RequestID + "]"
		}
		return errors.New(msg)
	}
	if o.cf.json {
		return printJSON(sio.stdout, asyncJSON{InvocationID: res.InvocationID, RequestID: res.RequestID})
	}
	_, err := fmt.Fprintf(sio.stdout, "accepted: invocation %s (request %s)\n", dash(res.InvocationID), dash(res.RequestID))
	return err
}

// invokeError is the error of a call the function failed (X-Fc-Error-Type).
func invokeError(res *client.InvokeResult) error {
	msg := res.ErrorType
	if res.Status != http.StatusOK { // InvokeFunction reports function errors with 200
		msg += fmt.Sprintf(" (%d)", res.Status)
	}
	if m := res.ErrorMessage(); m != "" {
		msg += ": " + m
	}
	if res.RequestID != "" {
		msg += " [request " + res.RequestID + "]"
	}
	return errors.New(msg)
}

// writeResponseHead prints the status and headers, curl -v style.
func writeResponseHead(w io.Writer, res *client.InvokeResult) {
	var b strings.Builder
	fmt.Fprintf(&b, "< %d %s\n", res.Status, http.StatusText(res.Status))
	keys := make([]string, 0, len(res.Header))
	for k := range res.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range res.Header[k] {
			fmt.Fprintf(&b, "< %s: %s\n", k, v)
		}
	}
	b.WriteString("<\n")
	io.WriteString(w, b.String())
}

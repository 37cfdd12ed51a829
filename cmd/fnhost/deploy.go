package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/client"
)

// httpMethods are the methods an FC HTTP trigger may allow, in FC's order.
var httpMethods = []string{"HEAD", "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}

// triggerName is the name of the HTTP trigger deploy manages.
const triggerName = "http"

var deployCommand = &command{
	name:    "deploy",
	args:    "FILE.wasm --service S --function F [flags]",
	summary: "upload a .wasm module as a function with an HTTP trigger and print its URL",
	help: `Creates service S if it does not exist, creates function F or updates its code
(FILE is a .wasm module or a zip holding one), and creates or updates its HTTP
trigger "http". The trigger URL goes to stdout, progress to stderr.

The trigger is anonymous by default, as in the FC console: anyone who can reach
the server can call the function. Use --auth function to require FC-signed
requests. When F already exists, only the settings given as flags change; the
others keep their current values.
`,
	flags: func(fs *flag.FlagSet, sio *stdio) func(context.Context, []string) error {
		o := &deployOptions{}
		o.cf = addClientFlags(fs)
		fs.StringVar(&o.service, "service", "", "service `NAME` (created if missing; required)")
		fs.StringVar(&o.function, "function", "", "function `NAME` (required)")
		fs.StringVar(&o.authType, "auth", host.AuthAnonymous, "trigger auth `TYPE`: anonymous or function (FC signature required)")
		fs.StringVar(&o.methodsFlag, "methods", strings.Join(httpMethods, ","), "`METHODS` the trigger allows, comma-separated")
		fs.IntVar(&o.memory, "memory", 0, "memory limit in `MB` (default: the server's)")
		fs.StringVar(&o.timeoutFlag, "timeout", "", "invocation timeout, a `DURATION` such as 3s or 1m (default: the server's)")
		fs.Var(&o.envFlags, "env", "environment variable `K=V` for the function (repeatable)")
		fs.StringVar(&o.handler, "handler", "", "exported `FUNCTION` to call (default: the server's, handle)")
		fs.IntVar(&o.maxInstances, "max-instances", 0, "at most `N` instances at once (default: the server's)")
		fs.StringVar(&o.description, "description", "", "`TEXT` describing the function")
		return func(ctx context.Context, args []string) error {
			if err := o.validate(fs, args); err != nil {
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

// deployOptions are deploy's parsed command line.
type deployOptions struct {
	cf *clientFlags

	file, service, function string
	authType, methodsFlag   string
	memory, maxInstances    int
	timeoutFlag             string
	envFlags                stringList
	handler, description    string
	set                     map[string]bool // flags given explicitly
	code                    []byte
	methods                 []string
	timeout                 int // seconds
	env                     map[string]string
}

// validate checks the command line and reads the module, before any
// request is sent.
func (o *deployOptions) validate(fs *flag.FlagSet, args []string) error {
	o.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })

	file, err := oneArg(args, "FILE.wasm")
	if err != nil {
		return err
	}
	o.file = file
	if o.service == "" {
		return usagef("--service is required")
	}
	if err := host.ValidName(o.service); err != nil {
		return usagef("--service: %v", err)
	}
	if o.function == "" {
		return usagef("--function is required")
	}
	if err := host.ValidName(o.function); err != nil {
		return usagef("--function: %v", err)
	}
	if o.authType != host.AuthAnonymous && o.authType != host.AuthFunction {
		return usagef("--auth %q: want %s or %s", o.authType, host.AuthAnonymous, host.AuthFunction)
	}
	if o.methods, err = parseMethods(o.methodsFlag); err != nil {
		return usageError{fmt.Errorf("--methods: %w", err)}
	}
	if o.set["memory"] && o.memory <= 0 {
		return usagef("--memory %d: want a positive number of MB", o.memory)
	}
	if o.set["max-instances"] && o.maxInstances <= 0 {
		return usagef("--max-instances %d: want a positive number", o.maxInstances)
	}
	if o.set["timeout"] {
		if o.timeout, err = parseTimeout(o.timeoutFlag); err != nil {
			return usageError{fmt.Errorf("--timeout: %w", err)}
		}
	}
	if o.set["env"] {
		if o.env, err = parseEnv(o.envFlags); err != nil {
			return usageError{fmt.Errorf("--env: %w", err)}
		}
	}
	if o.set["handler"] && o.handler == "" {
		return usagef("--handler: empty")
	}

	if o.code, err = os.ReadFile(o.file); err != nil {
		return err
	}
	return checkModule(o.file, o.code)
}

// checkModule reports whether code looks like a .wasm module or a zip.
func checkModule(name string, code []byte) error {
	switch {
	case bytes.HasPrefix(code, []byte("\x00asm")):
		return nil
	case bytes.HasPrefix(code, []byte("PK\x03\x04")), bytes.HasPrefix(code, []byte("PK\x05\x06")):
		return nil
	case len(code) == 0:
		return fmt.Errorf("%s is empty", name)
	default:
		return fmt.Errorf("%s is not a WebAssembly module (no \\0asm header) nor a zip", name)
	}
}

// parseMethods parses a comma-separated method list (any case) into FC's
// upper-case names, without duplicates.
func parseMethods(s string) ([]string, error) {
	var out []string
	for m := range strings.SplitSeq(s, ",") {
		m = strings.ToUpper(strings.TrimSpace(m))
		if m == "" {
			continue
		}
		if !slices.Contains(httpMethods, m) {
			return nil, fmt.Errorf("%q is not one of %s", m, strings.Join(httpMethods, ","))
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no method given")
	}
	return out, nil
}

// parseTimeout parses a duration ("3s", "1m30s") or a number of seconds
// ("3") into whole seconds, at least 1.
func parseTimeout(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 {
			return 0, fmt.Errorf("%q: want at least 1s", s)
		}
		return n, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q: want a duration such as 3s or 1m", s)
	}
	if d < time.Second || d%time.Second != 0 {
		return 0, fmt.Errorf("%q: want a whole number of seconds, at least 1s", s)
	}
	return int(d / time.Second), nil
}

// parseEnv parses K=V pairs. Keys are letters, digits and '_', not starting
// with a digit; a later pair overrides an earlier one with the same key.
func parseEnv(pairs []string) (map[string]string, error) {
	env := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want K=V", p)
		}
		if !validEnvKey(k) {
			return nil, fmt.Errorf("%q: the name must be letters, digits and '_', not starting with a digit", p)
		}
		env[k] = v
	}
	return env, nil
}

func validEnvKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '_':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// functionInput returns the function settings to send: the code and
// runtime always, the rest only when given (create lets the server apply
// its defaults, update keeps the current values).
func (o *deployOptions) functionInput() client.FunctionInput {
	in := client.FunctionInput{Runtime: host.RuntimeWasm, Code: client.CodeFromWasm(o.code)}
	if o.set["description"] {
		in.Description = &o.description
	}
	if o.set["handler"] {
		in.Handler = o.handler
	}
	if o.set["memory"] {
		in.MemorySize = &o.memory
	}
	if o.set["timeout"] {
		in.Timeout = &o.timeout
	}
	if o.set["max-instances"] {
		in.MaxInstances = &o.maxInstances
	}
	if o.set["env"] {
		in.EnvironmentVariables = o.env
	}
	return in
}

// deployResult is what deploy prints with --json.
type deployResult struct {
	Service      string `json:"service"`
	Function     string `json:"function"`
	URL          string `json:"url"`
	AuthType     string `json:"authType"`
	CodeChecksum string `json:"codeChecksum"`
	CodeSize     int64  `json:"codeSize"`
	Created      bool   `json:"created"`
}

func (o *deployOptions) run(ctx context.Context, c *client.Client, sio *stdio) error {
	if _, err := c.GetService(ctx, o.service); client.IsNotFound(err) {
		_, err = c.CreateService(ctx, client.ServiceInput{ServiceName: o.service})
		switch {
		case err == nil:
			fmt.Fprintf(sio.stderr, "created service %s\n", o.service)
		case !client.IsConflict(err): // a conflict: a concurrent deploy created it
			return err
		}
	} else if err != nil {
		return err
	}
	f, created, err := o.putFunction(ctx, c)
	if err != nil {
		return err
	}
	return o.trigger(ctx, c, sio, f, created)
}

// putFunction creates the function, or updates it when it exists.
func (o *deployOptions) putFunction(ctx context.Context, c *client.Client) (f *host.Function, created bool, err error) {
	in := o.functionInput()
	_, err = c.GetFunction(ctx, o.service, o.function)
	if client.IsNotFound(err) {
		in.FunctionName = o.function
		f, err = c.CreateFunction(ctx, o.service, in)
		if !client.IsConflict(err) { // a conflict: created concurrently, update it
			return f, err == nil, err
		}
	} else if err != nil {
		return nil, false, err
	}
	f, err = c.UpdateFunction(ctx, o.service, o.function, in)
	return f, false, err
}

// trigger creates or updates the HTTP trigger and prints the result.
func (o *deployOptions) trigger(ctx context.Context, c *client.Client, sio *stdio, f *host.Function, created bool) error {
	verb := "updated"
	if created {
		verb = "created"
	}
	fmt.Fprintf(sio.stderr, "%s function %s/%s (%d bytes, sha256 %s)\n", verb, o.service, o.function, f.CodeSize, shortSum(f.CodeChecksum))

	cfg := host.HTTPTriggerConfig{AuthType: o.authType, Methods: o.methods}
	t, err := c.GetTrigger(ctx, o.service, o.function, triggerName)
	switch {
	case client.IsNotFound(err):
		t, err = c.CreateTrigger(ctx, o.service, o.function, client.TriggerInput{
			TriggerName: triggerName, TriggerType: host.TriggerTypeHTTP, TriggerConfig: &cfg,
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(sio.stderr, "created trigger %s (%s; %s)\n", triggerName, t.TriggerConfig.AuthType, strings.Join(t.TriggerConfig.Methods, ","))
	case err != nil:
		return err
	case o.set["auth"] || o.set["methods"]:
		cfg = t.TriggerConfig
		if o.set["auth"] {
			cfg.AuthType = o.authType
		}
		if o.set["methods"] {
			cfg.Methods = o.methods
		}
		if t, err = c.UpdateTrigger(ctx, o.service, o.function, triggerName, client.TriggerInput{TriggerConfig: &cfg}); err != nil {
			return err
		}
		fmt.Fprintf(sio.stderr, "updated trigger %s (%s; %s)\n", triggerName, t.TriggerConfig.AuthType, strings.Join(t.TriggerConfig.Methods, ","))
	}
	if t.TriggerConfig.AuthType == host.AuthFunction {
		fmt.Fprintf(sio.stderr, "requests to the trigger must be FC-signed (auth %s)\n", host.AuthFunction)
	}

	url := c.TriggerURL(o.service, o.function)
	if o.cf.json {
		return printJSON(sio.stdout, deployResult{
			Service: o.service, Function: o.function, URL: url, AuthType: t.TriggerConfig.AuthType,
			CodeChecksum: f.CodeChecksum, CodeSize: f.CodeSize, Created: created,
		})
	}
	_, err = io.WriteString(sio.stdout, url+"\n")
	return err
}

// shortSum returns the first 12 characters of a checksum.
func shortSum(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	if s == "" {
		return "-"
	}
	return s
}

// formatSize formats a byte count for a table column: "512B", "1.5KiB",
// "2.0MiB".
func formatSize(n int64) string {
	switch {
	case n < 1<<10:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1<<20:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	}
}

package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/client"
)

// usageError is a command-line mistake: run prints it with the command's
// usage line and exits 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// newFlagSet returns a silent FlagSet: run reports parse errors itself.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("fnhost "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseInterspersed parses args with fs, allowing flags after positional
// arguments ("deploy hello.wasm --service demo"). Everything after a "--"
// is positional. It returns the positional arguments in order; -h/--help
// gives flag.ErrHelp.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err}
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil // Parse stopped at the terminator
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// hiddenUsage marks a flag writeFlags leaves out (aliases such as -v).
const hiddenUsage = "(alias)"

// writeFlags lists fs's flags, except the client flags (described by
// clientFlagsHelp) and aliases, as "--name TYPE  usage (default x)".
func writeFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		if f.Usage == hiddenUsage || clientFlagNames[f.Name] {
			return
		}
		typ, usage := flag.UnquoteUsage(f)
		left := "--" + f.Name
		if typ != "" {
			left += " " + typ
		}
		if d := f.DefValue; d != "" && d != "0" && d != "false" && d != "[]" {
			usage += " (default " + d + ")"
		}
		fmt.Fprintf(w, "  %-25s  %s\n", left, usage)
	})
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ", ") }
func (l *stringList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// clientFlags are the flags every client command shares (see
// clientFlagsHelp).
type clientFlags struct {
	endpoint, keyID, keySecret, dataDir, accountID string
	json                                           bool
}

var clientFlagNames = map[string]bool{
	"endpoint": true, "access-key-id": true, "access-key-secret": true,
	"data-dir": true, "account-id": true, "json": true,
}

// addClientFlags registers the client flags on fs. Their defaults are
// empty so that the environment and the credentials file can be told
// apart from flags; newClient resolves them.
func addClientFlags(fs *flag.FlagSet) *clientFlags {
	cf := &clientFlags{}
	fs.StringVar(&cf.endpoint, "endpoint", "", "server `URL`")
	fs.StringVar(&cf.keyID, "access-key-id", "", "access key `ID`")
	fs.StringVar(&cf.keySecret, "access-key-secret", "", "access key `SECRET`")
	fs.StringVar(&cf.dataDir, "data-dir", "", "fnhost data `DIR`ectory")
	fs.StringVar(&cf.accountID, "account-id", "", "account `ID`")
	fs.BoolVar(&cf.json, "json", false, "print JSON")
	return cf
}

// clientConfig resolves the client flags: flag, then environment, then
// (for the key and account) <data-dir>/credentials.json, then defaults.
func (cf *clientFlags) clientConfig(env func(string) string) (client.Config, error) {
	pick := func(flagValue, envName string) string {
		if flagValue != "" {
			return flagValue
		}
		return env(envName)
	}
	c := client.Config{
		Endpoint:        pick(cf.endpoint, envEndpoint),
		AccessKeyID:     pick(cf.keyID, envAccessKeyID),
		AccessKeySecret: pick(cf.keySecret, envAccessKeySecret),
		AccountID:       pick(cf.accountID, envAccountID),
		UserAgent:       "fnhost-cli/" + strings.Fields(versionString())[0],
	}
	if c.Endpoint == "" {
		c.Endpoint = defaultEndpoint
	}
	if !strings.Contains(c.Endpoint, "://") {
		c.Endpoint = "http://" + c.Endpoint // "127.0.0.1:9000" as serve's --listen takes it
	}
	dir := cf.dataDir
	if dir == "" {
		dir = defaultDataDir(env)
	}
	var creds credentials
	var credErr error
	if dir != "" {
		creds, credErr = loadCredentials(dir)
	} else {
		credErr = fs.ErrNotExist
	}
	switch {
	case c.AccessKeyID == "" && c.AccessKeySecret == "":
		if errors.Is(credErr, fs.ErrNotExist) {
			return c, errNoCredentials
		}
		if credErr != nil {
			return c, credErr
		}
		c.AccessKeyID, c.AccessKeySecret = creds.AccessKeyID, creds.AccessKeySecret
	case c.AccessKeyID == "" || c.AccessKeySecret == "":
		return c, usagef("give both --access-key-id and --access-key-secret (or %s and %s)", envAccessKeyID, envAccessKeySecret)
	}
	if c.AccountID == "" && credErr == nil {
		c.AccountID = creds.AccountID
	}
	if c.AccountID == "" {
		c.AccountID = defaultAccountID
	}
	return c, nil
}

// newClient returns a client configured by the flags and the environment.
func (cf *clientFlags) newClient(sio *stdio) (*client.Client, error) {
	cfg, err := cf.clientConfig(sio.env)
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg)
	if err != nil {
		return nil, usagef("--endpoint: %v", err)
	}
	return c, nil
}

// printJSON writes v as indented JSON and a newline.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// funcRef names a function on the command line: SERVICE[.QUALIFIER]/FUNCTION.
type funcRef struct {
	service, qualifier, function string
}

func (r funcRef) String() string { return r.service + "/" + r.function }

// parseFuncRef parses "S/F", or "S.Q/F" when allowQualifier.
func parseFuncRef(s string, allowQualifier bool) (funcRef, error) {
	svc, fn, ok := strings.Cut(s, "/")
	if !ok {
		return funcRef{}, usagef("%q: want SERVICE/FUNCTION", s)
	}
	var r funcRef
	r.service, r.function = svc, fn
	if allowQualifier {
		r.service, r.qualifier, _ = strings.Cut(svc, ".")
		if strings.Contains(svc, ".") && r.qualifier == "" {
			return funcRef{}, usagef("%q: empty qualifier after '.'", s)
		}
	}
	if err := host.ValidName(r.service); err != nil {
		return funcRef{}, usagef("service: %v", err)
	}
	if err := host.ValidName(r.function); err != nil {
		return funcRef{}, usagef("function: %v", err)
	}
	return r, nil
}

// oneArg checks that exactly one positional argument was given.
func oneArg(args []string, what string) (string, error) {
	switch len(args) {
	case 0:
		return "", usagef("missing %s", what)
	case 1:
		return args[0], nil
	default:
		return "", usagef("unexpected arguments after %s: %s", what, strings.Join(args[1:], " "))
	}
}

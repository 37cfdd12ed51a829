package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

func main() {
	// The first signal cancels ctx (serve shuts down gracefully, a client
	// command abandons its request); stop then restores the default
	// handling, so a second signal kills the process.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the operation failed
	exitUsage = 2 // bad command line
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); when
// empty, the module version or VCS revision from the build info is used.
var version string

// stdio is what a command may touch of the process: its streams and
// environment.
type stdio struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	env    func(string) string
}

// command is one subcommand.
type command struct {
	name    string
	args    string // the argument synopsis after the name
	summary string // one line for the command list
	help    string // paragraphs for `fnhost help <name>`, may be ""
	// flags registers the command's flags on fs and returns the function
	// that runs it with the positional arguments once fs is parsed; a
	// usageError from it exits 2, any other error 1. nil for the commands
	// run handles itself (serve, version, help).
	flags func(fs *flag.FlagSet, io *stdio) func(ctx context.Context, args []string) error
}

// commands lists the subcommands in the order usage shows them; it is
// filled in init to break the reference cycle with helpCmd.
var commands []*command

func init() {
	commands = []*command{
		{name: "serve", args: "[flags]", summary: "run the server (management API and HTTP triggers)"},
		deployCommand,
		invokeCommand,
		lsCommand,
		rmCommand,
		logsCommand,
		jobsCommand,
		asyncConfigCommand,
		benchCommand,
		{name: "version", summary: "print the version"},
		{name: "help", args: "[command]", summary: "show help for fnhost or a command"},
	}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// run is the whole CLI: it runs the command in args (without the program
// name) and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	sio := &stdio{stdin: stdin, stdout: stdout, stderr: stderr, env: env}
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "serve":
		return serveCmd(ctx, rest, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "fnhost %s\n", versionString())
		return exitOK
	case "help", "-h", "--help", "-help":
		return helpCmd(rest, stdout, stderr)
	}
	cmd := lookup(name)
	if cmd == nil || cmd.flags == nil {
		fmt.Fprintf(stderr, "fnhost: unknown command %q\n\n", name)
		printUsage(stderr)
		return exitUsage
	}
	fs := newFlagSet(cmd.name)
	runFn := cmd.flags(fs, sio)
	pos, err := parseInterspersed(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		printCommandHelp(stdout, cmd)
		return exitOK
	}
	if err == nil {
		err = runFn(ctx, pos)
	}
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return usageFail(stderr, cmd, ue.err)
	case errors.Is(err, syscall.ECONNREFUSED):
		fmt.Fprintf(stderr, "fnhost: %v\n(is `fnhost serve` running there? set the address with --endpoint or %s)\n", err, envEndpoint)
		return exitError
	default:
		fmt.Fprintf(stderr, "fnhost: %v\n", err)
		return exitError
	}
}

// helpCmd runs `fnhost help [command]`.
func helpCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stdout)
		return exitOK
	}
	cmd := lookup(args[0])
	if cmd == nil {
		fmt.Fprintf(stderr, "fnhost help: unknown command %q\n\n", args[0])
		printUsage(stderr)
		return exitUsage
	}
	if cmd.flags == nil {
		fmt.Fprintf(stdout, "Usage: fnhost %s %s\n\n%s.\n", cmd.name, cmd.args, upperFirst(cmd.summary))
		if cmd.name == "serve" {
			io.WriteString(stdout, "\nRun 'fnhost serve -h' for its flags.\n")
		}
		return exitOK
	}
	printCommandHelp(stdout, cmd)
	return exitOK
}

func printUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString("fnhost runs WebAssembly functions behind HTTP triggers, wire-compatible with\n")
	b.WriteString("Alibaba Cloud Function Compute (API 2016-08-15), and manages them.\n\n")
	b.WriteString("Usage:\n  fnhost <command> [arguments] [flags]\n\nCommands:\n")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, c.name, c.summary)
	}
	b.WriteString("\nFlags may come before or after the arguments. Run 'fnhost help <command>'\n")
	b.WriteString("for a command's flags.\n\n")
	b.WriteString(clientFlagsHelp)
	io.WriteString(w, b.String())
}

// clientFlagsHelp describes the flags every client command shares.
const clientFlagsHelp = `Client flags (deploy, invoke, ls, rm, logs, jobs, async-config):
  --endpoint URL             server URL, http:// if no scheme is given
                             ($FNHOST_ENDPOINT, default ` + defaultEndpoint + `)
  --access-key-id ID         access key ($FNHOST_ACCESS_KEY_ID)
  --access-key-secret KEY    access key secret ($FNHOST_ACCESS_KEY_SECRET)
  --data-dir DIR             fnhost data directory ($FNHOST_DATA, default
                             $XDG_DATA_HOME/fnhost or ~/.local/share/fnhost); without
                             a key above, the key is read from DIR/` + credentialsFile + `,
                             which 'fnhost serve' writes
  --account-id ID            X-Fc-Account-Id ($FNHOST_ACCOUNT_ID, default the
                             credentials file's accountId, else ` + defaultAccountID + `)
  --json                     print JSON instead of text
`

func printCommandHelp(w io.Writer, c *command) {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: fnhost %s %s\n\n%s.\n", c.name, c.args, upperFirst(c.summary))
	if c.help != "" {
		b.WriteString("\n")
		b.WriteString(c.help)
	}
	if c.flags != nil {
		fs := newFlagSet(c.name)
		c.flags(fs, &stdio{env: func(string) string { return "" }})
		var fb strings.Builder
		writeFlags(&fb, fs)
		if fb.Len() > 0 {
			b.WriteString("\nFlags:\n")
			b.WriteString(fb.String())
		}
		b.WriteString("\n")
		b.WriteString(clientFlagsHelp)
	}
	io.WriteString(w, b.String())
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// usageFail reports a command-line error: the error, the command's usage
// line, exit 2.
func usageFail(w io.Writer, c *command, err error) int {
	fmt.Fprintf(w, "fnhost %s: %v\nusage: fnhost %s %s\nRun 'fnhost help %s' for the flags.\n", c.name, err, c.name, c.args, c.name)
	return exitUsage
}

// versionString returns version, else the module version or VCS revision
// recorded in the binary.
func versionString() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		var rev, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev == "" {
			return "(devel) " + bi.GoVersion
		}
		return "(devel) " + rev + dirty + " " + bi.GoVersion
	}
	return v + " " + bi.GoVersion
}

package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fnhost/fnhost/host/invoker"
	"github.com/fnhost/fnhost/host/jobs"
	"github.com/fnhost/fnhost/host/runtime"
	"github.com/fnhost/fnhost/host/server"
	"github.com/fnhost/fnhost/host/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"
)

const serveUsage = `usage: fnhost serve [--listen ADDR] [--data DIR] [--log-level LEVEL] [--log-format auto|json|console]
                    [--grace DURATION] [--sync-writes] [--max-instances N] [--max-memory MB]
                    [--max-concurrent N] [--max-conns-per-ip N] [--trusted-proxies CIDRS]
                    [--max-body BYTES] [--max-async-body BYTES] [--max-header-bytes BYTES]
                    [--max-url-bytes BYTES] [--max-response BYTES] [--max-code BYTES]
                    [--async-workers N]
                    [--job-retention DURATION] [--log-retention DURATION]

Runs the fnhost server: HTTP triggers at /2016-08-15/proxy/{service}/{function}/,
the FC 2016-08-15 management API, /healthz and /metrics, with everything kept
in the data directory (Badger database in db/, compiled code in cache/).

The admin access key comes from FNHOST_ACCESS_KEY_ID and
FNHOST_ACCESS_KEY_SECRET when both are set; otherwise it is read from
DIR/credentials.json, or generated on first start, saved there (mode 0600) and
printed once. FNHOST_ACCOUNT_ID sets the account id (default "fnhost").

Asynchronous invocations (X-Fc-Invocation-Type: Async) are stored before the
202 and run at least once, across restarts; --sync-writes also makes them
survive power loss.

SIGINT or SIGTERM stops accepting requests and lets running invocations finish
for up to --grace; a second signal exits at once.
`

// serveCmd runs `fnhost serve`. It returns the process exit code.
func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return serveWith(ctx, args, stdout, stderr, os.Getenv)
}

type serveOptions struct {
	listen       string
	data         string
	logLevel     string
	logFormat    string
	grace        time.Duration
	syncWrites   bool
	maxInstances int
	maxMemoryMB  int
	asyncWorkers int
	maxRunning   int
	maxResponse  int
	connsPerIP   int
	trusted      string
	limits       server.Limits
	jobRetention time.Duration
	logRetention time.Duration
}

func serveWith(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) int {
	var o serveOptions
	fset := flag.NewFlagSet("serve", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() { fmt.Fprint(stderr, serveUsage+"\nFlags:\n"); fset.PrintDefaults() }
	fset.StringVar(&o.listen, "listen", "127.0.0.1:9000", "address to listen on (loopback by default)")
	fset.StringVar(&o.data, "data", defaultDataDir(env), "data directory (env "+envData+")")
	fset.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fset.StringVar(&o.logFormat, "log-format", "auto", "auto (console on a terminal, JSON otherwise), json or console")
	fset.DurationVar(&o.grace, "grace", 30*time.Second, "how long running invocations may finish after a stop signal")
	fset.BoolVar(&o.syncWrites, "sync-writes", false, "fsync every store commit (survives power loss; slower)")
	fset.IntVar(&o.maxInstances, "max-instances", 0, "default instance limit per function (0: 2 × CPUs, at least 4)")
	fset.IntVar(&o.maxMemoryMB, "max-memory", 4096, "largest memorySize a function may set, in MB")
	fset.IntVar(&o.maxRunning, "max-concurrent", 0, "invocations running at once across all functions (0: 64 × CPUs; over it: 503)")
	fset.IntVar(&o.connsPerIP, "max-conns-per-ip", 0, "open connections allowed from one client IP (0: no limit)")
	fset.IntVar(&o.limits.MaxBodyBytes, "max-body", server.DefaultMaxBodyBytes, "largest synchronous request body, bytes (over it: 400)")
	fset.IntVar(&o.limits.MaxAsyncBodyBytes, "max-async-body", server.DefaultMaxAsyncBodyBytes, "largest asynchronous request body, bytes (over it: 400)")
	fset.IntVar(&o.limits.MaxHeaderBytes, "max-header-bytes", server.DefaultMaxHeaderBytes, "largest request header block, bytes (over it: 400)")
	fset.IntVar(&o.limits.MaxURLBytes, "max-url-bytes", server.DefaultMaxURLBytes, "longest request path and query, bytes (over it: 400)")
	fset.IntVar(&o.maxResponse, "max-response", runtime.DefaultMaxResponseBytes, "largest function response body, bytes (over it: 502)")
	fset.IntVar(&o.limits.MaxCodeBytes, "max-code", server.DefaultMaxCodeBytes, "largest .wasm module a function may upload, bytes")
	fset.StringVar(&o.trusted, "trusted-proxies", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed (IP lists on triggers)")
	fset.IntVar(&o.asyncWorkers, "async-workers", 0, "async invocations running at once, host-wide (0: 2 × CPUs, at least 4)")
	fset.DurationVar(&o.jobRetention, "job-retention", store.DefaultJobRetention, "how long finished async invocations are kept")
	fset.DurationVar(&o.logRetention, "log-retention", store.DefaultInvocationRetention, "how long invocation logs are kept")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(stderr, "fnhost serve: unexpected argument %q\n%s", fset.Arg(0), serveUsage)
		return exitUsage
	}
	if o.data == "" {
		fmt.Fprintln(stderr, "fnhost serve: no data directory: pass --data or set "+envData)
		return exitUsage
	}
	if _, err := parsePrefixes(o.trusted); err != nil {
		fmt.Fprintln(stderr, "fnhost serve: --trusted-proxies:", err)
		return exitUsage
	}
	log, err := newLogger(stderr, o.logLevel, o.logFormat)
	if err != nil {
		fmt.Fprintln(stderr, "fnhost serve:", err)
		return exitUsage
	}
	if err := serve(ctx, o, stdout, log, env); err != nil {
		log.Error().Err(err).Msg("fnhost serve failed")
		return exitError
	}
	return exitOK
}

func newLogger(w io.Writer, level, format string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(strings.ToLower(level))
	if err != nil || level == "" {
		return zerolog.Logger{}, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	switch format {
	case "auto":
		if isTerminal(w) {
			w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
		}
	case "console":
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly, NoColor: !isTerminal(w)}
	case "json":
	default:
		return zerolog.Logger{}, fmt.Errorf("--log-format %q: use auto, json or console", format)
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&fs.ModeCharDevice != 0
}

// serve assembles the server from its parts and runs it until ctx is done.
// Shutdown order: stop taking requests and wait for running ones, close the
// live functions, flush invocation logs, close the runtime, close the store.
func serve(ctx context.Context, o serveOptions, stdout io.Writer, log zerolog.Logger, env func(string) string) error {
	if err := os.MkdirAll(o.data, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	creds, generated, err := adminCredentials(o.data, env)
	if err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(stdout, "fnhost: generated the admin access key (saved in %s, mode 0600; shown only now):\n"+
			"  access key id:     %s\n  access key secret: %s\n",
			filepath.Join(o.data, credentialsFile), creds.AccessKeyID, creds.AccessKeySecret)
	}

	st, err := store.Open(filepath.Join(o.data, "db"), store.Options{
		SyncWrites:          o.syncWrites,
		JobRetention:        o.jobRetention,
		InvocationRetention: o.logRetention,
		Logger:              log.With().Str("component", "store").Logger(),
	})
	if err != nil {
		return err
	}
	defer st.Close()
	logs := store.NewInvocationWriter(st, store.WriterOptions{Logger: log})
	defer logs.Close(context.Background())

	rt, err := runtime.New(ctx, runtime.Config{
		CacheDir:    filepath.Join(o.data, "cache"),
		MaxMemoryMB: o.maxMemoryMB,
		Logger:      log.With().Str("component", "runtime").Logger(),
	})
	if err != nil {
		return err
	}
	defer rt.Close(context.Background())

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	inv, err := invoker.New(invoker.Config{
		Runtime: rt, Source: st, Recorder: logs, Registerer: reg,
		Logger: log.With().Str("component", "invoker").Logger(), MaxInstances: o.maxInstances, MaxConcurrent: o.maxRunning,
		MaxResponseBytes: o.maxResponse,
	})
	if err != nil {
		return err
	}
	defer inv.Close(context.Background())

	eng, err := jobs.New(jobs.Config{
		Store: st, Invoker: inv, Workers: o.asyncWorkers, AccountID: creds.AccountID,
		Logger: log.With().Str("component", "jobs").Logger(), Registerer: reg,
	})
	if err != nil {
		return err
	}
	if err := eng.Start(); err != nil {
		return err
	}
	// Closed before the invoker and the store (deferred calls run in
	// reverse); a job still running after the grace period is requeued at
	// the next start.
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), o.grace)
		defer cancel()
		if err := eng.Close(cctx); err != nil {
			log.Warn().Err(err).Msg("async jobs still running at exit; they run again at the next start")
		}
	}()

	srv, err := server.New(server.Config{
		Store: st, Invoker: inv, Checker: inv, Jobs: eng,
		Keys: func(id string) (string, bool) {
			if id == creds.AccessKeyID {
				return creds.AccessKeySecret, true
			}
			return "", false
		},
		AccountID:      creds.AccountID,
		MaxConnsPerIP:  o.connsPerIP,
		Limits:         o.limits,
		TrustedProxies: mustPrefixes(o.trusted),
		Logger:         log,
		Gatherer:       reg,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	addr := ln.Addr().String()
	log.Info().Str("addr", addr).Str("data", o.data).Str("account", creds.AccountID).Msg("listening")
	fmt.Fprintf(stdout, "fnhost: listening on http://%s (data in %s)\n", addr, o.data)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	// A second signal ends the process at once.
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	go func() {
		if _, ok := <-again; ok {
			log.Warn().Msg("second signal: exiting without waiting")
			os.Exit(exitError)
		}
	}()
	log.Info().Dur("grace", o.grace).Msg("shutting down: waiting for running requests")
	sctx, cancel := context.WithTimeout(context.Background(), o.grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn().Err(err).Msg("grace period over; closing with requests still running")
	}
	<-served
	if err := logs.Flush(sctx); err != nil {
		log.Warn().Err(err).Msg("invocation logs not fully written")
	}
	log.Info().Msg("stopped")
	return nil
}

// adminCredentials returns the admin key: from the environment when both
// variables are set, else from the data directory, else a new key saved
// there. generated reports a new key (to be shown once).
func adminCredentials(dir string, env func(string) string) (c credentials, generated bool, err error) {
	account := env(envAccountID)
	if id, secret := env(envAccessKeyID), env(envAccessKeySecret); id != "" || secret != "" {
		if id == "" || secret == "" {
			return c, false, errors.New("set both " + envAccessKeyID + " and " + envAccessKeySecret + ", or neither")
		}
		c = credentials{AccessKeyID: id, AccessKeySecret: secret, AccountID: account}
	} else if c, err = loadCredentials(dir); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return c, false, fmt.Errorf("admin credentials: %w", err)
		}
		c, err = newCredentials()
		if err != nil {
			return c, false, err
		}
		generated = true
	}
	if account != "" {
		c.AccountID = account
	}
	if c.AccountID == "" {
		c.AccountID = defaultAccountID
	}
	if generated {
		if err := saveCredentials(dir, c); err != nil {
			return c, false, fmt.Errorf("save admin credentials: %w", err)
		}
	}
	return c, generated, nil
}

func newCredentials() (credentials, error) {
	var id [8]byte
	var secret [24]byte
	if _, err := rand.Read(id[:]); err != nil {
		return credentials{}, err
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return credentials{}, err
	}
	return credentials{
		AccessKeyID:     "FNHOST" + strings.ToUpper(hex.EncodeToString(id[:])),
		AccessKeySecret: base64.RawURLEncoding.EncodeToString(secret[:]),
	}, nil
}

// parsePrefixes parses a comma-separated list of CIDRs or addresses.
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// mustPrefixes is parsePrefixes for a list already checked.
func mustPrefixes(list string) []netip.Prefix {
	p, _ := parsePrefixes(list)
	return p
}

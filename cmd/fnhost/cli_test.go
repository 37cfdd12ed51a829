package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseInterspersed(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		pos  []string
		svc  string
		v    bool
	}{
		{"flags first", []string{"--service", "demo", "-v", "a.wasm"}, []string{"a.wasm"}, "demo", true},
		{"flags after", []string{"a.wasm", "--service", "demo", "-v"}, []string{"a.wasm"}, "demo", true},
		{"mixed", []string{"a", "--service=demo", "b", "-v", "c"}, []string{"a", "b", "c"}, "demo", true},
		{"terminator", []string{"--service", "demo", "--", "-v", "x"}, []string{"-v", "x"}, "demo", false},
		{"dash is positional", []string{"-", "-v"}, []string{"-"}, "", true},
		{"none", nil, nil, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFlagSet("test")
			svc := fs.String("service", "", "")
			v := fs.Bool("v", false, "")
			pos, err := parseInterspersed(fs, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(pos, tc.pos) || *svc != tc.svc || *v != tc.v {
				t.Errorf("pos %q svc %q v %v, want %q %q %v", pos, *svc, *v, tc.pos, tc.svc, tc.v)
			}
		})
	}

	fs := newFlagSet("test")
	if _, err := parseInterspersed(fs, []string{"a", "--nope"}); !errors.As(err, new(usageError)) {
		t.Errorf("unknown flag: %v, want a usageError", err)
	}
	if _, err := parseInterspersed(fs, []string{"a", "--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v, want flag.ErrHelp", err)
	}
}

// TestUsageErrors checks that bad command lines are refused before any
// request is sent (the endpoint does not exist), exit 2 and name the
// command's usage.
func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	wasm := filepath.Join(dir, "hello.wasm")
	os.WriteFile(wasm, []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	const dead = "http://127.0.0.1:1"
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown flag", []string{"ls", "--frob"}, "flag provided but not defined: -frob"},
		{"deploy no file", []string{"deploy", "--service", "s", "--function", "f"}, "missing FILE.wasm"},
		{"deploy two files", []string{"deploy", wasm, wasm, "--service", "s", "--function", "f"}, "unexpected arguments"},
		{"deploy no service", []string{"deploy", wasm, "--function", "f"}, "--service is required"},
		{"deploy no function", []string{"deploy", wasm, "--service", "s"}, "--function is required"},
		{"deploy bad service", []string{"deploy", wasm, "--service", "1bad", "--function", "f"}, `invalid name "1bad"`},
		{"deploy bad function", []string{"deploy", wasm, "--service", "s", "--function", "a/b"}, `invalid name "a/b"`},
		{"deploy bad auth", []string{"deploy", wasm, "--service", "s", "--function", "f", "--auth", "none"}, `--auth "none"`},
		{"deploy bad method", []string{"deploy", wasm, "--service", "s", "--function", "f", "--methods", "GET,FETCH"}, `"FETCH" is not one of`},
		{"deploy no method", []string{"deploy", wasm, "--service", "s", "--function", "f", "--methods", ","}, "no method given"},
		{"deploy env no =", []string{"deploy", wasm, "--service", "s", "--function", "f", "--env", "FOO"}, `"FOO": want K=V`},
		{"deploy env bad key", []string{"deploy", wasm, "--service", "s", "--function", "f", "--env", "1X=2"}, "the name must be"},
		{"deploy env empty key", []string{"deploy", wasm, "--service", "s", "--function", "f", "--env", "=v"}, "the name must be"},
		{"deploy bad timeout", []string{"deploy", wasm, "--service", "s", "--function", "f", "--timeout", "soon"}, "want a duration"},
		{"deploy fractional timeout", []string{"deploy", wasm, "--service", "s", "--function", "f", "--timeout", "1500ms"}, "whole number of seconds"},
		{"deploy zero memory", []string{"deploy", wasm, "--service", "s", "--function", "f", "--memory", "0"}, "--memory 0"},
		{"deploy bad max instances", []string{"deploy", wasm, "--service", "s", "--function", "f", "--max-instances", "-1"}, "--max-instances -1"},
		{"invoke no ref", []string{"invoke"}, "missing SERVICE/FUNCTION"},
		{"invoke no slash", []string{"invoke", "demo"}, "want SERVICE/FUNCTION"},
		{"invoke bad name", []string{"invoke", "demo/he llo"}, `invalid name "he llo"`},
		{"invoke empty qualifier", []string{"invoke", "demo./f"}, "empty qualifier"},
		{"invoke qualifier clash", []string{"invoke", "demo.1/f", "--qualifier", "2"}, "differ"},
		{"invoke bad header", []string{"invoke", "s/f", "--header", "no colon"}, "want 'Name: value'"},
		{"invoke bad header name", []string{"invoke", "s/f", "--header", "a b: c"}, "want 'Name: value'"},
		{"invoke data @", []string{"invoke", "s/f", "--data", "@"}, "want @FILE or @-"},
		{"ls two args", []string{"ls", "a", "b"}, "unexpected arguments"},
		{"ls bad service", []string{"ls", "1bad"}, "invalid name"},
		{"rm nothing", []string{"rm"}, "missing SERVICE/FUNCTION or SERVICE"},
		{"rm bad", []string{"rm", "s/"}, "invalid name"},
		{"logs bad limit", []string{"logs", "s/f", "--limit", "0"}, "--limit 0"},
		{"logs no ref", []string{"logs"}, "missing SERVICE/FUNCTION"},
		{"invoke id without async", []string{"invoke", "s/f", "--invocation-id", "a"}, "need --async"},
		{"invoke delay without async", []string{"invoke", "s/f", "--delay", "5s"}, "need --async"},
		{"invoke bad invocation id", []string{"invoke", "s/f", "--async", "--invocation-id", "1abc"}, `--invocation-id "1abc"`},
		{"invoke long invocation id", []string{"invoke", "s/f", "--async", "--invocation-id", "a" + strings.Repeat("b", 128)}, "at most 128"},
		{"invoke delay too long", []string{"invoke", "s/f", "--async", "--delay", "61m"}, `--delay: "61m": want 0s to 1h`},
		{"invoke delay fraction", []string{"invoke", "s/f", "--async", "--delay", "1.5s"}, "whole number of seconds"},
		{"invoke delay negative", []string{"invoke", "s/f", "--async", "--delay", "-1"}, "want 0s to 1h"},
		{"jobs nothing", []string{"jobs"}, "missing ls, get or stop"},
		{"jobs bad verb", []string{"jobs", "rm", "s/f"}, `unknown subcommand "rm"`},
		{"jobs ls no ref", []string{"jobs", "ls"}, "missing SERVICE/FUNCTION"},
		{"jobs ls extra", []string{"jobs", "ls", "s/f", "x"}, "unexpected arguments"},
		{"jobs ls bad ref", []string{"jobs", "ls", "s"}, "want SERVICE/FUNCTION"},
		{"jobs ls bad status", []string{"jobs", "ls", "s/f", "--status", "done"}, `--status: "done" is not one of Enqueued`},
		{"jobs ls bad limit", []string{"jobs", "ls", "s/f", "--limit", "0"}, "--limit 0"},
		{"jobs get no id", []string{"jobs", "get", "s/f"}, "missing the invocation ID"},
		{"jobs get nothing", []string{"jobs", "get"}, "missing SERVICE/FUNCTION and ID"},
		{"jobs stop extra", []string{"jobs", "stop", "s/f", "id", "more"}, "unexpected arguments after the invocation ID: more"},
		{"jobs get ls flag", []string{"jobs", "get", "s/f", "id", "--status", "Failed"}, "--status applies to jobs ls only"},
		{"jobs stop ls flag", []string{"jobs", "stop", "s/f", "id", "--asc"}, "--asc applies to jobs ls only"},
		{"jobs get empty id", []string{"jobs", "get", "s/f", ""}, "empty invocation ID"},
		{"async-config no ref", []string{"async-config"}, "missing SERVICE/FUNCTION"},
		{"async-config bad ref", []string{"async-config", "s/1f"}, "invalid name"},
		{"async-config retries", []string{"async-config", "s/f", "--retries", "9"}, "--retries 9: want 0 to 8"},
		{"async-config negative retries", []string{"async-config", "s/f", "--retries", "-1"}, "--retries -1"},
		{"async-config max age zero", []string{"async-config", "s/f", "--max-age", "0"}, "want 1s to 168h"},
		{"async-config max age long", []string{"async-config", "s/f", "--max-age", "169h"}, "want 1s to 168h"},
		{"async-config bad dest", []string{"async-config", "s/f", "--on-success", "mns:queue"}, `--on-success: "mns:queue": want an http(s) URL`},
		{"async-config bare scheme", []string{"async-config", "s/f", "--on-failure", "https://"}, "--on-failure"},
		{"async-config delete and set", []string{"async-config", "s/f", "--delete", "--retries", "1"}, "--delete and --retries exclude each other"},
		{"one key only", []string{"ls", "--access-key-id", "x"}, "give both --access-key-id and --access-key-secret"},
		{"bad endpoint", []string{"ls", "--endpoint", "ftp://localhost:9000", "--access-key-id", "a", "--access-key-secret", "b"}, "--endpoint"},
		{"help unknown", []string{"help", "nope"}, `unknown command "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := cliEnv(t, map[string]string{envEndpoint: dead, "HOME": dir}, "", tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d\nstderr: %s", code, exitUsage, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.want)
			}
			if c := lookup(tc.args[0]); c != nil && c.flags != nil && !strings.Contains(stderr, "usage: fnhost "+c.name+" "+c.args) {
				t.Errorf("stderr %q lacks the usage line", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
}

func TestDeployRejectsNonWasm(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"text.wasm": "hello", "empty.wasm": ""} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(content), 0o644)
		_, stderr, code := cliEnv(t, map[string]string{"HOME": dir}, "", "deploy", path, "--service", "s", "--function", "f")
		if code != exitError || !strings.Contains(stderr, "fnhost: "+path) {
			t.Errorf("%s: exit %d, stderr %q", name, code, stderr)
		}
	}
	_, stderr, code := cliEnv(t, map[string]string{"HOME": dir}, "", "deploy", filepath.Join(dir, "missing.wasm"), "--service", "s", "--function", "f")
	if code != exitError || !strings.Contains(stderr, "no such file") {
		t.Errorf("missing file: exit %d, stderr %q", code, stderr)
	}
	if err := checkModule("a.zip", []byte("PK\x03\x04rest")); err != nil {
		t.Errorf("zip rejected: %v", err)
	}
}

func TestParseTimeout(t *testing.T) {
	for in, want := range map[string]int{"3s": 3, "1m": 60, "1m30s": 90, "3": 3, "600": 600} {
		if got, err := parseTimeout(in); err != nil || got != want {
			t.Errorf("parseTimeout(%q) = %d, %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "0s", "500ms", "1.5s", "x"} {
		if _, err := parseTimeout(in); err == nil {
			t.Errorf("parseTimeout(%q) succeeded", in)
		}
	}
}

func TestParseEnvAndMethods(t *testing.T) {
	env, err := parseEnv([]string{"A=1", "B_2=x=y", "A=3", "_E="})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"A": "3", "B_2": "x=y", "_E": ""}; !reflect.DeepEqual(env, want) {
		t.Errorf("env %v, want %v", env, want)
	}
	m, err := parseMethods(" get,POST , get,options")
	if err != nil || !reflect.DeepEqual(m, []string{"GET", "POST", "OPTIONS"}) {
		t.Errorf("methods %v, %v", m, err)
	}
}

func TestReadData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "body")
	os.WriteFile(path, []byte("from file\n"), 0o644)
	for _, tc := range []struct{ data, stdin, want string }{
		{"", "ignored", ""},
		{"hello", "ignored", "hello"},
		{"@" + path, "", "from file\n"},
		{"@-", "from stdin", "from stdin"},
	} {
		got, err := readData(tc.data, strings.NewReader(tc.stdin))
		if err != nil || string(got) != tc.want {
			t.Errorf("readData(%q) = %q, %v, want %q", tc.data, got, err, tc.want)
		}
	}
	if _, err := readData("@/does/not/exist", nil); err == nil {
		t.Error("missing file accepted")
	}
}

func TestHelpAndVersion(t *testing.T) {
	stdout, _, code := cliEnv(t, nil, "", "help")
	if code != exitOK {
		t.Fatalf("help exit %d", code)
	}
	for _, c := range commands {
		if !strings.Contains(stdout, "  "+c.name+" ") {
			t.Errorf("usage lacks %s:\n%s", c.name, stdout)
		}
	}
	_, stderr, code := cliEnv(t, nil, "")
	if code != exitUsage || !strings.Contains(stderr, "Commands:") {
		t.Errorf("no args: exit %d, stderr %q", code, stderr)
	}
	for _, args := range [][]string{{"help", "deploy"}, {"deploy", "--help"}, {"deploy", "-h"}} {
		stdout, _, code = cliEnv(t, nil, "", args...)
		if code != exitOK || !strings.Contains(stdout, "Usage: fnhost deploy FILE.wasm") || !strings.Contains(stdout, "--max-instances N") ||
			!strings.Contains(stdout, "anonymous by default") || !strings.Contains(stdout, "--endpoint URL") {
			t.Errorf("%v: exit %d, stdout:\n%s", args, code, stdout)
		}
	}
	stdout, _, _ = cliEnv(t, nil, "", "help", "invoke")
	if !strings.Contains(stdout, "--verbose") || strings.Contains(stdout, "  --v ") {
		t.Errorf("invoke help lists the -v alias or lacks --verbose:\n%s", stdout)
	}
	for _, tc := range []struct{ cmd, want string }{
		{"jobs", "Usage: fnhost jobs ls|get|stop SERVICE/FUNCTION [ID] [flags]"},
		{"jobs", "--status STATUS"},
		{"async-config", "Usage: fnhost async-config SERVICE/FUNCTION [flags]"},
		{"async-config", "--max-age DURATION"},
		{"invoke", "--invocation-id ID"},
	} {
		if stdout, _, _ = cliEnv(t, nil, "", "help", tc.cmd); !strings.Contains(stdout, tc.want) {
			t.Errorf("help %s lacks %q:\n%s", tc.cmd, tc.want, stdout)
		}
	}
	stdout, _, code = cliEnv(t, nil, "", "version")
	if code != exitOK || !strings.HasPrefix(stdout, "fnhost ") {
		t.Errorf("version: exit %d, %q", code, stdout)
	}
}

package host_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
)

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"letter", "a", true},
		{"underscore first", "_x", true},
		{"mixed", "demo_Fn-2", true},
		{"max length", "a" + strings.Repeat("b", 127), true},
		{"empty", "", false},
		{"too long", "a" + strings.Repeat("b", 128), false},
		{"digit first", "1abc", false},
		{"hyphen first", "-abc", false},
		{"slash", "a/b", false},
		{"dot", "a.b", false},
		{"space", "a b", false},
		{"non-ASCII", "café", false},
		{"NUL", "a\x00", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := host.ValidName(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("ValidName(%q) = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "1 to 128 characters") {
				t.Errorf("error %q does not state the rule", err)
			}
		})
	}
}

func FuzzValidName(f *testing.F) {
	for _, s := range []string{"", "a", "_", "1a", "-a", "a-1_B", "a/b", "café", strings.Repeat("x", 129)} {
		f.Add(s)
	}
	// Found by the fuzzer: invalid bytes made a 401-byte message.
	f.Add("000" + strings.Repeat("\x89", 70))
	f.Fuzz(func(t *testing.T, s string) {
		err := host.ValidName(s)
		// Reference implementation of the rule.
		want := len(s) >= 1 && len(s) <= 128
		for i, c := range []byte(s) {
			letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
			tail := c >= '0' && c <= '9' || c == '-'
			if !letter && !(tail && i > 0) {
				want = false
			}
		}
		if (err == nil) != want {
			t.Fatalf("ValidName(%q) = %v, want ok=%v", s, err, want)
		}
		if err == nil && strings.ContainsAny(s, "/\x00") {
			t.Fatalf("ValidName accepted %q", s)
		}
		if err != nil && len(err.Error()) > 400 {
			t.Fatalf("error message is %d bytes", len(err.Error()))
		}
	})
}

// TestMetaJSON pins the FC field names (fc-compat.md §3).
func TestMetaJSON(t *testing.T) {
	tests := []struct {
		name string
		v    any
		keys []string
		not  []string
	}{
		{"service", host.Service{}, []string{"serviceName", "description", "serviceId", "createdTime", "lastModifiedTime"}, nil},
		{"function", host.Function{ServiceName: "svc"}, []string{
			"functionName", "functionId", "description", "runtime", "handler", "memorySize", "timeout",
			"instanceConcurrency", "maxInstances", "environmentVariables", "codeChecksum", "codeSize",
			"createdTime", "lastModifiedTime",
		}, []string{"ServiceName", "serviceName"}},
		{"trigger", host.Trigger{ServiceName: "s", FunctionName: "f"}, []string{
			"triggerName", "triggerID", "description", "triggerType", "triggerConfig", "createdTime", "lastModifiedTime",
		}, []string{"serviceName", "functionName", "ServiceName"}},
		{"httpTriggerConfig", host.HTTPTriggerConfig{}, []string{"authType", "methods", "disableURLInternet"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range tc.keys {
				if _, ok := m[k]; !ok {
					t.Errorf("missing %q in %s", k, b)
				}
			}
			for _, k := range tc.not {
				if _, ok := m[k]; ok {
					t.Errorf("unexpected %q in %s", k, b)
				}
			}
			if len(m) != len(tc.keys) {
				t.Errorf("got %d keys, want %d: %s", len(m), len(tc.keys), b)
			}
		})
	}
}

func TestFormatTime(t *testing.T) {
	got := host.FormatTime(time.Date(2026, 1, 2, 11, 4, 5, 999, time.FixedZone("x", 3*3600)))
	if want := "2026-01-02T08:04:05Z"; got != want {
		t.Fatalf("FormatTime = %q, want %q", got, want)
	}
	if _, err := time.Parse(time.RFC3339, got); err != nil {
		t.Fatalf("not RFC 3339: %v", err)
	}
}

func TestNewKinds(t *testing.T) {
	for k, want := range map[host.Kind]string{
		host.KindNotFound: "not found", host.KindConflict: "conflict",
		host.KindInvalidArgument: "invalid argument", host.KindNotEmpty: "not empty",
	} {
		if k.String() != want {
			t.Errorf("%d.String() = %q, want %q", k, k.String(), want)
		}
		err := &host.Error{Kind: k, Op: "x", Err: errors.New("y")}
		if !errors.Is(err, &host.Error{Kind: k}) {
			t.Errorf("errors.Is fails for %v", k)
		}
	}
}

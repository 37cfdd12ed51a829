package host_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyDirection enforces the import rules of the package map:
// abi and the Go SDK import no third-party code, host imports only abi and
// the standard library, and nothing under host imports the SDK or guests.
func TestDependencyDirection(t *testing.T) {
	const mod = "github.com/fnhost/fnhost"
	rules := []struct {
		pkg   string
		goos  string
		allow []string // module-internal or third-party prefixes allowed
	}{
		{pkg: "./abi", allow: nil},
		{pkg: "./sdk/go/...", goos: "wasip1", allow: []string{mod + "/abi", mod + "/sdk/go/"}},
		{pkg: "./sdk/go/...", allow: []string{mod + "/abi", mod + "/sdk/go/"}},
		{pkg: ".", allow: []string{mod + "/abi"}}, // package host
		{pkg: "./cgi", allow: []string{mod + "/host", mod + "/abi"}},
		{pkg: "./auth", allow: []string{mod + "/host"}},
		{pkg: "./store", allow: []string{mod + "/host", mod + "/abi", "github.com/dgraph-io/", "github.com/rs/zerolog", "github.com/mattn/",
			"github.com/cespare/", "github.com/dustin/", "github.com/google/flatbuffers", "github.com/klauspost/",
			"go.opentelemetry.io/", "google.golang.org/protobuf", "github.com/go-logr/", "golang.org/x/sys"}},
		{pkg: "./runtime", allow: []string{mod + "/host", mod + "/abi", "github.com/tetratelabs/wazero", "github.com/rs/zerolog", "github.com/mattn/", "golang.org/x/sys"}},
	}
	for _, r := range rules {
		t.Run(r.pkg+"/"+r.goos, func(t *testing.T) {
			dir := "."
			if strings.HasPrefix(r.pkg, "./abi") || strings.HasPrefix(r.pkg, "./sdk") {
				dir = ".."
			}
			cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", r.pkg)
			cmd.Dir = dir
			if r.goos != "" {
				cmd.Env = append(cmd.Environ(), "GOOS="+r.goos, "GOARCH=wasm")
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			for _, dep := range strings.Fields(string(out)) {
				if ok := isSelf(dep, r.pkg, mod) || hasAnyPrefix(dep, r.allow); !ok {
					t.Errorf("%s imports %s, which the dependency rules forbid", r.pkg, dep)
				}
			}
		})
	}
}

// TestDirectImports enforces the package map's rule that runtime, store,
// server and jobs do not import each other: the server reaches metadata
// through its Store interface (which *store.Store satisfies), async jobs
// through its Jobs interface and functions through the invoker; the
// invoker and the jobs engine read the store through interfaces of their
// own.
// The client speaks HTTP only.
func TestDirectImports(t *testing.T) {
	const mod = "github.com/fnhost/fnhost/host/"
	forbidden := map[string][]string{
		"./server":  {mod + "store", mod + "runtime", mod + "client", mod + "jobs"},
		"./invoker": {mod + "store", mod + "server", mod + "client", mod + "jobs"},
		"./jobs":    {mod + "store", mod + "server", mod + "client", mod + "runtime"},
		"./store":   {mod + "runtime", mod + "server", mod + "invoker", mod + "client"},
		"./runtime": {mod + "store", mod + "server", mod + "invoker", mod + "client"},
		"./client":  {mod + "store", mod + "server", mod + "invoker", mod + "runtime", "github.com/valyala/", "github.com/dgraph-io/", "github.com/tetratelabs/"},
	}
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-f", "{{join .Imports \"\\n\"}}", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, imp := range strings.Fields(string(out)) {
			if hasAnyPrefix(imp, bad) {
				t.Errorf("%s imports %s directly, which the package map forbids", pkg, imp)
			}
		}
	}
}

func isSelf(dep, pkg, mod string) bool {
	p := strings.TrimSuffix(strings.TrimPrefix(pkg, "."), "/...")
	switch {
	case strings.HasPrefix(pkg, "./abi"), strings.HasPrefix(pkg, "./sdk"):
		return strings.HasPrefix(dep, mod+p)
	case pkg == ".":
		return dep == mod+"/host"
	default:
		return strings.HasPrefix(dep, mod+"/host"+p)
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

package store

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/rs/zerolog"

	"github.com/fnhost/fnhost/host"
)

func TestParseKey(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	tests := []struct {
		key  string
		want parsedKey
	}{
		{"schema", parsedKey{kind: keySchemaVersion}},
		{"v1/svc/demo", parsedKey{kind: keyService, service: "demo"}},
		{"v1/fn/demo/hello", parsedKey{kind: keyFunction, service: "demo", fn: "hello"}},
		{"v1/trg/demo/hello/web", parsedKey{kind: keyTrigger, service: "demo", fn: "hello", trigger: "web"}},
		{"v1/mod/" + sum, parsedKey{kind: keyModule, checksum: sum}},
		{"v1/modref/" + sum, parsedKey{kind: keyModRef, checksum: sum}},
		{"v1/svc/", parsedKey{}},
		{"v1/svc/a/b", parsedKey{}},
		{"v1/fn/demo", parsedKey{}},
		{"v1/fn/demo/", parsedKey{}},
		{"v1/fn/demo/1x", parsedKey{}},
		{"v1/trg/a/b", parsedKey{}},
		{"v1/mod/" + strings.ToUpper(sum), parsedKey{}},
		{"v1/mod/abc", parsedKey{}},
		{"v1/inv/demo/hello/0123456789abcdef/req-1", parsedKey{kind: keyInvocation, service: "demo", fn: "hello", order: "0123456789abcdef", requestID: "req-1"}},
		{"v1/invid/demo/hello/req-1/0123456789abcdef", parsedKey{kind: keyInvocationID, service: "demo", fn: "hello", order: "0123456789abcdef", requestID: "req-1"}},
		{"v1/inv/demo/hello/0123456789ABCDEF/req-1", parsedKey{}},
		{"v1/inv/demo/hello/0123456789abcde/req-1", parsedKey{}},
		{"v1/inv/demo/hello/0123456789abcdef/", parsedKey{}},
		{"v1/inv/demo/hello/0123456789abcdef/a/b", parsedKey{}},
		{"v1/inv/demo/hello/0123456789abcdef/a\x00", parsedKey{}},
		{"v1/invid/demo/hello/0123456789abcdef/req-1", parsedKey{}},
		{"v1/invid/demo/hello/req-1", parsedKey{}},
		{"v2/svc/demo", parsedKey{}},
		{"", parsedKey{}},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			if got := parseKey([]byte(tc.key)); got != tc.want {
				t.Fatalf("parseKey(%q) = %+v, want %+v", tc.key, got, tc.want)
			}
		})
	}
}

// FuzzParseKey: whatever parses rebuilds to the same key, and names never
// hold a separator.
func FuzzParseKey(f *testing.F) {
	for _, k := range []string{"schema", "v1/svc/demo", "v1/fn/demo/hello", "v1/trg/a/b/c",
		"v1/mod/" + strings.Repeat("0", 64), "v1/modref/" + strings.Repeat("f", 64), "v1/fn//x", "v1/trg/a/b/c/d",
		"v1/inv/a/b/0123456789abcdef/r", "v1/invid/a/b/r/0123456789abcdef", "v1/inv/a/b/r/0123456789abcdef"} {
		f.Add([]byte(k))
	}
	f.Fuzz(func(t *testing.T, k []byte) {
		p := parseKey(k)
		var back []byte
		switch p.kind {
		case keyUnknown:
			return
		case keySchemaVersion:
			back = keySchema
		case keyService:
			back = serviceKey(p.service)
		case keyFunction:
			back = functionKey(p.service, p.fn)
		case keyTrigger:
			back = triggerKey(p.service, p.fn, p.trigger)
		case keyModule:
			back = moduleKey(p.checksum)
		case keyModRef:
			back = modRefKey(p.checksum)
		case keyInvocation:
			back = invocationKey(p.service, p.fn, p.order, p.requestID)
		case keyInvocationID:
			back = invocationIDKey(p.service, p.fn, p.requestID, p.order)
		default:
			t.Fatalf("parseKey(%q): kind %d has no constructor here", k, p.kind)
		}
		if !bytes.Equal(back, k) {
			t.Fatalf("parseKey(%q) = %+v, rebuilds to %q", k, p, back)
		}
		for _, n := range []string{p.service, p.fn, p.trigger} {
			if n != "" && host.ValidName(n) != nil {
				t.Fatalf("parseKey(%q) gave invalid name %q", k, n)
			}
		}
	})
}

// countKeys counts the keys under prefix.
func countKeys(t *testing.T, s *Store, prefix string) int {
	t.Helper()
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOneCopy checks the keys themselves: identical bytes are one module
// key; deleting every user leaves no module, reference or trigger key.
func TestOneCopy(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	wasm := []byte("\x00asm\x01\x00\x00\x00")
	if _, err := s.CreateService(host.Service{ServiceName: "svc"}); err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{"a", "b", "c"} {
		if _, err := s.CreateFunction(host.Function{ServiceName: "svc", FunctionName: fn}, bytes.Clone(wasm)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateTrigger(host.Trigger{ServiceName: "svc", FunctionName: fn, TriggerName: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.PutModule(wasm); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, s, prefixModule); n != 1 {
		t.Fatalf("%d module keys, want 1", n)
	}
	for _, fn := range []string{"a", "b", "c"} {
		if err := s.DeleteFunction("svc", fn); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{prefixModule, prefixModRef, prefixTrigger, prefixFunction} {
		if n := countKeys(t, s, p); n != 0 {
			t.Errorf("%d keys left under %s", n, p)
		}
	}
}

// TestBadgerQuiet: Badger's info chatter stays below the info level.
func TestBadgerQuiet(t *testing.T) {
	var buf bytes.Buffer
	dir := t.TempDir()
	for range 2 { // the second open replays and logs more
		s, err := Open(dir, Options{Logger: zerolog.New(&buf).Level(zerolog.InfoLevel)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutModule([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if buf.Len() != 0 {
		t.Fatalf("badger logged at info level or above:\n%s", buf.String())
	}
	buf.Reset()
	s, err := Open(dir, Options{Logger: zerolog.New(&buf).Level(zerolog.DebugLevel)})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if !strings.Contains(buf.String(), `"component":"badger"`) {
		t.Fatalf("badger's debug output not routed to zerolog: %q", buf.String())
	}
}

// TestModuleHammer: goroutines create, re-code and delete functions that
// share modules; afterwards no module, reference or function key is left.
func TestModuleHammer(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateService(host.Service{ServiceName: "svc"}); err != nil {
		t.Fatal(err)
	}
	a, b := []byte("\x00asm module a"), []byte("\x00asm module b")
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 20 {
				name := fmt.Sprintf("f%d", w)
				if _, err := s.CreateFunction(host.Function{ServiceName: "svc", FunctionName: name}, a); err != nil {
					t.Error(err)
					return
				}
				code := b
				if i%2 == 0 {
					code = a
				}
				if _, err := s.UpdateFunction("svc", name, code, nil); err != nil {
					t.Error(err)
					return
				}
				if err := s.DeleteFunction("svc", name); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, p := range []string{prefixModule, prefixModRef, prefixFunction} {
		if n := countKeys(t, s, p); n != 0 {
			t.Errorf("%d keys left under %s", n, p)
		}
	}
}

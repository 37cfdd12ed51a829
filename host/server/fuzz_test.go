package server

import (
	"bytes"
	"testing"
)

// FuzzTriggerPath: the trigger router never panics, finds a service and a
// function without '/', and gives the guest a path that starts with '/'
// and is a suffix of what the client sent.
func FuzzTriggerPath(f *testing.F) {
	for _, s := range []string{
		"svc/fn/a/b", "svc.LATEST/fn", "svc/fn/", "/", "", "svc", "svc./fn", ".q/fn/x",
		"s/f/%2F..%2F", "s/f//double", "s/f?x=1", "a.b.c/d/e",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, rest []byte) {
		svc, _, fn, path, ok := splitTriggerPath(rest)
		if ok {
			if len(svc) == 0 || len(fn) == 0 || bytes.IndexByte(svc, '/') >= 0 || bytes.IndexByte(fn, '/') >= 0 {
				t.Fatalf("split %q: svc %q fn %q", rest, svc, fn)
			}
			if len(path) == 0 || path[0] != '/' {
				t.Fatalf("split %q: path %q", rest, path)
			}
		}
		raw := append([]byte(apiPrefix+"/proxy/"), rest...)
		g := rawGuestPath(raw)
		if len(g) == 0 || g[0] != '/' {
			t.Fatalf("rawGuestPath(%q) = %q", raw, g)
		}
		if !bytes.HasSuffix(raw, g) && string(g) != "/" {
			t.Fatalf("rawGuestPath(%q) = %q is not a suffix", raw, g)
		}
		serviceSegment(string(rest))
		isSmuggling(rest)
	})
}

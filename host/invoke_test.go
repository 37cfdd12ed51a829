package host

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func TestResponseAddHeader(t *testing.T) {
	var r Response
	r.AddHeader([]byte("A"), []byte("1"))
	for i := 0; i < 100; i++ { // force the arena to move
		r.AddHeader([]byte("X-Long"), bytes.Repeat([]byte{'v'}, 100))
	}
	if string(r.Headers[0].Name) != "A" || string(r.Headers[0].Value) != "1" || len(r.Headers) != 101 {
		t.Fatalf("first header %q=%q of %d", r.Headers[0].Name, r.Headers[0].Value, len(r.Headers))
	}
	if r.HeaderBytes() != 2+100*106 {
		t.Errorf("HeaderBytes = %d", r.HeaderBytes())
	}
	r.Reset()
	if len(r.Headers) != 0 || r.HeaderBytes() != 0 {
		t.Error("Reset left headers")
	}
}

// FuzzHeaderEncoding: header fields stored through AddHeader read back
// exactly, and validation never accepts bytes that would break a header
// line.
func FuzzHeaderEncoding(f *testing.F) {
	f.Add([]byte("Content-Type"), []byte("text/plain"), []byte("X-A"), []byte(""))
	f.Add([]byte("Bad Name"), []byte("v\r\nInjected: 1"), []byte(""), []byte("\x00"))
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 []byte) {
		var r Response
		r.AddHeader(n1, v1)
		r.AddHeader(n2, v2)
		if !bytes.Equal(r.Headers[0].Name, n1) || !bytes.Equal(r.Headers[0].Value, v1) ||
			!bytes.Equal(r.Headers[1].Name, n2) || !bytes.Equal(r.Headers[1].Value, v2) {
			t.Fatal("header bytes changed")
		}
		if r.HeaderBytes() != len(n1)+len(v1)+len(n2)+len(v2) {
			t.Fatal("HeaderBytes wrong")
		}
		if ValidHeaderName(n1) && (len(n1) == 0 || bytes.ContainsAny(n1, " \t\r\n:\x00\"(),/;<=>?@[\\]{}")) {
			t.Fatalf("accepted name %q", n1)
		}
		if ValidHeaderValue(v1) && bytes.ContainsAny(v1, "\r\n\x00") {
			t.Fatalf("accepted value %q", v1)
		}
	})
}

func TestErrorKind(t *testing.T) {
	base := errors.New("boom")
	err := fmt.Errorf("outer: %w", &Error{Kind: KindTimeout, Op: "runtime.Invoke", Err: base})
	cases := []struct {
		err  error
		kind Kind
	}{
		{err, KindTimeout},
		{base, KindInternal},
		{nil, KindInternal},
		{&Error{Kind: KindTrap}, KindTrap},
	}
	for _, tc := range cases {
		if got := ErrorKind(tc.err); got != tc.kind {
			t.Errorf("ErrorKind(%v) = %v, want %v", tc.err, got, tc.kind)
		}
	}
	if !errors.Is(err, &Error{Kind: KindTimeout}) || errors.Is(err, &Error{Kind: KindTrap}) {
		t.Error("errors.Is by kind does not work")
	}
	if !errors.Is(err, base) {
		t.Error("Unwrap lost the cause")
	}
	if got := err.Error(); got != "outer: runtime.Invoke: timeout: boom" {
		t.Errorf("message %q", got)
	}
	if Kind(200).String() != "kind(200)" {
		t.Error("unknown kind name")
	}
}

func TestEqualFoldASCII(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"Content-Type", "content-type", true},
		{"X-A", "x-a", true},
		{"X-A", "x-b", false},
		{"abc", "abcd", false},
		{"", "", true},
		{"\u017ftatus", "status", false}, // no Unicode folding
		{"[", "{", false},                // 0x5b and 0x7b differ only in bit 0x20
	}
	for _, tc := range cases {
		if got := EqualFoldASCII(tc.a, []byte(tc.b)); got != tc.want {
			t.Errorf("EqualFoldASCII(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

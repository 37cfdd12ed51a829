package leb

import "testing"

func TestDecoders(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		u32  uint32
		ok   bool
		n    int // bytes read when ok
	}{
		{"zero", []byte{0x00}, 0, true, 1},
		{"one byte max", []byte{0x7f}, 127, true, 1},
		{"two bytes", []byte{0x80, 0x01}, 128, true, 2},
		{"max uint32", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 1<<32 - 1, true, 5},
		{"fifth byte over 32 bits", []byte{0xff, 0xff, 0xff, 0xff, 0x1f}, 0, false, 0},
		{"six bytes", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 0, false, 0},
		{"truncated", []byte{0x80}, 0, false, 0},
		{"empty", nil, 0, false, 0},
	}
	for _, tc := range tests {
		v, p, ok := U32(tc.in, 0)
		if ok != tc.ok || (ok && (v != tc.u32 || p != tc.n)) {
			t.Errorf("U32 %s: %d %d %v, want %d %d %v", tc.name, v, p, ok, tc.u32, tc.n, tc.ok)
		}
		if ok {
			if p2, ok2 := Skip(tc.in, 0, 5); !ok2 || p2 != p {
				t.Errorf("Skip %s: %d %v, want %d", tc.name, p2, ok2, p)
			}
		}
	}
	for _, tc := range []struct {
		in []byte
		v  int64
		ok bool
	}{
		{[]byte{0x40}, -64, true},        // block type: empty
		{[]byte{0x7f}, -1, true},         // i32
		{[]byte{0x05}, 5, true},          // type index
		{[]byte{0x80, 0x7f}, -128, true}, // two bytes
		{[]byte{0x80}, 0, false},
	} {
		v, _, ok := S33(tc.in, 0)
		if ok != tc.ok || (ok && v != tc.v) {
			t.Errorf("S33 % x: %d %v, want %d %v", tc.in, v, ok, tc.v, tc.ok)
		}
	}
}

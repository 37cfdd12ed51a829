package server

import "unsafe"

// s2b returns the bytes of s without copying; the result must not be
// modified (fasthttp's Set*Bytes* methods copy what they are given).
func s2b(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// b2s returns b as a string without copying; valid only while b is
// unchanged (used for borrowed fasthttp header bytes during one call).
func b2s(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

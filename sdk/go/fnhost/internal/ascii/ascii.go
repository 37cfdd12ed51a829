// Package ascii holds the ASCII case-insensitive comparison header names
// need, shared by the SDK and its fake host (the SDK cannot import the
// host's copy in package host).
package ascii

// EqualFold reports whether a and b are equal ignoring ASCII case only.
func EqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

package host

// ValidHeaderName reports whether b is a non-empty RFC 9110 token.
func ValidHeaderName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if tokenTable[c] == 0 {
			return false
		}
	}
	return true
}

// ValidHeaderValue reports whether b has none of CR, LF and NUL, the bytes
// that would let a value split or end a header line.
func ValidHeaderValue(b []byte) bool {
	for _, c := range b {
		if c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}

var tokenTable = func() (t [256]byte) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = 1
		t[c-'a'+'A'] = 1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = 1
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = 1
	}
	return t
}()

// EqualFoldASCII reports whether a and b are equal ignoring ASCII case,
// the comparison HTTP header names need (and no Unicode folding, which
// would let non-ASCII bytes match ASCII names).
func EqualFoldASCII[A, B ~string | ~[]byte](a A, b B) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
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

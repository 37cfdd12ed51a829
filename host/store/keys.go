package store

import (
	"strings"

	"github.com/fnhost/fnhost/host"
)

// Key layout; see the package documentation.
const (
	prefixService  = "v1/svc/"
	prefixFunction = "v1/fn/"
	prefixTrigger  = "v1/trg/"
	prefixModule   = "v1/mod/"
	prefixModRef   = "v1/modref/"

	prefixInvocation   = "v1/inv/"
	prefixInvocationID = "v1/invid/"
)

var keySchema = []byte("schema")

func serviceKey(svc string) []byte { return []byte(prefixService + svc) }

func functionPrefix(svc string) string { return prefixFunction + svc + "/" }

func functionKey(svc, fn string) []byte { return []byte(functionPrefix(svc) + fn) }

func triggerPrefix(svc, fn string) string { return prefixTrigger + svc + "/" + fn + "/" }

func triggerKey(svc, fn, trg string) []byte { return []byte(triggerPrefix(svc, fn) + trg) }

func moduleKey(sum string) []byte { return []byte(prefixModule + sum) }

func modRefKey(sum string) []byte { return []byte(prefixModRef + sum) }

func invocationPrefix(svc, fn string) string { return prefixInvocation + svc + "/" + fn + "/" }

// invocationKey is a record's key; order comes from invocationOrder.
func invocationKey(svc, fn, order, id string) []byte {
	return []byte(invocationPrefix(svc, fn) + order + "/" + id)
}

func invocationIDPrefix(svc, fn, id string) string {
	return prefixInvocationID + svc + "/" + fn + "/" + id + "/"
}

// invocationIDKey is the index entry of the record invocationKey(svc, fn,
// order, id): the same parts, request id first.
func invocationIDKey(svc, fn, id, order string) []byte {
	return []byte(invocationIDPrefix(svc, fn, id) + order)
}

// keyKind says which record a parsed key addresses.
type keyKind uint8

const (
	keyUnknown keyKind = iota
	keySchemaVersion
	keyService
	keyFunction
	keyTrigger
	keyModule
	keyModRef
	keyInvocation
	keyInvocationID
)

// parsedKey is a key split into its parts. Only the parts of its kind are
// set.
type parsedKey struct {
	kind                 keyKind
	service, fn, trigger string
	checksum             string
	order, requestID     string // invocation keys
}

// parseKey splits a store key. It returns keyUnknown for anything that is
// not a well-formed v1 key: wrong number of parts, an invalid name, or a
// malformed checksum. parseKey(k) followed by the matching constructor gives
// back k.
func parseKey(k []byte) parsedKey {
	s := string(k)
	if s == string(keySchema) {
		return parsedKey{kind: keySchemaVersion}
	}
	names := func(rest string, n int) ([]string, bool) {
		parts := strings.Split(rest, "/")
		if len(parts) != n {
			return nil, false
		}
		for _, p := range parts {
			if host.ValidName(p) != nil {
				return nil, false
			}
		}
		return parts, true
	}
	switch {
	case strings.HasPrefix(s, prefixService):
		if p, ok := names(s[len(prefixService):], 1); ok {
			return parsedKey{kind: keyService, service: p[0]}
		}
	case strings.HasPrefix(s, prefixFunction):
		if p, ok := names(s[len(prefixFunction):], 2); ok {
			return parsedKey{kind: keyFunction, service: p[0], fn: p[1]}
		}
	case strings.HasPrefix(s, prefixTrigger):
		if p, ok := names(s[len(prefixTrigger):], 3); ok {
			return parsedKey{kind: keyTrigger, service: p[0], fn: p[1], trigger: p[2]}
		}
	case strings.HasPrefix(s, prefixModule):
		if sum := s[len(prefixModule):]; validChecksum(sum) {
			return parsedKey{kind: keyModule, checksum: sum}
		}
	case strings.HasPrefix(s, prefixModRef):
		if sum := s[len(prefixModRef):]; validChecksum(sum) {
			return parsedKey{kind: keyModRef, checksum: sum}
		}
	case strings.HasPrefix(s, prefixInvocation):
		p := strings.Split(s[len(prefixInvocation):], "/")
		if len(p) == 4 && host.ValidName(p[0]) == nil && host.ValidName(p[1]) == nil &&
			validOrder(p[2]) && validRequestID(p[3]) == nil {
			return parsedKey{kind: keyInvocation, service: p[0], fn: p[1], order: p[2], requestID: p[3]}
		}
	case strings.HasPrefix(s, prefixInvocationID):
		p := strings.Split(s[len(prefixInvocationID):], "/")
		if len(p) == 4 && host.ValidName(p[0]) == nil && host.ValidName(p[1]) == nil &&
			validRequestID(p[2]) == nil && validOrder(p[3]) {
			return parsedKey{kind: keyInvocationID, service: p[0], fn: p[1], requestID: p[2], order: p[3]}
		}
	}
	return parsedKey{}
}

// validChecksum reports whether sum is 64 lower-case hex digits.
func validChecksum(sum string) bool { return len(sum) == 64 && lowerHex(sum) }

// validOrder reports whether o is an invocation order: 16 lower-case hex
// digits.
func validOrder(o string) bool { return len(o) == 16 && lowerHex(o) }

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

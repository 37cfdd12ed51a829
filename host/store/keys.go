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
)

var keySchema = []byte("schema")

func serviceKey(svc string) []byte { return []byte(prefixService + svc) }

func functionPrefix(svc string) string { return prefixFunction + svc + "/" }

func functionKey(svc, fn string) []byte { return []byte(functionPrefix(svc) + fn) }

func triggerPrefix(svc, fn string) string { return prefixTrigger + svc + "/" + fn + "/" }

func triggerKey(svc, fn, trg string) []byte { return []byte(triggerPrefix(svc, fn) + trg) }

func moduleKey(sum string) []byte { return []byte(prefixModule + sum) }

func modRefKey(sum string) []byte { return []byte(prefixModRef + sum) }

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
)

// parsedKey is a key split into its parts. Only the parts of its kind are
// set.
type parsedKey struct {
	kind                 keyKind
	service, fn, trigger string
	checksum             string
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
	}
	return parsedKey{}
}

// validChecksum reports whether sum is 64 lower-case hex digits.
func validChecksum(sum string) bool {
	if len(sum) != 64 {
		return false
	}
	for i := 0; i < len(sum); i++ {
		c := sum[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

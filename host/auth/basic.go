package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/fnhost/fnhost/host"
)

// CodeInvalidCredentials (401): a basic-auth trigger got no Authorization:
// Basic header, or a user name and password it does not know (fnhost
// extension, not an FC 2.0 code).
const CodeInvalidCredentials = "InvalidCredentials"

// ErrInvalidCredentials matches (errors.Is) every basic-auth failure.
var ErrInvalidCredentials = &Error{http.StatusUnauthorized, CodeInvalidCredentials, "the user name or password is missing or wrong"}

// PasswordHashPrefix starts every BasicUser.PasswordHash.
const PasswordHashPrefix = "sha256:"

const (
	maxBasicUsers    = 256
	maxBasicUserName = 128
	maxBasicHeader   = 4 << 10
)

// HashPassword returns the BasicUser.PasswordHash of password:
// "sha256:" + lower-case hex SHA-256 (as `printf %s "$pw" | sha256sum`
// prints it).
func HashPassword(password string) string {
	sum := sha256.Sum256([]byte(password))
	return PasswordHashPrefix + hex.EncodeToString(sum[:])
}

// ParsePasswordHash decodes "sha256:<64 hex digits>" (either case).
func ParsePasswordHash(s string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	h, ok := strings.CutPrefix(s, PasswordHashPrefix)
	if !ok || len(h) != 2*sha256.Size {
		return sum, errors.New(`want "sha256:" and the 64 hex digits of the password's SHA-256`)
	}
	if _, err := hex.Decode(sum[:], []byte(h)); err != nil {
		return sum, errors.New(`want "sha256:" and the 64 hex digits of the password's SHA-256`)
	}
	return sum, nil
}

// BasicAuth checks HTTP basic authentication (RFC 7617) against a fixed
// list of users. It is immutable and safe for concurrent use.
type BasicAuth struct {
	users map[string][sha256.Size]byte
}

// NewBasicAuth checks c, the authConfig of a "basic" trigger, and
// compiles it: 1 to 256 users with distinct names of 1 to 128 bytes
// without ':' or control characters, each with a valid PasswordHash, and
// none of the JWT fields. Errors name the offending field.
func NewBasicAuth(c *host.TriggerAuthConfig) (*BasicAuth, error) {
	if c == nil {
		return nil, errors.New(`authConfig is required with authType "basic": {"users": [{"name": …, "passwordHash": "sha256:<hex>"}]}`)
	}
	for _, f := range [...]struct {
		name string
		set  bool
	}{
		{"jwks", len(c.JWKS) > 0}, {"jwksUrl", c.JWKSURL != ""}, {"secret", c.Secret != ""},
		{"algorithms", c.Algorithms != nil}, {"issuer", c.Issuer != ""}, {"audience", c.Audience != ""},
		{"leeway", c.Leeway != nil}, {"tokenLookup", c.TokenLookup != nil}, {"claimPassBy", c.ClaimPassBy != nil},
	} {
		if f.set {
			return nil, fmt.Errorf(`authConfig.%s applies to authType "jwt", not "basic"`, f.name)
		}
	}
	if len(c.Users) == 0 || len(c.Users) > maxBasicUsers {
		return nil, fmt.Errorf("authConfig.users must list 1 to %d users", maxBasicUsers)
	}
	b := &BasicAuth{users: make(map[string][sha256.Size]byte, len(c.Users))}
	for i, u := range c.Users {
		if u.Name == "" || len(u.Name) > maxBasicUserName || strings.ContainsFunc(u.Name, func(r rune) bool { return r == ':' || r < 0x20 || r == 0x7f }) {
			return nil, fmt.Errorf("authConfig.users[%d].name must be 1 to %d bytes without ':' or control characters", i, maxBasicUserName)
		}
		if _, dup := b.users[u.Name]; dup {
			return nil, fmt.Errorf("authConfig.users[%d].name: %s is listed twice", i, quoteBounded(u.Name))
		}
		sum, err := ParsePasswordHash(u.PasswordHash)
		if err != nil {
			return nil, fmt.Errorf("authConfig.users[%d].passwordHash: %w", i, err)
		}
		b.users[u.Name] = sum
	}
	return b, nil
}

// dummyHash is compared against when the user is unknown, so that the
// answer takes as long for unknown users as for wrong passwords.
var dummyHash = sha256.Sum256([]byte("fnhost-basic-auth-dummy"))

// Verify checks an Authorization header value ("Basic base64(user:pass)",
// the scheme in any case) and returns the user name. The password's hash
// is compared in constant time, and unknown users cost the same as known
// ones. Failures are 401 *Error values matching ErrInvalidCredentials;
// they do not say whether the user or the password was wrong.
func (b *BasicAuth) Verify(authorization string) (string, error) {
	if authorization == "" {
		return "", newError(ErrInvalidCredentials, "no credentials: send Authorization: Basic base64(user:password)")
	}
	scheme, cred, _ := strings.Cut(strings.TrimSpace(authorization), " ")
	if !strings.EqualFold(scheme, "Basic") || len(cred) > maxBasicHeader {
		return "", newError(ErrInvalidCredentials, "the Authorization header is not Basic credentials")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return "", newError(ErrInvalidCredentials, "the Basic credentials are not base64")
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", newError(ErrInvalidCredentials, "the Basic credentials are not user:password")
	}
	want, known := b.users[user]
	if !known {
		want = dummyHash
	}
	got := sha256.Sum256([]byte(pass))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !known {
		return "", newError(ErrInvalidCredentials, "wrong user name or password")
	}
	return user, nil
}

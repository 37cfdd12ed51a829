package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultSkew is FC's clock-skew window: |Date − server time| must be less
// than 15 minutes.
const DefaultSkew = 15 * time.Minute

// Verifier checks FC signatures. The zero value rejects every request with
// InvalidAccessKeyID; set Keys. Fields must not change once Verify is in
// use. A Verifier is safe for concurrent use when Keys and Now are.
type Verifier struct {
	// Keys returns the secret of an access key ID. Nil means no key exists.
	Keys func(accessKeyID string) (secret string, ok bool)
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Skew is the largest allowed distance between the Date header and Now,
	// exclusive. Zero means DefaultSkew.
	Skew time.Duration
	// Replay, when set, rejects a second POST or PATCH request carrying an
	// Authorization header with the same signature (RequestReplayed). Its
	// TTL should be at least 2 × Skew. Presigned URLs are bearer URLs that
	// may be reused until they expire and are not checked.
	Replay *ReplayCache
}

// dummySecret keys the HMAC computed for unknown access keys, so that a
// request with an unknown key costs the same as one with a known key.
const dummySecret = "fnhost-auth-dummy-secret-for-uniform-timing"

// Verify checks the signature of r, either from its Authorization header
// or, when there is none, from presigned-URL query parameters. It returns
// nil or an *Error (matching one of the Err sentinels), checking in this
// order:
//
//  1. Authorization missing and no x-fc-signature query parameter → 400
//     MissingRequiredHeader; malformed Authorization ("FC <id>:<sig>" with
//     a non-empty id without white space and a 44-character standard
//     base64 HMAC-SHA256) → 403 AccessDenied. Presigned: a missing
//     x-fc-access-key-id or x-fc-expires → 400 InvalidArgument; a malformed
//     x-fc-signature → 403 AccessDenied.
//  2. Unknown access key → 403 InvalidAccessKeyID (after an HMAC with a
//     dummy secret, so timing does not reveal which keys exist).
//  3. Time: with an x-fc-expires query parameter (presigned URLs, and
//     header-signed requests that sign it in place of Date), a value that
//     is not an integer → 403 AccessDenied, now ≥ expires → 403
//     AccessDenied. Otherwise a missing Date → 400 MissingRequiredHeader; a
//     Date that is not RFC 1123 GMT (http.TimeFormat) or is Skew or more away from now → 403
//     RequestTimeTooSkewed.
//  4. HMAC mismatch (hmac.Equal on the decoded bytes) → 403
//     SignatureNotMatch.
//  5. Replay (when v.Replay is set) → 403 RequestReplayed.
func (v *Verifier) Verify(r *Request) error {
	h := r.Header
	if h == nil {
		h = noHeader{}
	}

	// 1. Parse.
	var id, sig64 string
	presigned := false
	if a := h.Get("Authorization"); a != "" {
		var ok bool
		id, sig64, ok = parseAuthorization(a)
		if !ok {
			return newError(ErrAccessDenied, "malformed Authorization header, want \"FC <AccessKeyID>:<Signature>\"")
		}
	} else if s, ok := queryGet(r.RawQuery, ParamSignature); ok {
		presigned = true
		sig64 = s
		id, _ = queryGet(r.RawQuery, ParamAccessKeyID)
		if id == "" {
			return newError(ErrInvalidArgument, "presigned URL without "+ParamAccessKeyID)
		}
		if _, ok := queryGet(r.RawQuery, ParamExpires); !ok {
			return newError(ErrInvalidArgument, "presigned URL without "+ParamExpires)
		}
	} else {
		return newError(ErrMissingRequiredHeader, "missing Authorization header")
	}
	var sig [sha256.Size]byte
	if !decodeSignature(sig[:], sig64) {
		if presigned {
			return newError(ErrAccessDenied, "malformed "+ParamSignature)
		}
		return newError(ErrAccessDenied, "malformed signature in Authorization header")
	}

	// 2. Key lookup. The string to sign is built before the lookup so an
	// unknown key does the same work as a known one.
	var buf [512]byte
	sts := AppendStringToSign(buf[:0], r)
	secret, ok := "", false
	if v.Keys != nil {
		secret, ok = v.Keys(id)
	}
	if !ok {
		var sum [sha256.Size]byte
		hmac.Equal(mac(sum[:0], dummySecret, sts), sig[:])
		return ErrInvalidAccessKeyID
	}

	// 3. Time.
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now()
	if exp, ok := queryGet(r.RawQuery, ParamExpires); ok {
		sec, err := strconv.ParseInt(exp, 10, 64)
		if err != nil {
			return newError(ErrAccessDenied, "invalid "+ParamExpires+", want unix seconds")
		}
		if t.Unix() >= sec {
			return newError(ErrAccessDenied, "the request has expired ("+ParamExpires+")")
		}
	} else {
		date := h.Get("Date")
		if date == "" {
			return newError(ErrMissingRequiredHeader, "missing Date header")
		}
		d, err := time.Parse(http.TimeFormat, date)
		if err != nil {
			return newError(ErrRequestTimeTooSkewed, "invalid Date header, want RFC 1123 GMT")
		}
		skew := v.Skew
		if skew <= 0 {
			skew = DefaultSkew
		}
		if diff := t.Sub(d); diff >= skew || diff <= -skew {
			return ErrRequestTimeTooSkewed
		}
	}

	// 4. Signature.
	var sum [sha256.Size]byte
	if !hmac.Equal(mac(sum[:0], secret, sts), sig[:]) {
		return ErrSignatureNotMatch
	}

	// 5. Replay.
	if v.Replay != nil && !presigned && (r.Method == http.MethodPost || r.Method == http.MethodPatch) {
		if v.Replay.Seen(sig, t) {
			return ErrRequestReplayed
		}
	}
	return nil
}

// parseAuthorization splits "FC <id>:<sig>". It accepts exactly one space
// after "FC" and no white space or control characters in id or sig.
func parseAuthorization(a string) (id, sig string, ok bool) {
	rest, ok := strings.CutPrefix(a, "FC ")
	if !ok {
		return "", "", false
	}
	id, sig, ok = strings.Cut(rest, ":")
	if !ok || id == "" || sig == "" || !printable(id) || !printable(sig) {
		return "", "", false
	}
	return id, sig, true
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// decodeSignature decodes a canonical (strict, padded) standard base64
// HMAC-SHA256 into dst, which has sha256.Size bytes.
func decodeSignature(dst []byte, s string) bool {
	if len(s) != base64.StdEncoding.EncodedLen(sha256.Size) {
		return false
	}
	var buf [sha256.Size + 2]byte
	n, err := base64.StdEncoding.Strict().Decode(buf[:], []byte(s))
	if err != nil || n != sha256.Size {
		return false
	}
	copy(dst, buf[:n])
	return true
}

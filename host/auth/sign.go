package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Query parameter names of presigned URLs.
const (
	ParamAccessKeyID   = "x-fc-access-key-id"
	ParamExpires       = "x-fc-expires"
	ParamSignature     = "x-fc-signature"
	ParamSecurityToken = "x-fc-security-token"
)

// Header is read access to a request's headers. Implementations adapt the
// HTTP library's header type without copying it (see [HTTPHeader] for
// net/http). The strings Header passes out are borrowed: this package uses
// them only during the call that received them and never retains them, so
// an implementation may pass strings that alias a buffer reused after the
// call returns (for example fasthttp header bytes).
type Header interface {
	// Get returns the first value of the named header, matching the name
	// case-insensitively, or "" when there is none.
	Get(name string) string
	// VisitAll calls fn once for every header field, in any order.
	VisitAll(fn func(name, value string))
}

// HTTPHeader adapts a net/http header to [Header]. For a header with several
// values only the first one is visited, as in FC SDKs, which keep one value
// per header.
type HTTPHeader http.Header

var _ Header = HTTPHeader(nil)

// Get implements [Header].
func (h HTTPHeader) Get(name string) string { return http.Header(h).Get(name) }

// VisitAll implements [Header].
func (h HTTPHeader) VisitAll(fn func(name, value string)) {
	for k, vs := range h {
		if len(vs) > 0 {
			fn(k, vs[0])
		}
	}
}

// Request is the part of an HTTP request the signature covers. Request
// borrows everything it refers to; the package reads it only during the
// call it is passed to.
type Request struct {
	// Method is the HTTP method, upper case as sent (FC signs it as is).
	Method string
	// Path is the URL-decoded path, e.g. "/2016-08-15/proxy/svc/fn/a b"
	// (net/http's URL.Path, fasthttp's URI().Path()).
	Path string
	// RawQuery is the query as sent on the wire, without '?'. It is needed
	// even when Trigger is false: x-fc-expires replaces the Date.
	RawQuery string
	// Header holds the request headers. Nil means no headers.
	Header Header
	// Trigger selects the canonicalized resource of HTTP triggers (path +
	// "\n" + sorted query items) instead of the management API's (path
	// only). Set it for /2016-08-15/proxy/... and custom-domain requests.
	Trigger bool
}

// StringToSign returns FC's canonical string for r:
//
//	METHOD + "\n" + Content-MD5 + "\n" + Content-Type + "\n" + DATE + "\n"
//	+ CanonicalizedFCHeaders + CanonicalizedResource
//
// Content-MD5 and Content-Type are the literal header values or "". DATE is
// the value of the x-fc-expires query parameter when present, else the Date
// header. CanonicalizedFCHeaders is "name:value\n" for every header whose
// name starts with "x-fc-" (case-insensitively), names lower-cased and
// sorted by bytes. CanonicalizedResource is Path for the management API
// (r.Trigger false); for triggers it is Path + "\n" + the decoded query
// items joined by "\n" and sorted as strings, each "k=v", or "k" when the
// raw item has no '='; x-fc-signature is left out (a presigned URL is
// signed before it is added).
func StringToSign(r *Request) string {
	return string(AppendStringToSign(nil, r))
}

// AppendStringToSign appends [StringToSign] of r to dst and returns the
// extended slice. The caller owns dst and the result.
func AppendStringToSign(dst []byte, r *Request) []byte {
	h := r.Header
	if h == nil {
		h = noHeader{}
	}
	dst = append(dst, r.Method...)
	dst = append(dst, '\n')
	dst = append(dst, h.Get("Content-Md5")...) // canonical spelling: http.Header.Get does not allocate
	dst = append(dst, '\n')
	dst = append(dst, h.Get("Content-Type")...)
	dst = append(dst, '\n')
	if exp, ok := queryGet(r.RawQuery, ParamExpires); ok {
		dst = append(dst, exp...)
	} else {
		dst = append(dst, h.Get("Date")...)
	}
	dst = append(dst, '\n')

	var arr [16]kv
	fc := arr[:0]
	h.VisitAll(func(name, value string) {
		if len(name) >= len(fcPrefix) && strings.EqualFold(name[:len(fcPrefix)], fcPrefix) {
			fc = append(fc, kv{name, value})
		}
	})
	slices.SortStableFunc(fc, func(a, b kv) int { return compareLower(a.k, b.k) })
	for _, p := range fc {
		dst = appendLower(dst, p.k)
		dst = append(dst, ':')
		dst = append(dst, p.v...)
		dst = append(dst, '\n')
	}

	dst = append(dst, r.Path...)
	if !r.Trigger {
		return dst
	}
	var itemArr [16]string
	items := itemArr[:0]
	for raw := range strings.SplitSeq(r.RawQuery, "&") {
		if raw == "" {
			continue
		}
		rawK, v, hasValue := strings.Cut(raw, "=")
		k := unescape(rawK)
		if k == ParamSignature {
			continue
		}
		if !hasValue {
			items = append(items, k)
			continue
		}
		if k == rawK && unescape(v) == v {
			items = append(items, raw) // nothing to decode: raw is "k=v"
			continue
		}
		items = append(items, k+"="+unescape(v))
	}
	slices.Sort(items)
	dst = append(dst, '\n')
	for i, it := range items {
		if i > 0 {
			dst = append(dst, '\n')
		}
		dst = append(dst, it...)
	}
	return dst
}

const fcPrefix = "x-fc-"

type kv struct{ k, v string }

type noHeader struct{}

func (noHeader) Get(string) string                 { return "" }
func (noHeader) VisitAll(func(name, value string)) {}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = append(dst, lower(s[i]))
	}
	return dst
}

// compareLower compares the lower-cased forms of a and b by bytes.
func compareLower(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := lower(a[i]), lower(b[i])
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}

// unescape decodes a query component ('+' is a space). An invalid escape
// leaves s as is: the signature then covers the raw text, which a client
// that produced such a query would also have signed, and fails otherwise.
func unescape(s string) string {
	u, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return u
}

// queryGet returns the decoded value of the first query item whose decoded
// key is key.
func queryGet(rawQuery, key string) (string, bool) {
	for raw := range strings.SplitSeq(rawQuery, "&") {
		k, v, _ := strings.Cut(raw, "=")
		if unescape(k) == key {
			return unescape(v), true
		}
	}
	return "", false
}

// Sign returns base64(HMAC-SHA256(secret, stringToSign)), the signature
// part of an Authorization header and the value of x-fc-signature.
func Sign(secret, stringToSign string) string {
	var buf [sha256.Size]byte
	return base64.StdEncoding.EncodeToString(mac(buf[:0], secret, []byte(stringToSign)))
}

func mac(dst []byte, secret string, msg []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(msg)
	return m.Sum(dst)
}

// Authorization returns the Authorization header value for r:
// "FC " + accessKeyID + ":" + Sign(secret, StringToSign(r)). To sign with
// STS credentials, put the token in r's x-fc-security-token header first.
func Authorization(accessKeyID, secret string, r *Request) string {
	return "FC " + accessKeyID + ":" + Sign(secret, StringToSign(r))
}

// Credentials are an access key pair and, for STS credentials, a security
// token.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string // optional
}

// SignURL returns a presigned URL for a trigger request with method to u
// that is valid until expires, as fc-go-sdk's SignURL does: it adds
// x-fc-access-key-id, x-fc-expires (unix seconds) and, when set,
// x-fc-security-token to u's query, signs the request (headers h, which may
// be nil, are the headers the client will send; usually none), then adds
// x-fc-signature. The query is re-encoded in sorted order. u is not
// modified.
func SignURL(method string, u *url.URL, h Header, c Credentials, expires time.Time) string {
	q := u.Query()
	q.Set(ParamAccessKeyID, c.AccessKeyID)
	q.Set(ParamExpires, strconv.FormatInt(expires.Unix(), 10))
	if c.SecurityToken != "" {
		q.Set(ParamSecurityToken, c.SecurityToken)
	}
	q.Del(ParamSignature)
	out := *u
	out.RawQuery = q.Encode()
	r := Request{Method: method, Path: u.Path, RawQuery: out.RawQuery, Header: h, Trigger: true}
	q.Set(ParamSignature, Sign(c.AccessKeySecret, StringToSign(&r)))
	out.RawQuery = q.Encode()
	return out.String()
}

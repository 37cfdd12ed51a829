package auth

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

func testKeys(id string) (string, bool) {
	switch id {
	case "akID":
		return vectorBSecret, true
	case "akid":
		return "akSec", true
	}
	return "", false
}

func testVerifier(now time.Time) *Verifier {
	return &Verifier{Keys: testKeys, Now: func() time.Time { return now }}
}

// signedRequest returns a management-API request signed by akID with a Date
// of date.
func signedRequest(date time.Time) *Request {
	h := http.Header{}
	h.Set("Date", date.UTC().Format(http.TimeFormat))
	h.Set("Content-Type", "application/json")
	h.Set("X-Fc-Account-Id", "123")
	r := &Request{Method: "POST", Path: "/2016-08-15/services", Header: HTTPHeader(h)}
	h.Set("Authorization", Authorization("akID", vectorBSecret, r))
	return r
}

func withHeader(r *Request, name, value string) *Request {
	h := http.Header(r.Header.(HTTPHeader)).Clone()
	if value == "" {
		h.Del(name)
	} else {
		h.Set(name, value)
	}
	c := *r
	c.Header = HTTPHeader(h)
	return &c
}

func TestVerify(t *testing.T) {
	good := signedRequest(testNow)
	goodAuth := good.Header.Get("Authorization")
	sig := goodAuth[len("FC akID:"):]
	tests := []struct {
		name string
		now  time.Time
		req  *Request
		want *Error // nil: accepted
	}{
		{"valid", testNow, good, nil},
		{"vector B before expiry", time.Unix(1583221067, 0), func() *Request {
			return withHeader(vectorBRequest(), "Authorization", "FC akID:"+vectorBSignature)
		}(), nil},
		{"vector B at expiry", time.Unix(1583221068, 0), func() *Request {
			return withHeader(vectorBRequest(), "Authorization", "FC akID:"+vectorBSignature)
		}(), ErrAccessDenied},
		{"valid, Date 14m59s behind", testNow.Add(15*time.Minute - time.Second), good, nil},
		{"valid, Date 14m59s ahead", testNow.Add(-15*time.Minute + time.Second), good, nil},
		{"skewed, Date 15m behind", testNow.Add(15 * time.Minute), good, ErrRequestTimeTooSkewed},
		{"skewed, Date 15m ahead", testNow.Add(-15 * time.Minute), good, ErrRequestTimeTooSkewed},
		{"skewed, Date a day behind", testNow.Add(24 * time.Hour), good, ErrRequestTimeTooSkewed},
		{"wrong secret", testNow, withHeader(good, "Authorization", Authorization("akID", "wrong", good)), ErrSignatureNotMatch},
		{"unknown key", testNow, withHeader(good, "Authorization", "FC nobody:"+sig), ErrInvalidAccessKeyID},
		{"other known key", testNow, withHeader(good, "Authorization", "FC akid:"+sig), ErrSignatureNotMatch},
		{"tampered path", testNow, func() *Request { r := *good; r.Path += "x"; return &r }(), ErrSignatureNotMatch},
		{"tampered method", testNow, func() *Request { r := *good; r.Method = "GET"; return &r }(), ErrSignatureNotMatch},
		{"tampered x-fc header", testNow, withHeader(good, "X-Fc-Account-Id", "124"), ErrSignatureNotMatch},
		{"added x-fc header", testNow, withHeader(good, "X-Fc-Invocation-Type", "Async"), ErrSignatureNotMatch},
		{"other header ignored", testNow, withHeader(good, "User-Agent", "curl"), nil},
		{"missing Authorization", testNow, withHeader(good, "Authorization", ""), ErrMissingRequiredHeader},
		{"no headers", testNow, &Request{Method: "GET", Path: "/"}, ErrMissingRequiredHeader},
		{"missing Date", testNow, withHeader(good, "Date", ""), ErrMissingRequiredHeader},
		{"unknown key and missing Date", testNow, withHeader(withHeader(good, "Date", ""), "Authorization", "FC nobody:"+sig), ErrInvalidAccessKeyID},
		{"unparseable Date", testNow, withHeader(good, "Date", "yesterday"), ErrRequestTimeTooSkewed},
		{"Date not GMT", testNow, withHeader(good, "Date", testNow.Format(time.RFC3339)), ErrRequestTimeTooSkewed},
		{"malformed FC", testNow, withHeader(good, "Authorization", "FC"), ErrAccessDenied},
		{"malformed FC space", testNow, withHeader(good, "Authorization", "FC "), ErrAccessDenied},
		{"malformed FC x", testNow, withHeader(good, "Authorization", "FC x"), ErrAccessDenied},
		{"malformed FC :sig", testNow, withHeader(good, "Authorization", "FC :"+sig), ErrAccessDenied},
		{"malformed FC id:", testNow, withHeader(good, "Authorization", "FC akID:"), ErrAccessDenied},
		{"malformed scheme", testNow, withHeader(good, "Authorization", "Bearer akID:"+sig), ErrAccessDenied},
		{"malformed lower-case scheme", testNow, withHeader(good, "Authorization", "fc akID:"+sig), ErrAccessDenied},
		{"malformed no space", testNow, withHeader(good, "Authorization", "FCakID:"+sig), ErrAccessDenied},
		{"malformed two spaces", testNow, withHeader(good, "Authorization", "FC  akID:"+sig), ErrAccessDenied},
		{"malformed space after colon", testNow, withHeader(good, "Authorization", "FC akID: "+sig), ErrAccessDenied},
		{"malformed space before colon", testNow, withHeader(good, "Authorization", "FC akID :"+sig), ErrAccessDenied},
		{"malformed trailing space", testNow, withHeader(good, "Authorization", goodAuth+" "), ErrAccessDenied},
		{"malformed bad base64", testNow, withHeader(good, "Authorization", "FC akID:!!!!"+sig[4:]), ErrAccessDenied},
		{"malformed unpadded base64", testNow, withHeader(good, "Authorization", "FC akID:"+sig[:43]), ErrAccessDenied},
		{"malformed URL-safe base64", testNow, withHeader(good, "Authorization", "FC akID:"+"-_"+sig[2:]), ErrAccessDenied},
		{"malformed short signature", testNow, withHeader(good, "Authorization", "FC akID:AAAA"), ErrAccessDenied},
		{"malformed extra colon", testNow, withHeader(good, "Authorization", "FC akID:"+sig+":x"), ErrAccessDenied},
		{"non-canonical base64", testNow, withHeader(good, "Authorization", "FC akID:"+sig[:42]+flipLowBits(sig[42])+"="), ErrAccessDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := testVerifier(tc.now).Verify(tc.req)
			checkErr(t, err, tc.want)
		})
	}
}

// flipLowBits returns a base64 digit that decodes to the same 32 bytes when
// it is the last digit before "=" but is not canonical (non-zero padding
// bits).
func flipLowBits(c byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alphabet); i++ {
		if alphabet[i] == c {
			return string(alphabet[i^1])
		}
	}
	panic("not base64")
}

func checkErr(t *testing.T, err error, want *Error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("Verify = %v, want nil", err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Verify = %v, want *Error %s", err, want.Code)
	}
	if !errors.Is(err, want) || e.Status != want.Status {
		t.Fatalf("Verify = %d %v, want %d %s", e.Status, err, want.Status, want.Code)
	}
}

func TestVerifyStatuses(t *testing.T) {
	for _, tc := range []struct {
		err    *Error
		status int
	}{
		{ErrMissingRequiredHeader, 400},
		{ErrInvalidArgument, 400},
		{ErrAccessDenied, 403},
		{ErrInvalidAccessKeyID, 403},
		{ErrSignatureNotMatch, 403},
		{ErrRequestTimeTooSkewed, 403},
		{ErrRequestReplayed, 403},
	} {
		if tc.err.Status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.err.Code, tc.err.Status, tc.status)
		}
	}
}

func TestVerifyZeroValue(t *testing.T) {
	var v Verifier
	checkErr(t, v.Verify(signedRequest(time.Now())), ErrInvalidAccessKeyID)
	v.Keys = testKeys
	checkErr(t, v.Verify(signedRequest(time.Now())), nil) // default clock
	checkErr(t, v.Verify(signedRequest(time.Now().Add(-16*time.Minute))), ErrRequestTimeTooSkewed)
	v.Skew = time.Hour
	checkErr(t, v.Verify(signedRequest(time.Now().Add(-16*time.Minute))), nil)
}

// presigned parses a presigned URL into a Request as the server sees it.
func presigned(t *testing.T, method, rawURL string) *Request {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return &Request{Method: method, Path: u.Path, RawQuery: u.RawQuery, Header: HTTPHeader{}, Trigger: true}
}

func TestVerifyPresigned(t *testing.T) {
	before := time.Unix(1583339599, 0)
	sig := url.QueryEscape("Yi0jCBQ6cTZc+tN8wtYUz9FbYNijx5jDiE3sVNW6XwA=")
	base := "http://localhost/2016-08-15/proxy/service/func/"
	tests := []struct {
		name   string
		now    time.Time
		method string
		url    string
		want   *Error
	}{
		{"vector C with STS", before, "GET", vectorCWithSTS, nil},
		{"vector C without STS", before, "GET", vectorCWithoutSTS, nil},
		{"query reordered", before, "GET", base + "?x-fc-signature=" + sig + "&x-fc-security-token=stsToken&x-fc-expires=1583339600&x-fc-access-key-id=akid", nil},
		{"long before expiry", time.Unix(0, 0), "GET", vectorCWithSTS, nil},
		{"at expiry", time.Unix(1583339600, 0), "GET", vectorCWithSTS, ErrAccessDenied},
		{"expired", time.Unix(1583339600+3600, 0), "GET", vectorCWithSTS, ErrAccessDenied},
		{"tampered expires", before, "GET", base + "?x-fc-access-key-id=akid&x-fc-expires=1583339700&x-fc-security-token=stsToken&x-fc-signature=" + sig, ErrSignatureNotMatch},
		{"tampered token", before, "GET", base + "?x-fc-access-key-id=akid&x-fc-expires=1583339600&x-fc-security-token=other&x-fc-signature=" + sig, ErrSignatureNotMatch},
		{"dropped token", before, "GET", base + "?x-fc-access-key-id=akid&x-fc-expires=1583339600&x-fc-signature=" + sig, ErrSignatureNotMatch},
		{"added parameter", before, "GET", vectorCWithSTS + "&a=b", ErrSignatureNotMatch},
		{"tampered path", before, "GET", "http://localhost/2016-08-15/proxy/service/other/?x-fc-access-key-id=akid&x-fc-expires=1583339600&x-fc-security-token=stsToken&x-fc-signature=" + sig, ErrSignatureNotMatch},
		{"tampered method", before, "POST", vectorCWithSTS, ErrSignatureNotMatch},
		{"tampered signature", before, "GET", base + "?x-fc-access-key-id=akid&x-fc-expires=1583339600&x-fc-security-token=stsToken&x-fc-signature=" + url.QueryEscape("Zi0jCBQ6cTZc+tN8wtYUz9FbYNijx5jDiE3sVNW6XwA="), ErrSignatureNotMatch},
		{"unescaped '+' in signature", before, "GET", base + "?x-fc-access-key-id=akid&x-fc-expires=1583339600&x-fc-security-token=stsToken&x-fc-signature=Yi0jCBQ6cTZc+tN8wtYUz9FbYNijx5jDiE3sVNW6XwA=", ErrAccessDenied},
		{"unknown key", before, "GET", base + "?x-fc-access-key-id=nobody&x-fc-expires=1583339600&x-fc-security-token=stsToken&x-fc-signature=" + sig, ErrInvalidAccessKeyID},
		{"missing key ID", before, "GET", base + "?x-fc-expires=1583339600&x-fc-security-token=stsToken&x-fc-signature=" + sig, ErrInvalidArgument},
		{"missing expires", before, "GET", base + "?x-fc-access-key-id=akid&x-fc-security-token=stsToken&x-fc-signature=" + sig, ErrInvalidArgument},
		{"non-numeric expires", before, "GET", base + "?x-fc-access-key-id=akid&x-fc-expires=soon&x-fc-signature=" + sig, ErrAccessDenied},
		{"empty signature", before, "GET", base + "?x-fc-access-key-id=akid&x-fc-expires=1583339600&x-fc-signature=", ErrAccessDenied},
		{"no signature at all", before, "GET", base + "?x-fc-access-key-id=akid&x-fc-expires=1583339600", ErrMissingRequiredHeader},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := testVerifier(tc.now).Verify(presigned(t, tc.method, tc.url))
			checkErr(t, err, tc.want)
		})
	}
}

func TestSignURLRoundTrip(t *testing.T) {
	u, err := url.Parse("https://fc.example/2016-08-15/proxy/svc.prod/fn/a%20b/c?q=1&q=2&flag&sp=x+y")
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"GET", "POST", "DELETE"} {
		signed := SignURL(method, u, nil, Credentials{AccessKeyID: "akid", AccessKeySecret: "akSec"}, testNow.Add(time.Minute))
		checkErr(t, testVerifier(testNow).Verify(presigned(t, method, signed)), nil)
		checkErr(t, testVerifier(testNow.Add(time.Minute)).Verify(presigned(t, method, signed)), ErrAccessDenied)
	}
}

func TestVerifyReplay(t *testing.T) {
	v := testVerifier(testNow)
	v.Replay = NewReplayCache(16, 2*DefaultSkew)
	post := signedRequest(testNow)
	checkErr(t, v.Verify(post), nil)
	checkErr(t, v.Verify(post), ErrRequestReplayed)

	get := *post
	get.Method = "GET"
	get.Header = withHeader(post, "Authorization", Authorization("akID", vectorBSecret, &get)).Header
	checkErr(t, v.Verify(&get), nil)
	checkErr(t, v.Verify(&get), nil) // idempotent: not checked

	// A failed signature is not recorded.
	bad := withHeader(signedRequest(testNow.Add(time.Second)), "X-Fc-Account-Id", "999")
	checkErr(t, v.Verify(bad), ErrSignatureNotMatch)
	checkErr(t, v.Verify(signedRequest(testNow.Add(time.Second))), nil)

	// Presigned POST URLs may be reused.
	u, _ := url.Parse("http://localhost/2016-08-15/proxy/s/f/")
	signed := SignURL("POST", u, nil, Credentials{AccessKeyID: "akid", AccessKeySecret: "akSec"}, testNow.Add(time.Minute))
	checkErr(t, v.Verify(presigned(t, "POST", signed)), nil)
	checkErr(t, v.Verify(presigned(t, "POST", signed)), nil)
}

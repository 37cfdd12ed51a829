package auth

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fuzzNow is before the expiries of vectors B and C, so their seeds verify.
var fuzzNow = time.Unix(1583221000, 0)

// FuzzVerify feeds arbitrary Authorization, Date, method, path, query and
// x-fc header values to Verify. It checks that Verify never panics, returns
// only *Error values with a 400 or 403 status, accepts a request only when
// it really carries akid's signature of the request and a valid time, and
// that a request signed with Authorization never fails with
// SignatureNotMatch (signer and verifier agree on every input).
func FuzzVerify(f *testing.F) {
	date := fuzzNow.UTC().Format(http.TimeFormat)
	f.Add("", date, "POST", "/2016-08-15/services", "", "", false, true)
	f.Add("", date, "GET", "/2016-08-15/proxy/s/f/a b", "x=1&x=2&y", "trace", true, true)
	f.Add("FC akID:"+vectorBSignature, "", "GET", vectorBPath, vectorBRequest().RawQuery, "trace-id", true, false)
	f.Add("", "", "GET", "/2016-08-15/proxy/service/func/", strings.SplitN(vectorCWithSTS, "?", 2)[1], "", true, false)
	f.Add("FC", date, "GET", "/", "", "", false, false)
	f.Add("FC x", date, "GET", "/", "", "", false, false)
	f.Add("FC :sig", date, "GET", "/", "", "", false, false)
	f.Add("FC akid:!!!!", "yesterday", "GET", "/", "", "", false, false)
	f.Add("FC  akid:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", date, "GET", "/", "%zz=%&=&&x-fc-expires=9", "", true, false)

	v := &Verifier{
		Keys: func(id string) (string, bool) { return "akSec", id == "akid" },
		Now:  func() time.Time { return fuzzNow },
	}
	f.Fuzz(func(t *testing.T, authz, date, method, path, rawQuery, trace string, trigger, sign bool) {
		h := http.Header{}
		if date != "" {
			h["Date"] = []string{date}
		}
		if trace != "" {
			h["X-Fc-Trace-Id"] = []string{trace}
		}
		r := &Request{Method: method, Path: path, RawQuery: rawQuery, Header: HTTPHeader(h), Trigger: trigger}
		if sign {
			authz = Authorization("akid", "akSec", r)
		}
		if authz != "" {
			h["Authorization"] = []string{authz}
		}

		err := v.Verify(r)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Verify returned %T %v, want *Error", err, err)
			}
			if e.Status != http.StatusBadRequest && e.Status != http.StatusForbidden {
				t.Fatalf("Verify status %d", e.Status)
			}
			if sign && errors.Is(err, ErrSignatureNotMatch) {
				t.Fatalf("signed request rejected: %v\nstring to sign %q", err, StringToSign(r))
			}
			return
		}

		// Accepted: the request must carry akid's signature.
		want := Sign("akSec", StringToSign(r))
		if authz != "" {
			if authz != "FC akid:"+want {
				t.Fatalf("accepted Authorization %q, want %q", authz, "FC akid:"+want)
			}
		} else {
			id, _ := queryGet(rawQuery, ParamAccessKeyID)
			sig, _ := queryGet(rawQuery, ParamSignature)
			if id != "akid" || sig != want {
				t.Fatalf("accepted presigned id %q sig %q, want akid %q", id, sig, want)
			}
		}
		// ... and a valid time.
		if exp, ok := queryGet(rawQuery, ParamExpires); ok {
			if sec, perr := strconv.ParseInt(exp, 10, 64); perr != nil || fuzzNow.Unix() >= sec {
				t.Fatalf("accepted %s=%q at %d", ParamExpires, exp, fuzzNow.Unix())
			}
		} else {
			d, perr := time.Parse(http.TimeFormat, date)
			if perr != nil {
				t.Fatalf("accepted Date %q: %v", date, perr)
			}
			if skew := fuzzNow.Sub(d); skew >= DefaultSkew || skew <= -DefaultSkew {
				t.Fatalf("accepted Date %q, skew %v", date, skew)
			}
		}
	})
}

package auth_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/fnhost/fnhost/host/auth"
)

func ExampleAuthorization() {
	h := http.Header{}
	h.Set("Date", "Wed, 25 Nov 2026 08:00:00 GMT")
	h.Set("Content-Type", "application/octet-stream")
	h.Set("X-Fc-Invocation-Type", "Sync")
	r := &auth.Request{
		Method:   "POST",
		Path:     "/2016-08-15/proxy/svc/fn/hello",
		RawQuery: "lang=en",
		Header:   auth.HTTPHeader(h),
		Trigger:  true,
	}
	fmt.Printf("%q\n", auth.StringToSign(r))
	h.Set("Authorization", auth.Authorization("akid", "akSec", r))
	fmt.Println(h.Get("Authorization"))

	v := &auth.Verifier{
		Keys: func(id string) (string, bool) { return "akSec", id == "akid" },
		Now:  func() time.Time { return time.Date(2026, 11, 25, 8, 5, 0, 0, time.UTC) },
	}
	fmt.Println(v.Verify(r))
	// Output:
	// "POST\n\napplication/octet-stream\nWed, 25 Nov 2026 08:00:00 GMT\nx-fc-invocation-type:Sync\n/2016-08-15/proxy/svc/fn/hello\nlang=en"
	// FC akid:5d6q30PwXcv1JgOIfmiKEHZb2ZEYenkoIoQevadawhI=
	// <nil>
}

func ExampleSignURL() {
	u, _ := url.Parse("http://localhost/2016-08-15/proxy/service/func/")
	c := auth.Credentials{AccessKeyID: "akid", AccessKeySecret: "akSec", SecurityToken: "stsToken"}
	fmt.Println(auth.SignURL("GET", u, nil, c, time.Unix(1583339600, 0)))
	// Output:
	// http://localhost/2016-08-15/proxy/service/func/?x-fc-access-key-id=akid&x-fc-expires=1583339600&x-fc-security-token=stsToken&x-fc-signature=Yi0jCBQ6cTZc%2BtN8wtYUz9FbYNijx5jDiE3sVNW6XwA%3D
}

func ExampleVerifier_Verify() {
	v := &auth.Verifier{Keys: func(string) (string, bool) { return "", false }}
	h := auth.HTTPHeader{"Authorization": {"FC akid:bad"}}
	err := v.Verify(&auth.Request{Method: "GET", Path: "/", Header: h})
	var e *auth.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, e.Code)
	}
	// Output:
	// 403 AccessDenied
}

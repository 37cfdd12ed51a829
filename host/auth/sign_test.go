package auth

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// Test vectors from aliyun/fc-go-sdk, copied verbatim from
// /work/shared/reference/fc-compat.md §5.
const (
	// Vector A: signature_test.go TestGetSignResourceWithQueries.
	vectorAResource = "/path/action with space\nfoo=bar\nkey1=abc\nkey1=xyz\nkey2=123\nkey3/~x-y_z.a#b=value/~x-y_z.a#b\nxyz"

	// Vector B: signature_test.go TestGetSignature.
	vectorBSecret       = "S9MWOBG0AOWHSO9HPASP216QOPHT5YR4NLH3A"
	vectorBPath         = "/2016-08-15/proxy/service.LATEST/func/abc 123"
	vectorBStringToSign = "GET\nef5b43a0fe1d5b401b62c3ba33a7a3d6\ntext/json\n1583221068\nx-fc-trace-id:trace-id\n/2016-08-15/proxy/service.LATEST/func/abc 123\na=123 45\nx-fc-access-key-id=akID\nx-fc-expires=1583221068\nx-fc-security-token=stsToken\nx=456\nx=xyz"
	vectorBSignature    = "QFdNhz0Dl+onUM/MvpX940WFH3H8OHayZHbby1c01aI="

	// Vector C: sign_url_request_test.go TestSignURL.
	vectorCWithSTS      = "http://localhost/2016-08-15/proxy/service/func/?x-fc-access-key-id=akid&x-fc-expires=1583339600&x-fc-security-token=stsToken&x-fc-signature=Yi0jCBQ6cTZc%2BtN8wtYUz9FbYNijx5jDiE3sVNW6XwA%3D"
	vectorCWithoutSTS   = "http://localhost/2016-08-15/proxy/service/func/?x-fc-access-key-id=akid&x-fc-expires=1583339600&x-fc-signature=6Rc4KxEAv3%2BlHpbNQWceIUqWVWq3ewxhadlJBRzZ0XQ%3D"
	vectorCStringToSign = "GET\n\n\n1583339600\n/2016-08-15/proxy/service/func/\nx-fc-access-key-id=akid\nx-fc-expires=1583339600\nx-fc-security-token=stsToken"
)

// vectorARawQuery is vector A's query map xyz=[] foo=[bar] key2=[123]
// key1=[xyz,abc] key3/~x-y_z.a#b=[value/~x-y_z.a#b] as it travels on the
// wire (a key with no values has no '=').
const vectorARawQuery = "xyz&foo=bar&key2=123&key1=xyz&key1=abc&key3%2F~x-y_z.a%23b=value%2F~x-y_z.a%23b"

func vectorBHeader() http.Header {
	h := http.Header{}
	h.Set("x-fc-trace-id", "trace-id")
	h.Set("content-type", "text/json")
	h.Set("content-md5", "ef5b43a0fe1d5b401b62c3ba33a7a3d6")
	return h
}

func vectorBRequest() *Request {
	q := url.Values{
		"x":                   {"xyz", "456"},
		"a":                   {"123 45"},
		"x-fc-expires":        {"1583221068"},
		"x-fc-access-key-id":  {"akID"},
		"x-fc-security-token": {"stsToken"},
	}
	return &Request{
		Method:   "GET",
		Path:     vectorBPath,
		RawQuery: q.Encode(),
		Header:   HTTPHeader(vectorBHeader()),
		Trigger:  true,
	}
}

func TestStringToSign(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{
			name: "vector A resource",
			req:  Request{Method: "GET", Path: "/path/action with space", RawQuery: vectorARawQuery, Trigger: true},
			want: "GET\n\n\n\n" + vectorAResource,
		},
		{
			name: "vector B",
			req:  *vectorBRequest(),
			want: vectorBStringToSign,
		},
		{
			name: "vector B query in another order",
			req: func() Request {
				r := *vectorBRequest()
				r.RawQuery = "x-fc-security-token=stsToken&x=456&a=123%2045&x=xyz&x-fc-access-key-id=akID&x-fc-expires=1583221068"
				return r
			}(),
			want: vectorBStringToSign,
		},
		{
			name: "vector C",
			req: Request{Method: "GET", Path: "/2016-08-15/proxy/service/func/", Trigger: true,
				RawQuery: "x-fc-access-key-id=akid&x-fc-expires=1583339600&x-fc-security-token=stsToken&x-fc-signature=Yi0jCBQ6cTZc%2BtN8wtYUz9FbYNijx5jDiE3sVNW6XwA%3D"},
			want: vectorCStringToSign,
		},
		{
			name: "management API: path only, Date header",
			req: Request{Method: "POST", Path: "/2016-08-15/services", RawQuery: "limit=10",
				Header: HTTPHeader{
					"Date":                {"Wed, 25 Nov 2026 08:00:00 GMT"},
					"Content-Type":        {"application/json"},
					"Content-Md5":         {"abc"},
					"X-Fc-Account-Id":     {"123"},
					"X-Fc-Security-Token": {"tok"},
					"User-Agent":          {"go-sdk"},
					"X-Fcnot":             {"no"},
				}},
			want: "POST\nabc\napplication/json\nWed, 25 Nov 2026 08:00:00 GMT\nx-fc-account-id:123\nx-fc-security-token:tok\n/2016-08-15/services",
		},
		{
			name: "trigger without query",
			req:  Request{Method: "GET", Path: "/2016-08-15/proxy/s/f/", Trigger: true},
			want: "GET\n\n\n\n/2016-08-15/proxy/s/f/\n",
		},
		{
			name: "query item with empty value keeps '='",
			req:  Request{Method: "GET", Path: "/p", RawQuery: "b=&a&&c=%3D", Trigger: true},
			want: "GET\n\n\n\n/p\na\nb=\nc==",
		},
		{
			name: "decoded key equal to raw prefix",
			req:  Request{Method: "GET", Path: "/p", RawQuery: "%25=v", Trigger: true},
			want: "GET\n\n\n\n/p\n%=v",
		},
		{
			name: "header names sorted after lower-casing",
			req: Request{Method: "GET", Path: "/p", Header: HTTPHeader{
				"X-Fc-B":  {"2"},
				"x-fc-a":  {"1"},
				"X-FC-AB": {"3"},
			}},
			want: "GET\n\n\n\nx-fc-a:1\nx-fc-ab:3\nx-fc-b:2\n/p",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := StringToSign(&tc.req); got != tc.want {
				t.Errorf("StringToSign =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestSign(t *testing.T) {
	tests := []struct {
		name, secret, sts, want string
	}{
		{"vector B", vectorBSecret, vectorBStringToSign, vectorBSignature},
		{"vector C with STS", "akSec", vectorCStringToSign, "Yi0jCBQ6cTZc+tN8wtYUz9FbYNijx5jDiE3sVNW6XwA="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sign(tc.secret, tc.sts); got != tc.want {
				t.Errorf("Sign = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAuthorization(t *testing.T) {
	got := Authorization("akID", vectorBSecret, vectorBRequest())
	if want := "FC akID:" + vectorBSignature; got != want {
		t.Errorf("Authorization = %q, want %q", got, want)
	}
}

func TestSignURL(t *testing.T) {
	u, err := url.Parse("http://localhost/2016-08-15/proxy/service/func/")
	if err != nil {
		t.Fatal(err)
	}
	expires := time.Unix(1583339600, 0)
	tests := []struct {
		name  string
		token string
		want  string
	}{
		{"with STS", "stsToken", vectorCWithSTS},
		{"without STS", "", vectorCWithoutSTS},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := SignURL("GET", u, nil, Credentials{"akid", "akSec", tc.token}, expires)
			if got != tc.want {
				t.Errorf("SignURL =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	if u.RawQuery != "" {
		t.Errorf("SignURL modified its URL: %q", u.RawQuery)
	}
}

package auth_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/auth"
	"github.com/fnhost/fnhost/host/auth/authtest"
)

func ExampleNewJWTAuth() {
	secret := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	a, err := auth.NewJWTAuth(&host.TriggerAuthConfig{
		Secret:      "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", // base64(secret)
		Issuer:      "https://idp.example/",
		ClaimPassBy: []host.ClaimPassBy{{Claim: "sub", Header: "X-User-Id"}},
	}, nil, func() time.Time { return now })
	if err != nil {
		panic(err)
	}
	tok := authtest.Token("HS256", secret, "", map[string]any{
		"iss": "https://idp.example/", "sub": "alice", "exp": now.Add(time.Hour).Unix(),
	})
	claims, err := a.Verifier.Verify(context.Background(), tok)
	fmt.Println(err)
	for _, p := range a.PassBy() {
		v, _ := auth.HeaderValue(claims, p.Claim)
		fmt.Printf("%s: %s\n", p.Header, v)
	}
	_, err = a.Verifier.Verify(context.Background(), authtest.Token("HS256", secret, "", map[string]any{
		"iss": "https://idp.example/", "exp": now.Add(-time.Hour).Unix(),
	}))
	fmt.Println(err)
	// Output:
	// <nil>
	// X-User-Id: alice
	// auth: InvalidToken: the token expired at 2026-11-25T07:00:00Z
}

func ExampleBasicAuth_Verify() {
	fmt.Println(auth.HashPassword("s3cret"))
	b, err := auth.NewBasicAuth(&host.TriggerAuthConfig{Users: []host.BasicUser{
		{Name: "ci", PasswordHash: auth.HashPassword("s3cret")},
	}})
	if err != nil {
		panic(err)
	}
	fmt.Println(b.Verify("Basic Y2k6czNjcmV0")) // ci:s3cret
	fmt.Println(b.Verify("Basic Y2k6d3Jvbmc=")) // ci:wrong
	// Output:
	// sha256:1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0
	// ci <nil>
	//  auth: InvalidCredentials: wrong user name or password
}

func ExampleClientIP() {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	xff := [][]byte{[]byte("198.51.100.7, 203.0.113.9, 10.0.0.3")}
	// From a trusted proxy: the right-most address no trusted proxy vouches for.
	fmt.Println(auth.ClientIP(netip.MustParseAddr("10.0.0.2"), trusted, xff))
	// From anyone else: the peer; the header is ignored.
	fmt.Println(auth.ClientIP(netip.MustParseAddr("192.0.2.1"), trusted, xff))
	// Output:
	// 203.0.113.9
	// 192.0.2.1
}

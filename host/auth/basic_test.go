package auth_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/auth"
)

func basicHeader(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestHashPassword(t *testing.T) {
	// printf %s secret | sha256sum
	const want = "sha256:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
	if got := auth.HashPassword("secret"); got != want {
		t.Fatalf("HashPassword = %s", got)
	}
	if _, err := auth.ParsePasswordHash(strings.ToUpper(want[7:])); err == nil {
		t.Error("hash without prefix accepted")
	}
	if _, err := auth.ParsePasswordHash("sha256:" + strings.ToUpper(want[7:])); err != nil {
		t.Errorf("upper-case hex: %v", err)
	}
}

func TestBasicAuth(t *testing.T) {
	b, err := auth.NewBasicAuth(&host.TriggerAuthConfig{Users: []host.BasicUser{
		{Name: "alice", PasswordHash: auth.HashPassword("wonder:land")},
		{Name: "bob", PasswordHash: auth.HashPassword("")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, header, user string
	}{
		{"good", basicHeader("alice", "wonder:land"), "alice"},
		{"scheme case", "basic " + basicHeader("alice", "wonder:land")[6:], "alice"},
		{"empty password", basicHeader("bob", ""), "bob"},
		{"wrong password", basicHeader("alice", "wonder"), ""},
		{"unknown user", basicHeader("carol", "wonder:land"), ""},
		{"missing", "", ""},
		{"bearer", "Bearer abc", ""},
		{"not base64", "Basic !!!", ""},
		{"no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice")), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			user, err := b.Verify(tc.header)
			if tc.user != "" {
				if err != nil || user != tc.user {
					t.Fatalf("Verify = %q, %v", user, err)
				}
				return
			}
			var ae *auth.Error
			if !errors.As(err, &ae) || ae.Status != 401 || ae.Code != auth.CodeInvalidCredentials {
				t.Fatalf("Verify: %v, want 401 InvalidCredentials", err)
			}
		})
	}
}

func TestNewBasicAuthConfig(t *testing.T) {
	h := auth.HashPassword("x")
	tests := []struct {
		name string
		c    *host.TriggerAuthConfig
		err  string
	}{
		{"nil", nil, "authConfig is required"},
		{"no users", &host.TriggerAuthConfig{}, "authConfig.users must list"},
		{"empty name", &host.TriggerAuthConfig{Users: []host.BasicUser{{PasswordHash: h}}}, "users[0].name"},
		{"colon in name", &host.TriggerAuthConfig{Users: []host.BasicUser{{Name: "a:b", PasswordHash: h}}}, "users[0].name"},
		{"duplicate", &host.TriggerAuthConfig{Users: []host.BasicUser{{Name: "a", PasswordHash: h}, {Name: "a", PasswordHash: h}}}, "users[1].name"},
		{"plain password", &host.TriggerAuthConfig{Users: []host.BasicUser{{Name: "a", PasswordHash: "hunter2"}}}, "users[0].passwordHash"},
		{"md5", &host.TriggerAuthConfig{Users: []host.BasicUser{{Name: "a", PasswordHash: "md5:5f4dcc3b5aa765d61d8327deb882cf99"}}}, "passwordHash"},
		{"short hex", &host.TriggerAuthConfig{Users: []host.BasicUser{{Name: "a", PasswordHash: h[:70]}}}, "passwordHash"},
		{"bad hex", &host.TriggerAuthConfig{Users: []host.BasicUser{{Name: "a", PasswordHash: h[:70] + "zz"}}}, "passwordHash"},
		{"jwt field", &host.TriggerAuthConfig{Issuer: "x", Users: []host.BasicUser{{Name: "a", PasswordHash: h}}}, `authConfig.issuer applies to authType "jwt"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := auth.NewBasicAuth(tc.c)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err %v, want %q", err, tc.err)
			}
		})
	}
}

package auth_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/fnhost/fnhost/host/auth"
)

func TestParsePrefix(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"10.0.0.0/8", "10.0.0.0/8", ""},
		{"127.0.0.1", "127.0.0.1/32", ""},
		{"2001:db8::/32", "2001:db8::/32", ""},
		{"::1", "::1/128", ""},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8", ""},
		{"::ffff:10.0.0.1", "10.0.0.1/32", ""},
		{"10.0.0.1/8", "", "did you mean 10.0.0.0/8"},
		{"10.0.0.0/33", "", "not an IP address or CIDR"},
		{"fe80::1%eth0", "", "not an IP address"},
		{"example.com", "", "not an IP address"},
		{"", "", "not an IP address"},
	}
	for _, tc := range tests {
		p, err := auth.ParsePrefix(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParsePrefix(%q) = %v, %v; want error %q", tc.in, p, err, tc.err)
			}
			continue
		}
		if err != nil || p.String() != tc.want {
			t.Errorf("ParsePrefix(%q) = %v, %v; want %s", tc.in, p, err, tc.want)
		}
	}
}

func TestIPFilter(t *testing.T) {
	f, err := auth.NewIPFilter([]string{"10.0.0.0/8", "2001:db8::/32", "127.0.0.1"}, []string{"10.1.0.0/16", "2001:db8:bad::/48"})
	if err != nil {
		t.Fatal(err)
	}
	denyOnly, err := auth.NewIPFilter(nil, []string{"192.0.2.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		f    *auth.IPFilter
		ip   string
		want bool
	}{
		{f, "10.2.3.4", true},
		{f, "10.1.2.3", false}, // deny wins
		{f, "127.0.0.1", true},
		{f, "127.0.0.2", false},
		{f, "::ffff:10.2.3.4", true},
		{f, "2001:db8:1::1", true},
		{f, "2001:db8:bad::1", false},
		{f, "2001:db9::1", false},
		{f, "", false},
		{denyOnly, "192.0.2.7", false},
		{denyOnly, "198.51.100.1", true},
		{denyOnly, "", false},
	}
	for _, tc := range tests {
		var ip netip.Addr
		if tc.ip != "" {
			ip = netip.MustParseAddr(tc.ip)
		}
		if got := tc.f.Allowed(ip); got != tc.want {
			t.Errorf("Allowed(%s) = %v, want %v", tc.ip, got, tc.want)
		}
	}
	if _, err := auth.NewIPFilter([]string{"10.0.0.0/8", "bad"}, nil); err == nil || !strings.HasPrefix(err.Error(), "ipAllow[1]: ") {
		t.Errorf("bad entry: %v", err)
	}
	if _, err := auth.NewIPFilter(nil, make([]string, 257)); err == nil || !strings.Contains(err.Error(), "at most 256") {
		t.Errorf("long list: %v", err)
	}
}

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"no proxy header", "10.0.0.1", nil, "10.0.0.1"},
		{"untrusted peer ignores header", "203.0.113.9", []string{"1.2.3.4"}, "203.0.113.9"},
		{"one hop", "10.0.0.1", []string{"1.2.3.4"}, "1.2.3.4"},
		{"spoofed left part", "10.0.0.1", []string{"6.6.6.6, 1.2.3.4"}, "1.2.3.4"},
		{"proxy chain", "10.0.0.1", []string{"1.2.3.4, 10.0.0.7, 10.0.0.8"}, "1.2.3.4"},
		{"several headers", "10.0.0.1", []string{"6.6.6.6", "1.2.3.4", "10.9.9.9"}, "1.2.3.4"},
		{"all trusted", "10.0.0.1", []string{"10.0.0.2, 10.0.0.3"}, "10.0.0.2"},
		{"garbage left of trusted hop", "10.0.0.1", []string{"garbage, 10.0.0.5"}, "10.0.0.5"},
		{"garbage only", "10.0.0.1", []string{"garbage"}, "10.0.0.1"},
		{"ipv6 client", "fd00::1", []string{"2001:db8::7"}, "2001:db8::7"},
		{"ipv6 with port", "10.0.0.1", []string{"[2001:db8::7]:4711"}, "2001:db8::7"},
		{"ipv4 with port", "10.0.0.1", []string{"1.2.3.4:80"}, "1.2.3.4"},
		{"mapped peer", "::ffff:10.0.0.1", []string{"1.2.3.4"}, "1.2.3.4"},
		{"empty items", "10.0.0.1", []string{" , 1.2.3.4 ,"}, "1.2.3.4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var xff [][]byte
			for _, v := range tc.xff {
				xff = append(xff, []byte(v))
			}
			if got := auth.ClientIP(netip.MustParseAddr(tc.remote), trusted, xff); got.String() != tc.want {
				t.Fatalf("ClientIP = %s, want %s", got, tc.want)
			}
		})
	}
	if got := auth.ClientIP(netip.MustParseAddr("10.0.0.1"), nil, [][]byte{[]byte("1.2.3.4")}); got.String() != "10.0.0.1" {
		t.Errorf("no trusted proxies: %s", got)
	}
}

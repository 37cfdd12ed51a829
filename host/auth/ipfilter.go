package auth

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
)

// maxIPEntries bounds each of ipAllow and ipDeny.
const maxIPEntries = 256

// IPFilter admits or refuses client addresses by prefix lists. It is
// immutable and safe for concurrent use.
type IPFilter struct {
	allow, deny []netip.Prefix
}

// NewIPFilter checks and compiles a trigger's ipAllow and ipDeny lists
// (each entry a prefix or an address, see ParsePrefix; at most 256 per
// list). Errors name the entry ("ipAllow[2]: ...").
func NewIPFilter(allow, deny []string) (*IPFilter, error) {
	f := &IPFilter{}
	var err error
	if f.allow, err = parsePrefixes("ipAllow", allow); err != nil {
		return nil, err
	}
	if f.deny, err = parsePrefixes("ipDeny", deny); err != nil {
		return nil, err
	}
	return f, nil
}

func parsePrefixes(field string, list []string) ([]netip.Prefix, error) {
	if len(list) > maxIPEntries {
		return nil, fmt.Errorf("%s has %d entries, at most %d", field, len(list), maxIPEntries)
	}
	out := make([]netip.Prefix, 0, len(list))
	for i, s := range list {
		p, err := ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", field, i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// ParsePrefix parses "10.0.0.0/8", "2001:db8::/32" or a single address
// ("127.0.0.1", "::1": a /32 or /128). The bits after the prefix length
// must be zero ("10.0.0.1/8" is refused as a likely mistake). An
// IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104) becomes its IPv4 form,
// since client addresses are compared unmapped. Zones are refused.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%s is not an IP address or CIDR prefix", quoteBounded(s))
		}
		if p != p.Masked() {
			return netip.Prefix{}, fmt.Errorf("%s has bits set after the prefix length; did you mean %s?", quoteBounded(s), p.Masked())
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%s is not an IP address or CIDR prefix", quoteBounded(s))
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Allowed reports whether ip may call: it is in no deny prefix, and in an
// allow prefix when there are any. An invalid ip (unknown client) is
// refused.
func (f *IPFilter) Allowed(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	ip = ip.Unmap().WithZone("")
	if containsAddr(f.deny, ip) {
		return false
	}
	return len(f.allow) == 0 || containsAddr(f.allow, ip)
}

func containsAddr(ps []netip.Prefix, ip netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ClientIP returns the client's address for a request that arrived from
// remote. When remote is one of the trusted proxies, it walks the
// X-Forwarded-For values (forwardedFor, the header's values in order, each
// a comma-separated list) from the right, skipping trusted proxies, and
// returns the first untrusted address: the right-most one no trusted proxy
// vouches for. An entry that does not parse stops the walk at the last
// hop examined; if every entry is trusted, the left-most one is returned.
// Addresses come back unmapped and without zone. forwardedFor is only
// read.
func ClientIP(remote netip.Addr, trusted []netip.Prefix, forwardedFor [][]byte) netip.Addr {
	client := remote.Unmap().WithZone("")
	if !client.IsValid() || !containsAddr(trusted, client) {
		return client
	}
	for i := len(forwardedFor) - 1; i >= 0; i-- {
		list := forwardedFor[i]
		for len(list) > 0 {
			var item []byte
			if j := bytes.LastIndexByte(list, ','); j >= 0 {
				item, list = list[j+1:], list[:j]
			} else {
				item, list = list, nil
			}
			item = bytes.TrimSpace(item)
			if len(item) == 0 {
				continue
			}
			a, ok := parseForwarded(item)
			if !ok {
				return client
			}
			client = a
			if !containsAddr(trusted, a) {
				return a
			}
		}
	}
	return client
}

// parseForwarded parses one X-Forwarded-For entry: an address, possibly
// with a port ("1.2.3.4:80", "[2001:db8::1]:80") or in brackets.
func parseForwarded(b []byte) (netip.Addr, bool) {
	s := string(b) // small; only reached behind a trusted proxy
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap().WithZone(""), true
		}
	}
	return netip.Addr{}, false
}

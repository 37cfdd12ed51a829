// Command echo answers every request with a JSON object describing it, in
// the shape of Function Compute's HTTP-trigger sample. The exact output rules
// are in guests/README.md ("echo output"); the C echo guest follows them too.
package main

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/fnhost/fnhost/sdk/go/fnhost"
)

func init() { fnhost.Handle(handle) }

func handle(w fnhost.ResponseWriter, r *fnhost.Request) {
	body, err := r.Body()
	if err != nil {
		w.SetStatus(500)
		w.WriteString(err.Error())
		return
	}
	path, query := r.Path(), r.RawQuery()
	url := path
	if query != "" {
		url += "?" + query
	}
	var headers multimap
	for _, f := range r.Headers() {
		headers.add(lowerASCII(f.Name), f.Value)
	}

	var out bytes.Buffer
	j := newJSON(&out)
	out.WriteString(`{"path":`)
	j.str(path)
	out.WriteString(`,"queries":`)
	j.object(parseQuery(query))
	out.WriteString(`,"headers":`)
	j.object(headers)
	out.WriteString(`,"method":`)
	j.str(r.Method())
	out.WriteString(`,"body":`)
	j.str(string(body))
	out.WriteString(`,"url":`)
	j.str(url)
	out.WriteString(`,"clientIP":`)
	j.str(r.ClientIP())
	out.WriteString(`}`)

	w.AddHeader("Content-Type", "application/json")
	w.Write(out.Bytes())
}

// multimap maps keys to lists of values and keeps the keys in order of first
// appearance.
type multimap struct {
	keys []string
	vals map[string][]string
}

func (m *multimap) add(k, v string) {
	if m.vals == nil {
		m.vals = map[string][]string{}
	}
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = append(m.vals[k], v)
}

// jsonWriter writes JSON strings with encoding/json, without HTML escaping
// and without the newline json.Encoder adds.
type jsonWriter struct {
	buf *bytes.Buffer
	enc *json.Encoder
}

func newJSON(buf *bytes.Buffer) jsonWriter {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	return jsonWriter{buf, enc}
}

func (j jsonWriter) str(s string) {
	j.enc.Encode(s) // a string always encodes
	j.buf.Truncate(j.buf.Len() - 1)
}

// object writes m as {"key":["value",...],...}, keys in order of first
// appearance.
func (j jsonWriter) object(m multimap) {
	j.buf.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			j.buf.WriteByte(',')
		}
		j.str(k)
		j.buf.WriteString(":[")
		for n, v := range m.vals[k] {
			if n > 0 {
				j.buf.WriteByte(',')
			}
			j.str(v)
		}
		j.buf.WriteByte(']')
	}
	j.buf.WriteByte('}')
}

// parseQuery splits a raw query string at '&', skips empty pairs, splits
// each pair at its first '=' (no '=' means the value ""), and decodes key and
// value with unescape. It never fails. Keys keep their order of first
// appearance.
func parseQuery(q string) multimap {
	var m multimap
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, v = unescape(k), unescape(v)
		m.add(k, v)
	}
	return m
}

// unescape decodes '+' to a space and "%XX" (two hex digits, either case)
// to the byte 0xXX. A '%' not followed by two hex digits is kept as is.
func unescape(s string) string {
	if !strings.ContainsAny(s, "+%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// lowerASCII lower-cases A–Z only; other bytes are kept.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func main() {}

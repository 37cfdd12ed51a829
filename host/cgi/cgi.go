// Package cgi implements the CGI/1.1 side of fnhost's WASI command mode
// (abi/ABI.md §8): the environment a command module gets for a request, and
// the parser for the response it prints on stdout.
package cgi

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/fnhost/fnhost/host"
)

// ErrBadResponse is wrapped by every error ParseResponse returns.
var ErrBadResponse = errors.New("bad CGI response")

// maxHeaderLines bounds the work a hostile program can cause the parser.
const maxHeaderLines = 1000

// ParseResponse parses a CGI response (a header block, an empty line, the
// body) from out into res. out is borrowed for the call: res gets copies of
// the header bytes, and res.Body is appended to, so nothing in res aliases
// out afterwards.
//
// The status comes from a "Status:" line ("404" or "404 Not Found"); without
// one it is 302 when Location is present, 200 otherwise. Lines end in LF or
// CRLF. A missing empty line, a line without a colon, a header name that is
// not a token, a value with CR or NUL, or a status outside 100–599 is an
// error wrapping ErrBadResponse.
func ParseResponse(out []byte, res *host.Response) error {
	status := 0
	hasLocation := false
	rest := out
	for lines := 0; ; lines++ {
		if lines > maxHeaderLines {
			return fmt.Errorf("%w: more than %d header lines", ErrBadResponse, maxHeaderLines)
		}
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 {
			return fmt.Errorf("%w: no empty line ends the header block", ErrBadResponse)
		}
		line := rest[:nl]
		rest = rest[nl+1:]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return fmt.Errorf("%w: header line %q has no name and colon", ErrBadResponse, clip(line))
		}
		name := bytes.TrimSpace(line[:colon])
		value := bytes.TrimSpace(line[colon+1:])
		if !host.ValidHeaderName(name) {
			return fmt.Errorf("%w: header name %q is not a token", ErrBadResponse, clip(name))
		}
		if !host.ValidHeaderValue(value) {
			return fmt.Errorf("%w: value of header %q contains CR or NUL", ErrBadResponse, clip(name))
		}
		switch {
		case host.EqualFoldASCII(name, "Status"):
			code := value
			if sp := bytes.IndexByte(code, ' '); sp >= 0 {
				code = code[:sp]
			}
			n, err := strconv.Atoi(string(code))
			if err != nil || n < 100 || n > 599 || len(code) != 3 {
				return fmt.Errorf("%w: status %q is not a number in 100-599", ErrBadResponse, clip(value))
			}
			status = n
			continue
		case host.EqualFoldASCII(name, "Location"):
			hasLocation = true
		}
		res.AddHeader(name, value)
	}
	switch {
	case status != 0:
		res.Status = status
	case hasLocation:
		res.Status = 302
	default:
		res.Status = 200
	}
	res.Body = append(res.Body, rest...)
	return nil
}

// Env returns the CGI/1.1 environment for req as KEY=VALUE strings, after
// the function's own variables in fnEnv (so CGI variables win when a
// program reads the last occurrence, and the host removes shadowed
// function variables itself). Repeated request headers are joined with ", ".
func Env(req *host.Request, fnEnv []string) []string {
	env := make([]string, 0, len(fnEnv)+16+len(req.Headers))
	cgiNames := map[string]bool{}
	add := func(k, v string) {
		cgiNames[k] = true
		env = append(env, k+"="+v)
	}
	add("GATEWAY_INTERFACE", "CGI/1.1")
	add("SERVER_PROTOCOL", "HTTP/1.1")
	add("SERVER_SOFTWARE", "fnhost")
	add("REQUEST_METHOD", string(req.Method))
	add("PATH_INFO", string(req.Path))
	add("SCRIPT_NAME", "")
	add("QUERY_STRING", string(req.RawQuery))
	add("CONTENT_LENGTH", strconv.Itoa(len(req.Body)))
	add("REMOTE_ADDR", string(req.ClientIP))
	add("X_FC_REQUEST_ID", req.RequestID)
	contentType := ""
	// Join repeated headers in order of first appearance.
	var order []string
	joined := map[string]string{}
	for _, h := range req.Headers {
		if host.EqualFoldASCII(h.Name, "Content-Type") && contentType == "" {
			contentType = string(h.Value)
		}
		k := "HTTP_" + headerEnvName(h.Name)
		if prev, ok := joined[k]; ok {
			joined[k] = prev + ", " + string(h.Value)
			continue
		}
		order = append(order, k)
		joined[k] = string(h.Value)
	}
	add("CONTENT_TYPE", contentType)
	for _, k := range order {
		add(k, joined[k])
	}
	out := make([]string, 0, len(fnEnv)+len(env))
	for _, kv := range fnEnv {
		k := kv
		if i := bytes.IndexByte([]byte(kv), '='); i >= 0 {
			k = kv[:i]
		}
		if !cgiNames[k] {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

func headerEnvName(name []byte) string {
	b := make([]byte, len(name))
	for i, c := range name {
		switch {
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case c == '-':
			c = '_'
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		default:
			c = '_'
		}
		b[i] = c
	}
	return string(b)
}

func clip(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

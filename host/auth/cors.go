package auth

import (
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/fnhost/fnhost/host"
)

// Limits of a corsConfig.
const (
	maxCORSEntries = 64
	// MaxCORSMaxAge is the largest maxAge (a day, Firefox's cap).
	MaxCORSMaxAge = 86400
)

// corsMethods are the methods allowMethods may list (FC's trigger
// methods).
var corsMethods = []string{"HEAD", "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}

var corsHeaders = [...]string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Expose-Headers",
	"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age",
}

// CORSHeaders yields the response headers CORS owns. On a trigger with a
// corsConfig the host sets them and drops the function's.
func CORSHeaders() iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, h := range corsHeaders {
			if !yield(h) {
				return
			}
		}
	}
}

// CORS answers cross-origin requests for one trigger (the Fetch
// standard's CORS protocol). It is immutable and safe for concurrent use.
type CORS struct {
	anyOrigin   bool
	origins     []string // normalized, lower case
	anyMethod   bool
	methods     []string
	anyHeader   bool
	headers     []string // lower case
	allowHdrs   string   // Access-Control-Allow-Headers value
	allowMeths  string
	expose      string
	credentials bool
	maxAge      string
}

// NewCORS checks and compiles a corsConfig. triggerMethods (the trigger's
// methods) are the default of allowMethods. Errors name the field
// ("corsConfig.allowOrigins[1]: ...").
func NewCORS(c *host.CORSConfig, triggerMethods []string) (*CORS, error) {
	x := &CORS{credentials: c.AllowCredentials}
	if len(c.AllowOrigins) == 0 {
		return nil, fmt.Errorf(`corsConfig.allowOrigins is required: origins like "https://app.example.com", or "*"`)
	}
	for _, f := range [...]struct {
		name string
		list []string
	}{
		{"allowOrigins", c.AllowOrigins}, {"allowMethods", c.AllowMethods},
		{"allowHeaders", c.AllowHeaders}, {"exposeHeaders", c.ExposeHeaders},
	} {
		if len(f.list) > maxCORSEntries {
			return nil, fmt.Errorf("corsConfig.%s has %d entries, at most %d", f.name, len(f.list), maxCORSEntries)
		}
		if c.AllowCredentials && slices.Contains(f.list, "*") {
			return nil, fmt.Errorf(`corsConfig.%s: "*" cannot be used with allowCredentials (browsers refuse it); list the values`, f.name)
		}
	}
	for i, o := range c.AllowOrigins {
		if o == "*" {
			x.anyOrigin = true
			continue
		}
		n, err := normalizeOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("corsConfig.allowOrigins[%d]: %w", i, err)
		}
		x.origins = append(x.origins, n)
	}
	methods := c.AllowMethods
	if len(methods) == 0 {
		methods = triggerMethods
		if len(methods) == 0 {
			methods = corsMethods
		}
	}
	for i, m := range methods {
		if m == "*" {
			x.anyMethod = true
			continue
		}
		u := strings.ToUpper(m)
		if !slices.Contains(corsMethods, u) {
			return nil, fmt.Errorf("corsConfig.allowMethods[%d]: %s is not one of %s", i, quoteBounded(m), strings.Join(corsMethods, ", "))
		}
		if !slices.Contains(x.methods, u) {
			x.methods = append(x.methods, u)
		}
	}
	x.allowMeths = strings.Join(x.methods, ", ")
	for i, h := range c.AllowHeaders {
		if h == "*" {
			x.anyHeader = true
			continue
		}
		if !validToken(h) {
			return nil, fmt.Errorf("corsConfig.allowHeaders[%d]: %s is not a header name", i, quoteBounded(h))
		}
		x.headers = append(x.headers, strings.ToLower(h))
	}
	x.allowHdrs = strings.Join(x.headers, ", ")
	for i, h := range c.ExposeHeaders {
		if h != "*" && !validToken(h) {
			return nil, fmt.Errorf("corsConfig.exposeHeaders[%d]: %s is not a header name", i, quoteBounded(h))
		}
	}
	x.expose = strings.Join(c.ExposeHeaders, ", ")
	if c.MaxAge < 0 || c.MaxAge > MaxCORSMaxAge {
		return nil, fmt.Errorf("corsConfig.maxAge: %d is out of range 0–%d seconds", c.MaxAge, MaxCORSMaxAge)
	}
	if c.MaxAge > 0 {
		x.maxAge = strconv.Itoa(c.MaxAge)
	}
	return x, nil
}

// normalizeOrigin checks an origin "scheme://host[:port]" (http or https;
// a trailing "/" is dropped, as is the scheme's default port) and returns
// it in lower case.
func normalizeOrigin(o string) (string, error) {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf(`%s is not an origin like "https://app.example.com" or "*"`, quoteBounded(o))
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "", fmt.Errorf("%s: an origin has no path, query or user information", quoteBounded(o))
	}
	host := strings.ToLower(u.Host)
	if (u.Scheme == "https" && u.Port() == "443") || (u.Scheme == "http" && u.Port() == "80") {
		host = strings.ToLower(u.Hostname())
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
	}
	return u.Scheme + "://" + host, nil
}

func (c *CORS) originAllowed(origin string) bool {
	if c.anyOrigin {
		return true
	}
	for _, o := range c.origins {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// IsPreflight reports whether a request is a CORS preflight: OPTIONS with
// Origin and Access-Control-Request-Method.
func IsPreflight(method, origin, requestMethod string) bool {
	return method == http.MethodOptions && origin != "" && requestMethod != ""
}

// Preflight answers a preflight request from origin asking for
// requestMethod and requestHeaders (the Access-Control-Request-Headers
// value). It calls set for each response header (Vary must be added, the
// others set) and returns nil, or a 403 *Error (AccessDenied) naming what
// the trigger's corsConfig does not allow; set is then not called.
func (c *CORS) Preflight(origin, requestMethod, requestHeaders string, set func(name, value string)) error {
	if !c.originAllowed(origin) {
		return newError(ErrAccessDenied, "CORS: origin "+quoteBounded(origin)+" is not allowed by the trigger's corsConfig")
	}
	if !c.anyMethod && !slices.Contains(c.methods, requestMethod) {
		return newError(ErrAccessDenied, "CORS: method "+quoteBounded(requestMethod)+" is not allowed by the trigger's corsConfig")
	}
	var asked []string
	for h := range strings.SplitSeq(requestHeaders, ",") {
		if h = strings.ToLower(strings.TrimSpace(h)); h == "" {
			continue
		}
		if !c.anyHeader && !slices.Contains(c.headers, h) {
			return newError(ErrAccessDenied, "CORS: request header "+quoteBounded(h)+" is not allowed by the trigger's corsConfig")
		}
		asked = append(asked, h)
	}
	c.setOrigin(origin, set)
	set("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
	if c.anyMethod {
		set("Access-Control-Allow-Methods", requestMethod)
	} else {
		set("Access-Control-Allow-Methods", c.allowMeths)
	}
	switch {
	case c.anyHeader && len(asked) > 0:
		set("Access-Control-Allow-Headers", strings.Join(asked, ", "))
	case c.allowHdrs != "":
		set("Access-Control-Allow-Headers", c.allowHdrs)
	}
	if c.maxAge != "" {
		set("Access-Control-Max-Age", c.maxAge)
	}
	return nil
}

// Actual sets the CORS headers of the response to an actual (not
// preflight) request from origin ("" when the request had none). A
// disallowed origin gets no Access-Control-* headers, so browsers keep
// the response from the page; the request itself is not refused (CORS
// protects readers, not the server).
func (c *CORS) Actual(origin string, set func(name, value string)) {
	if origin == "" || !c.originAllowed(origin) {
		if !c.anyOrigin {
			set("Vary", "Origin")
		}
		return
	}
	c.setOrigin(origin, set)
	if c.expose != "" {
		set("Access-Control-Expose-Headers", c.expose)
	}
}

func (c *CORS) setOrigin(origin string, set func(name, value string)) {
	if c.anyOrigin {
		set("Access-Control-Allow-Origin", "*")
	} else {
		set("Access-Control-Allow-Origin", origin)
		set("Vary", "Origin")
	}
	if c.credentials {
		set("Access-Control-Allow-Credentials", "true")
	}
}

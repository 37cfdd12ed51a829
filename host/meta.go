package host

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"
)

// Management records. Field names and JSON tags follow FC API 2016-08-15
// (fc-compat.md §3) so FC SDKs decode them unchanged. Only the fields fnhost
// uses are present; encoding/json ignores the others on input.
//
// Times are strings in TimeFormat (RFC 3339, UTC, second precision, e.g.
// "2026-11-25T08:20:57Z"), as the FC SDKs keep them (*string); use
// FormatTime to produce one.
//
// The records are plain values: not safe for concurrent mutation, safe to
// copy (the map and slice fields are shared by a copy, so clone them before
// mutating a copy another goroutine may read).

// TimeFormat is the layout of CreatedTime and LastModifiedTime.
const TimeFormat = "2006-01-02T15:04:05Z"

// FormatTime formats t in UTC with TimeFormat.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// RuntimeWasm is the only Function.Runtime fnhost runs.
const RuntimeWasm = "wasm"

// TriggerTypeHTTP is the only Trigger.TriggerType fnhost serves.
const TriggerTypeHTTP = "http"

// HTTP trigger auth types (HTTPTriggerConfig.AuthType). AuthJWT and
// AuthBasic are fnhost extensions configured by HTTPTriggerConfig.AuthConfig.
const (
	AuthFunction  = "function"  // FC signature required (FC's default)
	AuthAnonymous = "anonymous" // no check
	AuthJWT       = "jwt"       // a JSON Web Token (FC 3.0's name)
	AuthBasic     = "basic"     // HTTP basic authentication
)

// Service groups functions, as in FC.
type Service struct {
	ServiceName      string `json:"serviceName"`
	Description      string `json:"description"`
	ServiceID        string `json:"serviceId"`
	CreatedTime      string `json:"createdTime"`
	LastModifiedTime string `json:"lastModifiedTime"`
}

// Function is one deployed .wasm module with its settings.
type Function struct {
	// ServiceName is the owning service. It is not part of FC's function
	// JSON (the service is in the path), so it is not encoded.
	ServiceName  string `json:"-"`
	FunctionName string `json:"functionName"`
	FunctionID   string `json:"functionId"`
	Description  string `json:"description"`
	Runtime      string `json:"runtime"` // RuntimeWasm
	Handler      string `json:"handler"`
	// MemorySize is the memory limit in MB.
	MemorySize int `json:"memorySize"`
	// Timeout is the invocation timeout in seconds.
	Timeout             int `json:"timeout"`
	InstanceConcurrency int `json:"instanceConcurrency"`
	// MaxInstances caps the function's instance pool; 0 means the host's
	// default. This is an fnhost extension to FC's Function (JSON
	// "maxInstances"); FC SDKs ignore it.
	MaxInstances         int               `json:"maxInstances"`
	EnvironmentVariables map[string]string `json:"environmentVariables"`
	// CodeChecksum is the lower-case hex SHA-256 of the .wasm module. (FC
	// reports a CRC-64 here; fnhost's content address is SHA-256.)
	CodeChecksum     string `json:"codeChecksum"`
	CodeSize         int64  `json:"codeSize"`
	CreatedTime      string `json:"createdTime"`
	LastModifiedTime string `json:"lastModifiedTime"`
}

// HTTPTriggerConfig is the triggerConfig of an HTTP trigger.
//
// AuthType, Methods and DisableURLInternet are FC 2.0's. The other fields
// are fnhost extensions with FC-3.0-like names, omitted from the JSON when
// unset so that FC clients see FC's record; host/server's package doc
// describes them, host/auth checks them.
type HTTPTriggerConfig struct {
	AuthType           string   `json:"authType"` // AuthFunction, AuthAnonymous, AuthJWT or AuthBasic
	Methods            []string `json:"methods"`  // HEAD GET POST PUT DELETE PATCH OPTIONS
	DisableURLInternet bool     `json:"disableURLInternet"`

	// AuthConfig configures AuthJWT and AuthBasic; it is nil for the
	// other auth types.
	AuthConfig *TriggerAuthConfig `json:"authConfig,omitempty"`
	// IPAllow, when not empty, admits only clients whose address is in one
	// of its entries ("10.0.0.0/8", "2001:db8::/32", "127.0.0.1"). IPDeny
	// refuses clients in one of its entries, and wins over IPAllow.
	IPAllow []string `json:"ipAllow,omitempty"`
	IPDeny  []string `json:"ipDeny,omitempty"`
	// CORSConfig, when set, makes the host answer CORS preflight requests
	// and add CORS headers to the function's responses.
	CORSConfig *CORSConfig `json:"corsConfig,omitempty"`
}

// KnownAuthType reports whether c.AuthType is one fnhost serves. The empty
// string is not known (the store defaults it to AuthFunction first).
func (c *HTTPTriggerConfig) KnownAuthType() bool {
	switch c.AuthType {
	case AuthFunction, AuthAnonymous, AuthJWT, AuthBasic:
		return true
	}
	return false
}

// TriggerAuthConfig is HTTPTriggerConfig.AuthConfig. The JWT fields apply
// to AuthJWT, Users to AuthBasic.
type TriggerAuthConfig struct {
	// JWKS is an inline JSON Web Key Set ({"keys": [...]}) with the RS256
	// and ES256 verification keys; JWKSURL names one to fetch instead
	// (http or https). At most one of them is set.
	JWKS    json.RawMessage `json:"jwks,omitempty"`
	JWKSURL string          `json:"jwksUrl,omitempty"`
	// Secret is the HS256 key, base64 (standard alphabet), 32 bytes or more.
	Secret string `json:"secret,omitempty"`
	// Algorithms are the accepted "alg" values: HS256, RS256, ES256. Empty
	// means those the configured keys can verify.
	Algorithms []string `json:"algorithms,omitempty"`
	// Issuer and Audience, when set, must match the iss claim and be one
	// of the aud claim's values.
	Issuer   string `json:"issuer,omitempty"`
	Audience string `json:"audience,omitempty"`
	// Leeway is the clock skew, in seconds, allowed on exp, nbf and iat.
	// Nil means 60.
	Leeway *int `json:"leeway,omitempty"`
	// TokenLookup lists where the token is looked for, in order:
	// "header:<name>" (a "Bearer " prefix is removed), "query:<name>",
	// "cookie:<name>". Empty means ["header:Authorization"].
	TokenLookup []string `json:"tokenLookup,omitempty"`
	// ClaimPassBy passes claims to the function as request headers.
	ClaimPassBy []ClaimPassBy `json:"claimPassBy,omitempty"`

	// Users are the accounts of AuthBasic.
	Users []BasicUser `json:"users,omitempty"`
}

// ClaimPassBy passes the JWT claim Claim to the function in the request
// header Header.
type ClaimPassBy struct {
	Claim  string `json:"claim"`
	Header string `json:"header"`
}

// BasicUser is an AuthBasic account. PasswordHash is "sha256:" followed by
// the lower-case hex SHA-256 of the password.
type BasicUser struct {
	Name         string `json:"name"`
	PasswordHash string `json:"passwordHash"`
}

// CORSConfig is HTTPTriggerConfig.CORSConfig, FC 3.0's corsConfig.
type CORSConfig struct {
	// AllowOrigins are origins ("https://app.example.com") or "*".
	AllowOrigins []string `json:"allowOrigins"`
	// AllowMethods answer preflights; empty means the trigger's methods.
	AllowMethods []string `json:"allowMethods,omitempty"`
	// AllowHeaders are the request headers a preflight may ask for ("*":
	// any).
	AllowHeaders []string `json:"allowHeaders,omitempty"`
	// ExposeHeaders are the response headers scripts may read.
	ExposeHeaders []string `json:"exposeHeaders,omitempty"`
	// AllowCredentials lets browsers send cookies and credentials; no
	// list may then contain "*".
	AllowCredentials bool `json:"allowCredentials,omitempty"`
	// MaxAge is how long, in seconds, browsers may cache a preflight
	// answer (0 to 86400; 0 sends no Access-Control-Max-Age).
	MaxAge int `json:"maxAge,omitempty"`
}

// Trigger routes requests to a function. Only HTTP triggers exist.
type Trigger struct {
	// ServiceName and FunctionName locate the trigger; they are in FC's
	// path, not its JSON, so they are not encoded.
	ServiceName      string            `json:"-"`
	FunctionName     string            `json:"-"`
	TriggerName      string            `json:"triggerName"`
	TriggerID        string            `json:"triggerID"`
	Description      string            `json:"description"`
	TriggerType      string            `json:"triggerType"` // TriggerTypeHTTP
	TriggerConfig    HTTPTriggerConfig `json:"triggerConfig"`
	CreatedTime      string            `json:"createdTime"`
	LastModifiedTime string            `json:"lastModifiedTime"`
}

// MaxNameLen is the longest service, function or trigger name.
const MaxNameLen = 128

// errNameRule states FC's naming rule; every ValidName error wraps it.
var errNameRule = errors.New("a name is 1 to 128 characters: letters, digits, '_' and '-', not starting with a digit or '-'")

// ValidName reports whether name follows FC's rule for service, function
// and trigger names: 1 to 128 characters, ASCII letters, digits, '_' and
// '-', and the first character is a letter or '_'. The error says the rule.
// A valid name never contains '/', which the store relies on for its keys.
func ValidName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return &nameError{name: name}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '_':
		case '0' <= c && c <= '9', c == '-':
			if i == 0 {
				return &nameError{name: name}
			}
		default:
			return &nameError{name: name}
		}
	}
	return nil
}

type nameError struct{ name string }

func (e *nameError) Error() string {
	// Quote a bounded prefix: a hostile name must not make a huge message
	// (each invalid byte quotes to four characters).
	n := e.name
	if len(n) > 64 {
		n = n[:64] + "…"
	}
	return "invalid name " + strconv.Quote(n) + ": " + errNameRule.Error()
}

func (e *nameError) Unwrap() error { return errNameRule }

// ListOptions are FC's list query parameters (prefix, startKey, nextToken,
// limit), shared by the store and the HTTP layer.
type ListOptions struct {
	// Prefix keeps only names that start with it.
	Prefix string
	// StartKey: names before it are skipped (the result starts at it,
	// inclusive).
	StartKey string
	// NextToken is the token a previous page returned; the page starts at
	// it. Combined with StartKey, the later of the two wins.
	NextToken string
	// Limit is the page size: 0 means the store's default (20); over its
	// maximum (100) is lowered to it; negative is an invalid argument.
	Limit int
}

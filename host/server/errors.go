package server

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/auth"
	"github.com/valyala/fasthttp"
)

// X-Fc-Error-Type values.
const (
	errTypeCommon    = "FcCommonError"
	errTypeUnhandled = "UnhandledInvocationError"
)

// FC error codes fnhost answers with, spelled as FC spells them. The
// resource codes (ServiceNotFound, FunctionAlreadyExists, …) are built from
// the store's resource type and the Kind's suffix.
const (
	CodeInvalidArgument     = "InvalidArgument"
	CodeEntityTooLarge      = "EntityTooLarge"
	CodePathNotSupported    = "PathNotSupported"
	CodeMethodNotAllowed    = "MethodNotAllowed"
	CodeAccessDenied        = "AccessDenied"
	CodeResourceExhausted   = "ResourceExhausted"
	CodeInternalServerError = "InternalServerError"
	CodeServiceUnavailable  = "ServiceUnavailable"
	CodeFunctionInvalid     = "FunctionInvalid" // the stored module no longer loads
)

// kindStatus is the one table from an error's Kind to the HTTP status,
// X-Fc-Error-Type and error code. Guest failures are FC's 502
// UnhandledInvocationError on triggers; InvokeFunction reports them as 200
// with the same error type (see writeInvokeError). Nothing else in the
// server decides a status for a host.Error.
var kindStatus = [...]struct {
	status  int
	errType string
	code    string // "" for resource kinds: built by errorCode
}{
	host.KindInternal:         {http.StatusInternalServerError, errTypeCommon, CodeInternalServerError},
	host.KindInvalidModule:    {http.StatusBadGateway, errTypeUnhandled, CodeFunctionInvalid},
	host.KindTrap:             {http.StatusBadGateway, errTypeUnhandled, errTypeUnhandled},
	host.KindTimeout:          {http.StatusBadGateway, errTypeUnhandled, errTypeUnhandled},
	host.KindMemoryLimit:      {http.StatusBadGateway, errTypeUnhandled, errTypeUnhandled},
	host.KindExit:             {http.StatusBadGateway, errTypeUnhandled, errTypeUnhandled},
	host.KindNoResponse:       {http.StatusBadGateway, errTypeUnhandled, errTypeUnhandled},
	host.KindResponseTooLarge: {http.StatusBadGateway, errTypeUnhandled, errTypeUnhandled},
	host.KindBadResponse:      {http.StatusBadGateway, errTypeUnhandled, errTypeUnhandled},
	host.KindTooManyInstances: {http.StatusTooManyRequests, errTypeCommon, CodeResourceExhausted},
	host.KindCanceled:         {http.StatusServiceUnavailable, errTypeCommon, CodeServiceUnavailable},
	host.KindClosed:           {http.StatusServiceUnavailable, errTypeCommon, CodeServiceUnavailable},
	host.KindNotFound:         {http.StatusNotFound, errTypeCommon, ""},
	host.KindConflict:         {http.StatusConflict, errTypeCommon, ""},
	host.KindInvalidArgument:  {http.StatusBadRequest, errTypeCommon, CodeInvalidArgument},
	host.KindNotEmpty:         {http.StatusConflict, errTypeCommon, ""},
	host.KindOverloaded:       {http.StatusServiceUnavailable, errTypeCommon, CodeServiceUnavailable},
}

// resourceTyped is implemented by the store's resource errors
// (*store.ResourceError), which name the resource a not-found, conflict or
// not-empty error is about.
type resourceTyped interface {
	error
	ResourceType() string // "Service", "Function", "Trigger", "Module"
}

// apiError is an error the server itself decided on, with its status and
// code (request limits, bad JSON, authentication).
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func newAPIError(status int, code, message string) *apiError {
	return &apiError{status: status, code: code, message: message}
}

// classify returns status, X-Fc-Error-Type, code and message for err.
func classify(err error) (status int, errType, code, message string) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status, errTypeCommon, ae.code, ae.message
	}
	var au *auth.Error
	if errors.As(err, &au) {
		return au.Status, errTypeCommon, au.Code, au.Message
	}
	kind := host.ErrorKind(err)
	if int(kind) >= len(kindStatus) {
		kind = host.KindInternal
	}
	row := kindStatus[kind]
	status, errType, code = row.status, row.errType, row.code
	message = err.Error()
	var he *host.Error
	if errors.As(err, &he) && he.Err != nil {
		message = he.Err.Error() // without the "op: kind:" prefix
	}
	if code == "" {
		code = resourceCode(err, kind)
	}
	if kind == host.KindInternal {
		// Never show internal details (paths, Badger messages) to clients;
		// the log has them under the same request id.
		message = "internal server error; the server log has details under this request id"
	}
	return status, errType, code, message
}

func resourceCode(err error, kind host.Kind) string {
	stem := "Resource"
	var rt resourceTyped
	if errors.As(err, &rt) {
		stem = rt.ResourceType()
	}
	switch kind {
	case host.KindNotFound:
		if stem == "AsyncConfig" {
			return "AsyncConfigNotExists" // FC's spelling for this one
		}
		return stem + "NotFound"
	case host.KindConflict:
		return stem + "AlreadyExists"
	case host.KindNotEmpty:
		return stem + "NotEmpty"
	}
	return CodeInternalServerError
}

// writeError answers with FC's error body {"ErrorCode","ErrorMessage"}.
// withType adds X-Fc-Error-Type (invocation paths).
func (s *Server) writeError(ctx *fasthttp.RequestCtx, err error, withType bool) {
	status, errType, code, message := classify(err)
	if status >= 500 {
		s.log.Error().Err(err).Str("request_id", requestID(ctx)).Bytes("path", ctx.Path()).Msg("request failed")
	}
	s.writeErrorBody(ctx, status, errType, code, message, withType)
}

func (s *Server) writeErrorBody(ctx *fasthttp.RequestCtx, status int, errType, code, message string, withType bool) {
	r := &ctx.Response
	r.ResetBody()
	r.SetStatusCode(status)
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		// Throttling and overload clear within about a second (the wait
		// bound of a full pool); say so, as clients back off on it.
		r.Header.Set("Retry-After", "1")
	}
	r.Header.SetContentType("application/json")
	if withType {
		r.Header.Set("X-Fc-Error-Type", errType)
	}
	var buf [512]byte
	b := append(buf[:0], `{"ErrorCode":`...)
	b = appendJSONString(b, code)
	b = append(b, `,"ErrorMessage":`...)
	b = appendJSONString(b, message)
	b = append(b, "}\n"...)
	r.SetBody(b)
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	q, err := json.Marshal(s)
	if err != nil { // cannot happen for a string
		return append(b, `""`...)
	}
	return append(b, q...)
}

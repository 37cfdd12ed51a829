package auth

import "net/http"

// FC error codes returned by this package, spelled as FC spells them.
const (
	// CodeMissingRequiredHeader (400): no Authorization, or no Date when
	// the request is not presigned.
	CodeMissingRequiredHeader = "MissingRequiredHeader"
	// CodeInvalidArgument (400): a presigned URL lacks a required query
	// parameter.
	CodeInvalidArgument = "InvalidArgument"
	// CodeAccessDenied (403): the Authorization header or the presigned
	// parameters are malformed, or a presigned URL has expired.
	CodeAccessDenied = "AccessDenied"
	// CodeInvalidAccessKeyID (403): the access key ID is unknown.
	CodeInvalidAccessKeyID = "InvalidAccessKeyID"
	// CodeSignatureNotMatch (403): the signature is not the one the server
	// computed.
	CodeSignatureNotMatch = "SignatureNotMatch"
	// CodeRequestTimeTooSkewed (403): the Date header is unparseable or 15
	// minutes or more away from the server's clock.
	CodeRequestTimeTooSkewed = "RequestTimeTooSkewed"
	// CodeRequestReplayed (403): a non-idempotent request was seen before
	// with the same signature (fnhost addition, not an FC code).
	CodeRequestReplayed = "RequestReplayed"
)

// Error is an authentication failure. Status is the HTTP status FC uses
// (400 or 403), Code the FC error code (one of the Code constants) and
// Message a human-readable explanation safe to return to the client: it
// never contains secrets or the server's string to sign.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return "auth: " + e.Code + ": " + e.Message }

// Is reports whether target is an *Error with the same Code, so callers can
// write errors.Is(err, auth.ErrSignatureNotMatch).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is; Verify returns errors that match exactly one of
// them. Do not modify them.
var (
	ErrMissingRequiredHeader = &Error{http.StatusBadRequest, CodeMissingRequiredHeader, "required header missing"}
	ErrInvalidArgument       = &Error{http.StatusBadRequest, CodeInvalidArgument, "invalid argument"}
	ErrAccessDenied          = &Error{http.StatusForbidden, CodeAccessDenied, "access denied"}
	ErrInvalidAccessKeyID    = &Error{http.StatusForbidden, CodeInvalidAccessKeyID, "the access key ID does not exist"}
	ErrSignatureNotMatch     = &Error{http.StatusForbidden, CodeSignatureNotMatch, "the request signature we calculated does not match the signature you provided; check your access key secret and signing method"}
	ErrRequestTimeTooSkewed  = &Error{http.StatusForbidden, CodeRequestTimeTooSkewed, "the difference between the request time and the server's time is too large"}
	ErrRequestReplayed       = &Error{http.StatusForbidden, CodeRequestReplayed, "the request was already received"}
)

func newError(base *Error, msg string) *Error {
	return &Error{Status: base.Status, Code: base.Code, Message: msg}
}

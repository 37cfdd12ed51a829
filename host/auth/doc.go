// Package auth implements Alibaba Cloud Function Compute's "FC" request
// signature (API 2016-08-15), so that requests signed by FC SDKs and tools
// are accepted by fnhost unchanged.
//
// A signed request carries
//
//	Authorization: FC <AccessKeyID>:<base64(HMAC-SHA256(secret, StringToSign))>
//
// where StringToSign is
//
//	METHOD \n Content-MD5 \n Content-Type \n DATE \n
//	CanonicalizedFCHeaders CanonicalizedResource
//
// (see [StringToSign] for the exact rules). A presigned URL carries the same
// signature in the query parameters x-fc-access-key-id, x-fc-expires,
// x-fc-signature and optionally x-fc-security-token, with x-fc-expires in
// place of the Date header.
//
// The package only computes and checks signatures. It returns *[Error]
// values carrying FC's error code and HTTP status; the HTTP layer
// (host/server) turns them into responses. It imports only the standard
// library.
//
// Why here and not in the server: signing is needed by the server (verify),
// the Go client and the CLI (sign) and tests; keeping it free of fasthttp
// lets all of them share one implementation checked against the fc-go-sdk
// test vectors.
package auth

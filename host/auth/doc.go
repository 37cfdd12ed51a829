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
//
// # Trigger protections (fnhost extensions)
//
// The package also checks the protections fnhost adds to HTTP triggers, in
// place of API Gateway's IP access control, JWT and basic-auth plug-ins. They
// are fields of the trigger's triggerConfig (host.HTTPTriggerConfig), with
// FC 3.0's names where FC 3.0 has them:
//
//	{
//	  "authType": "jwt" | "basic" | "function" | "anonymous",
//	  "authConfig": {                          // jwt or basic only
//	    "jwks": {"keys": [...]},               // inline JWK Set (RSA ≥ 2048 bits, EC P-256), or
//	    "jwksUrl": "https://idp.example/jwks.json", // fetched (http/https)
//	    "secret": "<base64, ≥ 32 bytes>",      // HS256 key
//	    "algorithms": ["RS256", "ES256", "HS256"], // default: those the keys can verify
//	    "issuer": "https://idp.example/",      // iss must equal it
//	    "audience": "my-api",                  // aud must contain it
//	    "leeway": 60,                          // seconds of skew on exp/nbf/iat, 0–3600
//	    "tokenLookup": ["header:Authorization", "query:token", "cookie:jwt"],
//	    "claimPassBy": [{"claim": "sub", "header": "X-User-Id"}],
//	    "users": [{"name": "ci", "passwordHash": "sha256:<64 hex>"}] // basic
//	  },
//	  "ipAllow": ["10.0.0.0/8", "2001:db8::/32", "127.0.0.1"],
//	  "ipDeny": ["10.1.0.0/16"],               // deny wins
//	  "corsConfig": {"allowOrigins": ["https://app.example"], "allowMethods": ["GET"],
//	    "allowHeaders": ["content-type"], "exposeHeaders": ["x-total"],
//	    "allowCredentials": true, "maxAge": 600}
//	}
//
// authConfig and corsConfig (and jwks) may also be strings holding the
// JSON object, as FC 3.0 sends them. The trigger checks run in this order:
// CORS preflight (answered 204 by the host, without invoking the function
// or asking for credentials; 403 AccessDenied when not allowed), IP lists
// (403 AccessDenied "client IP x is not allowed"), methods, then the auth
// type.
//
// JWT ([JWTVerifier]): compact JWS only, at most [MaxTokenBytes]; alg must
// be listed (never "none"); RS256/ES256 keys are chosen by kid (a token
// without kid needs exactly one fitting key); HMACs are compared with
// hmac.Equal; exp, nbf and iat are checked with the leeway, then iss and
// aud. Headers with "crit" are refused, and jku/x5u are never followed.
// A failure is 401 InvalidToken with WWW-Authenticate: Bearer. A jwksUrl
// set is fetched with a timeout and a size bound, cached for a TTL,
// refreshed (rate-limited) on an unknown kid, and served stale for a
// bounded time while the URL fails ([JWKSCache]); when no set can be had,
// the trigger answers 503. claimPassBy headers are always removed from
// the client's request and set from the token's claims (strings as is,
// other values as JSON), so a client cannot forge them.
//
// Basic ([BasicAuth]): passwordHash is "sha256:" + hex SHA-256 of the
// password ([HashPassword]; `printf %s "$pw" | sha256sum`), compared in
// constant time. A failure is 401 InvalidCredentials with
// WWW-Authenticate: Basic realm="fnhost". Use it over TLS only, and with
// long random passwords: an unsalted hash is fast to brute-force if the
// trigger config leaks.
//
// IP lists ([IPFilter], [ClientIP]): the client is the connection's peer,
// or behind one of the server's trusted proxies the right-most
// X-Forwarded-For address that is not a trusted proxy. The function's
// client IP is that address too.
//
// CORS ([CORS]): actual requests from an allowed origin get
// Access-Control-Allow-Origin, -Allow-Credentials and -Expose-Headers on
// every answer (the host owns these headers; the function's are
// dropped). "*" never goes with allowCredentials.
package auth

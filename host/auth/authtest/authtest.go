// Package authtest makes JSON Web Tokens and key sets for tests of JWT
// triggers: keys, JWKS documents and signed tokens (HS256, RS256, ES256, and
// malformed ones). It is for tests only.
package authtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"sync"
)

// Keys is a set of test signing keys.
type Keys struct {
	RSA    *rsa.PrivateKey
	EC     *ecdsa.PrivateKey
	Secret []byte // 32 bytes
}

var (
	once sync.Once
	keys *Keys
)

// Shared returns keys generated once per test binary (RSA generation is
// slow). Do not modify them.
func Shared() *Keys {
	once.Do(func() { keys = New() })
	return keys
}

// New generates a 2048-bit RSA key, a P-256 key and a 32-byte secret.
func New() *Keys {
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	e, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	s := make([]byte, 32)
	rand.Read(s)
	return &Keys{RSA: r, EC: e, Secret: s}
}

// SecretBase64 is Secret as authConfig.secret wants it.
func (k *Keys) SecretBase64() string { return base64.StdEncoding.EncodeToString(k.Secret) }

var b64 = base64.RawURLEncoding

// JWK returns the public JWK of an *rsa.PublicKey or *ecdsa.PublicKey
// (P-256) with the given kid ("" for none).
func JWK(pub crypto.PublicKey, kid string) map[string]any {
	m := map[string]any{}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", b64.EncodeToString(p.N.Bytes()), b64.EncodeToString(big.NewInt(int64(p.E)).Bytes())
	case *ecdsa.PublicKey:
		b, err := p.Bytes()
		if err != nil {
			panic(err)
		}
		m["kty"], m["crv"], m["x"], m["y"] = "EC", "P-256", b64.EncodeToString(b[1:33]), b64.EncodeToString(b[33:])
	default:
		panic("authtest: unsupported key type")
	}
	if kid != "" {
		m["kid"] = kid
	}
	return m
}

// JWKS returns {"keys": [jwks...]} as JSON.
func JWKS(jwks ...map[string]any) []byte {
	if jwks == nil {
		jwks = []map[string]any{}
	}
	b, err := json.Marshal(map[string]any{"keys": jwks})
	if err != nil {
		panic(err)
	}
	return b
}

// Token signs claims as a compact JWS. alg is HS256 (key []byte), RS256
// (key *rsa.PrivateKey) or ES256 (key *ecdsa.PrivateKey); kid goes into
// the header when not empty.
func Token(alg string, key any, kid string, claims map[string]any) string {
	h := map[string]any{"alg": alg, "typ": "JWT"}
	if kid != "" {
		h["kid"] = kid
	}
	return TokenWithHeader(h, key, claims)
}

// TokenWithHeader is Token with a header of the caller's choosing; the key
// type picks the algorithm actually used, whatever the header's alg says
// (nil key: an empty signature, as for alg "none").
func TokenWithHeader(header map[string]any, key any, claims map[string]any) string {
	hb, err := json.Marshal(header)
	if err != nil {
		panic(err)
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	input := b64.EncodeToString(hb) + "." + b64.EncodeToString(cb)
	return input + "." + b64.EncodeToString(Sign(key, input))
}

// Sign signs input with key: HMAC-SHA256 for []byte, RSASSA-PKCS1-v1_5
// SHA-256 for *rsa.PrivateKey, ECDSA P-256 (r||s) for *ecdsa.PrivateKey,
// nothing for nil.
func Sign(key any, input string) []byte {
	d := sha256.Sum256([]byte(input))
	switch k := key.(type) {
	case nil:
		return nil
	case []byte:
		m := hmac.New(sha256.New, k)
		m.Write([]byte(input))
		return m.Sum(nil)
	case *rsa.PrivateKey:
		s, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, d[:])
		if err != nil {
			panic(err)
		}
		return s
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, d[:])
		if err != nil {
			panic(err)
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out
	}
	panic("authtest: unsupported key type")
}

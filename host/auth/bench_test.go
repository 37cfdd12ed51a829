package auth

import (
	"testing"
)

func BenchmarkVerify(b *testing.B) {
	b.Run("header", func(b *testing.B) {
		r := signedRequest(testNow)
		v := testVerifier(testNow)
		b.ReportAllocs()
		for b.Loop() {
			if err := v.Verify(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("trigger", func(b *testing.B) {
		r := withHeader(vectorBRequest(), "Authorization", "FC akID:"+vectorBSignature)
		v := testVerifier(testNow.AddDate(-10, 0, 0))
		b.ReportAllocs()
		for b.Loop() {
			if err := v.Verify(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkStringToSign(b *testing.B) {
	r := vectorBRequest()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendStringToSign(buf[:0], r)
	}
}

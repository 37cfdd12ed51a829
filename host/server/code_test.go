package server

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// lyingZip returns a zip whose one entry, name, inflates to n zero bytes
// after "\0asm" while its central directory claims claimed bytes.
func lyingZip(t testing.TB, name string, n int, claimed uint32) []byte {
	t.Helper()
	z := zipOfEntries(t, zipEntry{name, append([]byte(wasmMagic), make([]byte, n)...)})
	i := bytes.Index(z, []byte("PK\x01\x02"))
	if i < 0 {
		t.Fatal("no central directory")
	}
	binary.LittleEndian.PutUint32(z[i+24:], claimed) // uncompressed size
	return z
}

func storedZip(t testing.TB, name string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	zw.Close()
	return buf.Bytes()
}

func TestDecodeCode(t *testing.T) {
	mod := append([]byte(wasmMagic+"\x01\x00\x00\x00"), bytes.Repeat([]byte{0}, 100)...)
	other := append([]byte(wasmMagic+"\x01\x00\x00\x00"), bytes.Repeat([]byte{1}, 50)...)
	const limit = 1000
	flipped := storedZip(t, "m.wasm", mod)
	flipped[bytes.Index(flipped, mod)+50] ^= 0xff // CRC no longer matches

	type want struct {
		code string // "" for success
		msg  string
		out  []byte
	}
	enc := base64.StdEncoding.EncodeToString
	for _, tc := range []struct {
		name string
		in   string
		want want
	}{
		{"raw", enc(mod), want{out: mod}},
		{"raw unpadded", base64.RawStdEncoding.EncodeToString(mod), want{out: mod}},
		{"raw wrapped", wrap(enc(mod), 76), want{out: mod}},
		{"raw at limit", enc(append(mod, make([]byte, limit-len(mod))...)), want{out: append(mod, make([]byte, limit-len(mod))...)}},
		{"raw over limit", enc(append(mod, make([]byte, limit)...)), want{code: CodeEntityTooLarge, msg: "1000"}},
		{"zip", enc(zipOfEntries(t, zipEntry{"m.wasm", mod})), want{out: mod}},
		{"stored zip", enc(storedZip(t, "m.wasm", mod)), want{out: mod}},
		{"function name wins", enc(zipOfEntries(t, zipEntry{"main.wasm", other}, zipEntry{"a/fn.wasm", mod})), want{out: mod}},
		{"main.wasm", enc(zipOfEntries(t, zipEntry{"main.wasm", mod}, zipEntry{"x.wasm", other})), want{out: mod}},
		{"ambiguous", enc(zipOfEntries(t, zipEntry{"a.wasm", mod}, zipEntry{"b.wasm", other})), want{code: CodeInvalidArgument, msg: `"a.wasm", "b.wasm"`}},
		{"no wasm", enc(zipOfEntries(t, zipEntry{"a.txt", mod})), want{code: CodeInvalidArgument, msg: "zip holds no .wasm file"}},
		{"empty zip", enc(zipOfEntries(t)), want{code: CodeInvalidArgument, msg: "zip holds no .wasm file"}},
		{"zip entry over limit", enc(zipOfEntries(t, zipEntry{"m.wasm", make([]byte, limit+1)})), want{code: CodeEntityTooLarge, msg: "1000"}},
		{"size understated", enc(lyingZip(t, "m.wasm", 50*limit, 200)), want{code: CodeInvalidArgument, msg: "m.wasm"}},
		{"size overstated", enc(lyingZip(t, "m.wasm", 100, 900)), want{code: CodeInvalidArgument, msg: "m.wasm"}},
		{"crc mismatch", enc(flipped), want{code: CodeInvalidArgument, msg: "checksum"}},
		{"archive over limit", enc(append(zipOfEntries(t, zipEntry{"m.wasm", mod}), make([]byte, maxArchiveBytes(limit))...)), want{code: CodeEntityTooLarge}},
		{"not base64", "%%%", want{code: CodeInvalidArgument, msg: "base64"}},
		{"empty", "", want{code: CodeInvalidArgument, msg: "empty"}},
		{"text", enc([]byte("hello")), want{code: CodeInvalidArgument, msg: "neither"}},
		{"wasm text format", enc([]byte("(module)")), want{code: CodeInvalidArgument, msg: "neither"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := decodeCode(tc.in, "fn", limit)
			if tc.want.code == "" {
				if err != nil || !bytes.Equal(out, tc.want.out) {
					t.Fatalf("got %d bytes, %v; want %d bytes", len(out), err, len(tc.want.out))
				}
				return
			}
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != 400 || ae.code != tc.want.code || !strings.Contains(ae.message, tc.want.msg) {
				t.Fatalf("got %v (%d bytes), want 400 %s containing %q", err, len(out), tc.want.code, tc.want.msg)
			}
		})
	}
}

func TestDecodeCodeHostileZips(t *testing.T) {
	var entries []zipEntry
	for i := range maxZipEntries + 1 {
		entries = append(entries, zipEntry{"d/" + strconv.Itoa(i), nil})
	}
	many := zipOfEntries(t, append(entries, zipEntry{"m.wasm", []byte(wasmMagic)})...)
	for _, tc := range []struct {
		name string
		zip  []byte
		msg  string
	}{
		{"too many entries", many, "entries"},
		// 100 bytes deflate to a few; no deflate stream inflates to 512 KiB.
		{"impossible ratio", lyingZip(t, "m.wasm", 100, 1<<19), "inconsistent sizes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeCode(base64.StdEncoding.EncodeToString(tc.zip), "fn", 1<<20)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err %v, want one containing %q", err, tc.msg)
			}
		})
	}
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\r\n")
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

// FuzzDecodeCode checks that the code decoder never panics, never returns
// more than the limit, returns only modules, and fails only with a 400.
func FuzzDecodeCode(f *testing.F) {
	mod := []byte(wasmMagic + "\x01\x00\x00\x00")
	for _, seed := range [][]byte{
		mod,
		zipOfEntries(f, zipEntry{"m.wasm", mod}),
		zipOfEntries(f, zipEntry{"a.wasm", mod}, zipEntry{"main.wasm", mod}),
		zipOfEntries(f, zipEntry{"__MACOSX/._m.wasm", mod}, zipEntry{"dir/", nil}, zipEntry{"fn.wasm", mod}),
		zipOfEntries(f, zipEntry{"m.wasm", make([]byte, 1<<14)}),
		storedZip(f, "m.wasm", mod),
		lyingZip(f, "m.wasm", 1<<14, 10),
		[]byte("PK\x05\x06" + strings.Repeat("\x00", 18)),
		[]byte("PK\x03\x04garbage"),
		[]byte("hello"),
	} {
		f.Add(seed, "fn", true)
		f.Add(seed, "main", false)
	}
	const limit = 4096
	f.Fuzz(func(t *testing.T, data []byte, fn string, encode bool) {
		in := string(data)
		if encode {
			in = base64.StdEncoding.EncodeToString(data)
		}
		out, err := decodeCode(in, fn, limit)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != 400 || (ae.code != CodeInvalidArgument && ae.code != CodeEntityTooLarge) {
				t.Fatalf("error %v is not a 400", err)
			}
			if out != nil {
				t.Fatalf("%d bytes returned with an error", len(out))
			}
			return
		}
		if len(out) > limit {
			t.Fatalf("%d bytes, over the limit %d", len(out), limit)
		}
		if !bytes.HasPrefix(out, []byte(wasmMagic)) {
			t.Fatalf("result is not a module: %q", out[:min(len(out), 16)])
		}
	})
}

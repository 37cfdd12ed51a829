package prevalidate

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fnhost/fnhost/host/internal/instrument"
	pt "github.com/fnhost/fnhost/host/internal/prevalidate/prevalidatetest"
)

// BenchmarkCheck measures Check on real guests (to compare with their
// compile: nethttp-go takes about 1.7 s in wazero) and on the inputs that
// make Check read the most: 32 MiB of code with the violation at the end.
func BenchmarkCheck(b *testing.B) {
	inputs := []struct {
		name string
		wasm func() []byte
	}{
		{"nethttp-go", func() []byte { return readGuest(b, "nethttp-go") }},
		{"hello-go", func() []byte { return readGuest(b, "hello-go") }},
		{"32MiB-nops", func() []byte { return maxSize(bytes.Repeat([]byte{0x01}, 1)) }},
		{"32MiB-const-drop", func() []byte { return maxSize([]byte{0x41, 0x00, 0x1a}) }},
		{"32MiB-const-5byte", func() []byte { return maxSize([]byte{0x41, 0x80, 0x80, 0x80, 0x80, 0x01, 0x1a}) }},
		{"32MiB-const", func() []byte { return maxSize([]byte{0x41, 0x00}) }},
		{"32MiB-call", func() []byte { return maxSize([]byte{0x10, 0x00}) }},
		{"32MiB-locals-groups", func() []byte {
			// 256 bodies of 65k empty locals groups (0 x i32)
			g := pt.U32(nil, (128<<10-64)/2)
			g = append(g, bytes.Repeat([]byte{0x00, 0x7f}, (128<<10-64)/2)...)
			body := pt.U32(nil, uint64(len(g)+1))
			body = append(append(body, g...), 0x0b)
			return pt.Module(256, [][]byte{body}, 1)
		}},
		{"10k-types-1000-params", func() []byte {
			t := append(pt.U32([]byte{0x60}, 1000), bytes.Repeat([]byte{0x7f}, 1000)...)
			t = append(pt.U32(t, 1000), bytes.Repeat([]byte{0x7e}, 1000)...)
			ts := pt.U32(nil, 10_000)
			ts = append(ts, bytes.Repeat(t, 10_000)...)
			return pt.Section(append([]byte(nil), pt.Preamble...), pt.SecType, ts)
		}},
		{"32MiB-custom-sections", func() []byte {
			return append(append([]byte(nil), pt.Preamble...), bytes.Repeat([]byte{0x00, 0x01, 0x00}, (32<<20-64)/3)...)
		}},
		{"32MiB-const-expr", func() []byte {
			// one global whose initializer is 32 MiB of i32.const 0; i32.add
			e := append([]byte{0x7f, 0x00, 0x41, 0x00}, bytes.Repeat([]byte{0x41, 0x00, 0x6a}, (32<<20-64)/3)...)
			return pt.Section(append([]byte(nil), pt.Preamble...), pt.SecGlobal, pt.Vec(1, append(e, 0x0b)))
		}},
		{"32MiB-load", func() []byte { return maxSize([]byte{0x41, 0x00, 0x28, 0x02, 0x00, 0x1a}) }},
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			wasm := in.wasm()
			b.SetBytes(int64(len(wasm)))
			b.ReportAllocs()
			for b.Loop() {
				if err := Check(wasm, Limits{}); err != nil && !strings.HasPrefix(in.name, "32MiB") {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkInstrument is the rewrite Check runs before, for comparison.
func BenchmarkInstrument(b *testing.B) {
	wasm := readGuest(b, "nethttp-go")
	b.SetBytes(int64(len(wasm)))
	for b.Loop() {
		if _, err := instrument.Instrument(wasm); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBombs measures the rejection of each bomb.
func BenchmarkBombs(b *testing.B) {
	for _, bomb := range pt.Bombs() {
		b.Run(bomb.Name, func(b *testing.B) {
			wasm := bomb.Build()
			b.ReportAllocs()
			for b.Loop() {
				if Check(wasm, Limits{}) == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}

func readGuest(tb testing.TB, name string) []byte {
	wasm, err := os.ReadFile(filepath.Join(distDir, name+".wasm"))
	if err != nil {
		tb.Skipf("guest %s not built: %v", name, err)
	}
	return wasm
}

// maxSize returns a valid module just under 32 MiB: 256 functions of
// nearly 128 KiB, each unit repeated.
func maxSize(unit []byte) []byte {
	n := (128<<10 - 64) / len(unit)
	body := pt.Body(nil, append(bytes.Repeat(unit, n), 0x0b))
	return pt.Module(256, [][]byte{body}, 1)
}

package prevalidate

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/fnhost/fnhost/host/internal/instrument"
	pt "github.com/fnhost/fnhost/host/internal/prevalidate/prevalidatetest"
)

// allocated reads the bytes allocated by the process so far. Unlike
// runtime.ReadMemStats it does not stop the world.
func allocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// FuzzCheck: Check never panics, allocates a bounded amount whatever the
// input declares, returns one-line errors of its two types, and (limits
// aside) refuses nothing that wazero compiles. The seed corpus in
// testdata/fuzz/FuzzCheck holds the small bombs, the small guests and
// instrument's fixtures (regenerate with FNHOST_WRITE_CORPUS=1 go test
// -run TestWriteCorpus).
func FuzzCheck(f *testing.F) {
	f.Fuzz(func(t *testing.T, wasm []byte) {
		before := allocated()
		err := Check(wasm, Limits{})
		errLifted := Check(wasm, lifted)
		// Check allocates only its error (well under 1 KiB); the
		// allowance is generous for other goroutines of the fuzzer, and
		// tiny next to what a declared count of 2^32 would cost.
		if got := allocated() - before; got > 1<<20 {
			t.Fatalf("Check allocated %d bytes for a %d-byte input", got, len(wasm))
		}
		for _, e := range []error{err, errLifted} {
			if e == nil {
				continue
			}
			if strings.Contains(e.Error(), "\n") {
				t.Errorf("message spans lines: %q", e)
			}
			switch e.(type) {
			case *LimitError, *FormatError:
			default:
				t.Errorf("error of type %T: %v", e, e)
			}
		}
		if err == nil && errLifted != nil {
			t.Errorf("accepted within the limits, refused without them: %v", errLifted)
		}
		// Check must not refuse, for its format, what wazero accepts. wazero
		// is only asked when package instrument accepts the input (so its
		// counts are sane: the runtime runs wazero after instrument) and
		// there is no name section (which instrument does not read and
		// which can kill wazero).
		if errLifted == nil || inNameSection(errLifted) || bytes.Contains(wasm, []byte("name")) {
			return
		}
		if _, ierr := instrument.Instrument(wasm); ierr != nil {
			return
		}
		if err := wazeroCompile(wasm); err == nil {
			t.Errorf("wazero compiles the input, Check without limits refuses it: %v", errLifted)
		}
	})
}

var (
	wazeroOnce sync.Once
	wazeroRT   wazero.Runtime
)

// wazeroCompile compiles wasm as the runtime would (without the rewrite).
func wazeroCompile(wasm []byte) error {
	wazeroOnce.Do(func() {
		wazeroRT = wazero.NewRuntimeWithConfig(context.Background(), wazero.NewRuntimeConfig().
			WithCoreFeatures(api.CoreFeaturesV2).WithMemoryLimitPages(65536))
	})
	cm, err := wazeroRT.CompileModule(context.Background(), wasm)
	if err == nil {
		_ = cm.Close(context.Background())
	}
	return err
}

// inNameSection reports a refusal of the name section, which Check reads
// and package instrument copies unread.
func inNameSection(err error) bool {
	var fe *FormatError
	return errors.As(err, &fe) && fe.Where == "name section"
}

// TestWriteCorpus regenerates the committed seed corpus when
// FNHOST_WRITE_CORPUS is set.
func TestWriteCorpus(t *testing.T) {
	if os.Getenv("FNHOST_WRITE_CORPUS") == "" {
		t.Skip("set FNHOST_WRITE_CORPUS=1 to regenerate testdata/fuzz/FuzzCheck")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzCheck")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) {
		name = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
				return r
			}
			return '-'
		}, strings.ToLower(name))
		data := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, bomb := range pt.Bombs() {
		if b := bomb.Build(); len(b) < 8<<10 {
			write("bomb-"+bomb.Name, b)
		}
	}
	for name, wasm := range guests(t) {
		if len(wasm) < 16<<10 {
			write("guest-"+name, wasm)
		}
	}
	files, _ := filepath.Glob("../instrument/testdata/*.wasm")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		write("instrument-"+strings.TrimSuffix(filepath.Base(f), ".wasm"), b)
	}
}

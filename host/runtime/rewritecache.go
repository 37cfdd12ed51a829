package runtime

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"

	"github.com/fnhost/fnhost/host/internal/instrument"
)

// rewriteCache keeps instrumented modules beside wazero's compilation cache,
// keyed by the checksum of the uploaded bytes, so a restart skips the
// rewrite (≈ 15 ms for a 2 MB Go guest in a fresh process) as wazero's cache
// skips the compile. The directory is as trusted as the machine code next to
// it. A damaged entry fails to compile and is replaced.
type rewriteCache struct {
	dir string // empty: no cache
}

// rewriteMagic starts every entry; the byte after it holds the flags.
var rewriteMagic = []byte("fnhost-rewrite\x00")

const rewriteHasStart = 1

func newRewriteCache(cacheDir string) rewriteCache {
	if cacheDir == "" {
		return rewriteCache{}
	}
	return rewriteCache{dir: filepath.Join(cacheDir, "fnhost-rewrite-v"+strconv.Itoa(instrument.Version))}
}

func (c rewriteCache) path(sum [32]byte) string {
	return filepath.Join(c.dir, hex.EncodeToString(sum[:])+".wasm")
}

// load returns the cached rewrite of the module with checksum sum.
func (c rewriteCache) load(sum [32]byte) (*instrument.Result, bool) {
	if c.dir == "" {
		return nil, false
	}
	b, err := os.ReadFile(c.path(sum))
	if err != nil || len(b) <= len(rewriteMagic) || !bytes.HasPrefix(b, rewriteMagic) {
		return nil, false
	}
	flags := b[len(rewriteMagic)]
	return &instrument.Result{Wasm: b[len(rewriteMagic)+1:], HasStart: flags&rewriteHasStart != 0}, true
}

// store writes the entry atomically (a reader sees all of it or none).
func (c rewriteCache) store(sum [32]byte, res *instrument.Result) error {
	if c.dir == "" {
		return nil
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	var flags byte
	if res.HasStart {
		flags |= rewriteHasStart
	}
	tmp, err := os.CreateTemp(c.dir, "tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	buf := make([]byte, 0, len(rewriteMagic)+1+len(res.Wasm))
	buf = append(append(append(buf, rewriteMagic...), flags), res.Wasm...)
	if _, err := tmp.Write(buf); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), c.path(sum))
}

// remove drops a damaged entry.
func (c rewriteCache) remove(sum [32]byte) {
	if c.dir != "" {
		_ = os.Remove(c.path(sum))
	}
}

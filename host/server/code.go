package server

// Decoding of FC's code.zipFile into a .wasm module.

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"path"
	"strconv"
	"strings"
)

// wasmMagic starts every binary .wasm module.
const wasmMagic = "\x00asm"

// maxZipEntries bounds the entries of an uploaded zip: archive/zip keeps a
// record per entry in memory, so the count is checked before the archive
// is parsed.
const maxZipEntries = 4096

// maxArchiveBytes is the largest decoded code.zipFile for a module limit:
// a zip may hold other files beside the module (sources, a README), so it
// may be larger than the module, but not without bound.
func maxArchiveBytes(limit int) int { return 2*limit + 64<<10 }

// decodeCode returns the .wasm module carried by an FC code.zipFile value:
// the base64 (standard alphabet, padding optional, line breaks ignored) of
// either a module (starting with "\0asm") or a zip archive holding one.
// From a zip it takes the only *.wasm entry, ignoring directories and
// macOS junk (__MACOSX/, ._*); with several it takes the one named
// "<fn>.wasm", else "main.wasm", and refuses otherwise. The module is at
// most limit bytes, and no zip entry is inflated past that limit, whatever
// its header claims. Errors are 400s (EntityTooLarge for sizes) whose
// message says what to send instead. The result is a fresh slice the
// caller owns.
func decodeCode(zipFile, fn string, limit int) ([]byte, error) {
	maxArchive := maxArchiveBytes(limit)
	if zipFile == "" {
		return nil, badRequest("code.zipFile is empty; send the base64 of a .wasm module or of a zip holding one")
	}
	// Line breaks may double a wrapped encoding's length at the very most.
	if len(zipFile) > 2*base64.StdEncoding.EncodedLen(maxArchive) {
		return nil, tooLarge("code.zipFile is %d base64 characters, far over the module limit of %d bytes", len(zipFile), limit)
	}
	data, err := decodeBase64(zipFile)
	if err != nil {
		return nil, badRequest("code.zipFile is not valid base64: %v", err)
	}
	switch {
	case len(data) == 0:
		return nil, badRequest("code.zipFile is empty; send the base64 of a .wasm module or of a zip holding one")
	case bytes.HasPrefix(data, []byte(wasmMagic)):
		if len(data) > limit {
			return nil, tooLarge("module is %d bytes, over the limit of %d bytes", len(data), limit)
		}
		return data, nil
	case len(data) > maxArchive:
		return nil, tooLarge("code.zipFile is %d bytes decoded, over the limit of %d bytes for a zip (the module limit is %d bytes)",
			len(data), maxArchive, limit)
	case bytes.HasPrefix(data, []byte("PK\x03\x04")), bytes.HasPrefix(data, []byte("PK\x05\x06")):
		return moduleFromZip(data, fn, limit)
	}
	return nil, badRequest("code.zipFile is neither a .wasm module (starting with \\0asm) nor a zip archive")
}

func tooLarge(format string, args ...any) error {
	e := badRequest(format, args...).(*apiError)
	e.code = CodeEntityTooLarge
	return e
}

// decodeBase64 decodes standard base64 with or without padding; '\r' and
// '\n' are ignored, as encoding/base64 does.
func decodeBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil && !strings.Contains(s, "=") {
		if b2, err2 := base64.RawStdEncoding.DecodeString(s); err2 == nil {
			return b2, nil
		}
	}
	return b, err
}

func moduleFromZip(data []byte, fn string, limit int) ([]byte, error) {
	// Every central-directory record archive/zip parses starts with this
	// signature, so the count is an upper bound of its entries.
	if n := bytes.Count(data, []byte("PK\x01\x02")); n > maxZipEntries {
		return nil, badRequest("zip has %d entries, over the limit of %d; zip only the .wasm module", n, maxZipEntries)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // names are not used as paths
		return nil, badRequest("code.zipFile is not a valid zip archive: %v", err)
	}
	var cands []*zip.File
	for _, f := range zr.File {
		if zipJunk(f.Name) || !strings.HasSuffix(strings.ToLower(f.Name), ".wasm") {
			continue
		}
		cands = append(cands, f)
	}
	var f *zip.File
	switch len(cands) {
	case 0:
		return nil, badRequest("zip holds no .wasm file; zip the module (or send it unzipped)")
	case 1:
		f = cands[0]
	default:
		f = pickEntry(cands, fn+".wasm")
		if f == nil {
			f = pickEntry(cands, "main.wasm")
		}
		if f == nil {
			return nil, badRequest("zip holds %d .wasm files (%s); keep one, or name the one to run %s or \"main.wasm\"",
				len(cands), entryNames(cands), strconv.Quote(fn+".wasm"))
		}
	}
	return readEntry(f, len(data), limit)
}

// zipJunk reports entries that are never the module: directories and the
// metadata macOS adds to archives it creates.
func zipJunk(name string) bool {
	if strings.HasSuffix(name, "/") || strings.HasPrefix(path.Base(name), "._") {
		return true
	}
	for el := range strings.SplitSeq(name, "/") {
		if el == "__MACOSX" {
			return true
		}
	}
	return false
}

// pickEntry returns the one candidate whose base name is base, or nil when
// none or several are.
func pickEntry(cands []*zip.File, base string) *zip.File {
	var found *zip.File
	for _, f := range cands {
		if path.Base(f.Name) == base {
			if found != nil {
				return nil
			}
			found = f
		}
	}
	return found
}

func entryNames(cands []*zip.File) string {
	const show = 10
	names := make([]string, 0, min(len(cands), show))
	for _, f := range cands[:min(len(cands), show)] {
		names = append(names, quoteBounded(f.Name))
	}
	s := strings.Join(names, ", ")
	if len(cands) > show {
		s += ", …"
	}
	return s
}

// deflateMaxRatio is above DEFLATE's largest possible expansion (≈1032:1);
// an entry claiming more is corrupt or hostile.
const deflateMaxRatio = 1100

// readEntry reads a zip entry that must be a module of at most limit
// bytes. The sizes in its header are checked first (rejecting zip bombs
// that admit their size before any inflating), then exactly the size the
// header states is read, and more data than that is refused (catching
// those that do not): it never holds more than limit bytes.
func readEntry(f *zip.File, archiveLen, limit int) ([]byte, error) {
	name := quoteBounded(f.Name)
	switch {
	case f.Flags&0x1 != 0:
		return nil, badRequest("zip entry %s is encrypted; encrypted zips are not supported", name)
	case f.Method != zip.Store && f.Method != zip.Deflate:
		return nil, badRequest("zip entry %s uses compression method %d; use deflate or store", name, f.Method)
	case f.UncompressedSize64 > uint64(limit):
		return nil, tooLarge("zip entry %s is %d bytes uncompressed, over the module limit of %d bytes", name, f.UncompressedSize64, limit)
	case f.CompressedSize64 > uint64(archiveLen),
		f.Method == zip.Store && f.CompressedSize64 != f.UncompressedSize64,
		f.UncompressedSize64 > f.CompressedSize64*deflateMaxRatio+1024:
		return nil, badRequest("zip entry %s has inconsistent sizes (%d bytes compressed, %d uncompressed)",
			name, f.CompressedSize64, f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, badRequest("cannot read zip entry %s: %v", name, err)
	}
	defer rc.Close()
	buf := make([]byte, f.UncompressedSize64)
	if _, err := io.ReadFull(rc, buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, badRequest("zip entry %s is shorter than the %d bytes its header says", name, f.UncompressedSize64)
		}
		return nil, badRequest("cannot read zip entry %s: %v", name, err)
	}
	// Read on to the end: archive/zip checks the CRC there, and refuses
	// data past the size in the header.
	var probe [1]byte
	switch n, err := io.ReadFull(rc, probe[:]); {
	case n > 0:
		return nil, badRequest("zip entry %s is longer than the %d bytes its header says", name, f.UncompressedSize64)
	case !errors.Is(err, io.EOF):
		return nil, badRequest("cannot read zip entry %s: %v", name, err)
	}
	if !bytes.HasPrefix(buf, []byte(wasmMagic)) {
		return nil, badRequest("zip entry %s is not a .wasm module (it does not start with \\0asm)", name)
	}
	return buf, nil
}

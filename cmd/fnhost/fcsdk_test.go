package main

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestFCNodeSDK drives fnhost with Function Compute's official Node.js SDK
// (@alicloud/fc2, pinned in testdata/fc2-node/package-lock.json), unchanged:
// services, a function from zip code, an HTTP trigger, InvokeFunction,
// signed and unsigned trigger calls, errors, cleanup (compat.js lists the
// steps). `make test` installs the SDK with `npm ci` first.
func TestFCNodeSDK(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found: the FC Node.js SDK test needs Node.js ≥ 18 and `make test` (which runs npm ci)")
	}
	dir := filepath.Join("testdata", "fc2-node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@alicloud", "fc2")); err != nil {
		t.Skip("the FC Node.js SDK is not installed: run `make test` (it runs npm ci in " + dir + ")")
	}

	wasm, err := os.ReadFile(guestPath("echo-c"))
	if err != nil {
		t.Fatalf("run `make guests`: %v", err)
	}
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, err := zw.Create("echo.wasm")
	if err != nil {
		t.Fatal(err)
	}
	w.Write(wasm)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zipPath := filepath.Join(t.TempDir(), "echo.zip")
	if err := os.WriteFile(zipPath, zbuf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	const keyID, secret, account = "sdk-test-key", "sdk-test-secret-0123456789", "1234567890"
	p := startFnhost(t, t.TempDir(), "FNHOST_ACCESS_KEY_ID="+keyID, "FNHOST_ACCESS_KEY_SECRET="+secret, "FNHOST_ACCOUNT_ID="+account)
	cmd := exec.Command(node, "compat.js")
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(),
		"FC_ENDPOINT=http://"+p.Addr,
		"FC_ACCOUNT_ID="+account,
		"FC_ACCESS_KEY_ID="+keyID,
		"FC_ACCESS_KEY_SECRET="+secret,
		"FC_ZIP_FILE="+zipPath,
		"FC_EXPECT=echo",
		"FC_TIMEOUT_MS=30000",
		"FC_DEADLINE_MS=180000",
	)
	out, err := cmd.CombinedOutput()
	t.Logf("compat.js:\n%s", out)
	if err != nil {
		t.Fatalf("the FC Node.js SDK failed against fnhost: %v (server log:\n%s)", err, p.stderr)
	}
	p.stop()
}

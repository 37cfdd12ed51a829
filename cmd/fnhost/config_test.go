package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestCredentialsRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "fnhost")
	want := credentials{AccessKeyID: "id", AccessKeySecret: "secret", AccountID: "acct"}
	if err := saveCredentials(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := loadCredentials(dir)
	if err != nil || got != want {
		t.Fatalf("loadCredentials = %+v, %v, want %+v", got, err, want)
	}
	// Overwrite: still one file, 0600, no temporary left behind.
	want.AccessKeySecret = "secret2"
	if err := saveCredentials(dir, want); err != nil {
		t.Fatal(err)
	}
	if got, _ := loadCredentials(dir); got != want {
		t.Errorf("after overwrite %+v, want %+v", got, want)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != credentialsFile {
		t.Errorf("directory holds %v, want only %s", entries, credentialsFile)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(filepath.Join(dir, credentialsFile))
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("mode %v, want 0600", perm)
		}
		di, _ := os.Stat(dir)
		if perm := di.Mode().Perm(); perm != 0o700 {
			t.Errorf("directory mode %v, want 0700", perm)
		}
	}
}

func TestLoadCredentialsErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := loadCredentials(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
	for _, content := range []string{"{", `{"accessKeyId":"x"}`} {
		os.WriteFile(filepath.Join(dir, credentialsFile), []byte(content), 0o600)
		if _, err := loadCredentials(dir); err == nil || errors.Is(err, fs.ErrNotExist) {
			t.Errorf("content %q: %v, want a format error", content, err)
		}
	}
}

func TestDefaultDataDir(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{envData: "/d", "XDG_DATA_HOME": "/x", "HOME": "/h"}, "/d"},
		{map[string]string{"XDG_DATA_HOME": "/x", "HOME": "/h"}, filepath.Join("/x", "fnhost")},
		{map[string]string{"HOME": "/h"}, filepath.Join("/h", ".local", "share", "fnhost")},
	} {
		if got := defaultDataDir(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("defaultDataDir(%v) = %q, want %q", tc.env, got, tc.want)
		}
	}
}

func TestClientConfig(t *testing.T) {
	dataDir := t.TempDir()
	if err := saveCredentials(dataDir, credentials{AccessKeyID: "fileID", AccessKeySecret: "fileSecret", AccountID: "fileAcct"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name                       string
		flags                      clientFlags
		env                        map[string]string
		endpoint, id, secret, acct string
		err                        error
	}{
		{
			name: "file via FNHOST_DATA", env: map[string]string{envData: dataDir},
			endpoint: defaultEndpoint, id: "fileID", secret: "fileSecret", acct: "fileAcct",
		},
		{
			name: "file via --data-dir", env: map[string]string{envData: t.TempDir()},
			flags:    clientFlags{dataDir: dataDir}, // the flag wins over the environment
			endpoint: defaultEndpoint, id: "fileID", secret: "fileSecret", acct: "fileAcct",
		},
		{
			name: "env keys, account from the file",
			env: map[string]string{envData: dataDir, envAccessKeyID: "envID", envAccessKeySecret: "envSecret",
				envEndpoint: "h:1"}, // http:// is implied
			endpoint: "http://h:1", id: "envID", secret: "envSecret", acct: "fileAcct",
		},
		{
			name:  "flags win",
			flags: clientFlags{endpoint: "http://f:2", keyID: "flagID", keySecret: "flagSecret", accountID: "flagAcct"},
			env: map[string]string{envData: dataDir, envAccessKeyID: "envID", envAccessKeySecret: "envSecret",
				envEndpoint: "http://h:1", envAccountID: "envAcct"},
			endpoint: "http://f:2", id: "flagID", secret: "flagSecret", acct: "flagAcct",
		},
		{
			name:     "no file: default account",
			env:      map[string]string{envData: t.TempDir(), envAccessKeyID: "envID", envAccessKeySecret: "envSecret"},
			endpoint: defaultEndpoint, id: "envID", secret: "envSecret", acct: defaultAccountID,
		},
		{
			name: "no key anywhere", env: map[string]string{envData: t.TempDir()}, err: errNoCredentials,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := tc.flags.clientConfig(func(k string) string { return tc.env[k] })
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Endpoint != tc.endpoint || cfg.AccessKeyID != tc.id || cfg.AccessKeySecret != tc.secret || cfg.AccountID != tc.acct {
				t.Errorf("config %+v, want endpoint %s id %s secret %s account %s", cfg, tc.endpoint, tc.id, tc.secret, tc.acct)
			}
		})
	}
}

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Defaults shared by `fnhost serve` and the client commands.
const (
	// defaultEndpoint is where `fnhost serve` listens unless told otherwise
	// and where the client commands connect to by default.
	defaultEndpoint = "http://127.0.0.1:9000"
	// defaultAccountID is sent as X-Fc-Account-Id when neither a flag, the
	// environment nor the credentials file names an account.
	defaultAccountID = "fnhost"
	// credentialsFile is the name, inside the data directory, of the file
	// in which `fnhost serve` records its management access key.
	credentialsFile = "credentials.json"
)

// Environment variables read by the commands.
const (
	envData            = "FNHOST_DATA"
	envEndpoint        = "FNHOST_ENDPOINT"
	envAccessKeyID     = "FNHOST_ACCESS_KEY_ID"
	envAccessKeySecret = "FNHOST_ACCESS_KEY_SECRET"
	envAccountID       = "FNHOST_ACCOUNT_ID"
)

// credentials is the content of <data-dir>/credentials.json, written by
// `fnhost serve` (mode 0600) and read by the client commands when no key is
// given by flag or environment.
type credentials struct {
	AccessKeyID     string `json:"accessKeyId"`
	AccessKeySecret string `json:"accessKeySecret"`
	AccountID       string `json:"accountId,omitempty"`
}

// defaultDataDir returns the data directory used when --data-dir is not
// given: $FNHOST_DATA, else $XDG_DATA_HOME/fnhost, else
// ~/.local/share/fnhost. env reads the environment (os.Getenv in main). It
// returns "" only when no home directory can be found.
func defaultDataDir(env func(string) string) string {
	if d := env(envData); d != "" {
		return d
	}
	if d := env("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "fnhost")
	}
	home := env("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	if home == "" {
		return ""
	}
	return filepath.Join(home, ".local", "share", "fnhost")
}

// loadCredentials reads <dir>/credentials.json. A missing file gives an
// error matching fs.ErrNotExist; a file without both keys is an error.
func loadCredentials(dir string) (credentials, error) {
	var c credentials
	path := filepath.Join(dir, credentialsFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return credentials{}, fmt.Errorf("%s: %w", path, err)
	}
	if c.AccessKeyID == "" || c.AccessKeySecret == "" {
		return credentials{}, fmt.Errorf("%s: accessKeyId and accessKeySecret are required", path)
	}
	return c, nil
}

// saveCredentials writes c to <dir>/credentials.json atomically (a
// temporary file in dir, synced, then renamed) with mode 0600, creating dir
// (0700) if needed.
func saveCredentials(dir string, c credentials) (err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	f, err := os.CreateTemp(dir, ".credentials-*.json")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if _, err = f.Write(b); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, filepath.Join(dir, credentialsFile)); err != nil {
		return err
	}
	// Make the rename durable; not every platform can sync a directory.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// errNoCredentials explains where the client commands look for a key.
var errNoCredentials = errors.New("no access key: pass --access-key-id and --access-key-secret, " +
	"set " + envAccessKeyID + " and " + envAccessKeySecret + ", or point --data-dir (" + envData + ") " +
	"at the data directory of `fnhost serve`, which writes " + credentialsFile + " there")

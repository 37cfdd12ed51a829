package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/fnhost/fnhost/host"
)

// Checksum returns the lower-case hex SHA-256 of wasm: the address under
// which the store keeps it and the value of host.Function.CodeChecksum.
func Checksum(wasm []byte) string {
	sum := sha256.Sum256(wasm)
	return hex.EncodeToString(sum[:])
}

// PutModule stores wasm under its SHA-256 and returns the checksum. Storing
// the same bytes again keeps the one copy. wasm is read only during the call.
// A module no function references stays until DeleteModuleIfUnused.
func (s *Store) PutModule(wasm []byte) (checksum string, err error) {
	const op = "store.PutModule"
	if len(wasm) == 0 {
		return "", invalid(op, errors.New("empty module"))
	}
	err = s.update(op, func(txn *badger.Txn) error {
		checksum, err = putModule(txn, wasm)
		return err
	})
	if err != nil {
		return "", err
	}
	return checksum, nil
}

// GetModule returns a copy of the module with the given checksum; the
// caller owns it.
func (s *Store) GetModule(checksum string) ([]byte, error) {
	const op = "store.GetModule"
	if !validChecksum(checksum) {
		return nil, invalid(op, fmt.Errorf("checksum %q is not a lower-case hex SHA-256", checksum))
	}
	var wasm []byte
	err := s.view(op, func(txn *badger.Txn) error {
		item, err := txn.Get(moduleKey(checksum))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return resourceErr(host.KindNotFound, op, ResourceModule, checksum)
		}
		if err != nil {
			return err
		}
		wasm, err = item.ValueCopy(nil)
		return err
	})
	return wasm, err
}

// DeleteModuleIfUnused deletes the module when no function references it and
// reports whether it did. A missing module is not an error (false, nil).
func (s *Store) DeleteModuleIfUnused(checksum string) (deleted bool, err error) {
	const op = "store.DeleteModuleIfUnused"
	if !validChecksum(checksum) {
		return false, invalid(op, fmt.Errorf("checksum %q is not a lower-case hex SHA-256", checksum))
	}
	err = s.update(op, func(txn *badger.Txn) error {
		deleted = false
		if _, err := txn.Get(moduleKey(checksum)); errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		n, err := readRefs(txn, checksum)
		if err != nil || n > 0 {
			return err
		}
		deleted = true
		return dropModule(txn, checksum)
	})
	return deleted, err
}

// ModuleRefs returns how many functions use the module (0 for a module
// stored but unused), or a KindNotFound error when it is not stored.
func (s *Store) ModuleRefs(checksum string) (int, error) {
	const op = "store.ModuleRefs"
	if !validChecksum(checksum) {
		return 0, invalid(op, fmt.Errorf("checksum %q is not a lower-case hex SHA-256", checksum))
	}
	var n uint64
	err := s.view(op, func(txn *badger.Txn) error {
		if _, err := txn.Get(moduleKey(checksum)); errors.Is(err, badger.ErrKeyNotFound) {
			return resourceErr(host.KindNotFound, op, ResourceModule, checksum)
		} else if err != nil {
			return err
		}
		var err error
		n, err = readRefs(txn, checksum)
		return err
	})
	return int(n), err
}

// putModule stores wasm if absent. It always rewrites the reference-count
// key so that a concurrent transaction dropping the module conflicts with
// this one instead of deleting what this one is about to use.
func putModule(txn *badger.Txn, wasm []byte) (string, error) {
	sum := Checksum(wasm)
	_, err := txn.Get(moduleKey(sum))
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		if err := txn.Set(moduleKey(sum), wasm); err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	}
	n, err := readRefs(txn, sum)
	if err != nil {
		return "", err
	}
	return sum, writeRefs(txn, sum, n)
}

// acquireModule adds a reference to a stored module.
func acquireModule(txn *badger.Txn, op, sum string) error {
	if !validChecksum(sum) {
		return invalid(op, fmt.Errorf("codeChecksum %q is not a lower-case hex SHA-256", sum))
	}
	if _, err := txn.Get(moduleKey(sum)); errors.Is(err, badger.ErrKeyNotFound) {
		return invalid(op, fmt.Errorf("codeChecksum %s: no such module stored", sum))
	} else if err != nil {
		return err
	}
	n, err := readRefs(txn, sum)
	if err != nil {
		return err
	}
	return writeRefs(txn, sum, n+1)
}

// releaseModule drops a reference and deletes the module with its last one.
func releaseModule(txn *badger.Txn, sum string) error {
	if sum == "" {
		return nil
	}
	n, err := readRefs(txn, sum)
	if err != nil {
		return err
	}
	if n <= 1 {
		return dropModule(txn, sum)
	}
	return writeRefs(txn, sum, n-1)
}

func dropModule(txn *badger.Txn, sum string) error {
	if err := txn.Delete(moduleKey(sum)); err != nil {
		return err
	}
	return txn.Delete(modRefKey(sum))
}

func readRefs(txn *badger.Txn, sum string) (uint64, error) {
	item, err := txn.Get(modRefKey(sum))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var n uint64
	err = item.Value(func(b []byte) error {
		if len(b) != 8 {
			return fmt.Errorf("module %s: reference count is %d bytes, want 8", sum, len(b))
		}
		n = binary.BigEndian.Uint64(b)
		return nil
	})
	return n, err
}

func writeRefs(txn *badger.Txn, sum string, n uint64) error {
	return txn.Set(modRefKey(sum), binary.BigEndian.AppendUint64(nil, n))
}

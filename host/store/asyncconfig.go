package store

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/fnhost/fnhost/host"
)

// QualifierLatest is the only qualifier an async config has today.
const QualifierLatest = "LATEST"

const prefixAsyncConfig = "v1/acfg/"

func asyncConfigPrefix(svc, fn string) string { return prefixAsyncConfig + svc + "/" + fn + "/" }

func asyncConfigKey(svc, fn, qualifier string) []byte {
	return []byte(asyncConfigPrefix(svc, fn) + qualifier)
}

// PutAsyncConfig creates or replaces the async config of an existing
// function (KindNotFound, ResourceFunction, otherwise) and returns it as
// stored. Qualifier must be "" or "LATEST" (stored as "LATEST");
// CreatedTime is set on creation and kept on replacement, LastModifiedTime
// is set, both from Options.Now. MaxAsyncRetryAttempts (0 to 8),
// MaxAsyncEventAgeInSeconds (1 to 604800) and the destinations (non-empty)
// are checked; what a destination names is the caller's to check.
func (s *Store) PutAsyncConfig(c host.AsyncConfig) (host.AsyncConfig, error) {
	const op = "store.PutAsyncConfig"
	if err := validateAsyncConfig(&c); err != nil {
		return host.AsyncConfig{}, invalid(op, err)
	}
	now := host.FormatTime(s.now())
	c.Qualifier = QualifierLatest
	c.CreatedTime, c.LastModifiedTime = now, now
	key := asyncConfigKey(c.ServiceName, c.FunctionName, c.Qualifier)
	var rec host.AsyncConfig
	err := s.update(op, func(txn *badger.Txn) error {
		rec = c
		if _, err := getFunction(txn, op, c.ServiceName, c.FunctionName); err != nil {
			return err
		}
		old, ok, err := getJSON[host.AsyncConfig](txn, key)
		if err != nil {
			return err
		}
		if ok && old.CreatedTime != "" {
			rec.CreatedTime = old.CreatedTime
		}
		// A config without its function must not be left behind by a
		// concurrent DeleteFunction, which reads the function's key.
		if err := touch(txn, functionKey(c.ServiceName, c.FunctionName)); err != nil {
			return err
		}
		return setJSON(txn, key, rec)
	})
	if err != nil {
		return host.AsyncConfig{}, err
	}
	return rec, nil
}

// GetAsyncConfig returns a function's async config: KindNotFound
// (ResourceAsyncConfig, "svc/fn") when it has none. It does not look at the
// function itself.
func (s *Store) GetAsyncConfig(svc, fn string) (host.AsyncConfig, error) {
	const op = "store.GetAsyncConfig"
	if err := validFunctionPath(svc, fn); err != nil {
		return host.AsyncConfig{}, invalid(op, err)
	}
	var c host.AsyncConfig
	err := s.view(op, func(txn *badger.Txn) error {
		var (
			ok  bool
			err error
		)
		c, ok, err = getJSON[host.AsyncConfig](txn, asyncConfigKey(svc, fn, QualifierLatest))
		if err == nil && !ok {
			err = resourceErr(host.KindNotFound, op, ResourceAsyncConfig, svc+"/"+fn)
		}
		return err
	})
	return c, err
}

// DeleteAsyncConfig deletes a function's async config: KindNotFound
// (ResourceAsyncConfig) when it has none. Jobs already accepted keep the
// retry and age limits they were accepted with.
func (s *Store) DeleteAsyncConfig(svc, fn string) error {
	const op = "store.DeleteAsyncConfig"
	if err := validFunctionPath(svc, fn); err != nil {
		return invalid(op, err)
	}
	key := asyncConfigKey(svc, fn, QualifierLatest)
	return s.update(op, func(txn *badger.Txn) error {
		if _, err := txn.Get(key); errors.Is(err, badger.ErrKeyNotFound) {
			return resourceErr(host.KindNotFound, op, ResourceAsyncConfig, svc+"/"+fn)
		} else if err != nil {
			return err
		}
		return txn.Delete(key)
	})
}

// ListAsyncConfigs returns a function's async configs: none or one (its
// LATEST config) today. The slice is never nil.
func (s *Store) ListAsyncConfigs(svc, fn string) ([]host.AsyncConfig, error) {
	const op = "store.ListAsyncConfigs"
	if err := validFunctionPath(svc, fn); err != nil {
		return nil, invalid(op, err)
	}
	out := []host.AsyncConfig{}
	err := s.view(op, func(txn *badger.Txn) error {
		prefix := []byte(asyncConfigPrefix(svc, fn))
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.ValidForPrefix(prefix); it.Next() {
			var c host.AsyncConfig
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &c) }); err != nil {
				return fmt.Errorf("decode %q: %w", it.Item().Key(), err)
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func validFunctionPath(svc, fn string) error {
	if err := host.ValidName(svc); err != nil {
		return fmt.Errorf("service: %w", err)
	}
	if err := host.ValidName(fn); err != nil {
		return fmt.Errorf("function: %w", err)
	}
	return nil
}

// validateAsyncConfig checks c's names and limits.
func validateAsyncConfig(c *host.AsyncConfig) error {
	if err := validFunctionPath(c.ServiceName, c.FunctionName); err != nil {
		return err
	}
	if c.Qualifier != "" && c.Qualifier != QualifierLatest {
		return fmt.Errorf("qualifier %s: only %s has an async config", quoteID(c.Qualifier), QualifierLatest)
	}
	if n := c.MaxAsyncRetryAttempts; n != nil && (*n < 0 || *n > host.MaxAsyncRetries) {
		return fmt.Errorf("maxAsyncRetryAttempts %d: want 0 to %d", *n, host.MaxAsyncRetries)
	}
	if n := c.MaxAsyncEventAgeInSeconds; n != nil && (*n < 1 || *n > host.MaxAsyncMaxAge) {
		return fmt.Errorf("maxAsyncEventAgeInSeconds %d: want 1 to %d", *n, host.MaxAsyncMaxAge)
	}
	if dc := c.DestinationConfig; dc != nil {
		for _, d := range []struct {
			name string
			d    *host.Destination
		}{{"onSuccess", dc.OnSuccess}, {"onFailure", dc.OnFailure}} {
			if d.d != nil && d.d.Destination == "" {
				return fmt.Errorf("destinationConfig.%s.destination is empty", d.name)
			}
		}
	}
	return nil
}

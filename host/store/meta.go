package store

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/dgraph-io/badger/v4"

	"github.com/fnhost/fnhost/host"
)

// ---- services ----

// CreateService stores a new service. Only ServiceName and Description are
// taken from s; the store sets ServiceID and the times and returns the
// stored record. An existing name is a KindConflict error.
func (s *Store) CreateService(svc host.Service) (host.Service, error) {
	const op = "store.CreateService"
	if err := host.ValidName(svc.ServiceName); err != nil {
		return host.Service{}, invalid(op, err)
	}
	now := host.FormatTime(s.now())
	rec := host.Service{
		ServiceName:      svc.ServiceName,
		Description:      svc.Description,
		ServiceID:        newID(),
		CreatedTime:      now,
		LastModifiedTime: now,
	}
	err := s.update(op, func(txn *badger.Txn) error {
		if _, ok, err := getJSON[host.Service](txn, serviceKey(rec.ServiceName)); err != nil || ok {
			if ok {
				return resourceErr(host.KindConflict, op, ResourceService, rec.ServiceName)
			}
			return err
		}
		return setJSON(txn, serviceKey(rec.ServiceName), rec)
	})
	if err != nil {
		return host.Service{}, err
	}
	return rec, nil
}

// GetService returns the named service.
func (s *Store) GetService(name string) (host.Service, error) {
	const op = "store.GetService"
	var rec host.Service
	err := s.view(op, func(txn *badger.Txn) error {
		var err error
		rec, err = getService(txn, op, name)
		return err
	})
	return rec, err
}

// ListServices returns one page of services and the next page's token ("" on
// the last page).
func (s *Store) ListServices(o ListOptions) ([]host.Service, string, error) {
	const op = "store.ListServices"
	var (
		out  []host.Service
		next string
	)
	err := s.view(op, func(txn *badger.Txn) error {
		var err error
		out, next, err = list(txn, op, prefixService, o, func(v *host.Service, k parsedKey) { v.ServiceName = k.service })
		return err
	})
	return out, next, err
}

// UpdateService applies mutate to the stored service and stores the result.
// mutate may change Description; the name, ID and creation time are kept and
// LastModifiedTime is set. mutate may run more than once (on a transaction
// conflict) and must have no other effects; an error from it aborts the
// update (see mutate errors in the package documentation).
func (s *Store) UpdateService(name string, mutate func(*host.Service) error) (host.Service, error) {
	const op = "store.UpdateService"
	var rec host.Service
	err := s.update(op, func(txn *badger.Txn) error {
		old, err := getService(txn, op, name)
		if err != nil {
			return err
		}
		rec = old
		if mutate != nil {
			if err := mutate(&rec); err != nil {
				return err
			}
		}
		rec.ServiceName, rec.ServiceID, rec.CreatedTime = old.ServiceName, old.ServiceID, old.CreatedTime
		rec.LastModifiedTime = host.FormatTime(s.now())
		return setJSON(txn, serviceKey(name), rec)
	})
	if err != nil {
		return host.Service{}, err
	}
	return rec, nil
}

// DeleteService deletes an empty service. A service that still has
// functions gives a KindNotEmpty error, as in FC.
func (s *Store) DeleteService(name string) error {
	const op = "store.DeleteService"
	return s.update(op, func(txn *badger.Txn) error {
		if _, err := getService(txn, op, name); err != nil {
			return err
		}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(functionPrefix(name))})
		it.Rewind()
		hasFunctions := it.Valid()
		it.Close()
		if hasFunctions {
			return resourceErr(host.KindNotEmpty, op, ResourceService, name)
		}
		return txn.Delete(serviceKey(name))
	})
}

// getService reads a service, KindNotFound (or KindInvalidArgument for an
// impossible name) when it is missing.
func getService(txn *badger.Txn, op, name string) (host.Service, error) {
	if err := host.ValidName(name); err != nil {
		return host.Service{}, invalid(op, err)
	}
	rec, ok, err := getJSON[host.Service](txn, serviceKey(name))
	if err == nil && !ok {
		err = resourceErr(host.KindNotFound, op, ResourceService, name)
	}
	return rec, err
}

// touch rewrites key with its current value. A child's creation touches its
// parent so that a concurrent deletion of the parent, which read the parent
// and scanned for children, conflicts and re-runs.
func touch(txn *badger.Txn, key []byte) error {
	item, err := txn.Get(key)
	if err != nil {
		return err
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return err
	}
	return txn.Set(key, v)
}

// ---- functions ----

// CreateFunction stores a new function in an existing service (KindNotFound
// otherwise; KindConflict if the name is taken).
//
// With code non-nil the module is stored (or found, if the same bytes are
// already there) in the same transaction and CodeChecksum is set from it;
// with code nil, f.CodeChecksum must name a module stored with PutModule.
// Runtime defaults to host.RuntimeWasm. The store sets FunctionID, CodeSize
// and the times; the stored record is returned. code is read only during
// the call.
func (s *Store) CreateFunction(f host.Function, code []byte) (host.Function, error) {
	const op = "store.CreateFunction"
	if err := host.ValidName(f.ServiceName); err != nil {
		return host.Function{}, invalid(op, fmt.Errorf("service: %w", err))
	}
	if err := validateFunction(&f); err != nil {
		return host.Function{}, invalid(op, err)
	}
	if code == nil && f.CodeChecksum == "" {
		return host.Function{}, invalid(op, errors.New("function has no code: pass the module or a codeChecksum"))
	}
	now := host.FormatTime(s.now())
	f.FunctionID = newID()
	f.CreatedTime, f.LastModifiedTime = now, now
	f.EnvironmentVariables = maps.Clone(f.EnvironmentVariables)
	var rec host.Function
	err := s.update(op, func(txn *badger.Txn) error {
		rec = f
		if _, err := getService(txn, op, f.ServiceName); err != nil {
			return err
		}
		fk := functionKey(f.ServiceName, f.FunctionName)
		if _, ok, err := getJSON[host.Function](txn, fk); err != nil || ok {
			if ok {
				return resourceErr(host.KindConflict, op, ResourceFunction, f.ServiceName+"/"+f.FunctionName)
			}
			return err
		}
		if err := setCode(txn, op, &rec, code); err != nil {
			return err
		}
		if err := touch(txn, serviceKey(f.ServiceName)); err != nil {
			return err
		}
		return setJSON(txn, fk, rec)
	})
	if err != nil {
		return host.Function{}, err
	}
	return rec, nil
}

// setCode references the function's module: code when non-nil (stored if
// new), else rec.CodeChecksum. It sets CodeChecksum and CodeSize.
func setCode(txn *badger.Txn, op string, rec *host.Function, code []byte) error {
	if code != nil {
		if len(code) == 0 {
			return invalid(op, errors.New("empty module"))
		}
		sum, err := putModule(txn, code)
		if err != nil {
			return err
		}
		rec.CodeChecksum = sum
	}
	if err := acquireModule(txn, op, rec.CodeChecksum); err != nil {
		return err
	}
	item, err := txn.Get(moduleKey(rec.CodeChecksum))
	if err != nil {
		return err
	}
	// ValueSize is approximate for values kept in the value log.
	return item.Value(func(b []byte) error {
		rec.CodeSize = int64(len(b))
		return nil
	})
}

// GetFunction returns the named function of a service. A missing service is
// reported as such (ResourceService), before a missing function.
func (s *Store) GetFunction(svc, fn string) (host.Function, error) {
	const op = "store.GetFunction"
	var rec host.Function
	err := s.view(op, func(txn *badger.Txn) error {
		var err error
		rec, err = getFunction(txn, op, svc, fn)
		return err
	})
	return rec, err
}

// ListFunctions returns one page of a service's functions and the next
// page's token.
func (s *Store) ListFunctions(svc string, o ListOptions) ([]host.Function, string, error) {
	const op = "store.ListFunctions"
	var (
		out  []host.Function
		next string
	)
	err := s.view(op, func(txn *badger.Txn) error {
		if _, err := getService(txn, op, svc); err != nil {
			return err
		}
		var err error
		out, next, err = list(txn, op, functionPrefix(svc), o, func(v *host.Function, k parsedKey) {
			v.ServiceName, v.FunctionName = k.service, k.fn
		})
		return err
	})
	return out, next, err
}

// UpdateFunction applies mutate to the stored function and stores the
// result. mutate may change every field except the names, FunctionID,
// CreatedTime and CodeSize; it may point CodeChecksum at another stored
// module. With code non-nil the function switches to those bytes (stored in
// the same transaction) whatever mutate did. A module the function stops
// using is deleted when no other function uses it. mutate may run more than
// once and must have no other effects; its error aborts the update.
func (s *Store) UpdateFunction(svc, fn string, code []byte, mutate func(*host.Function) error) (host.Function, error) {
	const op = "store.UpdateFunction"
	var rec host.Function
	err := s.update(op, func(txn *badger.Txn) error {
		old, err := getFunction(txn, op, svc, fn)
		if err != nil {
			return err
		}
		rec = old
		rec.EnvironmentVariables = maps.Clone(old.EnvironmentVariables)
		if mutate != nil {
			if err := mutate(&rec); err != nil {
				return err
			}
		}
		rec.ServiceName, rec.FunctionName = old.ServiceName, old.FunctionName
		rec.FunctionID, rec.CreatedTime, rec.CodeSize = old.FunctionID, old.CreatedTime, old.CodeSize
		if err := validateFunction(&rec); err != nil {
			return invalid(op, err)
		}
		if code != nil || rec.CodeChecksum != old.CodeChecksum {
			if err := setCode(txn, op, &rec, code); err != nil {
				return err
			}
			// Acquire before release: switching to the same bytes keeps
			// the module.
			if err := releaseModule(txn, old.CodeChecksum); err != nil {
				return err
			}
		}
		rec.LastModifiedTime = host.FormatTime(s.now())
		return setJSON(txn, functionKey(svc, fn), rec)
	})
	if err != nil {
		return host.Function{}, err
	}
	return rec, nil
}

// DeleteFunction deletes a function with all its triggers, and its module
// when no other function uses it, in one transaction.
func (s *Store) DeleteFunction(svc, fn string) error {
	const op = "store.DeleteFunction"
	return s.update(op, func(txn *badger.Txn) error {
		old, err := getFunction(txn, op, svc, fn)
		if err != nil {
			return err
		}
		// Its triggers and async config go with it, so a function created
		// later under the same name starts clean.
		var keys [][]byte
		for _, prefix := range []string{triggerPrefix(svc, fn), asyncConfigPrefix(svc, fn)} {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
			for it.Rewind(); it.Valid(); it.Next() {
				keys = append(keys, it.Item().KeyCopy(nil))
			}
			it.Close()
		}
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		if err := releaseModule(txn, old.CodeChecksum); err != nil {
			return err
		}
		return txn.Delete(functionKey(svc, fn))
	})
}

func getFunction(txn *badger.Txn, op, svc, fn string) (host.Function, error) {
	if _, err := getService(txn, op, svc); err != nil {
		return host.Function{}, err
	}
	if err := host.ValidName(fn); err != nil {
		return host.Function{}, invalid(op, err)
	}
	rec, ok, err := getJSON[host.Function](txn, functionKey(svc, fn))
	if err == nil && !ok {
		err = resourceErr(host.KindNotFound, op, ResourceFunction, svc+"/"+fn)
	}
	rec.ServiceName = svc
	return rec, err
}

func validateFunction(f *host.Function) error {
	if err := host.ValidName(f.FunctionName); err != nil {
		return fmt.Errorf("function: %w", err)
	}
	if f.Runtime == "" {
		f.Runtime = host.RuntimeWasm
	}
	if f.Runtime != host.RuntimeWasm {
		return fmt.Errorf("runtime %q: fnhost runs only %q", f.Runtime, host.RuntimeWasm)
	}
	for _, v := range []struct {
		name string
		n    int
	}{
		{"memorySize", f.MemorySize},
		{"timeout", f.Timeout},
		{"instanceConcurrency", f.InstanceConcurrency},
		{"maxInstances", f.MaxInstances},
	} {
		if v.n < 0 {
			return fmt.Errorf("%s %d is negative", v.name, v.n)
		}
	}
	return nil
}

// ---- triggers ----

// CreateTrigger stores a new trigger on an existing function. TriggerType
// defaults to host.TriggerTypeHTTP and AuthType to host.AuthFunction. The
// store sets TriggerID and the times and returns the stored record.
//
// As in FC, a function has at most one HTTP trigger: creating a second is a
// KindConflict error whose ResourceError names the existing trigger.
func (s *Store) CreateTrigger(t host.Trigger) (host.Trigger, error) {
	const op = "store.CreateTrigger"
	if err := host.ValidName(t.TriggerName); err != nil {
		return host.Trigger{}, invalid(op, fmt.Errorf("trigger: %w", err))
	}
	if err := validateTrigger(&t); err != nil {
		return host.Trigger{}, invalid(op, err)
	}
	now := host.FormatTime(s.now())
	t.TriggerID = newID()
	t.CreatedTime, t.LastModifiedTime = now, now
	t.TriggerConfig.Methods = slices.Clone(t.TriggerConfig.Methods)
	err := s.update(op, func(txn *badger.Txn) error {
		if _, err := getFunction(txn, op, t.ServiceName, t.FunctionName); err != nil {
			return err
		}
		tk := triggerKey(t.ServiceName, t.FunctionName, t.TriggerName)
		if _, ok, err := getJSON[host.Trigger](txn, tk); err != nil || ok {
			if ok {
				return resourceErr(host.KindConflict, op, ResourceTrigger, t.ServiceName+"/"+t.FunctionName+"/"+t.TriggerName)
			}
			return err
		}
		// The scan does not make Badger detect a concurrent create of
		// another HTTP trigger, but the touch of the function key below
		// does: of two such creates, one conflicts, re-runs and fails here.
		if t.TriggerType == host.TriggerTypeHTTP {
			old, ok, err := findHTTPTrigger(txn, t.ServiceName, t.FunctionName)
			if err != nil {
				return err
			}
			if ok {
				fn := t.ServiceName + "/" + t.FunctionName
				return &host.Error{Kind: host.KindConflict, Op: op, Err: fmt.Errorf(
					"function %q already has HTTP trigger %q, and a function may have only one: %w", fn, old.TriggerName,
					&ResourceError{Resource: ResourceTrigger, Name: fn + "/" + old.TriggerName, Kind: host.KindConflict})}
			}
		}
		if err := touch(txn, functionKey(t.ServiceName, t.FunctionName)); err != nil {
			return err
		}
		return setJSON(txn, tk, t)
	})
	if err != nil {
		return host.Trigger{}, err
	}
	return t, nil
}

// GetTrigger returns the named trigger.
func (s *Store) GetTrigger(svc, fn, trg string) (host.Trigger, error) {
	const op = "store.GetTrigger"
	var rec host.Trigger
	err := s.view(op, func(txn *badger.Txn) error {
		var err error
		rec, err = getTrigger(txn, op, svc, fn, trg)
		return err
	})
	return rec, err
}

// HTTPTrigger returns the function's HTTP trigger. A function without one
// is a KindNotFound error naming ResourceTrigger "svc/fn"; a missing
// function or service is reported as such, as by GetFunction.
func (s *Store) HTTPTrigger(svc, fn string) (host.Trigger, error) {
	const op = "store.HTTPTrigger"
	if err := host.ValidName(svc); err != nil {
		return host.Trigger{}, invalid(op, fmt.Errorf("service: %w", err))
	}
	if err := host.ValidName(fn); err != nil {
		return host.Trigger{}, invalid(op, fmt.Errorf("function: %w", err))
	}
	var rec host.Trigger
	err := s.view(op, func(txn *badger.Txn) error {
		t, ok, err := findHTTPTrigger(txn, svc, fn)
		if err != nil || ok {
			rec = t
			return err
		}
		// Only on a miss: a trigger never outlives its function, so a
		// found one needs no check that the function exists.
		if _, err := getFunction(txn, op, svc, fn); err != nil {
			return err
		}
		return resourceErr(host.KindNotFound, op, ResourceTrigger, svc+"/"+fn)
	})
	if err != nil {
		return host.Trigger{}, err
	}
	return rec, nil
}

// findHTTPTrigger returns the function's HTTP trigger, if it has one. Every
// trigger fnhost stores is an HTTP trigger, so this reads at most one.
func findHTTPTrigger(txn *badger.Txn, svc, fn string) (host.Trigger, bool, error) {
	prefix := []byte(triggerPrefix(svc, fn))
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		var t host.Trigger
		if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &t) }); err != nil {
			return host.Trigger{}, false, fmt.Errorf("decode %q: %w", item.Key(), err)
		}
		if t.TriggerType == host.TriggerTypeHTTP {
			t.ServiceName, t.FunctionName = svc, fn
			t.TriggerName = string(item.Key()[len(prefix):])
			return t, true, nil
		}
	}
	return host.Trigger{}, false, nil
}

// ListTriggers returns one page of a function's triggers and the next page's
// token.
func (s *Store) ListTriggers(svc, fn string, o ListOptions) ([]host.Trigger, string, error) {
	const op = "store.ListTriggers"
	var (
		out  []host.Trigger
		next string
	)
	err := s.view(op, func(txn *badger.Txn) error {
		if _, err := getFunction(txn, op, svc, fn); err != nil {
			return err
		}
		var err error
		out, next, err = list(txn, op, triggerPrefix(svc, fn), o, func(v *host.Trigger, k parsedKey) {
			v.ServiceName, v.FunctionName, v.TriggerName = k.service, k.fn, k.trigger
		})
		return err
	})
	return out, next, err
}

// UpdateTrigger applies mutate to the stored trigger and stores the result.
// The names, TriggerID, TriggerType and CreatedTime are kept. mutate may run
// more than once and must have no other effects; its error aborts the
// update.
func (s *Store) UpdateTrigger(svc, fn, trg string, mutate func(*host.Trigger) error) (host.Trigger, error) {
	const op = "store.UpdateTrigger"
	var rec host.Trigger
	err := s.update(op, func(txn *badger.Txn) error {
		old, err := getTrigger(txn, op, svc, fn, trg)
		if err != nil {
			return err
		}
		rec = old
		rec.TriggerConfig.Methods = slices.Clone(old.TriggerConfig.Methods)
		if mutate != nil {
			if err := mutate(&rec); err != nil {
				return err
			}
		}
		rec.ServiceName, rec.FunctionName, rec.TriggerName = old.ServiceName, old.FunctionName, old.TriggerName
		rec.TriggerID, rec.TriggerType, rec.CreatedTime = old.TriggerID, old.TriggerType, old.CreatedTime
		if err := validateTrigger(&rec); err != nil {
			return invalid(op, err)
		}
		rec.LastModifiedTime = host.FormatTime(s.now())
		return setJSON(txn, triggerKey(svc, fn, trg), rec)
	})
	if err != nil {
		return host.Trigger{}, err
	}
	return rec, nil
}

// DeleteTrigger deletes a trigger.
func (s *Store) DeleteTrigger(svc, fn, trg string) error {
	const op = "store.DeleteTrigger"
	return s.update(op, func(txn *badger.Txn) error {
		if _, err := getTrigger(txn, op, svc, fn, trg); err != nil {
			return err
		}
		return txn.Delete(triggerKey(svc, fn, trg))
	})
}

func getTrigger(txn *badger.Txn, op, svc, fn, trg string) (host.Trigger, error) {
	if _, err := getFunction(txn, op, svc, fn); err != nil {
		return host.Trigger{}, err
	}
	if err := host.ValidName(trg); err != nil {
		return host.Trigger{}, invalid(op, err)
	}
	rec, ok, err := getJSON[host.Trigger](txn, triggerKey(svc, fn, trg))
	if err == nil && !ok {
		err = resourceErr(host.KindNotFound, op, ResourceTrigger, svc+"/"+fn+"/"+trg)
	}
	rec.ServiceName, rec.FunctionName = svc, fn
	return rec, err
}

var httpMethods = []string{"HEAD", "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}

func validateTrigger(t *host.Trigger) error {
	if t.TriggerType == "" {
		t.TriggerType = host.TriggerTypeHTTP
	}
	if t.TriggerType != host.TriggerTypeHTTP {
		return fmt.Errorf("triggerType %q: fnhost serves only %q", t.TriggerType, host.TriggerTypeHTTP)
	}
	c := &t.TriggerConfig
	if c.AuthType == "" {
		c.AuthType = host.AuthFunction
	}
	if !c.KnownAuthType() {
		return fmt.Errorf("authType %q: want %q, %q, %q or %q", c.AuthType, host.AuthFunction, host.AuthAnonymous, host.AuthJWT, host.AuthBasic)
	}
	for _, m := range c.Methods {
		if !slices.Contains(httpMethods, m) {
			return fmt.Errorf("method %q: want one of %v", m, httpMethods)
		}
	}
	return nil
}

// ---- helpers ----

// getJSON reads and decodes key; ok is false when it is absent.
func getJSON[T any](txn *badger.Txn, key []byte) (v T, ok bool, err error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return v, false, nil
	}
	if err != nil {
		return v, false, err
	}
	err = item.Value(func(b []byte) error { return json.Unmarshal(b, &v) })
	if err != nil {
		return v, false, fmt.Errorf("decode %q: %w", key, err)
	}
	return v, true, nil
}

func setJSON(txn *badger.Txn, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return txn.Set(key, b)
}

// newID returns a random UUID (version 4) string.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

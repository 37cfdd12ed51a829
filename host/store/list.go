package store

import (
	"encoding/json"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/fnhost/fnhost/host"
)

// List limits, as FC's list APIs apply them.
const (
	DefaultListLimit = 20
	MaxListLimit     = 100
)

// ListOptions are FC's list query parameters (host.ListOptions). Results
// are sorted by name (byte order).
type ListOptions = host.ListOptions

// list returns one page of the JSON records under parent (a key prefix
// ending in '/'), decoded into T, and the token of the next page ("" at the
// end). fill sets T's fields that come from its key.
func list[T any](txn *badger.Txn, op, parent string, o ListOptions, fill func(*T, parsedKey)) ([]T, string, error) {
	limit, err := pageSize(op, o.Limit)
	if err != nil {
		return nil, "", err
	}
	start := max(o.StartKey, o.NextToken, o.Prefix)
	prefix := []byte(parent + o.Prefix)

	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: limit + 1})
	defer it.Close()
	out := make([]T, 0, min(limit, 16))
	for it.Seek([]byte(parent + start)); it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		k := parseKey(item.Key())
		if k.kind == keyUnknown {
			continue // not ours (cannot happen for keys this package wrote)
		}
		if len(out) == limit {
			return out, lastName(k), nil
		}
		var v T
		if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &v) }); err != nil {
			return nil, "", &host.Error{Kind: host.KindInternal, Op: op, Err: fmt.Errorf("decode %q: %w", item.Key(), err)}
		}
		fill(&v, k)
		out = append(out, v)
	}
	return out, "", nil
}

// pageSize applies the Limit rules of ListOptions.
func pageSize(op string, limit int) (int, error) {
	switch {
	case limit < 0:
		return 0, invalid(op, fmt.Errorf("limit %d is negative", limit))
	case limit == 0:
		return DefaultListLimit, nil
	case limit > MaxListLimit:
		return MaxListLimit, nil
	}
	return limit, nil
}

// lastName is the key's own name: the one a page token carries.
func lastName(k parsedKey) string {
	switch k.kind {
	case keyService:
		return k.service
	case keyFunction:
		return k.fn
	case keyTrigger:
		return k.trigger
	}
	return ""
}

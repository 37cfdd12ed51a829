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

// ListOptions are FC's list query parameters. Results are sorted by name
// (byte order).
type ListOptions struct {
	// Prefix keeps only names that start with it.
	Prefix string
	// StartKey: names before it are skipped (the result starts at it,
	// inclusive).
	StartKey string
	// NextToken is the token a previous page returned; the page starts at
	// it. Combined with StartKey, the later of the two wins.
	NextToken string
	// Limit is the page size: 0 means DefaultListLimit; over MaxListLimit
	// is lowered to MaxListLimit; negative is an invalid argument.
	Limit int
}

// list returns one page of the JSON records under parent (a key prefix
// ending in '/'), decoded into T, and the token of the next page ("" at the
// end). fill sets T's fields that come from its key.
func list[T any](txn *badger.Txn, op, parent string, o ListOptions, fill func(*T, parsedKey)) ([]T, string, error) {
	limit := o.Limit
	switch {
	case limit < 0:
		return nil, "", invalid(op, fmt.Errorf("limit %d is negative", limit))
	case limit == 0:
		limit = DefaultListLimit
	case limit > MaxListLimit:
		limit = MaxListLimit
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

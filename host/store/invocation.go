package store

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/fnhost/fnhost/host"
)

// DefaultInvocationRetention is how long invocation records are kept when
// Options.InvocationRetention is 0.
const DefaultInvocationRetention = 72 * time.Hour

// MaxRequestIDLen is the longest request id an invocation record may have.
const MaxRequestIDLen = 128

// InvocationListOptions are the query parameters of ListInvocations
// (host.InvocationListOptions, shared with the HTTP layer).
type InvocationListOptions = host.InvocationListOptions

// PutInvocations stores invocation records, each under its ServiceName and
// FunctionName (which need not exist: records are logs, not metadata), to
// expire after the store's InvocationRetention. A zero Time is set to the
// store's clock. Records that share a request id are all kept.
//
// An invalid record — a bad name, an empty request id, or one that is
// longer than MaxRequestIDLen or contains '/' or a control character — is
// skipped and the others are stored: the error is then KindInvalidArgument
// and lists the skipped records by index. A batch too large for one Badger
// transaction is committed in several, so a KindInternal error may come
// after some records were stored. recs is not modified.
func (s *Store) PutInvocations(recs []host.Invocation) error {
	_, err := s.putInvocations(recs)
	return err
}

// putInvocations is PutInvocations, also returning how many records it
// stored, which the InvocationWriter counts.
func (s *Store) putInvocations(recs []host.Invocation) (stored int, err error) {
	const op = "store.PutInvocations"
	// Both entries of a record get the same expiry: neither outlives the
	// other.
	expires := uint64(time.Now().Add(s.retention).Unix())
	var skipped []error
	txn := s.db.NewTransaction(true)
	defer func() { txn.Discard() }()
	entries, done := 0, 0 // entries in txn, records complete in txn
	for i := range recs {
		rec := recs[i]
		if rec.Time.IsZero() {
			rec.Time = s.now()
		}
		key, idKey, val, err := encodeInvocation(&rec)
		if err != nil {
			skipped = append(skipped, fmt.Errorf("record %d: %w", i, err))
			continue
		}
		for {
			err = txn.SetEntry(&badger.Entry{Key: key, Value: val, ExpiresAt: expires})
			if err == nil {
				entries++
				err = txn.SetEntry(&badger.Entry{Key: idKey, ExpiresAt: expires})
			}
			if !errors.Is(err, badger.ErrTxnTooBig) || entries == 0 {
				break
			}
			// The transaction is full: commit it (with, possibly, this
			// record's first entry, which the next one writes again).
			if err := txn.Commit(); err != nil {
				return stored, &host.Error{Kind: host.KindInternal, Op: op, Err: fmt.Errorf("stored %d of %d records: %w", stored, len(recs), err)}
			}
			stored += done
			txn = s.db.NewTransaction(true)
			entries, done = 0, 0
		}
		if err != nil {
			// Too large for Badger on its own (InMemory limits values to
			// the value threshold): the record's fault, not the batch's.
			skipped = append(skipped, fmt.Errorf("record %d: %w", i, err))
			continue
		}
		entries++
		done++
	}
	if err := txn.Commit(); err != nil {
		return stored, &host.Error{Kind: host.KindInternal, Op: op, Err: fmt.Errorf("stored %d of %d records: %w", stored, len(recs), err)}
	}
	stored += done
	if len(skipped) > 0 {
		return stored, invalid(op, fmt.Errorf("skipped %d of %d records: %w", len(skipped), len(recs), errors.Join(skipped...)))
	}
	return stored, nil
}

// encodeInvocation validates rec and returns its key, index key and value.
func encodeInvocation(rec *host.Invocation) (key, idKey, val []byte, err error) {
	if err := host.ValidName(rec.ServiceName); err != nil {
		return nil, nil, nil, fmt.Errorf("service: %w", err)
	}
	if err := host.ValidName(rec.FunctionName); err != nil {
		return nil, nil, nil, fmt.Errorf("function: %w", err)
	}
	if err := validRequestID(rec.RequestID); err != nil {
		return nil, nil, nil, err
	}
	val, err = json.Marshal(rec)
	if err != nil { // a Time outside years 0–9999
		return nil, nil, nil, fmt.Errorf("request %s: %w", quoteID(rec.RequestID), err)
	}
	order := invocationOrder(rec.Time)
	return invocationKey(rec.ServiceName, rec.FunctionName, order, rec.RequestID),
		invocationIDKey(rec.ServiceName, rec.FunctionName, rec.RequestID, order), val, nil
}

// invocationOrder is the key part that sorts records newest first: 16 hex
// digits of MaxUint64 − t in Unix nanoseconds, clamped to the range
// UnixNano can express (1970 to 2262).
func invocationOrder(t time.Time) string {
	var ns uint64
	if sec := t.Unix(); sec >= 0 {
		if sec >= math.MaxInt64/int64(time.Second) {
			ns = math.MaxInt64
		} else {
			ns = uint64(t.UnixNano())
		}
	}
	const digits = "0123456789abcdef"
	var b [16]byte
	v := math.MaxUint64 - ns
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = digits[v&0xf]
		v >>= 4
	}
	return string(b[:])
}

// validRequestID checks a request id for use in keys and page tokens.
func validRequestID(id string) error {
	switch {
	case id == "":
		return errors.New("requestId is empty")
	case len(id) > MaxRequestIDLen:
		return fmt.Errorf("requestId %s is %d bytes, over %d", quoteID(id), len(id), MaxRequestIDLen)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c == '/' || c < 0x20 || c == 0x7f {
			return fmt.Errorf("requestId %s contains %q", quoteID(id), c)
		}
	}
	return nil
}

// quoteID quotes a bounded prefix of a possibly hostile id.
func quoteID(id string) string {
	if len(id) > 64 {
		return strconv.Quote(id[:64]) + "…"
	}
	return strconv.Quote(id)
}

// ListInvocations returns one page of a function's invocation records,
// newest (by Time) first, and the next page's token ("" on the last page).
// A function without records — deleted, never invoked, or never created —
// gives an empty page, not an error; so does a RequestID with no records.
// Records expire after the retention the store had when they were written.
//
// A NextToken this method did not return, or one from a listing with
// another RequestID, is a KindInvalidArgument error. Tokens stay valid
// while records are written: a page never repeats a record of an earlier
// page, and records newer than the first page are not shown.
func (s *Store) ListInvocations(svc, fn string, o InvocationListOptions) ([]host.Invocation, string, error) {
	const op = "store.ListInvocations"
	if err := host.ValidName(svc); err != nil {
		return nil, "", invalid(op, fmt.Errorf("service: %w", err))
	}
	if err := host.ValidName(fn); err != nil {
		return nil, "", invalid(op, fmt.Errorf("function: %w", err))
	}
	limit, err := pageSize(op, o.Limit)
	if err != nil {
		return nil, "", err
	}
	if o.RequestID != "" {
		if err := validRequestID(o.RequestID); err != nil {
			return nil, "", invalid(op, err)
		}
	}
	var order, id string // where the page starts
	if o.NextToken != "" {
		var ok bool
		if order, id, ok = parseInvocationToken(o.NextToken); !ok {
			return nil, "", invalid(op, errors.New("nextToken is not one this listing returned"))
		}
		if o.RequestID != "" && id != o.RequestID {
			return nil, "", invalid(op, errors.New("nextToken is from a listing of another requestId"))
		}
	}
	var (
		out  []host.Invocation
		next string
	)
	err = s.view(op, func(txn *badger.Txn) error {
		var err error
		if o.RequestID == "" {
			out, next, err = listInvocations(txn, invocationPrefix(svc, fn), order, id, limit)
		} else {
			out, next, err = listRequest(txn, svc, fn, o.RequestID, order, limit)
		}
		if err != nil {
			return &host.Error{Kind: host.KindInternal, Op: op, Err: err}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// listInvocations reads a page of records under prefix from the record
// (order, id) on, or from the newest when order is "".
func listInvocations(txn *badger.Txn, prefix, order, id string, limit int) ([]host.Invocation, string, error) {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix), PrefetchValues: true, PrefetchSize: limit + 1})
	defer it.Close()
	start := prefix
	if order != "" {
		start += order + "/" + id
	}
	out := make([]host.Invocation, 0, min(limit, 16))
	for it.Seek([]byte(start)); it.ValidForPrefix([]byte(prefix)); it.Next() {
		item := it.Item()
		if len(out) == limit {
			return out, invocationToken(string(item.Key()[len(prefix):])), nil
		}
		var v host.Invocation
		if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &v) }); err != nil {
			return nil, "", fmt.Errorf("decode %q: %w", item.Key(), err)
		}
		out = append(out, v)
	}
	return out, "", nil
}

// listRequest reads a page of one request's records through the index,
// from order on (from the newest when order is "").
func listRequest(txn *badger.Txn, svc, fn, id, order string, limit int) ([]host.Invocation, string, error) {
	prefix := invocationIDPrefix(svc, fn, id)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
	defer it.Close()
	out := []host.Invocation{}
	for it.Seek([]byte(prefix + order)); it.ValidForPrefix([]byte(prefix)); it.Next() {
		ord := string(it.Item().Key()[len(prefix):])
		if len(out) == limit {
			return out, invocationToken(ord + "/" + id), nil
		}
		v, ok, err := getJSON[host.Invocation](txn, invocationKey(svc, fn, ord, id))
		if err != nil {
			return nil, "", err
		}
		if ok { // a dangling index entry is skipped, not an error
			out = append(out, v)
		}
	}
	return out, "", nil
}

// A page token is the unpadded base64url of "<order>/<requestId>", the key
// suffix of the page's first record: opaque to clients, safe in a query
// string, and checked on the way back in.
func invocationToken(suffix string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(suffix))
}

func parseInvocationToken(tok string) (order, id string, ok bool) {
	if len(tok) > base64.RawURLEncoding.EncodedLen(16+1+MaxRequestIDLen) {
		return "", "", false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(tok) // Strict: only the tokens this package issued
	if err != nil {
		return "", "", false
	}
	order, id, found := strings.Cut(string(b), "/")
	if !found || !validOrder(order) || validRequestID(id) != nil {
		return "", "", false
	}
	return order, id, true
}

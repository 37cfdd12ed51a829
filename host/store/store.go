// Package store keeps fnhost's management state — services, functions,
// HTTP triggers and the .wasm modules they run — and the recent invocation
// logs in an embedded Badger database.
//
// # Key schema (version 1)
//
// Names are checked with host.ValidName, so they never contain '/', and a
// prefix scan over "v1/fn/<svc>/" sees exactly the functions of <svc>.
//
//	schema                            decimal schema version ("1"); written on first open
//	v1/svc/<svc>                      JSON host.Service
//	v1/fn/<svc>/<fn>                  JSON host.Function (ServiceName comes from the key)
//	v1/trg/<svc>/<fn>/<trg>           JSON host.Trigger (ServiceName, FunctionName from the key)
//	v1/mod/<sha256hex>                the .wasm bytes, content-addressed
//	v1/modref/<sha256hex>             8-byte big-endian count of functions using the module
//	v1/inv/<svc>/<fn>/<order>/<id>    JSON host.Invocation, with a TTL (see Invocation logs)
//	v1/invid/<svc>/<fn>/<id>/<order>  empty, same TTL: the index entry of v1/inv/<svc>/<fn>/<order>/<id>
//	v1/job/<svc>/<fn>/<jid>           JSON host.Job; a TTL once it is done (see Async jobs)
//	v1/jobt/<svc>/<fn>/<ms>/<jid>     the job's Status; same TTL: time index of v1/job/… (StartedTime)
//	v1/jobq/<ms>/<svc>/<fn>/<jid>     empty: the job is queued, due at <ms> (NotBefore); no TTL
//	v1/joblease/<ms>/<svc>/<fn>/<jid> empty: the job is leased until <ms> (LeaseUntil); no TTL
//	v1/acfg/<svc>/<fn>/<qualifier>    JSON host.AsyncConfig; the qualifier is LATEST
//
// <id> is the request id (1 to MaxRequestIDLen bytes, no '/' or control
// character). <order> is 16 lower-case hex digits of math.MaxUint64 minus
// the invocation's Time in Unix nanoseconds, so a prefix scan over
// "v1/inv/<svc>/<fn>/" runs newest first, and one over
// "v1/invid/<svc>/<fn>/<id>/" finds a request's records without reading
// any other.
//
// <jid> is a job's InvocationID, which follows FC's rule for stateful
// invocation ids — the same as host.ValidName's — so it never contains '/'.
// <ms> is 16 lower-case hex digits of a time in Unix milliseconds (negative
// times count as 0), so byte order is time order: a scan over "v1/jobq/"
// meets the jobs in the order they fall due and stops at the first one not
// yet due; one over "v1/joblease/" meets leases in the order they end; one
// over "v1/jobt/<svc>/<fn>/" lists a function's jobs by StartedTime, either
// way.
//
// Open refuses a database whose schema version is newer than this package
// knows (ErrSchemaTooNew); a future v2 layout lives beside v1 under its own
// prefix and is migrated on open.
//
// # Transactions and concurrency
//
// A Store is safe for concurrent use. Every change, however many keys it
// touches (a function and its module reference count, a function and all its
// triggers), is one Badger transaction: nothing is ever half-written. The
// exception is PutInvocations, which commits a batch too large for one
// transaction in several; after a failed commit some records may be stored
// and, rarely, one without its index entry.
// Badger's optimistic transactions fail with a conflict when another
// transaction wrote a key this one read; such a change is re-run, at most
// maxAttempts times, after which the caller gets a KindConflict error.
// Creating a child rewrites its parent's key unchanged so that a concurrent
// delete of the parent (which scans for children) conflicts instead of
// leaving an orphan.
//
// # Modules
//
// Modules are stored once per SHA-256. A function's CodeChecksum holds a
// reference; the module is deleted in the transaction that drops its last
// reference (DeleteFunction, or UpdateFunction switching code). A module
// stored with PutModule and never referenced stays until
// DeleteModuleIfUnused removes it; CreateFunction and UpdateFunction accept
// the code bytes directly, which stores and references them in one
// transaction and avoids the window between PutModule and CreateFunction in
// which a concurrent DeleteFunction could drop a shared module.
//
// # Invocation logs
//
// Invocation records are logs, not metadata: PutInvocations stores them
// without reading anything, so it never conflicts with other writes and
// does not check that the function exists, and ListInvocations of a
// function that has none — or does not exist — is an empty page. Every
// record and its index entry expire Options.InvocationRetention (default
// 72h) after they were written; Badger hides expired entries from reads at
// once and drops them from disk at compaction. Expiry follows the wall
// clock, not Options.Now.
//
// DeleteFunction leaves a function's records to expire: a busy function
// has millions, too many for the one bounded transaction a delete is. A
// function created again under the same name therefore lists its
// predecessor's recent records, as FC's logs, kept by name, would.
//
// InvocationWriter batches records from the invocation path in the
// background; Record never blocks and drops what its buffer cannot hold.
//
// # Async jobs
//
// A job (host.Job) is one asynchronous invocation, stored before the caller
// gets 202 and kept until it is done: at-least-once delivery rests on
// "acknowledged means committed" (with SyncWrites, committed to the disk)
// and on a job never leaving the queue except into a lease, or a lease
// except back into the queue or to a final state. Its index entries are
// derived from the record alone, in the transaction that writes it, so they
// cannot disagree with it:
//
//   - with Status finished and no destination pending, the record and its
//     time index expire Options.JobRetention (default 72h) after that
//     write, and the job has no queue or lease entry (LeaseUntil is
//     cleared);
//   - otherwise, with LeaseUntil > 0, it has a lease entry;
//   - otherwise it is queued (Enqueued, Retrying, or finished with its
//     destination pending) and has a queue entry, due at NotBefore. A
//     Running job without a lease would be in neither and is refused.
//
// Unfinished jobs never expire. ClaimJobs moves due jobs from the queue
// into leases; RequeueLeased moves ended leases back (and, at start-up,
// every lease). Both scan from an in-memory mark below which the index
// has no entry, so they do not walk the tombstones Badger keeps of the
// entries of jobs that left it (the mark starts at 0 on Open).
// DeleteFunction leaves a function's jobs alone (the engine finishes them
// as Invalid, so no accepted job disappears unseen) and deletes its async
// config with its triggers.
//
// ClaimJobs asks its accept callback before it reads a job, so the engine
// can leave a busy function's jobs in the queue without a write (or
// postpone them with one). UpdateJobs is UpdateJob for many jobs at once,
// each still all or nothing; the engine stores a batch of outcomes with it.
//
// Concurrent EnqueueJob, UpdateJob and UpdateJobs calls share transactions
// (a group commit), each call still all or nothing: Badger syncs its write-ahead
// log once per transaction (with SyncWrites), not once per batch of
// concurrent commits, so this is what lets many submissions share a sync.
// UpdateJob's mutate may therefore run on another caller's goroutine.
//
// An async config (host.AsyncConfig) is metadata of its function: storing
// one needs the function, and rewrites the function's key so that a
// concurrent DeleteFunction conflicts instead of racing.
//
// # Errors
//
// Every error is a *host.Error with Op "store.<Method>". Its Kind is
// host.KindNotFound, KindConflict (already exists, or too many transaction
// conflicts), KindNotEmpty (a service that still has functions),
// KindInvalidArgument (bad name or field) or KindInternal (Badger failed);
// InvocationWriter's Flush and Close return KindCanceled when their context
// ends first.
// An error returned by an Update method's mutate function aborts the update;
// a *host.Error comes back unchanged (so the HTTP layer can, say, fail an
// If-Match precondition with its own Kind), anything else is wrapped as
// KindInternal and still found by errors.Is.
//
// For the first three Kinds, Err is a *ResourceError naming the resource, so the
// HTTP layer can pick FC's code:
//
//	var re *store.ResourceError
//	if errors.As(err, &re) { code = re.Resource.String() + suffix(host.ErrorKind(err)) }
//	// service + not found → ServiceNotFound, function + conflict → FunctionAlreadyExists, …
//
// A job is ResourceJob, named "svc/fn/invocationId"; its String,
// "StatefulAsyncInvocation", gives FC's StatefulAsyncInvocationNotFound and
// StatefulAsyncInvocationAlreadyExists. An async config is
// ResourceAsyncConfig, named "svc/fn" ("AsyncConfigNotFound"; FC itself
// answers AsyncConfigNotExists, which the HTTP layer must spell).
//
// # Bytes
//
// PutModule, CreateFunction and UpdateFunction read the code slice only
// during the call (the transaction commits before they return) and never
// modify it; GetModule returns a fresh slice the caller owns. No method keeps or
// returns memory borrowed from Badger.
package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/rs/zerolog"

	"github.com/fnhost/fnhost/host"
)

// SchemaVersion is the key-schema version this package reads and writes.
const SchemaVersion = 1

// ErrSchemaTooNew is wrapped by Open when the database was written by a
// newer fnhost with a key schema this package does not know.
var ErrSchemaTooNew = errors.New("store schema is newer than this fnhost supports")

// maxAttempts bounds the re-runs of a transaction that hit a conflict;
// between runs the store sleeps a random time below a bound that doubles
// from minBackoff up to maxBackoff.
const (
	maxAttempts = 64
	minBackoff  = 50 * time.Microsecond
	maxBackoff  = 5 * time.Millisecond
)

// Options configures Open. The zero value is a durable-against-crash
// (not against power loss) on-disk store that logs nothing.
type Options struct {
	// SyncWrites makes every commit fsync before it returns, so an
	// acknowledged change survives power loss (≈20× slower commits). With
	// false a commit survives a process crash but not a hard reboot.
	SyncWrites bool
	// Logger receives Badger's warnings and errors (its info and debug
	// messages at debug level). The zero Logger discards everything.
	Logger zerolog.Logger
	// InMemory keeps everything in memory and ignores dir; for tests.
	InMemory bool
	// Now returns the current time for CreatedTime/LastModifiedTime (and
	// the Time of an invocation record that has none); nil means time.Now.
	// Record expiry does not use it: Badger expires entries by the wall
	// clock.
	Now func() time.Time
	// InvocationRetention is how long invocation records are kept after
	// they are written; 0 means DefaultInvocationRetention, negative is an
	// error. Badger keeps TTLs in whole seconds, so less than a second is
	// raised to one.
	// A changed value applies to records written from then on.
	InvocationRetention time.Duration
	// JobRetention is how long a finished job (one with no destination
	// left to deliver) is kept after it finished, for the stateful
	// invocation API and to refuse its InvocationID again; 0 means
	// DefaultJobRetention, negative is an error, less than a second is
	// raised to one. Unfinished jobs are kept until they finish.
	JobRetention time.Duration
}

// Store is the Badger-backed management store. Safe for concurrent use.
type Store struct {
	db           *badger.DB
	now          func() time.Time
	retention    time.Duration // of invocation records
	jobRetention time.Duration // of finished jobs
	log          zerolog.Logger
	// Where the job queue and the leases start: see indexMark.
	queueMark, leaseMark indexMark
	jobGroup             jobGroup // group commit of EnqueueJob and UpdateJob
}

// Open opens (creating if needed) the store in dir. Only one process may
// have a directory open at a time.
func Open(dir string, opts Options) (*Store, error) {
	const op = "store.Open"
	retention := opts.InvocationRetention
	switch {
	case retention < 0:
		return nil, invalid(op, fmt.Errorf("invocation retention %v is negative", retention))
	case retention == 0:
		retention = DefaultInvocationRetention
	case retention < time.Second:
		retention = time.Second
	}
	jobRetention, err := retentionOption(opts.JobRetention, DefaultJobRetention)
	if err != nil {
		return nil, invalid(op, fmt.Errorf("job retention: %w", err))
	}
	bo := badger.DefaultOptions(dir).
		WithSyncWrites(opts.SyncWrites).
		WithLogger(badgerLogger{opts.Logger}).
		WithNumVersionsToKeep(1)
	if opts.InMemory {
		bo = bo.WithDir("").WithValueDir("").WithInMemory(true)
	}
	db, err := badger.Open(bo)
	if err != nil {
		return nil, &host.Error{Kind: host.KindInternal, Op: op, Err: fmt.Errorf("open badger in %q: %w", dir, err)}
	}
	s := &Store{db: db, now: opts.Now, retention: retention, jobRetention: jobRetention, log: opts.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.checkSchema(); err != nil {
		db.Close()
		return nil, &host.Error{Kind: host.KindInternal, Op: op, Err: err}
	}
	return s, nil
}

// checkSchema writes the schema version into a new database and refuses a
// newer one.
func (s *Store) checkSchema() error {
	return s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(keySchema)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return txn.Set(keySchema, []byte(strconv.Itoa(SchemaVersion)))
		}
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		var v int
		if err := item.Value(func(b []byte) error {
			var perr error
			v, perr = strconv.Atoi(string(b))
			return perr
		}); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if v > SchemaVersion {
			return fmt.Errorf("schema version %d, this fnhost knows %d: %w", v, SchemaVersion, ErrSchemaTooNew)
		}
		return nil
	})
}

// Close closes the database. The Store must not be used afterwards.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return &host.Error{Kind: host.KindInternal, Op: "store.Close", Err: err}
	}
	return nil
}

// update runs fn in a read-write transaction, re-running it when Badger
// reports a conflict. Errors fn returns are passed through; Badger's own
// errors become KindInternal (KindConflict after maxAttempts conflicts).
func (s *Store) update(op string, fn func(txn *badger.Txn) error) error {
	var err error
	backoff := minBackoff
	for attempt := range maxAttempts {
		if attempt > 0 {
			time.Sleep(rand.N(backoff))
			backoff = min(2*backoff, maxBackoff)
		}
		err = s.db.Update(fn)
		if !errors.Is(err, badger.ErrConflict) {
			break
		}
	}
	switch {
	case err == nil:
		return nil
	case errors.As(err, new(*host.Error)):
		return err
	case errors.Is(err, badger.ErrConflict):
		return &host.Error{Kind: host.KindConflict, Op: op, Err: fmt.Errorf("gave up after %d transaction conflicts: %w", maxAttempts, err)}
	default:
		return &host.Error{Kind: host.KindInternal, Op: op, Err: err}
	}
}

// view runs fn in a read-only transaction.
func (s *Store) view(op string, fn func(txn *badger.Txn) error) error {
	err := s.db.View(fn)
	if err == nil || errors.As(err, new(*host.Error)) {
		return err
	}
	return &host.Error{Kind: host.KindInternal, Op: op, Err: err}
}

// Resource names the kind of thing a ResourceError is about.
type Resource uint8

const (
	ResourceService Resource = iota + 1
	ResourceFunction
	ResourceTrigger
	ResourceModule
	ResourceJob         // an async job: FC's stateful async invocation
	ResourceAsyncConfig // a function's async invoke config
)

// String returns the FC error-code stem: "Service", "Function", "Trigger",
// "Module", "StatefulAsyncInvocation", "AsyncConfig".
func (r Resource) String() string {
	switch r {
	case ResourceService:
		return "Service"
	case ResourceFunction:
		return "Function"
	case ResourceTrigger:
		return "Trigger"
	case ResourceModule:
		return "Module"
	case ResourceJob:
		return "StatefulAsyncInvocation"
	case ResourceAsyncConfig:
		return "AsyncConfig"
	}
	return "Resource(" + strconv.Itoa(int(r)) + ")"
}

// ResourceError is the Err of a not-found, conflict or not-empty
// *host.Error: which resource, and its path ("svc", "svc/fn",
// "svc/fn/trigger", a module checksum, "svc/fn/invocationId" for a job, or
// "svc/fn" for an async config).
type ResourceError struct {
	Resource Resource
	Name     string
	Kind     host.Kind // the same Kind as the enclosing *host.Error
}

func (e *ResourceError) Error() string {
	var what string
	switch e.Kind {
	case host.KindNotFound:
		what = "not found"
	case host.KindConflict:
		what = "already exists"
	case host.KindNotEmpty:
		what = "is not empty"
	default:
		what = e.Kind.String()
	}
	return lower(e.Resource.String()) + " " + strconv.Quote(e.Name) + " " + what
}

func lower(s string) string {
	if s != "" && 'A' <= s[0] && s[0] <= 'Z' {
		return string(s[0]+'a'-'A') + s[1:]
	}
	return s
}

func resourceErr(kind host.Kind, op string, r Resource, name string) error {
	return &host.Error{Kind: kind, Op: op, Err: &ResourceError{Resource: r, Name: name, Kind: kind}}
}

func invalid(op string, err error) error {
	return &host.Error{Kind: host.KindInvalidArgument, Op: op, Err: err}
}

// badgerLogger routes Badger's logging to zerolog: errors and warnings at
// their levels, Badger's chatty info and debug lines at debug.
type badgerLogger struct{ l zerolog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error().Str("component", "badger").Msgf(trimNL(f), a...)
}
func (b badgerLogger) Warningf(f string, a ...any) {
	b.l.Warn().Str("component", "badger").Msgf(trimNL(f), a...)
}
func (b badgerLogger) Infof(f string, a ...any) {
	b.l.Debug().Str("component", "badger").Msgf(trimNL(f), a...)
}
func (b badgerLogger) Debugf(f string, a ...any) {
	b.l.Trace().Str("component", "badger").Msgf(trimNL(f), a...)
}

func trimNL(s string) string {
	for len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	return s
}

package store

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/fnhost/fnhost/host"
)

// DefaultJobRetention is how long a finished job is kept when
// Options.JobRetention is 0.
const DefaultJobRetention = 72 * time.Hour

// JobListOptions are the query parameters of ListJobs (host.JobListOptions,
// shared with the HTTP layer).
type JobListOptions = host.JobListOptions

// Key layout of jobs; see the package documentation.
const (
	prefixJob      = "v1/job/"
	prefixJobTime  = "v1/jobt/"
	prefixJobQueue = "v1/jobq/"
	prefixJobLease = "v1/joblease/"
)

// Batch sizes: the most jobs ClaimJobs or RequeueLeased rewrite in one
// transaction. A batch that conflicts, or is too big for Badger, is redone
// one job per transaction.
const (
	maxClaimBatch   = 256
	requeueBatch    = 64
	maxClaimRounds  = 4    // scans per ClaimJobs call (beyond n/maxClaimBatch) while others take the jobs it saw
	maxClaimSkip    = 4096 // entries refused by ClaimJobs's accept it passes over in one call
	leaseExpiredMsg = "lease expired: worker presumed dead"
)

func jobKey(svc, fn, id string) []byte { return []byte(prefixJob + svc + "/" + fn + "/" + id) }

func jobTimePrefix(svc, fn string) string { return prefixJobTime + svc + "/" + fn + "/" }

func jobTimeKey(svc, fn string, started int64, id string) []byte {
	return []byte(jobTimePrefix(svc, fn) + msHex(started) + "/" + id)
}

// jobIndexKey is a queue or lease entry: prefix, time, then the job.
func jobIndexKey(prefix string, ms int64, svc, fn, id string) []byte {
	return []byte(prefix + msHex(ms) + "/" + svc + "/" + fn + "/" + id)
}

// msHex is 16 lower-case hex digits of ms, negative counting as 0, so that
// byte order is time order.
func msHex(ms int64) string {
	const digits = "0123456789abcdef"
	var b [16]byte
	v := uint64(max(ms, 0))
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = digits[v&0xf]
		v >>= 4
	}
	return string(b[:])
}

// parseMsHex reverses msHex.
func parseMsHex(s string) (int64, bool) {
	if !validOrder(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil || v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// jobRef is an index entry read by a scan: its key and the job it names.
type jobRef struct {
	key         []byte
	ms          int64
	svc, fn, id string
	// postpone, when not 0, moves the job to this NotBefore (Unix ms)
	// instead of claiming it (see ClaimJobs's accept).
	postpone int64
}

// parseJobIndexKey splits a queue or lease key under prefix.
func parseJobIndexKey(prefix string, k []byte) (jobRef, bool) {
	s := string(k)
	if !strings.HasPrefix(s, prefix) {
		return jobRef{}, false
	}
	p := strings.Split(s[len(prefix):], "/")
	if len(p) != 4 || host.ValidName(p[1]) != nil || host.ValidName(p[2]) != nil || host.ValidName(p[3]) != nil {
		return jobRef{}, false
	}
	ms, ok := parseMsHex(p[0])
	if !ok {
		return jobRef{}, false
	}
	return jobRef{key: []byte(s), ms: ms, svc: p[1], fn: p[2], id: p[3]}, true
}

// jobName is a job's ResourceError name.
func jobName(svc, fn, id string) string { return svc + "/" + fn + "/" + id }

// validJobID checks an InvocationID against FC's rule
// ^[A-Za-z_][A-Za-z0-9_-]{0,127}$, which is host.ValidName's.
func validJobID(id string) error {
	if host.ValidName(id) != nil {
		return fmt.Errorf("invocationId %s: it is 1 to 128 characters: letters, digits, '_' and '-', not starting with a digit or '-'", quoteID(id))
	}
	return nil
}

func validJobPath(svc, fn, id string) error {
	if err := host.ValidName(svc); err != nil {
		return fmt.Errorf("service: %w", err)
	}
	if err := host.ValidName(fn); err != nil {
		return fmt.Errorf("function: %w", err)
	}
	return validJobID(id)
}

func knownJobStatus(s host.JobStatus) bool {
	switch s {
	case host.JobEnqueued, host.JobRunning, host.JobRetrying, host.JobSucceeded, host.JobFailed,
		host.JobStopped, host.JobExpired, host.JobInvalid:
		return true
	}
	return false
}

// jobDone reports whether j is finished with nothing left to deliver: it
// expires and is in neither queue nor lease.
func jobDone(j *host.Job) bool {
	return j.Status.Finished() && j.DestinationStatus != host.DestinationPending
}

// jobIndex is the queue or lease key j's state calls for, nil for none.
// It does not check the state: see placeJob.
func jobIndex(j *host.Job) []byte {
	switch {
	case jobDone(j):
		return nil
	case j.LeaseUntil > 0:
		return jobIndexKey(prefixJobLease, j.LeaseUntil, j.ServiceName, j.FunctionName, j.InvocationID)
	case j.Status == host.JobEnqueued || j.Status == host.JobRetrying || j.Status.Finished():
		return jobIndexKey(prefixJobQueue, j.NotBefore, j.ServiceName, j.FunctionName, j.InvocationID)
	}
	return nil
}

// placeJob checks that j's state can be stored: a known status, and a
// place in the queue or a lease unless it is done. It clears the lease of
// a done job.
func placeJob(j *host.Job) error {
	if !knownJobStatus(j.Status) {
		return fmt.Errorf("job %s: unknown status %q", quoteID(j.InvocationID), j.Status)
	}
	if jobDone(j) {
		j.LeaseUntil = 0
		return nil
	}
	if j.LeaseUntil <= 0 && j.Status == host.JobRunning {
		// Neither queued nor leased: nothing would ever run it again.
		return fmt.Errorf("job %s: Running without a lease (leaseUntil %d)", quoteID(j.InvocationID), j.LeaseUntil)
	}
	return nil
}

// jobWrite is a job encoded for storage, with every key its state calls
// for.
type jobWrite struct {
	key, val  []byte
	timeKey   []byte
	status    []byte // the time index's value
	index     []byte // queue or lease entry, nil for none
	indexMs   int64  // the time in index
	expiresAt uint64 // Badger expiry of key and timeKey, 0 for never
}

// encodeJob checks j's state (see placeJob, which may clear its lease) and
// encodes it; a done job expires at expiresAt.
func encodeJob(j *host.Job, expiresAt uint64) (jobWrite, error) {
	if err := placeJob(j); err != nil {
		return jobWrite{}, err
	}
	val, err := json.Marshal(j)
	if err != nil {
		return jobWrite{}, fmt.Errorf("encode job %s: %w", quoteID(j.InvocationID), err)
	}
	w := jobWrite{
		key:     jobKey(j.ServiceName, j.FunctionName, j.InvocationID),
		val:     val,
		timeKey: jobTimeKey(j.ServiceName, j.FunctionName, j.StartedTime, j.InvocationID),
		status:  []byte(j.Status),
		index:   jobIndex(j),
	}
	switch {
	case w.index == nil:
		w.expiresAt = expiresAt
	case j.LeaseUntil > 0:
		w.indexMs = j.LeaseUntil
	default:
		w.indexMs = j.NotBefore
	}
	return w, nil
}

// indexMark remembers where the first entry of an index (the queue, the
// leases) may be, so that scans need not walk over the entries of jobs
// that left it: Badger keeps deleted keys as tombstones until compaction,
// and at thousands of jobs a second a scan from the prefix would walk
// through hundreds of thousands of them.
//
// Every entry is at ms or later, except entries whose writer has
// committed but not yet called lower (it does right after). Lowering is
// always safe; a scan raises the mark only to the first entry in its
// snapshot and only if no write lowered it since the scan read it (gen), so
// an entry its snapshot missed cannot end up below the mark.
type indexMark struct {
	mu  sync.Mutex
	ms  int64
	gen uint64 // counts lower calls
}

func (m *indexMark) get() (int64, uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ms, m.gen
}

// lower is called after each commit that may have written an entry at ms.
func (m *indexMark) lower(ms int64) {
	m.mu.Lock()
	m.ms = min(m.ms, max(ms, 0))
	m.gen++
	m.mu.Unlock()
}

// raise moves the mark up to ms, where a scan that read the mark at gen
// found the first entry, unless an entry was written since.
func (m *indexMark) raise(gen uint64, ms int64) {
	m.mu.Lock()
	if m.gen == gen && ms > m.ms {
		m.ms = ms
	}
	m.mu.Unlock()
}

// noteIndex lowers the mark of the index w wrote in. It runs after the
// commit, whatever its outcome.
func (s *Store) noteIndex(w *jobWrite) {
	switch {
	case w.index == nil:
	case bytes.HasPrefix(w.index, []byte(prefixJobLease)):
		s.leaseMark.lower(w.indexMs)
	default:
		s.queueMark.lower(w.indexMs)
	}
}

// oldEntries are the index entries of a stored job, which a rewrite
// replaces.
type oldEntries struct{ index, timeKey []byte }

func entriesOf(j *host.Job) oldEntries {
	return oldEntries{jobIndex(j), jobTimeKey(j.ServiceName, j.FunctionName, j.StartedTime, j.InvocationID)}
}

// apply writes w in txn, first deleting the entries of the job's previous
// state (nil for a new job) that w does not rewrite.
func (w *jobWrite) apply(txn *badger.Txn, old *oldEntries) error {
	if old != nil {
		if old.index != nil && !bytes.Equal(old.index, w.index) {
			if err := txn.Delete(old.index); err != nil {
				return err
			}
		}
		if !bytes.Equal(old.timeKey, w.timeKey) {
			if err := txn.Delete(old.timeKey); err != nil {
				return err
			}
		}
	}
	if err := txn.SetEntry(&badger.Entry{Key: w.key, Value: w.val, ExpiresAt: w.expiresAt}); err != nil {
		return err
	}
	if err := txn.SetEntry(&badger.Entry{Key: w.timeKey, Value: w.status, ExpiresAt: w.expiresAt}); err != nil {
		return err
	}
	if w.index != nil {
		return txn.Set(w.index, nil)
	}
	return nil
}

// jobExpiry is the Badger expiry of a job finished now: by the wall clock,
// as Badger expires entries.
func (s *Store) jobExpiry() uint64 { return uint64(time.Now().Add(s.jobRetention).Unix()) }

// retentionOption applies the rules of the Options retention fields.
func retentionOption(d, def time.Duration) (time.Duration, error) {
	switch {
	case d < 0:
		return 0, fmt.Errorf("%v is negative", d)
	case d == 0:
		return def, nil
	case d < time.Second:
		return time.Second, nil
	}
	return d, nil
}

// EnqueueJob stores a new job, as given, with its index entries, in one
// transaction; when it returns nil the job is committed (with
// Options.SyncWrites, on disk) and the caller may acknowledge it. It does
// not check that the function exists.
//
// The job's ServiceName, FunctionName and InvocationID name it; a job with
// the same names that has not yet expired is a KindConflict error
// (ResourceJob, "svc/fn/invocationId"). Bad names, an InvocationID that
// does not follow FC's rule ^[A-Za-z_][A-Za-z0-9_-]{0,127}$, an unknown
// Status, or a Running job without a lease are KindInvalidArgument. j's
// slices are read only during the call.
func (s *Store) EnqueueJob(j host.Job) error {
	const op = "store.EnqueueJob"
	if err := validJobPath(j.ServiceName, j.FunctionName, j.InvocationID); err != nil {
		return invalid(op, err)
	}
	w, err := encodeJob(&j, s.jobExpiry())
	if err != nil {
		return invalid(op, err)
	}
	return s.commitJob(op, func(txn *badger.Txn) (*jobWrite, *oldEntries, error) {
		_, err := txn.Get(w.key)
		switch {
		case err == nil:
			return nil, nil, resourceErr(host.KindConflict, op, ResourceJob, jobName(j.ServiceName, j.FunctionName, j.InvocationID))
		case !errors.Is(err, badger.ErrKeyNotFound):
			return nil, nil, err
		}
		s.jobGroup.cache.put(&w, &j)
		return &w, nil, nil
	})
}

// maxJobGroup bounds the calls one group transaction serves.
const maxJobGroup = 256

// jobGroup is the group commit of EnqueueJob and UpdateJob. Badger syncs
// its log once per transaction (SyncWrites), however many concurrent
// commits it writes together, so each call in its own transaction would
// cost a sync each; instead concurrent calls share transactions.
//
// A call that finds no commit in progress leads: it takes the calls
// waiting (its own first), runs them in one transaction, answers each,
// and passes the lead to the first call that arrived meanwhile, which does
// the same. While one group commits the next gathers: no call waits on a
// timer, a call alone commits at once, and leading costs a caller one
// group's commit. A group that conflicts with another transaction, or is
// too big for one, is split in two and each half tried again; a single
// call runs as its own transaction, retried on conflict.
type jobGroup struct {
	mu      sync.Mutex
	pending []*jobCall // waiting, in arrival order
	leading bool       // a call is committing, or has been told to
	cache   jobCache   // records the job writes left, for the next rewrite
}

// maxCachedJobs bounds jobCache.
const maxCachedJobs = 8192

// jobCache keeps, for jobs this Store wrote lately that are not done, the
// record as written, encoded and decoded, so that the job's next rewrite
// (the claim after the submission, the outcome after the claim) need not
// decode it: a rewrite reads the stored bytes and, when they are the ones
// cached, takes the cached job instead of decoding them. A write that
// did not commit leaves an entry whose bytes match nothing stored, so it
// is never used; a full cache takes no more entries until some are taken.
type jobCache struct {
	mu sync.Mutex
	m  map[string]cachedJob // by record key
}

type cachedJob struct {
	val []byte   // the record as written (never modified)
	j   host.Job // val decoded; no slice shared with a caller
}

// put records w, the write of j (not shared from now on).
func (c *jobCache) put(w *jobWrite, j *host.Job) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := string(w.key)
	if w.index == nil { // done: not rewritten again
		delete(c.m, k)
		return
	}
	if c.m == nil {
		c.m = map[string]cachedJob{}
	}
	if _, ok := c.m[k]; !ok && len(c.m) >= maxCachedJobs {
		return
	}
	c.m[k] = cachedJob{val: w.val, j: cloneJob(j)}
}

// take removes the entry of key and returns its job if it was written as
// val.
func (c *jobCache) take(key, val []byte) (host.Job, bool) {
	c.mu.Lock()
	e, ok := c.m[string(key)]
	if ok {
		delete(c.m, string(key))
	}
	c.mu.Unlock()
	if !ok || !bytes.Equal(e.val, val) {
		return host.Job{}, false
	}
	return e.j, true
}

// decodeJob decodes a job record, from the cache when it has it.
func (s *Store) decodeJob(item *badger.Item) (host.Job, error) {
	var j host.Job
	err := item.Value(func(b []byte) error {
		var ok bool
		if j, ok = s.jobGroup.cache.take(item.Key(), b); ok {
			return nil
		}
		return json.Unmarshal(b, &j)
	})
	return j, err
}

// readJob is getJob through the cache.
func (s *Store) readJob(txn *badger.Txn, op, svc, fn, id string) (host.Job, error) {
	key := jobKey(svc, fn, id)
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return host.Job{}, resourceErr(host.KindNotFound, op, ResourceJob, jobName(svc, fn, id))
	}
	if err != nil {
		return host.Job{}, err
	}
	j, err := s.decodeJob(item)
	if err != nil {
		return host.Job{}, fmt.Errorf("decode %q: %w", key, err)
	}
	return j, nil
}

// cloneJob copies j with slices of its own.
func cloneJob(j *host.Job) host.Job {
	c := *j
	c.Events = slices.Clone(j.Events)
	c.Request.Headers = slices.Clone(j.Request.Headers)
	c.Request.Body = bytes.Clone(j.Request.Body)
	if j.Result != nil {
		r := *j.Result
		r.Headers = slices.Clone(r.Headers)
		r.Body = bytes.Clone(r.Body)
		c.Result = &r
	}
	return c
}

// jobCall is one call waiting in the group.
type jobCall struct {
	op string
	// prepare reads what the call needs in txn and returns the write to
	// make and the entries it replaces, or an error that is the call's
	// answer (nothing written). It may run more than once.
	prepare func(txn *badger.Txn) (*jobWrite, *oldEntries, error)
	w       *jobWrite     // the write made by the last prepare
	err     error         // the answer, set before done is closed
	done    chan struct{} // closed once err is set
	// lead receives when the call is to lead the next group. The calls of
	// one UpdateJobs share it: their caller leads for any of them.
	lead chan struct{}
}

// errGroupAborted answers calls of a group whose leader failed before it
// could (a bug: cannot happen).
var errGroupAborted = errors.New("group commit aborted")

// commitJob runs prepare and its write in a group transaction and
// returns the call's answer.
func (s *Store) commitJob(op string, prepare func(*badger.Txn) (*jobWrite, *oldEntries, error)) error {
	c := &jobCall{op: op, prepare: prepare}
	s.commitJobs([]*jobCall{c})
	return c.err
}

// commitJobs queues calls, in order, for the group commit and returns
// once each has its answer, leading groups whenever the lead comes to one
// of them.
func (s *Store) commitJobs(calls []*jobCall) {
	lead := make(chan struct{}, 1)
	for _, c := range calls {
		c.err, c.done, c.lead = errGroupAborted, make(chan struct{}), lead
	}
	g := &s.jobGroup
	g.mu.Lock()
	g.pending = append(g.pending, calls...)
	leading := g.leading
	g.leading = true
	g.mu.Unlock()
	if !leading {
		s.leadJobGroup()
	}
	for _, c := range calls {
	wait:
		for {
			select {
			case <-c.done:
				break wait
			case <-lead: // the previous leader left one of these calls first in line
				s.leadJobGroup()
			}
		}
	}
}

// leadJobGroup commits one group, then hands the lead on.
func (s *Store) leadJobGroup() {
	g := &s.jobGroup
	g.mu.Lock()
	n := min(len(g.pending), maxJobGroup)
	group := slices.Clone(g.pending[:n])
	g.pending = g.pending[n:]
	if len(g.pending) == 0 {
		g.pending = nil // let the array go
	}
	g.mu.Unlock()
	defer func() {
		for _, c := range group {
			if c.w != nil {
				s.noteIndex(c.w)
			}
			close(c.done)
		}
		g.mu.Lock()
		if len(g.pending) > 0 {
			g.pending[0].lead <- struct{}{}
		} else {
			g.leading = false
		}
		g.mu.Unlock()
	}()
	s.commitGroup(group)
}

// commitGroup runs group in one transaction and sets each call's answer,
// splitting the group when it conflicts or is too big.
func (s *Store) commitGroup(group []*jobCall) {
	if len(group) == 1 {
		c := group[0]
		c.err = s.update(c.op, func(txn *badger.Txn) error {
			w, old, err := c.run(txn)
			if err != nil {
				return err
			}
			c.w = w
			return w.apply(txn, old)
		})
		return
	}
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	var err error
	for _, c := range group {
		w, old, perr := c.run(txn)
		if perr != nil {
			c.w, c.err = nil, jobErr(c.op, perr)
			continue
		}
		// Another call of the group that reads this job sees this write:
		// the transaction reads its own writes, so the group acts as its
		// calls one after another.
		if err = w.apply(txn, old); err != nil {
			break
		}
		c.w, c.err = w, nil
	}
	if err == nil {
		if err = txn.Commit(); err == nil {
			return
		}
	}
	if errors.Is(err, badger.ErrConflict) || errors.Is(err, badger.ErrTxnTooBig) {
		h := len(group) / 2
		s.commitGroup(group[:h])
		s.commitGroup(group[h:])
		return
	}
	for _, c := range group {
		if c.err == nil {
			c.w, c.err = nil, &host.Error{Kind: host.KindInternal, Op: c.op, Err: err}
		}
	}
}

// run is c.prepare, with a panic (from a caller's mutate) turned into the
// call's error: it runs on another caller's goroutine.
func (c *jobCall) run(txn *badger.Txn) (w *jobWrite, old *oldEntries, err error) {
	defer func() {
		if p := recover(); p != nil {
			w, old, err = nil, nil, &host.Error{Kind: host.KindInternal, Op: c.op, Err: fmt.Errorf("panic: %v", p)}
		}
	}()
	return c.prepare(txn)
}

// jobErr maps an error as Store.update does for a transaction that did
// not conflict.
func jobErr(op string, err error) error {
	if errors.As(err, new(*host.Error)) {
		return err
	}
	return &host.Error{Kind: host.KindInternal, Op: op, Err: err}
}

// GetJob returns a job: KindNotFound (ResourceJob, "svc/fn/invocationId")
// when there is none, or it has expired.
func (s *Store) GetJob(svc, fn, id string) (host.Job, error) {
	const op = "store.GetJob"
	if err := validJobPath(svc, fn, id); err != nil {
		return host.Job{}, invalid(op, err)
	}
	var j host.Job
	err := s.view(op, func(txn *badger.Txn) error {
		var err error
		j, err = getJob(txn, op, svc, fn, id)
		return err
	})
	return j, err
}

func getJob(txn *badger.Txn, op, svc, fn, id string) (host.Job, error) {
	j, ok, err := getJSON[host.Job](txn, jobKey(svc, fn, id))
	if err == nil && !ok {
		err = resourceErr(host.KindNotFound, op, ResourceJob, jobName(svc, fn, id))
	}
	return j, err
}

// UpdateJob applies mutate to the stored job and stores the result with
// the index entries of its new state, in one transaction; it returns the
// stored job. The job's names are kept whatever mutate does. mutate may run
// more than once (on a transaction conflict) and must have no other
// effects; it may run on another caller's goroutine (concurrent updates
// share transactions, as EnqueueJob's do), so it must not call the Store.
// An error from it aborts the update (see mutate errors in the package
// documentation). A new state that cannot be stored (an unknown Status,
// Running without a lease) is KindInvalidArgument.
func (s *Store) UpdateJob(svc, fn, id string, mutate func(*host.Job) error) (host.Job, error) {
	const op = "store.UpdateJob"
	if err := validJobPath(svc, fn, id); err != nil {
		return host.Job{}, invalid(op, err)
	}
	var out host.Job
	err := s.commitJob(op, func(txn *badger.Txn) (*jobWrite, *oldEntries, error) {
		j, err := s.readJob(txn, op, svc, fn, id)
		if err != nil {
			return nil, nil, err
		}
		old := entriesOf(&j)
		if mutate != nil {
			if err := mutate(&j); err != nil {
				return nil, nil, err
			}
		}
		j.ServiceName, j.FunctionName, j.InvocationID = svc, fn, id
		w, err := encodeJob(&j, s.jobExpiry())
		if err != nil {
			return nil, nil, invalid(op, err)
		}
		s.jobGroup.cache.put(&w, &j)
		out = j
		return &w, &old, nil
	})
	if err != nil {
		return host.Job{}, err
	}
	return out, nil
}

// UpdateJobs is UpdateJob for many jobs at once: mutate(i, cur) is
// applied to the stored job named by names[i] (its ServiceName,
// FunctionName and InvocationID; its other fields are not read), and the
// results are stored in as few transactions as the group commit can use
// (a transaction that conflicts or is too big is split, down to one job
// per transaction), so one commit — with SyncWrites one sync — serves many
// jobs. Each job is still updated all or nothing, as UpdateJob does it. It
// returns, for each i, the stored job or UpdateJob's error for it.
//
// The jobs are read, mutated and encoded first, on the caller's goroutine,
// from one snapshot; the group commit then only checks that each record is
// still the version read (else it reads and mutates it again) and writes.
// So mutate follows UpdateJob's rules, may run twice for a job, and is
// never called for two jobs at once. Names should not repeat (a repeated
// job is mutated again in the group commit, after the first update).
func (s *Store) UpdateJobs(names []host.Job, mutate func(i int, cur *host.Job) error) ([]host.Job, []error) {
	const op = "store.UpdateJobs"
	out := make([]host.Job, len(names))
	errs := make([]error, len(names))
	// pre is an update prepared from the snapshot: valid while the record
	// is still at version.
	type pre struct {
		ok      bool
		version uint64
		w       *jobWrite
		old     *oldEntries
		err     error // mutate's or encodeJob's: the answer, with nothing written
	}
	pres := make([]pre, len(names))
	expires := s.jobExpiry()
	update := func(i int, j *host.Job) (*jobWrite, *oldEntries, error) {
		old := entriesOf(j)
		if mutate != nil {
			if err := mutate(i, j); err != nil {
				return nil, nil, err
			}
		}
		j.ServiceName, j.FunctionName, j.InvocationID = names[i].ServiceName, names[i].FunctionName, names[i].InvocationID
		w, err := encodeJob(j, expires)
		if err != nil {
			return nil, nil, invalid(op, err)
		}
		s.jobGroup.cache.put(&w, j)
		out[i] = *j
		return &w, &old, nil
	}
	_ = s.view(op, func(txn *badger.Txn) error {
		for i := range names {
			svc, fn, id := names[i].ServiceName, names[i].FunctionName, names[i].InvocationID
			if validJobPath(svc, fn, id) != nil {
				continue
			}
			item, err := txn.Get(jobKey(svc, fn, id))
			if err != nil {
				continue // the group commit reads it again, and answers
			}
			j, err := s.decodeJob(item)
			if err != nil {
				continue
			}
			p := &pres[i]
			p.ok, p.version = true, item.Version()
			p.w, p.old, p.err = run(op, func() (*jobWrite, *oldEntries, error) { return update(i, &j) })
		}
		return nil
	})
	calls := make([]*jobCall, 0, len(names))
	idx := make([]int, 0, len(names))
	for i := range names {
		svc, fn, id := names[i].ServiceName, names[i].FunctionName, names[i].InvocationID
		if err := validJobPath(svc, fn, id); err != nil {
			errs[i] = invalid(op, err)
			continue
		}
		calls = append(calls, &jobCall{op: op, prepare: func(txn *badger.Txn) (*jobWrite, *oldEntries, error) {
			if p := &pres[i]; p.ok {
				item, err := txn.Get(jobKey(svc, fn, id))
				if err == nil && item.Version() == p.version {
					return p.w, p.old, p.err // unchanged since the snapshot
				}
				p.ok = false // changed: from now on, read and mutate here
			}
			j, err := s.readJob(txn, op, svc, fn, id)
			if err != nil {
				return nil, nil, err
			}
			return update(i, &j)
		}})
		idx = append(idx, i)
	}
	s.commitJobs(calls)
	for k, c := range calls {
		if errs[idx[k]] = c.err; c.err != nil {
			out[idx[k]] = host.Job{}
		}
	}
	return out, errs
}

// run calls f, turning a panic into an error, as the group commit does
// for a call's prepare.
func run(op string, f func() (*jobWrite, *oldEntries, error)) (w *jobWrite, old *oldEntries, err error) {
	defer func() {
		if p := recover(); p != nil {
			w, old, err = nil, nil, &host.Error{Kind: host.KindInternal, Op: op, Err: fmt.Errorf("panic: %v", p)}
		}
	}()
	return f()
}

// ClaimJobs takes up to n queued jobs that are due at now (NotBefore ≤
// now), those due first first, and applies claim to each: the engine sets
// Status Running, Attempts, a lease (LeaseUntil) and an event — or, for a
// finished job whose destination is pending, only the lease. Each job is
// then stored with the index entries of its new state, in one transaction
// per batch (per job when a batch conflicts with another claimer or is too
// big for one transaction), so a job is given to one caller only. It
// returns the claimed jobs, as stored, which the caller owns; fewer than n
// (none) when fewer are due, or other callers took them first.
//
// accept, when not nil, is asked about each due queue entry, in order,
// before its job is read. claim true: the job is claimed (or not returned
// all the same, when another caller took it or it changed). Otherwise the
// scan goes on past the entry, over at most maxClaimSkip refused entries
// per call, and the job stays queued: as it is (not read, not written)
// when postpone is not after now, or else moved to NotBefore = postpone,
// written in the claim's transaction (no event; up to maxClaimBatch
// claims and moves per transaction). The engine uses it to take no more
// jobs of a function than it can run soon, and to move a slow function's
// backlog out of the way of others' jobs.
//
// claim may run more than once for a job (a batch is redone job by job)
// and must have no other effects. It should leave the job leased or
// finished: one still queued and due is returned and stays claimable, and
// a Running job without a lease is refused (KindInvalidArgument). On an
// error, the jobs claimed before it are returned with it: they are leased
// and the caller must run them. accept and claim are called on the
// caller's goroutine, before ClaimJobs returns.
func (s *Store) ClaimJobs(now time.Time, n int, accept func(svc, fn string) (claim bool, postpone int64), claim func(*host.Job)) ([]host.Job, error) {
	const op = "store.ClaimJobs"
	if claim == nil {
		return nil, invalid(op, errors.New("claim is nil"))
	}
	if n <= 0 {
		return nil, nil
	}
	until := now.UnixMilli()
	var (
		out   []host.Job
		after []byte // scan past the last entry seen: taken, by this call or another, or refused
		skip  = maxClaimSkip
	)
	for range maxClaimRounds + n/maxClaimBatch {
		refs, last, err := s.scanJobIndex(op, &s.queueMark, prefixJobQueue, after, until, n-len(out), accept, &skip)
		if err != nil || last == nil {
			return out, err
		}
		after = last
		if len(refs) > 0 {
			got, err := s.rewriteJobs(op, refs, func(j *host.Job) bool { claim(j); return true })
			out = append(out, got...)
			if err != nil || len(out) == n {
				return out, err
			}
		}
		if skip == 0 {
			return out, nil
		}
	}
	return out, nil
}

// RequeueLeased puts every job whose lease has ended at now (LeaseUntil ≤
// now) back in the queue, due at its NotBefore (which has passed):
// LeaseUntil is cleared, and a Running job becomes Retrying with the event
// "lease expired: worker presumed dead" (the attempt it was on stays
// counted). With now zero it
// requeues every leased job: at start-up, no worker of this process holds
// one. It returns how many jobs it requeued.
func (s *Store) RequeueLeased(now time.Time) (int, error) {
	const op = "store.RequeueLeased"
	until := int64(math.MaxInt64)
	at := now
	if now.IsZero() {
		at = s.now()
	} else {
		until = now.UnixMilli()
	}
	atMs := at.UnixMilli()
	requeue := func(j *host.Job) bool {
		j.LeaseUntil = 0
		if j.Status == host.JobRunning {
			j.Status = host.JobRetrying
			j.AddEvent(host.JobRetrying, atMs, leaseExpiredMsg)
		}
		return true
	}
	total := 0
	var after []byte
	for {
		refs, last, err := s.scanJobIndex(op, &s.leaseMark, prefixJobLease, after, until, requeueBatch, nil, nil)
		if err != nil || len(refs) == 0 {
			return total, err
		}
		after = last
		got, err := s.rewriteJobs(op, refs, requeue)
		total += len(got)
		if err != nil {
			return total, err
		}
	}
}

// scanJobIndex returns up to n entries under prefix (queue or lease, with
// its mark) whose time is at most until, in key order, and at most
// maxClaimBatch in all: from the first after the key after, or, when after
// is nil, from the index's mark, which it then raises to the first entry
// it found. With accept, an entry it refuses is passed over, at the cost
// of one of *skip (the scan ends when none is left), or returned with
// postpone set, not counted in n. last is the key of the last entry
// returned or passed over, nil when there was none.
func (s *Store) scanJobIndex(op string, mark *indexMark, prefix string, after []byte, until int64, n int,
	accept func(svc, fn string) (bool, int64), skip *int) (refs []jobRef, last []byte, err error) {
	first := int64(math.MaxInt64) // time of the first entry from the mark on
	markMs, gen := mark.get()     // before the snapshot: see indexMark
	err = s.view(op, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
		defer it.Close()
		start := []byte(prefix + msHex(markMs))
		if after != nil {
			start = append(bytes.Clone(after), 0) // the least key after it
		}
		taken := 0
		for it.Seek(start); it.ValidForPrefix([]byte(prefix)) && taken < n && len(refs) < maxClaimBatch; it.Next() {
			ref, ok := parseJobIndexKey(prefix, it.Item().Key())
			if !ok {
				continue // not a key this package writes
			}
			first = min(first, ref.ms)
			if ref.ms > until {
				break
			}
			last = ref.key
			if accept != nil {
				claim, postpone := accept(ref.svc, ref.fn)
				switch {
				case claim:
				case postpone > until:
					ref.postpone = postpone
					refs = append(refs, ref)
					continue
				default:
					if *skip--; *skip <= 0 {
						return nil
					}
					continue
				}
			}
			refs = append(refs, ref)
			taken++
		}
		return nil
	})
	if err == nil && after == nil {
		mark.raise(gen, first)
	}
	return refs, last, err
}

// rewriteJobs applies f to the jobs behind the index entries refs and
// stores them with their new entries: all in one transaction, or, when it
// conflicts or is too big, each in its own. A job whose entry is gone (or
// no longer its entry: another transaction changed it) is skipped, and so
// is one for which f returns false. A ref with postpone is moved there
// instead (f is not called). It returns the jobs stored, but those
// postponed.
func (s *Store) rewriteJobs(op string, refs []jobRef, f func(*host.Job) bool) ([]host.Job, error) {
	expires := s.jobExpiry()
	var (
		out     []host.Job
		written []jobWrite
	)
	err := s.db.Update(func(txn *badger.Txn) error {
		out, written = out[:0], written[:0]
		for _, ref := range refs {
			j, w, ok, err := s.rewriteJob(txn, op, ref, f, expires)
			if err != nil {
				return err
			}
			if ok {
				written = append(written, w)
				if ref.postpone == 0 {
					out = append(out, j)
				}
			}
		}
		return nil
	})
	for i := range written {
		s.noteIndex(&written[i])
	}
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, badger.ErrConflict), errors.Is(err, badger.ErrTxnTooBig):
		// Another claimer took some of these jobs, or they are too big to
		// move together: one transaction each.
	case errors.As(err, new(*host.Error)):
		return nil, err
	default:
		return nil, &host.Error{Kind: host.KindInternal, Op: op, Err: err}
	}
	out = out[:0]
	for _, ref := range refs {
		var (
			j  host.Job
			w  jobWrite
			ok bool
		)
		err := s.update(op, func(txn *badger.Txn) error {
			var err error
			j, w, ok, err = s.rewriteJob(txn, op, ref, f, expires)
			return err
		})
		s.noteIndex(&w)
		if err != nil {
			return out, err
		}
		if ok && ref.postpone == 0 {
			out = append(out, j)
		}
	}
	return out, nil
}

// rewriteJob is rewriteJobs for one job in txn.
func (s *Store) rewriteJob(txn *badger.Txn, op string, ref jobRef, f func(*host.Job) bool, expires uint64) (host.Job, jobWrite, bool, error) {
	// Reading the record makes a concurrent claim or update of the job,
	// which writes the record, a conflict; the record says whether ref is
	// still its entry.
	item, err := txn.Get(jobKey(ref.svc, ref.fn, ref.id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		// Gone with its entry since the scan (expired), or an entry
		// without its record, which no write of this package leaves but
		// which must not stop the queue.
		return host.Job{}, jobWrite{}, false, txn.Delete(ref.key)
	}
	if err != nil {
		return host.Job{}, jobWrite{}, false, err
	}
	j, err := s.decodeJob(item)
	if err != nil {
		// Skipped, and left in place for a person to look at.
		s.log.Error().Err(err).Str("key", string(item.Key())).Msg("job record does not decode; skipped")
		return host.Job{}, jobWrite{}, false, nil
	}
	old := entriesOf(&j)
	if !bytes.Equal(old.index, ref.key) {
		// Taken or moved since the scan (or, which no write of this
		// package does, an entry left behind): not this job's entry.
		if _, err := txn.Get(ref.key); err == nil {
			s.log.Error().Str("key", string(ref.key)).Msg("stale job index entry; deleted")
			return host.Job{}, jobWrite{}, false, txn.Delete(ref.key)
		}
		return host.Job{}, jobWrite{}, false, nil
	}
	if ref.postpone > 0 {
		j.NotBefore = ref.postpone
	} else if !f(&j) {
		return host.Job{}, jobWrite{}, false, nil
	}
	j.ServiceName, j.FunctionName, j.InvocationID = ref.svc, ref.fn, ref.id
	w, err := encodeJob(&j, expires)
	if err != nil {
		return host.Job{}, jobWrite{}, false, invalid(op, err)
	}
	if err := w.apply(txn, &old); err != nil {
		return host.Job{}, jobWrite{}, false, err
	}
	s.jobGroup.cache.put(&w, &j)
	return j, w, true, nil
}

// ListJobs returns one page of a function's jobs, as FC's
// ListStatefulAsyncInvocations does, and the next page's token ("" on the
// last page). A function without jobs — or that does not exist — gives an
// empty page.
//
// Jobs are sorted by StartedTime (then InvocationID), newest first unless
// SortOrderByTime is "asc"; StartedTimeBegin (inclusive) and
// StartedTimeEnd (exclusive) bound it, 0 meaning no bound. Status and
// InvocationIDPrefix filter. Limit is 20 when 0 and at most 100. Unless
// IncludePayload, InvocationPayload and Request.Body are left out of the
// result (not out of the store).
//
// A bad Status, SortOrderByTime, bound or prefix, a negative Limit, and a
// NextToken this method did not return for the same sort order are
// KindInvalidArgument errors.
func (s *Store) ListJobs(svc, fn string, o JobListOptions) ([]host.Job, string, error) {
	const op = "store.ListJobs"
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
	if o.Status != "" && !knownJobStatus(o.Status) {
		return nil, "", invalid(op, fmt.Errorf("status %q is not a job status", o.Status))
	}
	var desc bool
	switch o.SortOrderByTime {
	case "", "desc":
		desc = true
	case "asc":
	default:
		return nil, "", invalid(op, fmt.Errorf("sortOrderByTime %s: want asc or desc", quoteID(o.SortOrderByTime)))
	}
	if o.StartedTimeBegin < 0 || o.StartedTimeEnd < 0 {
		return nil, "", invalid(op, fmt.Errorf("startedTime bounds %d, %d: negative", o.StartedTimeBegin, o.StartedTimeEnd))
	}
	if p := o.InvocationIDPrefix; p != "" && (len(p) > host.MaxNameLen || !idChars(p)) {
		return nil, "", invalid(op, fmt.Errorf("invocationIdPrefix %s: an invocation id has at most %d letters, digits, '_' and '-'", quoteID(p), host.MaxNameLen))
	}
	var tok string // key suffix "<ms>/<id>" of the page's first job
	if o.NextToken != "" {
		var ok bool
		if tok, ok = parseJobToken(o.NextToken, desc); !ok {
			return nil, "", invalid(op, errors.New("nextToken is not one this listing returned"))
		}
	}

	prefix := jobTimePrefix(svc, fn)
	lo := prefix + msHex(o.StartedTimeBegin) // the least key in range
	hi := prefix + "\xff"                    // above every key in range
	if o.StartedTimeEnd > 0 {
		hi = prefix + msHex(o.StartedTimeEnd)
	}
	start := lo
	if desc {
		start = hi
	}
	if tok != "" {
		if t := prefix + tok; desc {
			start = min(start, t)
		} else {
			start = max(start, t)
		}
	}
	var (
		out  = []host.Job{}
		next string
	)
	err = s.view(op, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix), Reverse: desc, PrefetchValues: true, PrefetchSize: limit + 1})
		defer it.Close()
		for it.Seek([]byte(start)); it.ValidForPrefix([]byte(prefix)); it.Next() {
			item := it.Item()
			k := string(item.Key())
			if desc && k < lo || !desc && k >= hi {
				break
			}
			ms, id, found := strings.Cut(k[len(prefix):], "/")
			if !found || !validOrder(ms) || validJobID(id) != nil || !strings.HasPrefix(id, o.InvocationIDPrefix) {
				continue
			}
			if o.Status != "" {
				var match bool
				if err := item.Value(func(b []byte) error { match = string(b) == string(o.Status); return nil }); err != nil {
					return err
				}
				if !match {
					continue
				}
			}
			if len(out) == limit {
				next = jobToken(desc, k[len(prefix):])
				return nil
			}
			j, ok, err := getJSON[host.Job](txn, jobKey(svc, fn, id))
			if err != nil {
				return err
			}
			if !ok {
				continue // expired between the two reads
			}
			if !o.IncludePayload {
				j.InvocationPayload, j.Request.Body = "", nil
			}
			out = append(out, j)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// idChars reports whether s has only the characters of an invocation id.
func idChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// A job page token is the unpadded base64url of "<a|d>/<ms>/<id>": the
// sort order it is for, then the time-index key suffix of the page's first
// job.
func jobToken(desc bool, suffix string) string {
	o := "a/"
	if desc {
		o = "d/"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(o + suffix))
}

// parseJobToken returns the key suffix of a token issued for the order
// desc.
func parseJobToken(tok string, desc bool) (string, bool) {
	if len(tok) > base64.RawURLEncoding.EncodedLen(2+16+1+host.MaxNameLen) {
		return "", false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(tok) // Strict: only the tokens this package issued
	if err != nil {
		return "", false
	}
	want := "a/"
	if desc {
		want = "d/"
	}
	suffix, ok := strings.CutPrefix(string(b), want)
	ms, id, found := strings.Cut(suffix, "/")
	if !ok || !found || !validOrder(ms) || validJobID(id) != nil {
		return "", false
	}
	return suffix, true
}

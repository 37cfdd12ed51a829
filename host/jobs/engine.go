package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/invoker"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Store keeps jobs durably. *store.Store implements it. Jobs are keyed by
// (service, function, invocation id); every method returns copies the
// caller owns.
type Store interface {
	// EnqueueJob stores a new job. KindConflict if the function already
	// has a job with j.InvocationID.
	EnqueueJob(j host.Job) error
	// ClaimJobs takes up to n due jobs (queued with NotBefore <= now,
	// oldest first), applies claim to each and stores it, returning
	// copies. A job is queued when LeaseUntil == 0 and (Status Enqueued or
	// Retrying, or finished with DestinationStatus ==
	// host.DestinationPending); any job with LeaseUntil > 0 is leased.
	// accept (nil: all) is asked first about each due job's function, in
	// queue order. Unless it answers claim, the claim goes on past the job
	// (a store may bound how far), which stays queued: unwritten, or, when
	// postpone is after now, moved to NotBefore = postpone. accept and
	// claim are called synchronously, before ClaimJobs returns.
	ClaimJobs(now time.Time, n int, accept func(svc, fn string) (claim bool, postpone int64), claim func(*host.Job)) ([]host.Job, error)
	// UpdateJob applies mutate to the stored job and stores the result;
	// an error from mutate aborts the update and is returned as is.
	// KindNotFound when there is no such job.
	UpdateJob(svc, fn, id string, mutate func(*host.Job) error) (host.Job, error)
	// UpdateJobs is UpdateJob for many jobs, each all or nothing, in as
	// few commits as the store can: mutate(i, cur) updates the job named
	// by names[i] (ServiceName, FunctionName, InvocationID; no other
	// field is read). It returns each job as stored, or its error. mutate
	// is never called for two jobs at once.
	UpdateJobs(names []host.Job, mutate func(i int, cur *host.Job) error) ([]host.Job, []error)
	// GetJob returns a job; KindNotFound when there is none.
	GetJob(svc, fn, id string) (host.Job, error)
	// ListJobs returns a page of a function's jobs and the next page's
	// token ("" on the last page).
	ListJobs(svc, fn string, o host.JobListOptions) ([]host.Job, string, error)
	// RequeueLeased puts leased jobs whose LeaseUntil <= now back in the
	// queue (LeaseUntil 0; a Running one becomes Retrying). A zero now
	// requeues every leased job (process start). It returns how many.
	RequeueLeased(now time.Time) (int, error)
	// GetAsyncConfig returns a function's async config; KindNotFound when
	// it has none.
	GetAsyncConfig(svc, fn string) (host.AsyncConfig, error)
}

// Config configures an Engine. Store and Invoker are required; every
// other zero value means the default given.
type Config struct {
	Store   Store
	Invoker *invoker.Invoker
	// Workers bounds the async attempts and destination deliveries
	// running at once, host-wide. Default max(4, 2×GOMAXPROCS). Each
	// function also runs at most half its instances' worth of attempts
	// at once (see the package documentation).
	Workers int
	// LeaseMargin is added to a job's timeout for its lease. Default 30 s.
	LeaseMargin time.Duration
	// PollInterval is how often an idle dispatcher looks for due jobs it
	// was not told about (jobs requeued at Start, leases taken back).
	// Default 200 ms.
	PollInterval time.Duration
	// HTTPClient sends HTTP destinations. Default: a client with a 10 s
	// timeout that does not follow redirects.
	HTTPClient *http.Client
	// AccountID and Region name functions in destination envelopes
	// ("acs:fc:<region>:<account>:services/…"). Region default "local".
	AccountID, Region string
	// Logger receives state changes (debug), delivery give-ups (warn) and
	// store faults and panics (error). The zero value discards.
	Logger zerolog.Logger
	// Registerer receives the engine's metrics. Nil registers nowhere.
	Registerer prometheus.Registerer
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// timing holds the engine's delays; tests shorten them.
type timing struct {
	retryBase, retryCap       time.Duration // guest failures
	throttleBase, throttleCap time.Duration // throttling and host faults
	destBase, destCap         time.Duration // destination deliveries
	destAttempts              int
	reap                      time.Duration // RequeueLeased(now) period
}

var defaultTiming = timing{
	retryBase: time.Second, retryCap: 5 * time.Minute,
	throttleBase: 500 * time.Millisecond, throttleCap: 8 * time.Second,
	destBase: time.Second, destCap: time.Minute,
	destAttempts: 8,
	reap:         5 * time.Second,
}

// hooks let tests act at fixed points of a worker.
type hooks struct {
	beforeRun func(j host.Job) // after the claim, before anything else
}

// Engine is the async engine. It is safe for concurrent use.
type Engine struct {
	cfg   Config
	log   zerolog.Logger
	met   *metrics
	t     timing
	hooks hooks

	wake      chan struct{} // capacity 1: "look for due jobs now"
	quit      chan struct{} // closed by Close
	committed chan struct{} // closed when the committer is done
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup // dispatcher, reaper and workers
	nextDue   atomic.Int64   // earliest NotBefore (Unix ms) the engine scheduled; 0: none
	busy      atomic.Int64   // workers running a task

	mu    sync.Mutex
	state int // stateNew, stateStarted, stateClosed
	// Claimed jobs (see dispatch.go): by job key until their outcome is
	// handed to the committer; attempts in line by function; deliveries.
	claimed     map[string]*task
	fns         map[string]*fnState // by "svc/fn"
	runq        []*fnState          // functions with attempts waiting for a slot
	rr          int                 // where take looks in runq first
	deliveries  []*task
	outstanding int        // claimed jobs whose outcome is not stored yet
	capWait     bool       // the dispatcher waits for outstanding to drop
	closing     bool       // workers take no more tasks
	workCond    *sync.Cond // on mu: a task is ready, or closing
	commits     []commitReq
	commitStop  bool       // Close gave back the last task: the committer ends when done
	commitCond  *sync.Cond // on mu: commits queued, or commitStop

	responses sync.Pool // *host.Response
}

const (
	stateNew = iota
	stateStarted
	stateClosed
)

// New returns an Engine. It registers the metrics with cfg.Registerer; it
// does not touch the store until Start.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil || cfg.Invoker == nil {
		return nil, errors.New("jobs: Store and Invoker are required")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if cfg.LeaseMargin <= 0 {
		cfg.LeaseMargin = 30 * time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 200 * time.Millisecond
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{
			Timeout: 10 * time.Second,
			// A redirect is an answer that is not 2xx: not delivered.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if cfg.Region == "" {
		cfg.Region = "local"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	e := &Engine{
		cfg:       cfg,
		log:       cfg.Logger,
		t:         defaultTiming,
		wake:      make(chan struct{}, 1),
		quit:      make(chan struct{}),
		committed: make(chan struct{}),
		claimed:   map[string]*task{},
		fns:       map[string]*fnState{},
	}
	e.workCond = sync.NewCond(&e.mu)
	e.commitCond = sync.NewCond(&e.mu)
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.met = newMetrics(func() float64 { return float64(e.busy.Load()) })
	if cfg.Registerer != nil {
		if err := e.met.register(cfg.Registerer); err != nil {
			return nil, fmt.Errorf("jobs: register metrics: %w", err)
		}
	}
	return e, nil
}

// Start requeues every job a previous process left leased (it did not
// finish them), then starts the dispatcher, the workers and the
// committer.
func (e *Engine) Start() error {
	e.mu.Lock()
	if e.state != stateNew {
		e.mu.Unlock()
		return errors.New("jobs: Start called twice or after Close")
	}
	e.state = stateStarted
	e.mu.Unlock()
	n, err := e.cfg.Store.RequeueLeased(time.Time{})
	if err != nil {
		e.mu.Lock()
		e.state = stateNew
		e.mu.Unlock()
		return fmt.Errorf("jobs: requeue the jobs left leased: %w", err)
	}
	if n > 0 {
		e.log.Info().Int("jobs", n).Msg("async jobs left running by the previous process requeued")
	}
	e.wg.Add(2 + e.cfg.Workers)
	go e.dispatch()
	go e.reap()
	for range e.cfg.Workers {
		go e.worker()
	}
	go e.committer()
	return nil
}

// Close stops claiming jobs and waits, until ctx is done, for the running
// attempts and deliveries to finish and record their results; claimed
// attempts that have not started go back to the queue as they were. When
// ctx ends first, Close cancels what still waits (for an instance, for an
// HTTP destination) and returns ctx's error; jobs still leased then are
// requeued at the next Start.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	if e.state == stateClosed {
		e.mu.Unlock()
		return nil
	}
	started := e.state == stateStarted
	e.state = stateClosed
	e.closing = true
	e.workCond.Broadcast()
	e.mu.Unlock()
	close(e.quit)
	done := make(chan struct{})
	go func() {
		e.wg.Wait() // dispatcher, reaper, workers: nothing claims or runs any more
		if started {
			e.mu.Lock()
			var waiting []*task
			for _, fs := range e.runq {
				waiting = append(waiting, fs.ready...)
				fs.ready, fs.listed = nil, false
			}
			waiting = append(waiting, e.deliveries...)
			e.runq, e.deliveries = nil, nil
			e.mu.Unlock()
			for _, t := range waiting {
				e.giveBack(t)
			}
			e.mu.Lock()
			e.commitStop = true
			e.commitCond.Signal()
			e.mu.Unlock()
			<-e.committed
		}
		close(done)
	}()
	select {
	case <-done:
		e.cancel()
		return nil
	case <-ctx.Done():
		e.cancel()
		return ctx.Err()
	}
}

// Submit stores a new async invocation and wakes the dispatcher; it
// returns once the Store has it. j carries ServiceName, FunctionName,
// RequestID, Request (owned by the job from now on), TimeoutSeconds (the
// function's timeout), optionally InvocationID (else "inv_" + RequestID,
// or "inv_" + random hex when that is not a valid id) and NotBefore (Unix
// ms, for a delay). Submit fills in the rest from the function's async
// config. Errors: KindInvalidArgument (names, id), KindConflict (the
// function already has a job with that id), the Store's.
func (e *Engine) Submit(j host.Job) (host.Job, error) {
	const op = "jobs.Submit"
	if err := host.ValidName(j.ServiceName); err != nil {
		return host.Job{}, &host.Error{Kind: host.KindInvalidArgument, Op: op, Err: err}
	}
	if err := host.ValidName(j.FunctionName); err != nil {
		return host.Job{}, &host.Error{Kind: host.KindInvalidArgument, Op: op, Err: err}
	}
	if j.RequestID == "" {
		j.RequestID = newRequestID()
	}
	switch {
	case j.InvocationID == "":
		j.InvocationID = "inv_" + j.RequestID
		if !ValidInvocationID(j.InvocationID) {
			j.InvocationID = "inv_" + randomHex(16)
		}
	case !ValidInvocationID(j.InvocationID):
		return host.Job{}, &host.Error{Kind: host.KindInvalidArgument, Op: op,
			Err: fmt.Errorf("invalid invocation id %.64q: 1 to 128 letters, digits, '_' and '-', starting with a letter or '_'", j.InvocationID)}
	}
	retries, maxAge := host.DefaultAsyncRetries, int64(host.DefaultAsyncMaxAge)
	ac, err := e.cfg.Store.GetAsyncConfig(j.ServiceName, j.FunctionName)
	switch {
	case err == nil:
		if ac.MaxAsyncRetryAttempts != nil {
			retries = *ac.MaxAsyncRetryAttempts
		}
		if ac.MaxAsyncEventAgeInSeconds != nil {
			maxAge = *ac.MaxAsyncEventAgeInSeconds
		}
	case host.ErrorKind(err) != host.KindNotFound:
		return host.Job{}, err
	}
	now := e.cfg.Now().UnixMilli()
	if j.Qualifier == "" {
		j.Qualifier = "LATEST"
	}
	j.Status = host.JobEnqueued
	j.StartedTime = now
	j.EndTime = 0
	j.AlreadyRetriedTimes = 0
	j.InvocationErrorMessage = ""
	j.InvocationPayload = string(j.Request.Body)
	j.DestinationStatus = host.DestinationNone
	j.Result = nil
	j.Attempts = 0
	j.LeaseUntil = 0
	j.MaxRetries = retries
	j.MaxAgeSeconds = maxAge
	j.StopRequested = false
	j.Events = nil
	detail := ""
	if j.NotBefore > now {
		detail = "delayed until " + time.UnixMilli(j.NotBefore).UTC().Format(time.RFC3339Nano)
	} else {
		j.NotBefore = now
	}
	j.AddEvent(host.JobEnqueued, now, detail)
	if err := e.cfg.Store.EnqueueJob(j); err != nil {
		return host.Job{}, err
	}
	e.met.accepted.Inc()
	e.noteDue(j.NotBefore, j.ServiceName+"/"+j.FunctionName)
	return j, nil
}

// Get returns a job. KindNotFound when the function has no such job.
func (e *Engine) Get(svc, fn, id string) (host.Job, error) {
	return e.cfg.Store.GetJob(svc, fn, id)
}

// List returns a page of a function's jobs and the next page's token.
// InvocationPayload is cleared unless o.IncludePayload.
func (e *Engine) List(svc, fn string, o host.JobListOptions) ([]host.Job, string, error) {
	jobs, next, err := e.cfg.Store.ListJobs(svc, fn, o)
	if err != nil {
		return nil, "", err
	}
	if !o.IncludePayload {
		for i := range jobs {
			jobs[i].InvocationPayload = ""
		}
	}
	return jobs, next, nil
}

// Stop stops a job: an Enqueued or Retrying one becomes Stopped at once; a
// Running one gets StopRequested (its attempt is not interrupted; when it
// ends the job becomes Stopped, with no more retries and no destination).
// A finished job is a KindConflict error ("invocation already finished
// (Succeeded)"); an unknown one KindNotFound.
func (e *Engine) Stop(svc, fn, id string) (host.Job, error) {
	now := e.cfg.Now().UnixMilli()
	j, err := e.cfg.Store.UpdateJob(svc, fn, id, func(cur *host.Job) error {
		if cur.Status.Finished() {
			return &host.Error{Kind: host.KindConflict, Op: "jobs.Stop",
				Err: fmt.Errorf("invocation already finished (%s)", cur.Status)}
		}
		if cur.Status == host.JobRunning || cur.LeaseUntil > 0 {
			if !cur.StopRequested {
				cur.StopRequested = true
				cur.AddEvent(host.JobRunning, now, "stop requested; the running attempt finishes first")
			}
			return nil
		}
		cur.Status = host.JobStopped
		cur.EndTime = now
		cur.AddEvent(host.JobStopped, now, "stopped by request")
		return nil
	})
	if err != nil {
		return host.Job{}, err
	}
	switch {
	case j.Status == host.JobStopped:
		e.met.finished.WithLabelValues(string(host.JobStopped)).Inc()
	case j.StopRequested:
		// Claimed by this engine and not started yet: it will not start.
		e.mu.Lock()
		if t := e.claimed[jobKey(svc, fn, id)]; t != nil {
			t.stop = true
		}
		e.mu.Unlock()
	}
	return j, nil
}

// ValidInvocationID reports whether id matches FC's stateful invocation id
// pattern ^[A-Za-z_][A-Za-z0-9_-]{0,127}$.
func ValidInvocationID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '_':
		case ('0' <= c && c <= '9' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// newRequestID returns a random UUID-shaped id.
func newRequestID() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func jobKey(svc, fn, id string) string { return svc + "/" + fn + "/" + id }

package jobs

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/fnhost/fnhost/host"
)

// Claiming bounds; see "Concurrency" in the package documentation.
const (
	// maxClaimed bounds the jobs claimed and not yet recorded (waiting
	// for a slot, running, or waiting for their outcome's commit),
	// host-wide.
	maxClaimed = 1024
	// maxClaimRound bounds the jobs one ClaimJobs call takes.
	maxClaimRound = 256
	// maxReadahead bounds the claimed attempts of one function waiting
	// for a slot, beyond its async cap.
	maxReadahead = 256
	// readaheadWait is how long, by its recent attempts' durations, a
	// function's claimed attempts may wait for a slot.
	readaheadWait = 20 * time.Millisecond
	// postponeAfter: a due job refused for lack of room that should wait
	// longer than this, by its function's pace, is moved to when it should
	// have room (it would hold up the queue scans meanwhile).
	postponeAfter = time.Second
)

// task is a claimed job: an attempt waiting for a slot of its function or
// running, or a destination delivery.
type task struct {
	j    host.Job
	prev host.JobStatus // status before the claim (attempts)
	fn   *fnState       // nil for a delivery
	// Under Engine.mu:
	stop    bool // Stop asked for the job after the claim
	holding bool // holds one of fn's slots
	settled bool // its outcome is with the committer, or it was dropped
}

// fnState is what the engine knows of a function's claimed attempts.
// Every field is under Engine.mu.
type fnState struct {
	key     string
	cap     int           // async cap: 1 until a lookup tells
	ready   []*task       // claimed, waiting for a slot, oldest first
	running int           // attempts holding a slot
	avg     time.Duration // moving average of attempt durations; 0 unknown
	// reserved and skipped count the entries a claim round in progress
	// accepted and refused; refused is set when one was refused for lack
	// of room, and cleared (waking the dispatcher) once the function has
	// room again.
	reserved, skipped int
	refused           bool
	listed            bool // in Engine.runq
	used              bool // active since the reaper last looked
}

// claimedCount is how many attempts of the function are claimed and not
// done running.
func (fs *fnState) claimedCount() int { return len(fs.ready) + fs.running }

// limit is how many attempts of the function may be claimed at once: its
// cap, plus as many as run in readaheadWait at its recent pace (at most
// maxReadahead; one more round of cap while the pace is unknown).
func (fs *fnState) limit() int {
	ra := fs.cap
	if fs.avg > 0 {
		ra = int(min(int64(maxReadahead), int64(fs.cap)*int64(readaheadWait)/int64(fs.avg)))
	}
	return fs.cap + min(ra, maxReadahead)
}

// postpone returns when a job refused for lack of room, the skipped-th
// of the round, should be due again (Unix ms): after the claimed attempts
// and the ones refused before it, at the function's pace (×1–1.25). 0 —
// leave it where it is — when that is less than postponeAfter, or the
// pace is unknown.
func (fs *fnState) postpone(now int64) int64 {
	if fs.avg == 0 {
		return 0
	}
	wait := time.Duration(fs.claimedCount()+fs.skipped) * fs.avg / time.Duration(fs.cap)
	if wait < postponeAfter {
		return 0
	}
	wait += rand.N(wait/4 + 1)
	return now + wait.Milliseconds()
}

// fnFor returns the state of the function key, made if needed. e.mu is
// held.
func (e *Engine) fnFor(key string) *fnState {
	fs := e.fns[key]
	if fs == nil {
		fs = &fnState{key: key, cap: 1}
		e.fns[key] = fs
	}
	fs.used = true
	return fs
}

// roomFreed wakes the dispatcher when a function that had attempts
// refused has room again (half its limit). e.mu is held.
func (e *Engine) roomFreed(fs *fnState) {
	if fs.refused && fs.claimedCount() <= fs.limit()/2 {
		fs.refused = false
		e.signalDispatcher()
	}
}

func (e *Engine) signalDispatcher() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// dispatch claims due jobs while there is room and hands them to the
// workers. It runs until Close.
func (e *Engine) dispatch() {
	defer e.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-e.quit:
			return
		default:
		}
		e.mu.Lock()
		n := min(maxClaimRound, maxClaimed-e.outstanding)
		e.capWait = n <= 0
		e.mu.Unlock()
		if n <= 0 {
			e.idle(timer, false)
			continue
		}
		now := e.cfg.Now()
		ms := now.UnixMilli()
		if nd := e.nextDue.Load(); nd != 0 && nd <= ms {
			e.nextDue.CompareAndSwap(nd, 0) // claimed below (or by a later round)
		}
		var touched []*fnState
		accept := func(svc, fn string) (bool, int64) {
			e.mu.Lock()
			defer e.mu.Unlock()
			fs := e.fnFor(svc + "/" + fn)
			if fs.reserved == 0 && fs.skipped == 0 {
				touched = append(touched, fs)
			}
			if fs.claimedCount()+fs.reserved < fs.limit() {
				fs.reserved++
				return true, 0
			}
			fs.refused = true
			fs.skipped++
			return false, fs.postpone(ms)
		}
		prev := map[string]host.JobStatus{}
		jobs, err := e.cfg.Store.ClaimJobs(now, n, accept, e.claimFunc(ms, prev))
		again := e.enqueue(jobs, prev, touched)
		if err != nil {
			e.log.Error().Err(err).Msg("async: claiming jobs failed")
		} else if again || len(jobs) == n {
			continue // more may be due: claim again
		}
		e.idle(timer, err != nil)
	}
}

// enqueue hands claimed jobs to the workers. It reports whether a
// function that had jobs refused in the round has room all the same (the
// round's reservations did not all turn into jobs): then it is worth
// claiming again at once.
func (e *Engine) enqueue(jobs []host.Job, prev map[string]host.JobStatus, touched []*fnState) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, fs := range touched {
		fs.reserved, fs.skipped = 0, 0
	}
	for i := range jobs {
		j := &jobs[i]
		key := jobKey(j.ServiceName, j.FunctionName, j.InvocationID)
		t := &task{j: *j, prev: prev[key]}
		e.claimed[key] = t
		e.outstanding++
		if j.Status.Finished() {
			e.deliveries = append(e.deliveries, t)
			continue
		}
		fs := e.fnFor(j.ServiceName + "/" + j.FunctionName)
		t.fn = fs
		fs.ready = append(fs.ready, t)
		if !fs.listed {
			fs.listed = true
			e.runq = append(e.runq, fs)
		}
	}
	if len(jobs) > 0 {
		e.workCond.Broadcast()
	}
	again := false
	for _, fs := range touched {
		if fs.refused && fs.claimedCount() <= fs.limit()/2 {
			fs.refused = false
			again = true
		}
	}
	return again
}

// idle waits for a wake-up, the earliest NotBefore the engine knows of, or
// PollInterval (always PollInterval after a store error).
func (e *Engine) idle(timer *time.Timer, afterError bool) {
	wait := e.cfg.PollInterval
	if nd := e.nextDue.Load(); nd != 0 && !afterError {
		if d := time.Duration(nd-e.cfg.Now().UnixMilli()) * time.Millisecond; d < wait {
			wait = max(d, 0)
		}
	}
	timer.Reset(wait)
	select {
	case <-e.wake:
	case <-timer.C:
	case <-e.quit:
	}
	timer.Stop()
}

// claimFunc returns the Store's claim callback: a queued job becomes
// Running with one more attempt; a finished job with a pending destination
// only gets a lease. prev records each job's status before the claim.
func (e *Engine) claimFunc(ms int64, prev map[string]host.JobStatus) func(*host.Job) {
	margin := e.cfg.LeaseMargin.Milliseconds()
	return func(j *host.Job) {
		j.LeaseUntil = ms + int64(max(j.TimeoutSeconds, 0))*1000 + margin
		if j.Status.Finished() {
			return
		}
		prev[jobKey(j.ServiceName, j.FunctionName, j.InvocationID)] = j.Status
		j.Status = host.JobRunning
		j.Attempts++
		j.AddEvent(host.JobRunning, ms, attemptDetail(j.Attempts))
	}
}

func attemptDetail(n int) string { return "attempt " + strconv.Itoa(n) }

// noteDue tells the dispatcher that a job of the function fnKey ("svc/fn";
// "" for any) becomes due at ms (Unix), waking it when that is earlier
// than what it waits for — unless the job is due now and its function
// has no room: the dispatcher is woken when it has.
func (e *Engine) noteDue(ms int64, fnKey string) {
	if fnKey != "" && ms <= e.cfg.Now().UnixMilli() {
		e.mu.Lock()
		fs := e.fns[fnKey]
		full := fs != nil && fs.refused
		e.mu.Unlock()
		if full {
			return
		}
	}
	for {
		cur := e.nextDue.Load()
		if cur != 0 && cur <= ms {
			return
		}
		if e.nextDue.CompareAndSwap(cur, ms) {
			break
		}
	}
	e.signalDispatcher()
}

// reap takes back expired leases (a worker that panicked or hangs) every
// timing.reap, waking the dispatcher when it requeued any, and forgets
// functions idle since its last round.
func (e *Engine) reap() {
	defer e.wg.Done()
	tick := time.NewTicker(e.t.reap)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-e.quit:
			return
		}
		n, err := e.cfg.Store.RequeueLeased(e.cfg.Now())
		switch {
		case err != nil:
			e.log.Error().Err(err).Msg("async: requeueing expired leases failed")
		case n > 0:
			e.log.Warn().Int("jobs", n).Msg("async: jobs whose lease expired requeued")
			e.noteDue(e.cfg.Now().UnixMilli(), "")
		}
		e.mu.Lock()
		for k, fs := range e.fns {
			switch {
			case fs.used || fs.listed || fs.running > 0 || fs.reserved > 0:
				fs.used = false
			case !fs.refused:
				delete(e.fns, k)
			}
		}
		e.mu.Unlock()
	}
}

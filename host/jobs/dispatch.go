package jobs

import (
	"strconv"
	"time"

	"github.com/fnhost/fnhost/host"
)

// dispatch claims due jobs while workers are free and starts a worker for
// each. It runs until Close.
func (e *Engine) dispatch() {
	defer e.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-e.quit: // before a token: both may be ready
			return
		default:
		}
		// Hold a token for every job claimed: never more claims than
		// free workers.
		select {
		case e.sem <- struct{}{}:
		case <-e.quit:
			return
		}
		n := 1
	fill:
		for n < cap(e.sem) {
			select {
			case e.sem <- struct{}{}:
				n++
			default:
				break fill
			}
		}
		now := e.cfg.Now()
		ms := now.UnixMilli()
		if nd := e.nextDue.Load(); nd != 0 && nd <= ms {
			e.nextDue.CompareAndSwap(nd, 0) // claimed below (or by a later round)
		}
		prev := map[string]host.JobStatus{}
		jobs, err := e.cfg.Store.ClaimJobs(now, n, e.claimFunc(ms, prev))
		for range n - len(jobs) {
			<-e.sem
		}
		for _, j := range jobs {
			e.wg.Add(1)
			go e.work(j, prev[jobKey(j.ServiceName, j.FunctionName, j.InvocationID)])
		}
		if err != nil {
			e.log.Error().Err(err).Msg("async: claiming jobs failed")
		} else if len(jobs) == n {
			continue // more may be due: claim again as soon as a worker is free
		}
		e.idle(timer, err != nil)
	}
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

// noteDue tells the dispatcher that a job becomes due at ms (Unix), waking
// it when that is earlier than what it waits for.
func (e *Engine) noteDue(ms int64) {
	for {
		cur := e.nextDue.Load()
		if cur != 0 && cur <= ms {
			return
		}
		if e.nextDue.CompareAndSwap(cur, ms) {
			break
		}
	}
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// reap takes back expired leases (a worker that panicked or hangs) every
// timing.reap, and wakes the dispatcher when it requeued any.
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
			e.noteDue(e.cfg.Now().UnixMilli())
		}
	}
}

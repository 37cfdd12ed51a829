package jobs

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/invoker"
)

// worker runs tasks until the engine closes.
func (e *Engine) worker() {
	defer e.wg.Done()
	for {
		t := e.take()
		if t == nil {
			return
		}
		e.busy.Add(1)
		e.work(t)
		e.busy.Add(-1)
	}
}

// take returns the next task: a delivery, or else the oldest waiting
// attempt of a function below its async cap, functions taking turns. It
// waits for one; nil once the engine closes (waiting attempts are then
// given back by Close).
func (e *Engine) take() *task {
	e.mu.Lock()
	defer e.mu.Unlock()
	for {
		if e.closing {
			return nil
		}
		if len(e.deliveries) > 0 {
			t := e.deliveries[0]
			e.deliveries[0] = nil
			e.deliveries = e.deliveries[1:]
			return t
		}
		for i := range e.runq {
			k := (e.rr + i) % len(e.runq)
			fs := e.runq[k]
			if fs.running >= fs.cap {
				continue
			}
			t := fs.ready[0]
			fs.ready[0] = nil
			fs.ready = fs.ready[1:]
			fs.running++
			t.holding = true
			e.rr = k + 1
			if len(fs.ready) == 0 {
				fs.listed = false
				e.runq = append(e.runq[:k], e.runq[k+1:]...)
				e.rr = k
			}
			if t.stop {
				t.j.StopRequested = true
			}
			return t
		}
		e.workCond.Wait()
	}
}

// work runs one task: an attempt, or the delivery of a finished job's
// destination. A panic is recovered and logged; the job keeps its lease
// and returns to the queue when the lease expires.
func (e *Engine) work(t *task) {
	defer func() {
		if r := recover(); r != nil {
			e.met.panics.Inc()
			e.log.Error().Str("service", t.j.ServiceName).Str("function", t.j.FunctionName).
				Str("invocation_id", t.j.InvocationID).Interface("panic", r).Bytes("stack", debug.Stack()).
				Msg("async: worker panicked; the job returns to the queue when its lease expires")
			e.endRun(t, 0)
			e.drop(t)
		}
	}()
	if t.fn == nil {
		e.deliver(t)
		return
	}
	e.run(t)
}

// endRun gives back t's slot of its function, if it holds one, counting
// an attempt that took d (0: none ran).
func (e *Engine) endRun(t *task, d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !t.holding {
		return
	}
	t.holding = false
	fs := t.fn
	fs.running--
	if d > 0 {
		if fs.avg == 0 {
			fs.avg = d
		} else {
			fs.avg += (d - fs.avg) / 8
		}
	}
	e.workCond.Signal()
	e.roomFreed(fs)
}

// drop forgets a task whose outcome will not be stored: the job keeps
// its lease.
func (e *Engine) drop(t *task) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.forget(t)
}

// forget removes t from the claimed jobs. e.mu is held.
func (e *Engine) forget(t *task) {
	if t.settled {
		return
	}
	t.settled = true
	k := jobKey(t.j.ServiceName, t.j.FunctionName, t.j.InvocationID)
	if e.claimed[k] == t {
		delete(e.claimed, k)
	}
	e.outstanding--
	if e.capWait && e.outstanding <= maxClaimed/2 {
		e.capWait = false
		e.signalDispatcher()
	}
}

// setCap records a function's async cap. False when t, holding one of its
// slots, is over the new cap: t is then back at the head of the line.
func (e *Engine) setCap(t *task, limit int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	fs := t.fn
	if fs.cap != limit {
		grew := limit > fs.cap
		fs.cap = limit
		if grew {
			e.workCond.Broadcast()
			e.roomFreed(fs)
		}
	}
	if fs.running <= fs.cap {
		return true
	}
	fs.running--
	t.holding = false
	fs.ready = append(fs.ready, nil)
	copy(fs.ready[1:], fs.ready)
	fs.ready[0] = t
	if !fs.listed {
		fs.listed = true
		e.runq = append(e.runq, fs)
	}
	return false
}

// run makes one attempt of a claimed (Running) job.
func (e *Engine) run(t *task) {
	j := &t.j
	if e.hooks.beforeRun != nil {
		e.hooks.beforeRun(*j)
	}
	ms := e.cfg.Now().UnixMilli()
	if j.StopRequested { // requested after the claim, or while an earlier attempt ran before a crash
		e.endRun(t, 0)
		e.settle(t, outcome{status: host.JobStopped, giveBack: true, detail: attemptDetail(j.Attempts) + " not run"})
		return
	}
	if j.MaxAgeSeconds > 0 && ms-j.StartedTime > j.MaxAgeSeconds*1000 {
		e.endRun(t, 0)
		msg := "the event is older than maxAsyncEventAgeInSeconds (" + strconv.FormatInt(j.MaxAgeSeconds, 10) + " s)"
		e.settle(t, outcome{status: host.JobExpired, giveBack: true, detail: msg, setErr: true, errMsg: msg,
			dest: e.hasDestination(j, host.JobExpired)})
		return
	}
	entry, err := e.cfg.Invoker.Lookup(e.ctx, j.ServiceName, j.FunctionName)
	if err != nil {
		e.endRun(t, 0)
		if host.ErrorKind(err) == host.KindNotFound {
			msg := "function deleted: " + message(nil, err)
			e.settle(t, outcome{status: host.JobInvalid, giveBack: true, detail: msg, setErr: true, errMsg: msg})
			return
		}
		e.settle(t, e.afterAttempt(j, nil, nil, err))
		return
	}
	if !e.setCap(t, asyncCap(entry)) {
		return // over a lowered cap: waits in line again
	}
	if !e.extendLease(j, entry) {
		e.endRun(t, 0)
		e.drop(t)
		return
	}
	req := requestOf(j)
	res := e.response()
	defer e.putResponse(res)
	e.met.started.Inc()
	start := time.Now()
	err = e.cfg.Invoker.Invoke(e.ctx, entry, req, res)
	e.endRun(t, max(time.Since(start), 1))
	e.settle(t, e.afterAttempt(j, entry, res, err))
}

// asyncCap is how many async attempts of a function may run at once: half
// its pool, at least one.
func asyncCap(entry *invoker.Entry) int {
	return max(1, entry.Pool().Config().MaxInstances/2)
}

// extendLease lengthens the lease when it would not cover the attempt
// with half the margin to spare: the function's timeout grew past the
// job's TimeoutSeconds since submission, or the job waited long for a
// slot. False: the lease is lost (or the store failed); the attempt must
// not run.
func (e *Engine) extendLease(j *host.Job, entry *invoker.Entry) bool {
	to := entry.Pool().Config().Timeout.Milliseconds()
	now := e.cfg.Now().UnixMilli()
	margin := e.cfg.LeaseMargin.Milliseconds()
	if now+to+margin/2 <= j.LeaseUntil {
		return true
	}
	lease := now + to + margin
	_, err := e.cfg.Store.UpdateJob(j.ServiceName, j.FunctionName, j.InvocationID, func(cur *host.Job) error {
		if !holds(cur, j) {
			return errLeaseLost
		}
		cur.LeaseUntil = lease
		return nil
	})
	if err != nil {
		e.storeFailed(j, err)
		return false
	}
	j.LeaseUntil = lease
	return true
}

// guestFailure reports whether an error kind is the function's own
// failure: retried up to MaxRetries, counted.
func guestFailure(k host.Kind) bool {
	switch k {
	case host.KindTrap, host.KindTimeout, host.KindMemoryLimit, host.KindExit, host.KindNoResponse,
		host.KindResponseTooLarge, host.KindBadResponse, host.KindInvalidModule:
		return true
	}
	return false
}

// throttledPrefix starts the detail of a Retrying event that did not
// spend an attempt.
const throttledPrefix = "throttled: "

// afterAttempt is an attempt's outcome. entry and res are nil when the
// function could not be looked up.
func (e *Engine) afterAttempt(j *host.Job, entry *invoker.Entry, res *host.Response, err error) outcome {
	now := e.cfg.Now()
	if err == nil {
		r := resultOf(res)
		return outcome{status: host.JobSucceeded, result: r, setErr: true,
			detail: fmt.Sprintf("%s: HTTP %d in %.3f ms", attemptDetail(j.Attempts), r.Status, r.DurationMs),
			dest:   e.hasDestination(j, host.JobSucceeded)}
	}
	kind := host.ErrorKind(err)
	msg := message(entry, err)
	r := &host.JobResult{ErrorKind: kind.String(), ErrorMessage: msg}
	if res != nil {
		r.LogTail = logTail(res.Log)
		r.DurationMs = durationMs(res.Meter.Duration)
	}
	if !guestFailure(kind) {
		n := throttles(j.Events) + 1
		d := backoff(e.t.throttleBase, e.t.throttleCap, n)
		return outcome{status: host.JobRetrying, result: r, giveBack: true, reason: "throttled",
			notBefore: now.Add(d).UnixMilli(),
			detail:    throttledPrefix + msg + "; next attempt in " + d.Round(time.Millisecond).String()}
	}
	if j.AlreadyRetriedTimes < j.MaxRetries {
		n := j.AlreadyRetriedTimes + 1
		d := backoff(e.t.retryBase, e.t.retryCap, n)
		return outcome{status: host.JobRetrying, result: r, retried: true, reason: "failure",
			notBefore: now.Add(d).UnixMilli(), setErr: true, errMsg: msg,
			detail: fmt.Sprintf("%s failed: %s; retry %d of %d in %s", attemptDetail(j.Attempts), msg, n, j.MaxRetries,
				d.Round(time.Millisecond))}
	}
	return outcome{status: host.JobFailed, result: r, setErr: true, errMsg: msg,
		detail: fmt.Sprintf("%s failed: %s; no retries left (%d allowed)", attemptDetail(j.Attempts), msg, j.MaxRetries),
		dest:   e.hasDestination(j, host.JobFailed)}
}

// throttles counts the attempts throttled in a row at the end of a job's
// history.
func throttles(ev []host.JobEvent) int {
	n := 0
	for i := len(ev) - 1; i >= 0; i-- {
		switch {
		case ev[i].Status == host.JobRunning:
		case ev[i].Status == host.JobRetrying && strings.HasPrefix(ev[i].EventDetail, throttledPrefix):
			n++
		default:
			return n
		}
	}
	return n
}

// backoff is base×2^(n-1), at most limit, times 0.8–1.2.
func backoff(base, limit time.Duration, n int) time.Duration {
	d := limit
	if n >= 1 && n <= 32 {
		if b := base << (n - 1); b > 0 && b < limit {
			d = b
		}
	}
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	return min(d, limit)
}

// outcome is what an attempt (or a decision not to run one) does to a
// job; apply turns it into a store update.
type outcome struct {
	status    host.JobStatus
	detail    string
	result    *host.JobResult // nil keeps the stored one
	setErr    bool            // set InvocationErrorMessage to errMsg
	errMsg    string
	notBefore int64 // next due time of a non-final status
	// giveBack: the function did not run, so the attempt does not count
	// (Attempts-1) and its "attempt N" event is dropped.
	giveBack bool
	retried  bool   // a counted retry: AlreadyRetriedTimes+1
	noEvent  bool   // no event (a give-back)
	dest     bool   // a destination is configured for status
	reason   string // requeue metric label; "" counts none
}

var errLeaseLost = errors.New("the job's lease was taken back")

// holds reports whether cur is still leased by the worker that claimed j.
func holds(cur, j *host.Job) bool {
	return cur.LeaseUntil != 0 && cur.LeaseUntil == j.LeaseUntil && cur.Attempts == j.Attempts
}

// apply makes o's changes to cur, the stored job, at ms. attempt is the
// claimed attempt number. A stop requested meanwhile wins over o.
func apply(cur *host.Job, o outcome, ms int64, attempt int) {
	if o.result != nil {
		cur.Result = o.result
	}
	if o.giveBack {
		cur.Attempts--
		if n := len(cur.Events); n > 1 && cur.Events[n-1].Status == host.JobRunning &&
			cur.Events[n-1].EventDetail == attemptDetail(attempt) {
			cur.Events = cur.Events[:n-1]
		}
	}
	status, detail := o.status, o.detail
	if cur.StopRequested {
		status = host.JobStopped
		detail = "stopped by request" + prefixed("; ", detail)
	} else if o.retried {
		cur.AlreadyRetriedTimes++
	}
	if o.setErr {
		cur.InvocationErrorMessage = o.errMsg
	}
	cur.Status = status
	cur.LeaseUntil = 0
	if status.Finished() {
		cur.EndTime = ms
		cur.NotBefore = ms
		if o.dest && status != host.JobStopped {
			cur.DestinationStatus = host.DestinationPending
		}
	} else {
		cur.NotBefore = o.notBefore
	}
	if !o.noEvent || status == host.JobStopped {
		cur.AddEvent(status, ms, detail)
	}
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// settle hands o, the end of t's attempt, to the committer, which stores
// it if t's lease still holds.
func (e *Engine) settle(t *task, o outcome) {
	j := &t.j
	ms := e.cfg.Now().UnixMilli()
	e.commit(t, func(cur *host.Job) error {
		if !holds(cur, j) {
			return errLeaseLost
		}
		apply(cur, o, ms, j.Attempts)
		return nil
	}, func(out *host.Job, err error) {
		if err != nil {
			e.storeFailed(j, err)
			return
		}
		switch {
		case out.Status.Finished():
			e.met.finished.WithLabelValues(string(out.Status)).Inc()
			if out.DestinationStatus == host.DestinationPending {
				e.noteDue(out.NotBefore, "")
			}
		default:
			if o.reason != "" {
				e.met.retries.WithLabelValues(o.reason).Inc()
			}
			e.noteDue(out.NotBefore, j.ServiceName+"/"+j.FunctionName)
		}
		if o.noEvent && out.Status != host.JobStopped {
			return // give-backs are uneventful
		}
		e.log.Debug().Str("service", j.ServiceName).Str("function", j.FunctionName).
			Str("invocation_id", j.InvocationID).Str("status", string(out.Status)).Int("attempts", out.Attempts).
			Str("detail", o.detail).Msg("async job")
	})
}

// giveBack puts a claimed job whose attempt or delivery did not start back
// in the queue, as if it had not been claimed (Close does it to the
// waiting ones).
func (e *Engine) giveBack(t *task) {
	if t.fn == nil { // a delivery: only the lease to give back
		j := &t.j
		e.commit(t, func(cur *host.Job) error {
			if !holds(cur, j) {
				return errLeaseLost
			}
			cur.LeaseUntil = 0
			return nil
		}, func(_ *host.Job, err error) {
			if err != nil {
				e.storeFailed(j, err)
			}
		})
		return
	}
	st := t.prev
	if st != host.JobEnqueued && st != host.JobRetrying {
		st = host.JobRetrying
	}
	e.settle(t, outcome{status: st, giveBack: true, noEvent: true, notBefore: e.cfg.Now().UnixMilli()})
}

// storeFailed logs a failed update of a claimed job: the job keeps its
// lease and returns to the queue when it expires.
func (e *Engine) storeFailed(j *host.Job, err error) {
	ev := e.log.Error()
	msg := "async: storing a job's state failed; it runs again when its lease expires"
	if errors.Is(err, errLeaseLost) {
		ev = e.log.Warn()
		msg = "async: a job's lease was taken back while its worker ran; that worker's outcome is dropped"
	}
	ev.Err(err).Str("service", j.ServiceName).Str("function", j.FunctionName).
		Str("invocation_id", j.InvocationID).Int("attempt", j.Attempts).Msg(msg)
}

// hasDestination reports whether the function's async config routes
// status somewhere. A store error answers true: the delivery step reads
// the config again and decides.
func (e *Engine) hasDestination(j *host.Job, status host.JobStatus) bool {
	ac, err := e.cfg.Store.GetAsyncConfig(j.ServiceName, j.FunctionName)
	if err != nil {
		if host.ErrorKind(err) == host.KindNotFound {
			return false
		}
		e.log.Error().Err(err).Str("service", j.ServiceName).Str("function", j.FunctionName).
			Msg("async: reading the async config failed; the destination step will read it again")
		return true
	}
	return destinationFor(ac, status) != ""
}

// destinationFor returns the destination configured for a final status,
// or "".
func destinationFor(ac host.AsyncConfig, status host.JobStatus) string {
	dc := ac.DestinationConfig
	if dc == nil {
		return ""
	}
	var d *host.Destination
	switch status {
	case host.JobSucceeded:
		d = dc.OnSuccess
	case host.JobFailed, host.JobExpired:
		d = dc.OnFailure
	}
	if d == nil {
		return ""
	}
	return strings.TrimSpace(d.Destination)
}

// message is the text of a failed attempt: invoker.Message when the
// function was found.
func message(entry *invoker.Entry, err error) string {
	if entry != nil {
		return invoker.Message(entry, err)
	}
	var he *host.Error
	if errors.As(err, &he) && he.Err != nil {
		return he.Kind.String() + ": " + he.Err.Error()
	}
	return err.Error()
}

// requestOf builds the invocation request of j's attempt. It borrows j's
// slices.
func requestOf(j *host.Job) *host.Request {
	r := &j.Request
	hs := make([]host.Header, len(r.Headers))
	for i, h := range r.Headers {
		hs[i] = host.Header{Name: []byte(h[0]), Value: []byte(h[1])}
	}
	path := r.Path
	if path == "" {
		path = "/"
	}
	method := r.Method
	if method == "" {
		method = "POST"
	}
	return &host.Request{
		RequestID: j.RequestID,
		Qualifier: j.Qualifier,
		Attempt:   j.Attempts,
		Method:    []byte(method),
		Path:      []byte(path),
		RawQuery:  []byte(r.RawQuery),
		Headers:   hs,
		ClientIP:  []byte(r.ClientIP),
		Body:      r.Body,
	}
}

// resultOf copies what a job keeps of a response.
func resultOf(res *host.Response) *host.JobResult {
	r := &host.JobResult{Status: res.Status, LogTail: logTail(res.Log), DurationMs: durationMs(res.Meter.Duration)}
	if len(res.Headers) > 0 {
		r.Headers = make([][2]string, len(res.Headers))
		for i, h := range res.Headers {
			r.Headers[i] = [2]string{string(h.Name), string(h.Value)}
		}
	}
	body := res.Body
	if len(body) > host.MaxJobResultBody {
		body, r.BodyTruncated = body[:host.MaxJobResultBody], true
	}
	if len(body) > 0 {
		r.Body = bytes.Clone(body)
	}
	return r
}

const maxLogTail = 4 << 10

// logTail returns the last 4 KB of log, not starting inside a UTF-8
// sequence.
func logTail(log []byte) string {
	if len(log) > maxLogTail {
		log = log[len(log)-maxLogTail:]
		for i := 0; i < 3 && len(log) > 0 && log[0]&0xC0 == 0x80; i++ {
			log = log[1:]
		}
	}
	return string(log)
}

func durationMs(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (e *Engine) response() *host.Response {
	if r, ok := e.responses.Get().(*host.Response); ok {
		return r
	}
	return new(host.Response)
}

// putResponse keeps a response for reuse unless it grew large.
func (e *Engine) putResponse(r *host.Response) {
	if cap(r.Body) > 1<<20 || cap(r.Log) > 1<<20 {
		return
	}
	r.Reset()
	e.responses.Put(r)
}

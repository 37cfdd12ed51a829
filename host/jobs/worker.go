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

// work runs one claimed job: an attempt, or the delivery of a finished
// job's destination. It holds a worker token until it returns. A panic is
// recovered and logged; the job keeps its lease and returns to the queue
// when the lease expires.
func (e *Engine) work(j host.Job, prev host.JobStatus) {
	defer e.wg.Done()
	defer func() { <-e.sem }()
	defer func() {
		if r := recover(); r != nil {
			e.met.panics.Inc()
			e.log.Error().Str("service", j.ServiceName).Str("function", j.FunctionName).
				Str("invocation_id", j.InvocationID).Interface("panic", r).Bytes("stack", debug.Stack()).
				Msg("async: worker panicked; the job returns to the queue when its lease expires")
		}
	}()
	if j.Status.Finished() {
		e.deliver(&j)
		return
	}
	e.run(&j, prev)
}

// run makes one attempt of a claimed (Running) job.
func (e *Engine) run(j *host.Job, prev host.JobStatus) {
	if e.hooks.beforeRun != nil {
		e.hooks.beforeRun(*j)
	}
	ms := e.cfg.Now().UnixMilli()
	if j.StopRequested { // requested while an earlier attempt ran, before a crash
		e.settle(j, outcome{status: host.JobStopped, giveBack: true, detail: attemptDetail(j.Attempts) + " not run"})
		return
	}
	if j.MaxAgeSeconds > 0 && ms-j.StartedTime > j.MaxAgeSeconds*1000 {
		msg := "the event is older than maxAsyncEventAgeInSeconds (" + strconv.FormatInt(j.MaxAgeSeconds, 10) + " s)"
		e.settle(j, outcome{status: host.JobExpired, giveBack: true, detail: msg, setErr: true, errMsg: msg,
			dest: e.hasDestination(j, host.JobExpired)})
		return
	}
	entry, err := e.cfg.Invoker.Lookup(e.ctx, j.ServiceName, j.FunctionName)
	if err != nil {
		if host.ErrorKind(err) == host.KindNotFound {
			msg := "function deleted: " + message(nil, err)
			e.settle(j, outcome{status: host.JobInvalid, giveBack: true, detail: msg, setErr: true, errMsg: msg})
			return
		}
		e.afterAttempt(j, nil, nil, err)
		return
	}
	key := j.ServiceName + "/" + j.FunctionName
	if !e.acquire(key, asyncCap(entry)) {
		e.deferJob(j, prev)
		return
	}
	held := true
	release := func() {
		if held {
			held = false
			e.release(key)
		}
	}
	defer release()
	if !e.extendLease(j, entry) {
		return
	}
	req := requestOf(j)
	res := e.response()
	defer e.putResponse(res)
	e.met.started.Inc()
	err = e.cfg.Invoker.Invoke(e.ctx, entry, req, res)
	release()
	e.afterAttempt(j, entry, res, err)
}

// asyncCap is how many async attempts of a function may run at once: half
// its pool, at least one.
func asyncCap(entry *invoker.Entry) int {
	return max(1, entry.Pool().Config().MaxInstances/2)
}

func (e *Engine) acquire(key string, limit int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.active[key] >= limit {
		return false
	}
	e.active[key]++
	return true
}

func (e *Engine) release(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.active[key]--; e.active[key] <= 0 {
		delete(e.active, key)
	}
}

// deferJob puts back a job whose function is at its async cap, as if it
// had not been claimed, due again in 20–100 ms.
func (e *Engine) deferJob(j *host.Job, prev host.JobStatus) {
	st := prev
	if st != host.JobEnqueued && st != host.JobRetrying {
		st = host.JobRetrying
	}
	d := e.t.deferMin + rand.N(e.t.deferMax-e.t.deferMin+1)
	e.settle(j, outcome{status: st, giveBack: true, noEvent: true,
		notBefore: e.cfg.Now().Add(d).UnixMilli(), reason: "deferred"})
}

// extendLease lengthens the lease when the function's timeout grew past
// the job's TimeoutSeconds since submission. False: the lease is lost (or
// the store failed); the attempt must not run.
func (e *Engine) extendLease(j *host.Job, entry *invoker.Entry) bool {
	to := entry.Pool().Config().Timeout.Milliseconds()
	if to <= int64(j.TimeoutSeconds)*1000 {
		return true
	}
	lease := e.cfg.Now().UnixMilli() + to + e.cfg.LeaseMargin.Milliseconds()
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

// afterAttempt records an attempt's outcome. entry and res are nil when
// the function could not be looked up.
func (e *Engine) afterAttempt(j *host.Job, entry *invoker.Entry, res *host.Response, err error) {
	now := e.cfg.Now()
	if err == nil {
		r := resultOf(res)
		e.settle(j, outcome{status: host.JobSucceeded, result: r, setErr: true,
			detail: fmt.Sprintf("%s: HTTP %d in %.3f ms", attemptDetail(j.Attempts), r.Status, r.DurationMs),
			dest:   e.hasDestination(j, host.JobSucceeded)})
		return
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
		e.settle(j, outcome{status: host.JobRetrying, result: r, giveBack: true, reason: "throttled",
			notBefore: now.Add(d).UnixMilli(),
			detail:    throttledPrefix + msg + "; next attempt in " + d.Round(time.Millisecond).String()})
		return
	}
	if j.AlreadyRetriedTimes < j.MaxRetries {
		n := j.AlreadyRetriedTimes + 1
		d := backoff(e.t.retryBase, e.t.retryCap, n)
		e.settle(j, outcome{status: host.JobRetrying, result: r, retried: true, reason: "failure",
			notBefore: now.Add(d).UnixMilli(), setErr: true, errMsg: msg,
			detail: fmt.Sprintf("%s failed: %s; retry %d of %d in %s", attemptDetail(j.Attempts), msg, n, j.MaxRetries,
				d.Round(time.Millisecond))})
		return
	}
	e.settle(j, outcome{status: host.JobFailed, result: r, setErr: true, errMsg: msg,
		detail: fmt.Sprintf("%s failed: %s; no retries left (%d allowed)", attemptDetail(j.Attempts), msg, j.MaxRetries),
		dest:   e.hasDestination(j, host.JobFailed)})
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
	noEvent  bool   // no event (a deferral)
	dest     bool   // a destination is configured for status
	reason   string // requeue metric label
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

// settle stores o as the end of j's attempt, if j's lease still holds.
func (e *Engine) settle(j *host.Job, o outcome) {
	ms := e.cfg.Now().UnixMilli()
	out, err := e.cfg.Store.UpdateJob(j.ServiceName, j.FunctionName, j.InvocationID, func(cur *host.Job) error {
		if !holds(cur, j) {
			return errLeaseLost
		}
		apply(cur, o, ms, j.Attempts)
		return nil
	})
	if err != nil {
		e.storeFailed(j, err)
		return
	}
	switch {
	case out.Status.Finished():
		e.met.finished.WithLabelValues(string(out.Status)).Inc()
		if out.DestinationStatus == host.DestinationPending {
			e.noteDue(out.NotBefore)
		}
	default:
		e.met.retries.WithLabelValues(o.reason).Inc()
		e.noteDue(out.NotBefore)
	}
	if o.noEvent && out.Status != host.JobStopped {
		return // deferrals are frequent and uneventful
	}
	e.log.Debug().Str("service", j.ServiceName).Str("function", j.FunctionName).
		Str("invocation_id", j.InvocationID).Str("status", string(out.Status)).Int("attempts", out.Attempts).
		Str("detail", o.detail).Msg("async job")
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

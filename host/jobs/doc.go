// Package jobs is fnhost's asynchronous invocation engine: FC 2016-08-15's
// X-Fc-Invocation-Type: Async with stateful invocations (fc-compat.md §8).
// The server hands every accepted async request to Engine.Submit, which
// stores it as a host.Job before returning (the server answers 202 only
// then); a dispatcher claims due jobs from the Store in batches, workers
// run them through the invoker, the same invoke path as synchronous calls,
// and a committer stores their outcomes in batches.
//
// # Delivery: at least once
//
// Every state change goes through the Store before its effect is reported
// (metrics, logs, destinations, the job's next step), and a claimed job is
// leased (LeaseUntil = claim time + its timeout + Config.LeaseMargin; a
// worker that starts the attempt with less than its timeout + half the
// margin left first extends the lease). An attempt's outcome is stored
// after the attempt returns, by the committer; until then the job is
// still leased in the store, so a crash in between runs it again. A job whose worker died — a crash, or a recovered
// panic — goes back to the queue: at Start (Store.RequeueLeased with a zero
// time requeues every lease the previous process held) or when its lease
// expires (a reaper calls RequeueLeased(now) every few seconds). So a job
// can run twice: when the attempt ran but its result did not reach the
// Store. The guest sees Job.Attempts as its attempt number (ABI
// context_int 3), which grows on such a redelivery, so it can detect one.
//
// A worker writes its result only while it still holds the lease it
// claimed (same LeaseUntil and Attempts); a result that arrives after its
// lease was taken back is dropped and logged.
//
// # Attempts and retries
//
// Claiming a job sets it Running, Attempts+1 and adds the event
// "attempt N". Then:
//
//   - older than MaxAgeSeconds (measured from StartedTime) → Expired;
//   - function gone (KindNotFound) → Invalid;
//   - the function answered, with any HTTP status → Succeeded;
//   - a guest failure (trap, timeout, memory limit, exit, no response,
//     response too large, bad response, invalid module) → Retrying with
//     AlreadyRetriedTimes+1 while AlreadyRetriedTimes < MaxRetries, after
//     1 s, 2 s, 4 s, … (×0.8–1.2 jitter, at most 5 min); then Failed;
//   - throttling and host faults (too many instances, closed, canceled,
//     internal) → Retrying without spending an attempt (Attempts is given
//     back, AlreadyRetriedTimes unchanged), after 0.5 s, 1 s, 2 s, 4 s, 8 s,
//     8 s, … (×0.8–1.2). FC retries these for up to 5 h; here the job's max
//     age bounds them (it ends Expired). The consecutive throttles are
//     counted from the job's trailing "throttled: …" Retrying events.
//
// An attempt that did not run the function (expired, invalid, throttled,
// stopped or given back before it started) also drops its "attempt N"
// event, so a job's history lists only attempts that ran.
//
// # Per-function async cap
//
// Async attempts of one function run at most max(1, MaxInstances/2) at a
// time (MaxInstances is the function pool's effective limit, learnt at its
// first attempt; 1 until then), so synchronous traffic always keeps at
// least half of a function's instances (a function with MaxInstances 1
// shares its one instance). The dispatcher claims no more attempts of a
// function than its cap plus a read-ahead — as many as its recent attempts
// (a moving average of their durations) say it runs in 20 ms, at most 256;
// one more cap's worth while it has no history — so a fast function's
// next attempts are claimed while the current ones run, one claim
// transaction for many. Claimed attempts wait in memory, oldest first,
// for a slot of their function; a worker takes the oldest waiting attempt
// of a function below its cap, functions taking turns, and never waits for
// one function while another's attempt could run.
//
// Jobs over that limit stay in the queue, not written: the store's claim
// asks about each due job's function before it reads the job and passes
// over the ones refused (at most 4096 per claim). A refused job that would
// wait more than a second by its function's pace (a slow function's
// backlog) is moved instead to when its function should have room (its
// NotBefore; no event), one write, so that it does not hold up the jobs
// of other functions queued behind it. A function with jobs refused wakes
// the dispatcher when half its limit is free; meanwhile its submissions
// do not.
//
// # Stop
//
// Engine.Stop ends an Enqueued or Retrying job at once (Stopped). A Running
// job gets StopRequested: its attempt is not interrupted; when it ends the
// job becomes Stopped (its Result kept), with no further retries and no
// destination. A claimed job still waiting for a slot does not start: it
// becomes Stopped, its attempt given back.
//
// # Destinations
//
// A job that ends Succeeded (onSuccess) or Failed/Expired (onFailure) with
// a destination configured in its function's async config gets
// DestinationStatus Pending in the same Store update that finishes it. A
// finished job with a pending destination stays queued, so a crash before
// the delivery landed delivers again (at least once). The worker that
// claims it reads the destination from the current async config and sends
// FC's envelope (Envelope):
//
//   - "http://…", "https://…": POST with Content-Type application/json
//     and X-Fc-Stateful-Async-Invocation-Id; a 2xx answer delivers.
//   - "acs:fc:<region>:<account>:services/<svc>[.<qualifier>]/functions/<fn>"
//     or "fnhost:<svc>/<fn>": Submit of a job to that function (POST "/",
//     the envelope as body) whose InvocationID is derived from the source
//     job and outcome ("dst_" + 32 hex digits), so a redelivery gets
//     KindConflict, which counts as delivered.
//
// A failed delivery is retried after 1 s, 2 s, 4 s, … (at most 60 s), for 8
// attempts in all; then DestinationFailed (logged). Delivery attempts are
// recorded as events of the job (status = the job's final status, detail
// "destination attempt N: …"); the attempt count is read back from the
// last such event, as host.Job has no field for it. Other destination
// kinds (MNS, EventBridge, RocketMQ) fail at once.
//
// # Concurrency
//
// Config.Workers bounds the attempts and deliveries running at once,
// host-wide: that many worker goroutines take claimed jobs. At most 1024
// claimed jobs are in hand at once (waiting, running, or waiting for their
// outcome's commit), at most 256 claimed per ClaimJobs call. A worker
// hands the outcome to the committer and takes the next job as soon as
// the attempt returns (its function's slot is free at once); the
// committer stores all the outcomes queued meanwhile with one
// Store.UpdateJobs, which the store commits in as few transactions as it
// can — with SyncWrites, one sync for hundreds of jobs, shared with the
// submissions committing then.
//
// The dispatcher wakes on Submit (unless the job's function has no room),
// when room frees up, and at the earliest NotBefore it scheduled (a retry,
// a delay). Jobs it did not schedule — requeued at Start or by the reaper,
// or a later due time it did not keep — are found within PollInterval.
//
// Close stops claiming, lets the running attempts and deliveries finish
// and record their outcomes, and gives the claimed jobs that did not
// start back to the queue as they were (status, Attempts, events).
//
// One Engine per Store: Start takes back every lease in the store.
//
// Engine is safe for concurrent use.
package jobs

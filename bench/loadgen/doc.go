// Package loadgen sends HTTP load to one URL and measures throughput and
// latency: the engine behind `fnhost bench` and the bench suite.
//
// Run works in one of two modes.
//
// Closed loop (Config.Rate == 0): Concurrency workers, each with its own
// keep-alive connection, send requests back to back; a request's latency
// runs from its send to its response. This measures the highest
// throughput, but its latencies suffer from coordinated omission: while
// the server stalls, the workers stop sending, so the stall is counted
// once per worker instead of once per request that a real client would
// have sent during it.
//
// Open loop (Config.Rate > 0): request i is due at start + i/Rate,
// whatever happened to earlier ones. Concurrency bounds the requests in
// flight (a worker waiting for its request's due time holds a slot). A
// request that could not be sent on time because every slot was busy
// has its latency counted from its intended send time, so the time it
// spent queued counts (the correction wrk2 makes); one sent more than
// LateAfter behind schedule is also counted in Result.Late. A request
// whose worker was idle and slept until the due time is timed from the
// actual send instead: the timer's own lateness (tens of microseconds
// to a millisecond on a busy machine) belongs to the load generator,
// not to the server. Use the open loop at, for example, 50% and 80% of the
// closed loop's maximum to report latency (see the performance
// reference).
//
// Latencies go into per-worker Histograms (log-linear buckets, at most
// 0.39% relative error, no allocation per value) merged at the end. The
// request loop itself allocates nothing beyond what fasthttp's client
// does, which is nothing in the steady state.
package loadgen

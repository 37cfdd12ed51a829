package jobs

import "github.com/fnhost/fnhost/host"

// commitReq is one job update waiting for the committer.
type commitReq struct {
	t      *task
	mutate func(cur *host.Job) error
	// after runs once the update is stored (err nil, out the stored job)
	// or failed; on the committer's goroutine.
	after func(out *host.Job, err error)
}

// commit queues a store update that ends a claimed task: the worker goes
// on at once, and the committer stores the updates that queued meanwhile
// together (Store.UpdateJobs: with SyncWrites, one sync for many jobs).
// Until it is stored, the job keeps its lease in the store, so a crash
// runs it again. t leaves the claimed jobs when the update is done.
func (e *Engine) commit(t *task, mutate func(*host.Job) error, after func(*host.Job, error)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := jobKey(t.j.ServiceName, t.j.FunctionName, t.j.InvocationID)
	if e.claimed[k] == t {
		delete(e.claimed, k) // no Stop to pass on any more
	}
	e.commits = append(e.commits, commitReq{t: t, mutate: mutate, after: after})
	e.commitCond.Signal()
}

// committer stores queued updates, all those waiting at once, until Close
// has given back the last claimed task and the queue is empty.
func (e *Engine) committer() {
	defer close(e.committed)
	var names []host.Job
	for {
		e.mu.Lock()
		for len(e.commits) == 0 && !e.commitStop {
			e.commitCond.Wait()
		}
		batch := e.commits
		e.commits = nil
		e.mu.Unlock()
		if len(batch) == 0 {
			return // commitStop, and nothing left
		}
		names = names[:0]
		for i := range batch {
			j := &batch[i].t.j
			names = append(names, host.Job{ServiceName: j.ServiceName, FunctionName: j.FunctionName, InvocationID: j.InvocationID})
		}
		outs, errs := e.cfg.Store.UpdateJobs(names, func(i int, cur *host.Job) error { return batch[i].mutate(cur) })
		for i := range batch {
			e.finishCommit(&batch[i], &outs[i], errs[i])
		}
		e.mu.Lock()
		for i := range batch {
			e.forget(batch[i].t)
		}
		e.mu.Unlock()
	}
}

// finishCommit runs a stored update's after, recovering a panic.
func (e *Engine) finishCommit(c *commitReq, out *host.Job, err error) {
	defer func() {
		if r := recover(); r != nil {
			e.met.panics.Inc()
			e.log.Error().Str("invocation_id", c.t.j.InvocationID).Interface("panic", r).Msg("async: recording an outcome panicked")
		}
	}()
	c.after(out, err)
}

package jobs

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fnhost/fnhost/host"
)

// memStore is an in-memory Store that follows the rules of the Store
// interface as *store.Store does: copies in and out, mutate on a copy that
// is stored only when it returns nil, queued/leased as documented.
type memStore struct {
	mu    sync.Mutex
	jobs  map[string]host.Job // svc/fn/id
	async map[string]host.AsyncConfig
}

var _ Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{jobs: map[string]host.Job{}, async: map[string]host.AsyncConfig{}}
}

func notFound(what string) error {
	return &host.Error{Kind: host.KindNotFound, Op: "memstore", Err: errors.New(what + " not found")}
}

func cloneJob(j host.Job) host.Job {
	j.Events = append([]host.JobEvent(nil), j.Events...)
	j.Request.Headers = append([][2]string(nil), j.Request.Headers...)
	j.Request.Body = bytes.Clone(j.Request.Body)
	if j.Result != nil {
		r := *j.Result
		r.Headers = append([][2]string(nil), r.Headers...)
		r.Body = bytes.Clone(r.Body)
		j.Result = &r
	}
	return j
}

func queued(j *host.Job) bool {
	if j.LeaseUntil != 0 {
		return false
	}
	return j.Status == host.JobEnqueued || j.Status == host.JobRetrying ||
		(j.Status.Finished() && j.DestinationStatus == host.DestinationPending)
}

func (s *memStore) EnqueueJob(j host.Job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := jobKey(j.ServiceName, j.FunctionName, j.InvocationID)
	if _, ok := s.jobs[k]; ok {
		return &host.Error{Kind: host.KindConflict, Op: "memstore.EnqueueJob", Err: fmt.Errorf("invocation %s already exists", j.InvocationID)}
	}
	s.jobs[k] = cloneJob(j)
	return nil
}

func (s *memStore) ClaimJobs(now time.Time, n int, accept func(svc, fn string) (bool, int64), claim func(*host.Job)) ([]host.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := now.UnixMilli()
	var due []string
	for k, j := range s.jobs {
		if queued(&j) && j.NotBefore <= ms {
			due = append(due, k)
		}
	}
	sort.Slice(due, func(a, b int) bool {
		ja, jb := s.jobs[due[a]], s.jobs[due[b]]
		if ja.NotBefore != jb.NotBefore {
			return ja.NotBefore < jb.NotBefore
		}
		if ja.StartedTime != jb.StartedTime {
			return ja.StartedTime < jb.StartedTime
		}
		return due[a] < due[b]
	})
	var out []host.Job
	for _, k := range due {
		if len(out) == n {
			break
		}
		if j := s.jobs[k]; accept != nil {
			if ok, postpone := accept(j.ServiceName, j.FunctionName); !ok {
				if postpone > ms {
					j = cloneJob(j)
					j.NotBefore = postpone
					s.jobs[k] = j
				}
				continue
			}
		}
		c := cloneJob(s.jobs[k])
		claim(&c)
		if c.LeaseUntil == 0 {
			panic("memstore: claim left the job unleased")
		}
		s.jobs[k] = cloneJob(c)
		out = append(out, c)
	}
	return out, nil
}

func (s *memStore) UpdateJob(svc, fn, id string, mutate func(*host.Job) error) (host.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := jobKey(svc, fn, id)
	j, ok := s.jobs[k]
	if !ok {
		return host.Job{}, notFound("invocation " + id)
	}
	c := cloneJob(j)
	if err := mutate(&c); err != nil {
		return host.Job{}, err
	}
	s.jobs[k] = cloneJob(c)
	return c, nil
}

func (s *memStore) UpdateJobs(names []host.Job, mutate func(i int, cur *host.Job) error) ([]host.Job, []error) {
	out := make([]host.Job, len(names))
	errs := make([]error, len(names))
	for i, n := range names {
		out[i], errs[i] = s.UpdateJob(n.ServiceName, n.FunctionName, n.InvocationID, func(cur *host.Job) error { return mutate(i, cur) })
	}
	return out, errs
}

func (s *memStore) GetJob(svc, fn, id string) (host.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[jobKey(svc, fn, id)]
	if !ok {
		return host.Job{}, notFound("invocation " + id)
	}
	return cloneJob(j), nil
}

func (s *memStore) ListJobs(svc, fn string, o host.JobListOptions) ([]host.Job, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []host.Job
	for _, j := range s.jobs {
		switch {
		case j.ServiceName != svc || j.FunctionName != fn,
			o.Status != "" && j.Status != o.Status,
			o.StartedTimeBegin != 0 && j.StartedTime < o.StartedTimeBegin,
			o.StartedTimeEnd != 0 && j.StartedTime >= o.StartedTimeEnd,
			!strings.HasPrefix(j.InvocationID, o.InvocationIDPrefix):
			continue
		}
		all = append(all, cloneJob(j))
	}
	sort.Slice(all, func(a, b int) bool {
		if all[a].StartedTime != all[b].StartedTime {
			if o.SortOrderByTime == "asc" {
				return all[a].StartedTime < all[b].StartedTime
			}
			return all[a].StartedTime > all[b].StartedTime
		}
		return all[a].InvocationID < all[b].InvocationID
	})
	limit := o.Limit
	if limit <= 0 {
		limit = 20
	}
	start, _ := strconv.Atoi(o.NextToken)
	if start > len(all) {
		start = len(all)
	}
	end := min(start+limit, len(all))
	next := ""
	if end < len(all) {
		next = strconv.Itoa(end)
	}
	return all[start:end], next, nil
}

func (s *memStore) RequeueLeased(now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, j := range s.jobs {
		if j.LeaseUntil == 0 || (!now.IsZero() && j.LeaseUntil > now.UnixMilli()) {
			continue
		}
		j = cloneJob(j)
		j.LeaseUntil = 0
		if j.Status == host.JobRunning {
			j.Status = host.JobRetrying
		}
		s.jobs[k] = j
		n++
	}
	return n, nil
}

func (s *memStore) GetAsyncConfig(svc, fn string) (host.AsyncConfig, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.async[svc+"/"+fn]
	if !ok {
		return host.AsyncConfig{}, notFound("async config")
	}
	return c, nil
}

func (s *memStore) putAsyncConfig(svc, fn string, c host.AsyncConfig) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.ServiceName, c.FunctionName = svc, fn
	s.async[svc+"/"+fn] = c
}

// all returns every job of a function.
func (s *memStore) all(svc, fn string) []host.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []host.Job
	for _, j := range s.jobs {
		if j.ServiceName == svc && j.FunctionName == fn {
			out = append(out, cloneJob(j))
		}
	}
	return out
}

// crashStore is the view of a memStore that one process has: once dead,
// every call fails, as if the process had been killed, while another
// engine keeps using the memStore itself.
type crashStore struct {
	s    *memStore
	dead atomic.Bool
}

var errDead = errors.New("crashStore: the process is dead")

func (c *crashStore) EnqueueJob(j host.Job) error {
	if c.dead.Load() {
		return errDead
	}
	return c.s.EnqueueJob(j)
}

func (c *crashStore) ClaimJobs(now time.Time, n int, accept func(svc, fn string) (bool, int64), claim func(*host.Job)) ([]host.Job, error) {
	if c.dead.Load() {
		return nil, errDead
	}
	return c.s.ClaimJobs(now, n, accept, claim)
}

func (c *crashStore) UpdateJob(svc, fn, id string, mutate func(*host.Job) error) (host.Job, error) {
	if c.dead.Load() {
		return host.Job{}, errDead
	}
	return c.s.UpdateJob(svc, fn, id, mutate)
}

func (c *crashStore) UpdateJobs(names []host.Job, mutate func(i int, cur *host.Job) error) ([]host.Job, []error) {
	if c.dead.Load() {
		errs := make([]error, len(names))
		for i := range errs {
			errs[i] = errDead
		}
		return make([]host.Job, len(names)), errs
	}
	return c.s.UpdateJobs(names, mutate)
}

func (c *crashStore) GetJob(svc, fn, id string) (host.Job, error) {
	if c.dead.Load() {
		return host.Job{}, errDead
	}
	return c.s.GetJob(svc, fn, id)
}

func (c *crashStore) ListJobs(svc, fn string, o host.JobListOptions) ([]host.Job, string, error) {
	if c.dead.Load() {
		return nil, "", errDead
	}
	return c.s.ListJobs(svc, fn, o)
}

func (c *crashStore) RequeueLeased(now time.Time) (int, error) {
	if c.dead.Load() {
		return 0, errDead
	}
	return c.s.RequeueLeased(now)
}

func (c *crashStore) GetAsyncConfig(svc, fn string) (host.AsyncConfig, error) {
	if c.dead.Load() {
		return host.AsyncConfig{}, errDead
	}
	return c.s.GetAsyncConfig(svc, fn)
}

package host

// Asynchronous invocations (X-Fc-Invocation-Type: Async) as Function
// Compute 2016-08-15 models them: every accepted request becomes a Job that
// is stored before the caller gets 202, runs at least once, and is kept as
// a stateful async invocation that the API can list, get and stop. JSON
// names follow FC's stateful-invocation records (fc-compat.md §3, §8);
// fields FC does not have are fnhost's and say so.

// JobStatus is a job's state, spelled as FC spells it.
type JobStatus string

const (
	JobEnqueued  JobStatus = "Enqueued"  // stored, waiting to run (or for its delay)
	JobRunning   JobStatus = "Running"   // claimed by a worker, lease held
	JobRetrying  JobStatus = "Retrying"  // failed or throttled, waiting for its next attempt
	JobSucceeded JobStatus = "Succeeded" // the function answered
	JobFailed    JobStatus = "Failed"    // the last attempt failed
	JobStopped   JobStatus = "Stopped"   // stopped through the API before it finished
	JobExpired   JobStatus = "Expired"   // older than maxAsyncEventAgeInSeconds before it could run
	JobInvalid   JobStatus = "Invalid"   // cannot run any more (its function was deleted)
)

// Finished reports whether s is a final state.
func (s JobStatus) Finished() bool {
	switch s {
	case JobSucceeded, JobFailed, JobStopped, JobExpired, JobInvalid:
		return true
	}
	return false
}

// Destination delivery states (Job.DestinationStatus).
const (
	DestinationNone      = ""          // no destination configured for the outcome
	DestinationPending   = "Pending"   // to be delivered (survives a restart)
	DestinationSucceeded = "Succeeded" // delivered
	DestinationFailed    = "Failed"    // gave up after retries
)

// Job is one asynchronous invocation.
type Job struct {
	ServiceName  string `json:"serviceName"`
	FunctionName string `json:"functionName"`
	Qualifier    string `json:"qualifier"`
	// InvocationID is the stateful invocation id: the caller's
	// X-Fc-Stateful-Async-Invocation-Id, or generated. Unique per function.
	InvocationID string    `json:"invocationId"`
	RequestID    string    `json:"requestId"`
	Status       JobStatus `json:"status"`
	// Times in Unix milliseconds, as FC reports them. StartedTime is when
	// the job was accepted; EndTime when it reached a final state (0 until
	// then).
	StartedTime int64 `json:"startedTime"`
	EndTime     int64 `json:"endTime"`
	// AlreadyRetriedTimes counts attempts after the first that ran the
	// function (throttled attempts do not count).
	AlreadyRetriedTimes    int    `json:"alreadyRetriedTimes"`
	InvocationErrorMessage string `json:"invocationErrorMessage,omitempty"`
	// InvocationPayload is the request body; the API includes it only when
	// asked (includePayload=true).
	InvocationPayload string     `json:"invocationPayload,omitempty"`
	DestinationStatus string     `json:"destinationStatus,omitempty"`
	Events            []JobEvent `json:"events"`

	// fnhost's fields.

	// Request is the HTTP request to replay, copied out of the server's
	// buffers at submission.
	Request JobRequest `json:"request"`
	// Result is the function's answer (or failure) of the last attempt.
	Result *JobResult `json:"result,omitempty"`
	// Attempts counts attempts that ran the function; the guest sees it as
	// its attempt number (ABI context_int 3), so it can detect a redelivery.
	Attempts int `json:"attempts"`
	// NotBefore (Unix ms) is when the job may run next: the async delay,
	// or a retry's backoff.
	NotBefore int64 `json:"notBefore"`
	// LeaseUntil (Unix ms) is when a Running job's worker is presumed
	// dead and the job goes back to the queue.
	LeaseUntil int64 `json:"leaseUntil,omitempty"`
	// TimeoutSeconds is the function's timeout when the job was accepted;
	// a lease lasts at least this long.
	TimeoutSeconds int `json:"timeoutSeconds"`
	// MaxRetries and MaxAgeSeconds are the function's async config when the
	// job was accepted.
	MaxRetries    int   `json:"maxAsyncRetryAttempts"`
	MaxAgeSeconds int64 `json:"maxAsyncEventAgeInSeconds"`
	// StopRequested is set by Stop on a Running job; the worker finishes
	// the job as Stopped.
	StopRequested bool `json:"stopRequested,omitempty"`
}

// JobEvent is one entry of a job's history.
type JobEvent struct {
	EventID     int       `json:"eventId"`
	Status      JobStatus `json:"status"`
	Timestamp   int64     `json:"timestamp"` // Unix ms
	EventDetail string    `json:"eventDetail,omitempty"`
}

// MaxJobEvents bounds a job's history; older events are dropped first
// (the first event, the submission, is always kept).
const MaxJobEvents = 64

// AddEvent appends an event, keeping at most MaxJobEvents.
func (j *Job) AddEvent(status JobStatus, at int64, detail string) {
	id := 1
	if n := len(j.Events); n > 0 {
		id = j.Events[n-1].EventID + 1
	}
	j.Events = append(j.Events, JobEvent{EventID: id, Status: status, Timestamp: at, EventDetail: detail})
	if len(j.Events) > MaxJobEvents {
		j.Events = append(j.Events[:1], j.Events[len(j.Events)-MaxJobEvents+1:]...)
	}
}

// JobRequest is a stored request. The job owns every slice.
type JobRequest struct {
	Method   string      `json:"method"`
	Path     string      `json:"path"`
	RawQuery string      `json:"rawQuery,omitempty"`
	Headers  [][2]string `json:"headers,omitempty"`
	ClientIP string      `json:"clientIP,omitempty"`
	Body     []byte      `json:"body,omitempty"`
}

// JobResult is the outcome of a job's last attempt.
type JobResult struct {
	Status  int         `json:"status,omitempty"` // the function's HTTP status; 0 when it failed
	Headers [][2]string `json:"headers,omitempty"`
	// Body is the response body, at most MaxJobResultBody bytes;
	// BodyTruncated says whether it was cut.
	Body          []byte `json:"body,omitempty"`
	BodyTruncated bool   `json:"bodyTruncated,omitempty"`
	ErrorKind     string `json:"errorKind,omitempty"`
	ErrorMessage  string `json:"errorMessage,omitempty"`
	// LogTail is the last 4 KB of the attempt's log.
	LogTail    string  `json:"logTail,omitempty"`
	DurationMs float64 `json:"durationMs"`
}

// MaxJobResultBody bounds the response body a job keeps.
const MaxJobResultBody = 64 << 10

// JobListOptions are ListStatefulAsyncInvocations' query parameters.
type JobListOptions struct {
	Status             JobStatus // "" for any
	StartedTimeBegin   int64     // Unix ms, inclusive; 0 for no bound
	StartedTimeEnd     int64     // Unix ms, exclusive; 0 for no bound
	InvocationIDPrefix string
	SortOrderByTime    string // "asc" or "desc" (default)
	IncludePayload     bool
	Limit              int // 0 → 20, at most 100
	NextToken          string
}

// AsyncConfig is a function's async invoke config (FC's
// async-invoke-config).
type AsyncConfig struct {
	ServiceName  string `json:"service"`
	FunctionName string `json:"function"`
	Qualifier    string `json:"qualifier"`
	// MaxAsyncRetryAttempts is 0–8; nil means the default, 3.
	MaxAsyncRetryAttempts *int `json:"maxAsyncRetryAttempts"`
	// MaxAsyncEventAgeInSeconds is 1–604800; nil means 86400.
	MaxAsyncEventAgeInSeconds *int64             `json:"maxAsyncEventAgeInSeconds"`
	DestinationConfig         *DestinationConfig `json:"destinationConfig,omitempty"`
	// StatefulInvocation is accepted for FC clients; every fnhost async
	// invocation is stateful.
	StatefulInvocation bool   `json:"statefulInvocation"`
	CreatedTime        string `json:"createdTime"`
	LastModifiedTime   string `json:"lastModifiedTime"`
}

// Async defaults (FC 2.0).
const (
	DefaultAsyncRetries  = 3
	MaxAsyncRetries      = 8
	DefaultAsyncMaxAge   = 86400
	MaxAsyncMaxAge       = 604800
	MaxAsyncDelaySeconds = 3600
)

// DestinationConfig routes an async invocation's outcome.
type DestinationConfig struct {
	OnSuccess *Destination `json:"onSuccess,omitempty"`
	OnFailure *Destination `json:"onFailure,omitempty"`
}

// Destination is where an outcome goes: an http(s) URL (POST of FC's
// destination envelope) or a function, as FC's ARN
// "acs:fc:<region>:<account>:services/<svc>/functions/<fn>" or fnhost's
// short form "fnhost:<svc>/<fn>" (invoked asynchronously with the envelope
// as its body).
type Destination struct {
	Destination string `json:"destination"`
}

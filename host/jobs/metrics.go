package jobs

import "github.com/prometheus/client_golang/prometheus"

// metrics are the engine's counters. No series is labelled by function:
// the invoker already counts every attempt per function (outcome included),
// and these stay bounded whatever is deployed.
type metrics struct {
	accepted   prometheus.Counter
	started    prometheus.Counter
	retries    *prometheus.CounterVec // reason: failure, throttled
	finished   *prometheus.CounterVec // status
	deliveries *prometheus.CounterVec // outcome: delivered, retry, failed
	panics     prometheus.Counter
	busy       prometheus.GaugeFunc
}

func newMetrics(busy func() float64) *metrics {
	m := &metrics{
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fnhost_async_jobs_accepted_total",
			Help: "Async invocations stored by Submit.",
		}),
		started: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fnhost_async_attempts_started_total",
			Help: "Async attempts handed to the invoker.",
		}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fnhost_async_requeues_total",
			Help: "Async jobs put back in the queue, by reason: failure (a counted retry), throttled (not counted).",
		}, []string{"reason"}),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fnhost_async_jobs_finished_total",
			Help: "Async jobs that reached a final state, by state.",
		}, []string{"status"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fnhost_async_destination_deliveries_total",
			Help: "Destination delivery attempts, by outcome: delivered, retry, failed (gave up).",
		}, []string{"outcome"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fnhost_async_worker_panics_total",
			Help: "Recovered panics of async workers (the job returns to the queue when its lease expires).",
		}),
		busy: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "fnhost_async_workers_busy",
			Help: "Async workers running an attempt or a delivery.",
		}, busy),
	}
	return m
}

func (m *metrics) register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.accepted, m.started, m.retries, m.finished, m.deliveries, m.panics, m.busy} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

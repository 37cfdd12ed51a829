package invoker

import (
	"github.com/fnhost/fnhost/host"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the invocation metrics. Label values are service and function
// names of deployed functions only (a request for an unknown function never
// reaches the invoker), so their number is bounded by what was deployed;
// Forget removes a deleted function's series.
type metrics struct {
	invocations *prometheus.CounterVec   // service, function, outcome
	duration    *prometheus.HistogramVec // service, function
	cold        *prometheus.CounterVec   // service, function
	pool        *poolCollector
}

// entryMetrics holds the series a live entry updates on every call,
// resolved once at load so the hot path does no label lookups.
type entryMetrics struct {
	success  prometheus.Counter
	cold     prometheus.Counter
	duration prometheus.Observer
	failures *prometheus.CounterVec
	svc, fn  string
}

// Outcome label values: "success", or the failure's Kind ("trap",
// "timeout", "too many instances", …).
const outcomeSuccess = "success"

func newMetrics(iv *Invoker) *metrics {
	return &metrics{
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fnhost_invocations_total",
			Help: "Invocations by function and outcome (success, or the failure kind: trap, timeout, too many instances, …).",
		}, []string{"service", "function", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fnhost_invocation_duration_seconds",
			Help: "Invocation duration, queueing and instance start included.",
			// 50 µs … 30 s: warm calls are microseconds, timeouts seconds.
			Buckets: prometheus.ExponentialBuckets(50e-6, 4, 10),
		}, []string{"service", "function"}),
		cold: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fnhost_cold_starts_total",
			Help: "Invocations that created a new instance.",
		}, []string{"service", "function"}),
		pool: &poolCollector{
			iv: iv,
			idle: prometheus.NewDesc("fnhost_instances_idle",
				"Instances waiting in a function's pool.", []string{"service", "function"}, nil),
			busy: prometheus.NewDesc("fnhost_instances_busy",
				"Invocations running (or starting an instance) in a function's pool.", []string{"service", "function"}, nil),
			max: prometheus.NewDesc("fnhost_instances_max",
				"A function's instance limit.", []string{"service", "function"}, nil),
		},
	}
}

func (m *metrics) register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.invocations, m.duration, m.cold, m.pool} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func (m *metrics) forEntry(svc, fn string) entryMetrics {
	return entryMetrics{
		success:  m.invocations.WithLabelValues(svc, fn, outcomeSuccess),
		cold:     m.cold.WithLabelValues(svc, fn),
		duration: m.duration.WithLabelValues(svc, fn),
		failures: m.invocations,
		svc:      svc,
		fn:       fn,
	}
}

func (m *metrics) forget(svc, fn string) {
	labels := prometheus.Labels{"service": svc, "function": fn}
	m.invocations.DeletePartialMatch(labels)
	m.duration.DeletePartialMatch(labels)
	m.cold.DeletePartialMatch(labels)
}

func (em *entryMetrics) observe(err error, res *host.Response) {
	if em.success == nil { // entry built without metrics (tests)
		return
	}
	if err == nil {
		em.success.Inc()
	} else {
		em.failures.WithLabelValues(em.svc, em.fn, host.ErrorKind(err).String()).Inc()
	}
	if res.Meter.Cold {
		em.cold.Inc()
	}
	em.duration.Observe(res.Meter.Duration.Seconds())
}

// poolCollector reports pool sizes at scrape time from the live entries.
type poolCollector struct {
	iv              *Invoker
	idle, busy, max *prometheus.Desc
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.idle
	ch <- c.busy
	ch <- c.max
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	c.iv.each(func(e *Entry) {
		svc, fn := e.Function.ServiceName, e.Function.FunctionName
		ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(e.fn.Idle()), svc, fn)
		ch <- prometheus.MustNewConstMetric(c.busy, prometheus.GaugeValue, float64(e.fn.Busy()), svc, fn)
		ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(e.fn.Config().MaxInstances), svc, fn)
	})
}

package daemon

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/frostd/frostd/coordinator"
	"github.com/frostd/frostd/signer"
)

// CoordinatorMetrics are the coordinator's Prometheus metrics.
type CoordinatorMetrics struct {
	Signatures  *prometheus.CounterVec // by result: ok, failed
	Latency     prometheus.Histogram
	Failures    *prometheus.CounterVec // by cause
	Attempts    prometheus.Histogram
	Cheaters    prometheus.Counter
	Pool        *prometheus.GaugeVec // by participant
	LiveMembers prometheus.Gauge
}

// NewCoordinatorMetrics registers the coordinator's metrics with reg.
func NewCoordinatorMetrics(reg prometheus.Registerer) *CoordinatorMetrics {
	m := &CoordinatorMetrics{
		Signatures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frostd_signatures_total", Help: "Sign requests finished, by result.",
		}, []string{"result"}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "frostd_sign_latency_seconds", Help: "Time from request to result.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		Failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frostd_sign_failures_total", Help: "Failed sign requests, by cause.",
		}, []string{"cause"}),
		Attempts: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "frostd_sign_attempts", Help: "Quorums tried per request.", Buckets: []float64{1, 2, 3, 4, 6, 8},
		}),
		Cheaters: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "frostd_cheaters_detected_total", Help: "Participants caught returning invalid shares.",
		}),
		Pool: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "frostd_pool_commitments", Help: "Unused commitments pooled per participant.",
		}, []string{"participant"}),
		LiveMembers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "frostd_live_members", Help: "Participants membership sees alive.",
		}),
	}
	reg.MustRegister(m.Signatures, m.Latency, m.Failures, m.Attempts, m.Cheaters, m.Pool, m.LiveMembers)
	return m
}

// Observe records one result; use it as coordinator.ServiceConfig.OnResult.
func (m *CoordinatorMetrics) Observe(r coordinator.Result, d time.Duration) {
	m.Latency.Observe(d.Seconds())
	m.Attempts.Observe(float64(r.Attempts))
	if r.Cheaters != nil {
		m.Cheaters.Add(float64(len(r.Cheaters.IDs)))
	}
	if r.Err == nil {
		m.Signatures.WithLabelValues("ok").Inc()
		return
	}
	m.Signatures.WithLabelValues("failed").Inc()
	m.Failures.WithLabelValues(Cause(r.Err)).Inc()
}

// Snapshot records the coordinator's state.
func (m *CoordinatorMetrics) Snapshot(s coordinator.Stats) {
	m.LiveMembers.Set(float64(len(s.Reachable)))
	for id, n := range s.Pools {
		m.Pool.WithLabelValues(strconv.Itoa(int(id))).Set(float64(n))
	}
}

// Cause names an error's kind for metric labels.
func Cause(err error) string {
	var ce *coordinator.CheatersError
	switch {
	case errors.Is(err, signer.ErrMessageTooLarge):
		return "too_large"
	case errors.Is(err, signer.ErrRefused):
		return "refused"
	case errors.As(err, &ce):
		return "cheaters"
	case errors.Is(err, signer.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "cancelled"
	default:
		return "other"
	}
}

// ParticipantMetrics are a participant's Prometheus metrics.
type ParticipantMetrics struct {
	Shares   prometheus.Counter
	Refusals *prometheus.CounterVec // by gRPC status code
	Commits  prometheus.Counter
	Unspent  prometheus.Gauge
}

// NewParticipantMetrics registers a participant's metrics with reg.
func NewParticipantMetrics(reg prometheus.Registerer) *ParticipantMetrics {
	m := &ParticipantMetrics{
		Shares:   prometheus.NewCounter(prometheus.CounterOpts{Name: "frostd_participant_sign_requests_total", Help: "Sign requests answered with shares."}),
		Refusals: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "frostd_participant_refusals_total", Help: "Requests refused, by reason."}, []string{"code"}),
		Commits:  prometheus.NewCounter(prometheus.CounterOpts{Name: "frostd_participant_commit_requests_total", Help: "Commit requests answered."}),
		Unspent:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "frostd_participant_unspent_nonces", Help: "Nonces stored and not yet spent."}),
	}
	reg.MustRegister(m.Shares, m.Refusals, m.Commits, m.Unspent)
	return m
}

func promhttpHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// Package telemetry is the OpenTelemetry instrumentation of a client: one
// span and one duration point per driver call, and the instruments the
// portable layer feeds for holds, sessions, watches and ambiguous outcomes.
//
// It instruments at the boundary between the portable layer and the driver:
// Wrap returns a driver.Driver whose primitives wrap the driver's, so every
// operation is instrumented once, whatever the backend, and a client made
// without a provider has no wrapper at all (no cost). A new primitive
// interface is instrumented by a wrapper type that embeds it and overrides
// each method with begin/end (see wrap.go).
//
// Only the OpenTelemetry API is used; the SDK is the application's choice.
package telemetry

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/atomix/go-client/driver"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/atomix/go-client"

// The attribute keys of spans and metric points.
const (
	KeyKind      = attribute.Key("atomix.primitive.kind")
	KeyName      = attribute.Key("atomix.primitive.name")
	KeyOperation = attribute.Key("atomix.operation")
	KeyDriver    = attribute.Key("atomix.driver")
	KeyOutcome   = attribute.Key("atomix.outcome")
	KeyReason    = attribute.Key("atomix.reason")
	// KeyDBSystem is OpenTelemetry's database system convention, set for
	// the backends it names.
	KeyDBSystem = attribute.Key("db.system.name")
	// KeyErrorType is OpenTelemetry's error.type convention: the error
	// kind (Outcome) of a failed operation.
	KeyErrorType = attribute.Key("error.type")
)

// The metric names.
const (
	MetricOperationDuration = "atomix.operation.duration"
	MetricAmbiguous         = "atomix.operation.ambiguous"
	MetricHoldWait          = "atomix.hold.wait.duration"
	MetricHoldDuration      = "atomix.hold.duration"
	MetricHoldsLost         = "atomix.hold.lost"
	MetricSessionRenewals   = "atomix.session.renewals"
	MetricRenewalFailures   = "atomix.session.renewal.failures"
	MetricWatchResyncs      = "atomix.watch.resyncs"
)

// Telemetry holds a client's tracer and instruments. A nil *Telemetry is
// valid and records nothing, so that the portable layer calls it without
// checking.
type Telemetry struct {
	tracer trace.Tracer
	driver string
	// common are the attributes of every span and point: the driver and,
	// where it fits, the database system.
	common []attribute.KeyValue

	opDuration    metric.Float64Histogram
	ambiguous     metric.Int64Counter
	holdWait      metric.Float64Histogram
	holdDuration  metric.Float64Histogram
	holdsLost     metric.Int64Counter
	renewals      metric.Int64Counter
	renewFailures metric.Int64Counter
	resyncs       metric.Int64Counter
}

// New returns the instrumentation of a client of the driver called
// driverName, or nil when both providers are nil. A nil provider is
// replaced by a no-op one. An instrument the meter refuses is replaced by a
// no-op one: telemetry never stops a client from working.
func New(tp trace.TracerProvider, mp metric.MeterProvider, driverName string) *Telemetry {
	if tp == nil && mp == nil {
		return nil
	}
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	if mp == nil {
		mp = metricnoop.NewMeterProvider()
	}
	t := &Telemetry{
		tracer: tp.Tracer(ScopeName),
		driver: driverName,
		common: []attribute.KeyValue{KeyDriver.String(driverName)},
	}
	switch driverName {
	case "etcd", "redis":
		t.common = append(t.common, KeyDBSystem.String(driverName))
	}
	m := mp.Meter(ScopeName)
	noop := metricnoop.Meter{}
	hist := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc))
		if err != nil {
			h, _ = noop.Float64Histogram(name)
		}
		return h
	}
	count := func(name, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithUnit("{"+unitOf(name)+"}"), metric.WithDescription(desc))
		if err != nil {
			c, _ = noop.Int64Counter(name)
		}
		return c
	}
	t.opDuration = hist(MetricOperationDuration, "Duration of each primitive operation, by kind, operation, driver and outcome.")
	t.ambiguous = count(MetricAmbiguous, "Writes whose outcome is unknown (they may or may not have been applied).")
	t.holdWait = hist(MetricHoldWait, "Time from asking for a hold (lock, semaphore, leadership) to getting it or giving up.")
	t.holdDuration = hist(MetricHoldDuration, "Time a hold lasted, from its acquisition to its release or loss.")
	t.holdsLost = count(MetricHoldsLost, "Holds lost without their owner releasing them, by reason.")
	t.renewals = count(MetricSessionRenewals, "Session renewals sent, by outcome.")
	t.renewFailures = count(MetricRenewalFailures, "Session renewals that failed.")
	t.resyncs = count(MetricWatchResyncs, "Watches that re-read their primitive's state, by reason.")
	return t
}

func unitOf(metricName string) string {
	switch metricName {
	case MetricAmbiguous:
		return "operation"
	case MetricHoldsLost:
		return "hold"
	case MetricSessionRenewals, MetricRenewalFailures:
		return "renewal"
	default:
		return "resync"
	}
}

// Outcome names the kind of err for metrics and span status: "ok" for nil,
// else the error kind ("not-found", "conflict", "ambiguous", …), "canceled"
// or "deadline-exceeded" for context errors, "error" for anything else.
// ErrAmbiguous wins over the context error it comes with.
func Outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, driver.ErrAmbiguous):
		return "ambiguous"
	case errors.Is(err, driver.ErrNotFound):
		return "not-found"
	case errors.Is(err, driver.ErrAlreadyExists):
		return "already-exists"
	case errors.Is(err, driver.ErrConflict):
		return "conflict"
	case errors.Is(err, driver.ErrInvalid):
		return "invalid"
	case errors.Is(err, driver.ErrNotSupported):
		return "not-supported"
	case errors.Is(err, driver.ErrClosed):
		return "closed"
	case errors.Is(err, driver.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, driver.ErrTimeout):
		return "timeout"
	case errors.Is(err, driver.ErrPermission):
		return "permission"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline-exceeded"
	default:
		return "error"
	}
}

// call is one instrumented operation in progress.
type call struct {
	ctx   context.Context
	t     *Telemetry
	attrs []attribute.KeyValue // kind, operation, driver (, db.system.name)
	span  trace.Span
	start time.Time
}

// begin starts the span "<kind> <op>" and the clock of one operation on the
// primitive of kind called name.
func (t *Telemetry) begin(ctx context.Context, kind driver.Kind, name, op string) (context.Context, call) {
	attrs := make([]attribute.KeyValue, 0, len(t.common)+3)
	attrs = append(attrs, KeyKind.String(string(kind)), KeyOperation.String(op))
	attrs = append(attrs, t.common...)
	ctx, span := t.tracer.Start(ctx, string(kind)+" "+op,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attrs...))
	if name != "" { // sessions and pings have no primitive name
		span.SetAttributes(KeyName.String(name))
	}
	return ctx, call{ctx: ctx, t: t, attrs: attrs, span: span, start: time.Now()}
}

// end records the operation's duration and outcome and ends its span.
func (c call) end(err error) {
	outcome := Outcome(err)
	c.t.opDuration.Record(c.ctx, time.Since(c.start).Seconds(),
		metric.WithAttributes(append(c.attrs, KeyOutcome.String(outcome))...))
	if outcome == "ambiguous" {
		c.t.ambiguous.Add(c.ctx, 1, metric.WithAttributes(c.attrs...))
	}
	if err != nil {
		c.span.SetAttributes(KeyErrorType.String(outcome))
		c.span.SetStatus(codes.Error, outcome)
	}
	c.span.End()
}

// HoldWaited records how long an attempt to take a hold of kind waited;
// outcome is "acquired", "busy" (a try that found it held) or the
// Outcome of the error that ended the wait.
func (t *Telemetry) HoldWaited(ctx context.Context, kind driver.Kind, waited time.Duration, outcome string) {
	if t == nil {
		return
	}
	t.holdWait.Record(ctx, waited.Seconds(), metric.WithAttributes(
		append([]attribute.KeyValue{KeyKind.String(string(kind)), KeyOutcome.String(outcome)}, t.common...)...))
}

// HoldEnded records the end of a hold of kind that lasted held: released
// by its owner (lost false) or lost for reason.
func (t *Telemetry) HoldEnded(kind driver.Kind, held time.Duration, lost bool, reason string) {
	if t == nil {
		return
	}
	outcome := "released"
	if lost {
		outcome = "lost"
	}
	ctx := context.Background()
	attrs := append([]attribute.KeyValue{KeyKind.String(string(kind))}, t.common...)
	t.holdDuration.Record(ctx, held.Seconds(), metric.WithAttributes(append(attrs, KeyOutcome.String(outcome))...))
	if lost {
		t.holdsLost.Add(ctx, 1, metric.WithAttributes(append(attrs, KeyReason.String(reason))...))
	}
}

// SessionRenewed counts one session renewal; err is its error, if any.
func (t *Telemetry) SessionRenewed(err error) {
	if t == nil {
		return
	}
	ctx := context.Background()
	t.renewals.Add(ctx, 1, metric.WithAttributes(append([]attribute.KeyValue{KeyOutcome.String(Outcome(err))}, t.common...)...))
	if err != nil {
		t.renewFailures.Add(ctx, 1, metric.WithAttributes(t.common...))
	}
}

// WatchResynced counts one re-read of a watch of kind, for reason.
func (t *Telemetry) WatchResynced(kind driver.Kind, reason driver.ResyncReason) {
	if t == nil {
		return
	}
	t.resyncs.Add(context.Background(), 1, metric.WithAttributes(
		append([]attribute.KeyValue{KeyKind.String(string(kind)), KeyReason.String(string(reason))}, t.common...)...))
}

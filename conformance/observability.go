package conformance

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/lock"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/driver"
)

// testObservability checks, with the OpenTelemetry SDK's in-memory span
// recorder and manual metric reader and a slog handler that keeps its
// records, what a client made with WithLogger, WithTracerProvider and
// WithMeterProvider reports for a lock acquire, a lost hold and a watch
// re-read.
func testObservability(t *testing.T, h Harness) {
	parallel(t, "LockAcquire", h, testObservedLockAcquire)
	parallel(t, "LostHold", h, testObservedLostHold)
	for name, f := range map[string]func(*testing.T, *env){
		"WatchResync": testObservedWatchResync,
		"Ambiguous":   testObservedAmbiguous,
	} {
		t.Run(name, func(t *testing.T) {
			if reason, ok := h.Gaps[FeatureFaults]; ok {
				t.Skipf("gap: %s: %s (a watch re-reads, and a write is ambiguous, only after a fault, which this tier causes through the fault proxy)", FeatureFaults, reason)
			}
			t.Parallel()
			f(t, newEnv(t, h))
		})
	}
}

// testObservedAmbiguous: a write whose reply is lost with its connection is
// counted in atomix.operation.ambiguous, and its span has status Error
// with error.type "ambiguous".
func testObservedAmbiguous(t *testing.T, e *env) {
	p, d := e.proxied()
	c, o := e.observedClientOn(d)
	ctr, err := c.GetCounter(e.ctx, "c")
	require.NoError(t, err)
	other, err := e.client().GetCounter(e.ctx, "c")
	require.NoError(t, err)
	// Warm up the connection (scripts, handshakes): the lost write must be
	// one request.
	_, err = ctr.Increment(e.ctx, 1)
	require.NoError(t, err)
	lostReply(t, e, p, "Counter.Increment", func() error { _, err := ctr.Increment(e.ctx, 10); return err }, func() bool {
		v, err := other.Get(e.ctx)
		return err == nil && v == 11
	})
	base := map[string]string{"atomix.driver": d.Name(), "atomix.primitive.kind": "counter", "atomix.operation": "add"}
	require.Equal(t, int64(1), o.total("atomix.operation.ambiguous", base))
	require.Equal(t, int64(1), o.total("atomix.operation.duration", with(base, "atomix.outcome", "ambiguous")))
	var failed sdktrace.ReadOnlySpan
	for _, s := range o.spans.Ended() {
		if s.Name() == "counter add" && s.Status().Code == codes.Error {
			failed = s
		}
	}
	require.NotNil(t, failed, "a counter add span with status Error")
	require.Equal(t, "ambiguous", failed.Status().Description)
	require.Equal(t, "ambiguous", attrs(failed.Attributes())["error.type"])
}

// observed is the telemetry of one client, as the SDK and a slog handler
// recorded it.
type observed struct {
	t      *testing.T
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	logs   *logRecorder
}

// observedClientOn returns a client in the subtest's namespace over d,
// with a logger, a tracer provider and a meter provider that record.
func (e *env) observedClientOn(d driver.Driver) (*atomix.Client, *observed) {
	o := &observed{t: e.t, spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader(), logs: &logRecorder{}}
	o.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(o.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(o.reader))
	c := atomix.NewClient(atomix.WithDriver(d), atomix.WithNamespace(e.ns),
		atomix.WithSessionTTL(max(e.h.SessionTTL, stableSessionTTL)),
		atomix.WithLogger(slog.New(o.logs)), atomix.WithTracerProvider(o.tp), atomix.WithMeterProvider(mp))
	e.t.Cleanup(func() {
		if e.t.Failed() {
			for _, r := range o.logs.all() {
				e.t.Logf("log: %v %s %v", r.level, r.msg, r.attrs)
			}
		}
		ctx, cancel := cleanupContext()
		defer cancel()
		_ = c.Close(ctx)
		_ = o.tp.Shutdown(ctx)
		_ = mp.Shutdown(ctx)
	})
	return c, o
}

// span returns the ended span called name, failing if there is none.
func (o *observed) span(name string) sdktrace.ReadOnlySpan {
	o.t.Helper()
	var names []string
	for _, s := range o.spans.Ended() {
		if s.Name() == name {
			return s
		}
		names = append(names, s.Name())
	}
	require.FailNow(o.t, fmt.Sprintf("no span %q among %q", name, names))
	return nil
}

// attrs returns a span's or a point's attributes as strings by key.
func attrs(kvs []attribute.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.Emit()
	}
	return m
}

// matches reports whether have has every key of want with its value.
func matches(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// points returns, for the metric called name, the count of each data point
// whose attributes include want: the number of measurements of a
// histogram point, the value of a counter's.
func (o *observed) points(name string, want map[string]string) []int64 {
	o.t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(o.t, o.reader.Collect(context.Background(), &rm))
	var counts []int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			switch data := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, p := range data.DataPoints {
					if matches(attrs(p.Attributes.ToSlice()), want) {
						counts = append(counts, int64(p.Count))
					}
				}
			case metricdata.Sum[int64]:
				for _, p := range data.DataPoints {
					if matches(attrs(p.Attributes.ToSlice()), want) {
						counts = append(counts, p.Value)
					}
				}
			}
		}
	}
	return counts
}

// total is the sum of points(name, want).
func (o *observed) total(name string, want map[string]string) int64 {
	var n int64
	for _, c := range o.points(name, want) {
		n += c
	}
	return n
}

// requireLog fails unless a record at level whose message starts with
// prefix has every attribute of want, and returns its attributes.
func (o *observed) requireLog(level slog.Level, prefix string, want map[string]string) map[string]string {
	o.t.Helper()
	var seen []string
	for _, r := range o.logs.all() {
		if r.level == level && strings.HasPrefix(r.msg, prefix) && matches(r.attrs, want) {
			return r.attrs
		}
		seen = append(seen, fmt.Sprintf("%v %s %v", r.level, r.msg, r.attrs))
	}
	require.FailNow(o.t, fmt.Sprintf("no %v log %q with %v among:\n%s", level, prefix, want, strings.Join(seen, "\n")))
	return nil
}

// logRecorder is a slog.Handler that keeps every record, at every level.
type logRecorder struct {
	mu      sync.Mutex
	records []logRecord
	with    []slog.Attr // of a handler made by WithAttrs; shares mu's records through parent
	parent  *logRecorder
}

type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (l *logRecorder) root() *logRecorder {
	if l.parent != nil {
		return l.parent
	}
	return l
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	for _, a := range l.with {
		rec.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	root := l.root()
	root.mu.Lock()
	root.records = append(root.records, rec)
	root.mu.Unlock()
	return nil
}

func (l *logRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &logRecorder{parent: l.root(), with: append(slices.Clip(l.with), as...)}
}

func (l *logRecorder) WithGroup(string) slog.Handler { return l }

func (l *logRecorder) all() []logRecord {
	root := l.root()
	root.mu.Lock()
	defer root.mu.Unlock()
	return slices.Clone(root.records)
}

// testObservedLockAcquire: Lock inside a span of the caller's makes the
// spans "session new" and "lock acquire", children of the caller's, with
// the primitive's attributes; the operation duration and lock wait
// histograms get a point; the session start is logged. Unlock ends the
// hold, which the hold duration histogram counts as released.
func testObservedLockAcquire(t *testing.T, e *env) {
	d := e.driver()
	c, o := e.observedClientOn(d)
	l := e.lock(c, "l")
	ctx, root := o.tp.Tracer("conformance").Start(e.ctx, "caller")
	v := acquire(t, ctx, l, 0)
	root.End()
	expect(t, true)(l.Unlock(e.ctx))

	base := map[string]string{"atomix.driver": d.Name()}
	acq := o.span("lock acquire")
	require.Equal(t, root.SpanContext().SpanID(), acq.Parent().SpanID(), "the parent of lock acquire is the caller's span")
	require.Equal(t, codes.Unset, acq.Status().Code)
	a := attrs(acq.Attributes())
	require.True(t, matches(a, map[string]string{"atomix.primitive.kind": "lock", "atomix.primitive.name": "l",
		"atomix.operation": "acquire", "atomix.driver": d.Name()}), "attributes of lock acquire: %v", a)
	sess := o.span("session new")
	require.Equal(t, root.SpanContext().SpanID(), sess.Parent().SpanID(), "the parent of session new is the caller's span")
	require.Equal(t, acq.SpanContext().TraceID(), sess.SpanContext().TraceID())

	require.Equal(t, int64(1), o.total("atomix.operation.duration", with(base, "atomix.primitive.kind", "lock", "atomix.operation", "acquire", "atomix.outcome", "ok")))
	require.Equal(t, int64(1), o.total("atomix.operation.duration", with(base, "atomix.primitive.kind", "lock", "atomix.operation", "release", "atomix.outcome", "ok")))
	require.Equal(t, int64(1), o.total("atomix.hold.wait.duration", with(base, "atomix.primitive.kind", "lock", "atomix.outcome", "acquired")))
	waitFor(t, e.event, "the hold duration point of the released lock", func() bool {
		return o.total("atomix.hold.duration", with(base, "atomix.primitive.kind", "lock", "atomix.outcome", "released")) == 1
	})
	require.Zero(t, o.total("atomix.hold.lost", base))
	o.requireLog(slog.LevelInfo, "atomix: session started", map[string]string{"driver": d.Name()})
	t.Logf("lock acquire (version %d): span %q, %d spans, %d log records", v, acq.Name(), len(o.spans.Ended()), len(o.logs.all()))
}

// with returns a copy of m with the given key-value pairs added.
func with(m map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(m)+len(kv)/2)
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// testObservedLostHold: a hold released by another client
// (Unlock(IfMatch)) is lost to its owner, which counts it in
// atomix.hold.lost with reason "removed" and logs it as a warning.
func testObservedLostHold(t *testing.T, e *env) {
	d := e.driver()
	c, o := e.observedClientOn(d)
	a := e.lock(c, "l")
	b := e.lock(e.client(), "l")
	v := acquire(t, e.ctx, a, 0)
	lost := a.Lost()
	expect(t, true)(b.Unlock(e.ctx, lock.IfMatch(v)))
	requireDoneWithin(t, lost, e.event, "Lost of a holder released by another client")

	base := map[string]string{"atomix.driver": d.Name(), "atomix.primitive.kind": "lock"}
	waitFor(t, e.event, "a point of atomix.hold.lost", func() bool {
		return o.total("atomix.hold.lost", with(base, "atomix.reason", "removed")) == 1
	})
	require.Equal(t, int64(1), o.total("atomix.hold.duration", with(base, "atomix.outcome", "lost")))
	o.requireLog(slog.LevelWarn, "atomix: hold lost", map[string]string{
		"driver": d.Name(), "kind": "lock", "name": "l", "version": fmt.Sprint(v), "reason": "removed"})
}

// testObservedWatchResync: after the connection under a watch is cut and
// the backend refuses connections for a moment (and,
// where the backend resumes a broken watch by itself, its history
// compacted), the watch re-reads the state: atomix.watch.resyncs counts it
// with the reason, the re-read is logged, and the watcher still converges.
func testObservedWatchResync(t *testing.T, e *env) {
	p, d := e.proxied()
	c, o := e.observedClientOn(d)
	m, err := atomix.GetMap[string, string](e.ctx, "m", atomix.WithClient(c))
	require.NoError(t, err)
	writer, err := atomix.GetMap[string, string](e.ctx, "m", atomix.WithClient(e.client()))
	require.NoError(t, err)
	ch := make(chan _map.Event[string, string], 64)
	require.NoError(t, m.Watch(e.ctx, ch))
	_, err = writer.Put(e.ctx, "a", "1")
	require.NoError(t, err)
	require.Equal(t, "a", recv(t, ch, e.event, "the event of the first put").Entry.Key)
	// A watch may re-read on its first change (Redis's sequence numbers of
	// a new primitive start with a jump): count only the re-reads after.
	base := map[string]string{"atomix.driver": d.Name(), "atomix.primitive.kind": "map"}
	before := o.total("atomix.watch.resyncs", base)
	logged := len(o.logs.all())

	p.Blackhole(true)
	_, err = writer.Put(e.ctx, "b", "2")
	require.NoError(t, err)
	if e.h.DiscardHistory != nil {
		e.h.DiscardHistory(e.ctx, t)
	}
	// Down for a moment, as a restarting server: a client that retries a
	// request on a new connection at once (Go's HTTP transport does) meets
	// a refusal, not a backend that lost nothing.
	p.Refuse(true)
	p.Blackhole(false)
	p.Cut()
	time.Sleep(300 * time.Millisecond)
	p.Refuse(false)

	deadline := time.Now().Add(e.expiry)
	for {
		ev := recv(t, ch, time.Until(deadline), "the event of the put made while the watch's connection was cut")
		if ev.Entry.Key == "b" {
			break
		}
	}
	// The metric point and the log record of one re-read are made one
	// after the other: wait for both.
	var reasons []string
	waitFor(t, e.event, "a point of atomix.watch.resyncs and an Info record of the re-read after the cut", func() bool {
		reasons = reasons[:0]
		for _, r := range o.logs.all()[logged:] {
			if r.level == slog.LevelInfo && r.msg == "atomix: watch re-read the state" &&
				matches(r.attrs, map[string]string{"driver": d.Name(), "kind": "map", "name": "m"}) {
				reasons = append(reasons, r.attrs["reason"])
			}
		}
		return o.total("atomix.watch.resyncs", base) > before && len(reasons) > 0
	})
	for _, r := range reasons {
		require.Positive(t, o.total("atomix.watch.resyncs", with(base, "atomix.reason", r)), "the re-reads counted with reason %q", r)
	}
	t.Logf("the watch re-read the state after the cut: reasons %q", reasons)
}

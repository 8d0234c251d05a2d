package atomix

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/atomix/go-client/atomix/internal/telemetry"
	"github.com/atomix/go-client/driver"
)

// WithLogger makes the client log what an operator needs to know, and
// nothing on the path of a successful operation:
//
//   - Info: a session started; a watch that read its state again instead
//     of following changes, and why (gap, reconnect, compaction, restart,
//     inconsistent).
//   - Warn: a session renewal that failed (with the backend's error; the
//     client retries until the session's deadline); a session that ended
//     without being closed (expired, gone on the backend), and the one that
//     replaced it; a hold (a lock, a semaphore's permits, a leadership
//     handed out by Election.Lead) lost without its owner releasing it,
//     and why; the backend client's own warnings.
//   - Error: an event a watch could not decode with the primitive's codec
//     (the watch then ends and its channel is closed), with the key and the
//     codec's error; the backend client's own errors.
//   - Debug: sessions closed by the client, each successful renewal, the
//     backend client's informational lines.
//
// Every record has the attribute driver (its name: etcd, redis, consul,
// memory). A nil l, like no WithLogger at all, discards everything. The
// backend client's lines logged while the driver was being made, before
// the client took it, are not seen.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithTracerProvider makes the client trace every operation with tp's
// tracer (scope "github.com/atomix/go-client"): one client span per call
// to the backend, named "<kind> <operation>" ("map put", "lock acquire",
// "session new"; an iteration such as "map entries" is one span from its
// first pull to its last; "map watch" covers establishing the watch),
// child of the span in the operation's context, with the
// attributes atomix.primitive.kind, atomix.primitive.name,
// atomix.operation, atomix.driver and, for etcd and Redis, db.system.name.
// A failed operation's span has status Error, its description and the
// attribute error.type being the error kind ("conflict", "not-found",
// "ambiguous", "unavailable", …). A nil tp, like no WithTracerProvider,
// traces nothing and costs nothing.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tracerProvider = tp }
}

// WithMeterProvider makes the client record metrics with mp's meter (scope
// "github.com/atomix/go-client"). Every point has atomix.driver (and
// db.system.name for etcd and Redis).
//
//	atomix.operation.duration        histogram, s: kind, operation, outcome
//	atomix.operation.ambiguous       counter: kind, operation; writes whose outcome is unknown
//	atomix.hold.wait.duration        histogram, s: kind (lock, …), outcome (acquired, busy, or the error kind)
//	atomix.hold.duration             histogram, s: kind, outcome (released, lost)
//	atomix.hold.lost                 counter: kind, reason (session-ended, removed, new-term, watch-ended)
//	atomix.session.renewals          counter: outcome (ok or the error kind)
//	atomix.session.renewal.failures  counter
//	atomix.watch.resyncs             counter: kind, reason (gap, reconnect, compaction, restart, inconsistent)
//
// The attribute keys are atomix.primitive.kind, atomix.operation,
// atomix.outcome and atomix.reason. A nil mp, like no WithMeterProvider,
// records nothing and costs nothing.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.meterProvider = mp }
}

// observer is a client's logger and telemetry. It is the driver.Observer the
// client gives its driver, and what the portable layer reports holds,
// sessions and undecodable events to. A client without logger or providers
// has a zero observer: log discards, tel is nil.
type observer struct {
	log *slog.Logger
	tel *telemetry.Telemetry
	// on reports whether anything is observed at all, so that nothing is
	// done for a client that observes nothing.
	on bool
}

var _ driver.Observer = (*observer)(nil)

var discardLogger = slog.New(slog.DiscardHandler)

// observe sets up the client's observer from cfg and, if it observes
// anything, gives it to the driver (if Observable), replaces the driver by
// its instrumented wrapper, and has the client's watches report events
// they cannot decode. A client that observes nothing is left as it was.
func (c *Client) observe() {
	d := c.cfg.driver
	c.obs = observer{log: discardLogger}
	if d == nil || (c.cfg.logger == nil && c.cfg.tracerProvider == nil && c.cfg.meterProvider == nil) {
		return
	}
	c.obs.on = true
	if c.cfg.logger != nil {
		c.obs.log = c.cfg.logger.With("driver", d.Name())
	}
	c.obs.tel = telemetry.New(c.cfg.tracerProvider, c.cfg.meterProvider, d.Name())
	if o, ok := d.(driver.Observable); ok {
		o.SetObserver(&c.obs)
	}
	c.cfg.driver = c.obs.tel.Wrap(d)
	c.watched.Failed = c.obs.undecodable
}

// Logger implements driver.Observer.
func (o *observer) Logger() *slog.Logger { return o.log }

// SessionRenewed implements driver.Observer.
func (o *observer) SessionRenewed(session string, err error) {
	o.tel.SessionRenewed(err)
	if err != nil {
		o.log.Warn("atomix: session renewal failed; retrying until the session's deadline", "session", session, "error", err)
		return
	}
	o.log.Debug("atomix: session renewed", "session", session)
}

// WatchResynced implements driver.Observer.
func (o *observer) WatchResynced(kind driver.Kind, id driver.ID, reason driver.ResyncReason, cause error) {
	o.tel.WatchResynced(kind, reason)
	attrs := []any{"kind", string(kind), "name", id.Name, "reason", string(reason)}
	if id.Namespace != "" {
		attrs = append(attrs, "namespace", id.Namespace)
	}
	if cause != nil {
		attrs = append(attrs, "error", cause)
	}
	o.log.Info("atomix: watch re-read the state", attrs...)
}

// undecodable reports a watch ended by an event its codec could not decode.
func (o *observer) undecodable(event any, err error) {
	attrs := []any{"error", err}
	switch ev := event.(type) {
	case driver.EntryEvent:
		attrs = append(attrs, "key", ev.Entry.Key, "version", ev.Entry.Version)
	case driver.ElementEvent:
		attrs = append(attrs, "key", ev.Element)
	case driver.ValueEvent:
		attrs = append(attrs, "version", ev.Version)
	case driver.ListEvent:
		attrs = append(attrs, "index", ev.Index)
	}
	o.log.Error("atomix: a watch event could not be decoded; the watch ended and its channel was closed", attrs...)
}

// sessionStarted logs a new session and, if it replaced one that ended,
// that one; then it watches the new one end.
func (c *Client) sessionStarted(s driver.Session, replaced driver.Session) {
	if !c.obs.on {
		return
	}
	if replaced != nil {
		c.obs.log.Warn("atomix: session replaced", "session", s.ID(), "previous", replaced.ID())
	} else {
		c.obs.log.Info("atomix: session started", "session", s.ID(), "ttl", c.cfg.sessionTTL)
	}
	go func() {
		<-s.Done()
		var cause error
		if sc, ok := s.(driver.SessionCause); ok {
			cause = sc.Cause()
		}
		k := &c.sessions
		k.mu.Lock()
		closing := k.closed
		k.mu.Unlock()
		if closing || c.closed.Load() {
			c.obs.log.Debug("atomix: session closed", "session", s.ID())
			return
		}
		attrs := []any{"session", s.ID()}
		if cause != nil {
			attrs = append(attrs, "cause", cause)
		}
		c.obs.log.Warn("atomix: session ended; what was bound to it (locks, candidacies) is released", attrs...)
	}()
}

// holdEvents reports the life of the holds of one primitive instance: a
// lock's, a semaphore's permits, a leadership. kind and name are the
// primitive's; the zero value (a nil client) reports nothing.
type holdEvents struct {
	c    *Client
	kind driver.Kind
	name string
}

// waited reports an attempt to take a hold that began at start and ended
// with the hold (acquired), without it (a try that found it taken), or with
// err.
func (h holdEvents) waited(ctx context.Context, start time.Time, acquired bool, err error) {
	if h.c == nil || !h.c.obs.on {
		return
	}
	outcome := "acquired"
	switch {
	case err != nil:
		outcome = telemetry.Outcome(err)
	case !acquired:
		outcome = "busy"
	}
	h.c.obs.tel.HoldWaited(ctx, h.kind, time.Since(start), outcome)
}

// Why a hold was lost, as logs and metrics say it.
const (
	lostSessionEnded = "session-ended" // the session it was bound to ended
	lostRemoved      = "removed"       // the backend removed it (released by version, by another client)
	lostNewTerm      = "new-term"      // a leadership: another term began (Anoint, Promote, Evict by another)
	lostWatchEnded   = "watch-ended"   // a leadership: the election's watch ended, so it can no longer be confirmed
)

// ended reports the end of a hold of version taken at since: released by
// its owner, or lost for reason.
func (h holdEvents) ended(version uint64, since time.Time, lost bool, reason string) {
	if h.c == nil || !h.c.obs.on {
		return
	}
	held := time.Since(since)
	h.c.obs.tel.HoldEnded(h.kind, held, lost, reason)
	if lost {
		h.c.obs.log.Warn("atomix: hold lost", "kind", string(h.kind), "name", h.name,
			"version", version, "reason", reason, "held", held)
	}
}

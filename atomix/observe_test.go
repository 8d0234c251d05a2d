package atomix_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/atomix/go-client/atomix"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/atomix/primitive"
	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/drivers/memory"
)

// logBuffer collects the JSON lines of a slog.JSONHandler.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// records returns the records logged so far, decoded.
func (l *logBuffer) records(t *testing.T) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		if line == "" {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// await returns the first record whose level and message are as given,
// waiting up to 5s for it.
func (l *logBuffer) await(t *testing.T, level, msg string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, r := range l.records(t) {
			if r["level"] == level && strings.HasPrefix(r["msg"].(string), msg) {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s record %q among %v", level, msg, l.records(t))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func newLogger() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// TestLogUndecodableEvent: a stored value the watcher's codec cannot decode
// ends the watch (its channel closes) and is logged as an error with the
// key and the codec's error.
func TestLogUndecodableEvent(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	store := memory.NewStore()
	logger, logs := newLogger()
	c := atomix.NewClient(atomix.WithDriver(store.Connect()), atomix.WithLogger(logger))
	other := atomix.NewClient(atomix.WithDriver(store.Connect()))
	defer c.Close(ctx)
	defer other.Close(ctx)
	ints, err := atomix.GetMap[string, int](ctx, "m", atomix.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	strs, err := atomix.GetMap[string, string](ctx, "m", atomix.WithClient(other))
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan _map.Event[string, int], 1)
	if err := ints.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if _, err := strs.Put(ctx, "k", "not a number"); err != nil {
		t.Fatal(err)
	}
	select {
	case ev, ok := <-ch:
		if ok {
			t.Fatalf("event %+v of an undecodable value; want the channel closed", ev)
		}
	case <-ctx.Done():
		t.Fatal("the watch of an undecodable value did not end")
	}
	r := logs.await(t, "ERROR", "atomix: a watch event could not be decoded")
	if r["key"] != "k" || r["driver"] != "memory" || r["error"] == "" || r["error"] == nil {
		t.Fatalf("record %v: want key k, driver memory and the codec's error", r)
	}
}

// TestLogSessionEndAndLostHold: a session that ends without the client
// closing it is logged as a warning, so is the lock hold lost with it
// (reason session-ended), and the session that replaces it. "late-done"
// closes each session's Done 300ms after the session ended, well after the
// hold's Gone (the driver contract allows it): the reason must not depend
// on which of the two atomix sees first, as long as the session can say it
// has ended (driver.SessionCause). Before memory sessions said so, that
// variant failed with reason "removed", the race that made the first one
// fail now and then.
func TestLogSessionEndAndLostHold(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    interface {
			driver.Driver
			endSessions(t *testing.T)
		}
	}{
		{"memory", &faultyDriver{Driver: memory.New()}},
		{"late-done", &lateDoneDriver{Driver: memory.New(), delay: 300 * time.Millisecond}},
		{"notify", &faultyDriver{Driver: memory.New(), notify: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			logger, logs := newLogger()
			c := atomix.NewClient(atomix.WithDriver(tc.d), atomix.WithLogger(logger))
			defer c.Close(ctx)
			l, err := c.GetLock(ctx, "l")
			if err != nil {
				t.Fatal(err)
			}
			v, err := l.Lock(ctx)
			if err != nil {
				t.Fatal(err)
			}
			started := logs.await(t, "INFO", "atomix: session started")
			tc.d.endSessions(t)
			<-l.Lost()
			lost := logs.await(t, "WARN", "atomix: hold lost")
			if lost["reason"] != "session-ended" || lost["kind"] != "lock" || lost["name"] != "l" || lost["version"] != float64(v) {
				t.Fatalf("record %v: want the lock l, version %d, reason session-ended", lost, v)
			}
			ended := logs.await(t, "WARN", "atomix: session ended")
			if ended["session"] != started["session"] {
				t.Fatalf("ended %v, started %v", ended, started)
			}
			if _, err := l.Lock(ctx); err != nil {
				t.Fatal(err)
			}
			replaced := logs.await(t, "WARN", "atomix: session replaced")
			if replaced["previous"] != started["session"] {
				t.Fatalf("record %v: want previous %v", replaced, started["session"])
			}
		})
	}
}

// TestLoggerNil: WithLogger(nil) is no logger, not an error or a panic.
func TestLoggerNil(t *testing.T) {
	ctx := t.Context()
	c := atomix.NewClient(atomix.WithDriver(memory.New()), atomix.WithLogger(nil))
	defer c.Close(ctx)
	l, err := c.GetLock(ctx, "l")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Lock(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestLostLeadershipReported: a leadership handed out by Lead that another
// client ends (Anoint) is a lost hold: a warning with the election's name,
// the term and reason new-term, and one atomix.hold.lost point of kind
// election; the owner's own Leave afterwards is a release, not a loss.
func TestLostLeadershipReported(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	store := memory.NewStore()
	logger, logs := newLogger()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	c := atomix.NewClient(atomix.WithDriver(store.Connect()), atomix.WithLogger(logger), atomix.WithMeterProvider(mp))
	other := atomix.NewClient(atomix.WithDriver(store.Connect()))
	defer c.Close(ctx)
	defer other.Close(ctx)
	a, err := c.GetElection(ctx, "e", primitive.WithSessionID("a"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := other.GetElection(ctx, "e", primitive.WithSessionID("b"))
	if err != nil {
		t.Fatal(err)
	}
	leading, term, err := a.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Enter(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Anoint(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	<-leading.Done()
	lost := logs.await(t, "WARN", "atomix: hold lost")
	if lost["kind"] != "election" || lost["name"] != "e" || lost["reason"] != "new-term" || lost["version"] != float64(term.Term) {
		t.Fatalf("record %v: want election e, version %d, reason new-term", lost, term.Term)
	}
	if n := holdsLost(t, reader, "election", "new-term"); n != 1 {
		t.Fatalf("atomix.hold.lost{election,new-term} = %d, want 1", n)
	}

	// Leading again and leaving is the owner's release.
	if err := b.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	leading, _, err = a.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	<-leading.Done()
	time.Sleep(50 * time.Millisecond) // the report follows the context's end
	var losses int
	for _, r := range logs.records(t) {
		if r["msg"] == "atomix: hold lost" {
			losses++
		}
	}
	if losses != 1 {
		t.Fatalf("%d hold lost records, want 1 (Leave is no loss): %v", losses, logs.records(t))
	}
	if n := holdsLost(t, reader, "election", ""); n != 1 {
		t.Fatalf("atomix.hold.lost{election} = %d after Leave, want still 1", n)
	}
}

// holdsLost sums the atomix.hold.lost points of kind and, if not "",
// reason.
func holdsLost(t *testing.T, r *sdkmetric.ManualReader, kind, reason string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "atomix.hold.lost" {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				k, _ := dp.Attributes.Value("atomix.primitive.kind")
				why, _ := dp.Attributes.Value("atomix.reason")
				if k.AsString() == kind && (reason == "" || why.AsString() == reason) {
					n += dp.Value
				}
			}
		}
	}
	return n
}

// TestNotifiedHoldEnds: with a driver that notifies the end of its holds
// (driver.Hold.Notify), which leaves no goroutine of the portable layer
// waiting on Gone, every end of a hold is still reported once, as with one
// that does not: an Unlock as a release, an Unlock the backend could not
// confirm as a release too, at once (Lost closes, the driver's hold lasts),
// a session's end as a loss.
func TestNotifiedHoldEnds(t *testing.T) {
	for _, notify := range []bool{false, true} {
		t.Run(fmt.Sprintf("notify=%v", notify), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			fd := &faultyDriver{Driver: memory.New(), notify: notify}
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			c := atomix.NewClient(atomix.WithDriver(fd), atomix.WithMeterProvider(mp))
			defer c.Close(ctx)
			l, err := c.GetLock(ctx, "l")
			if err != nil {
				t.Fatal(err)
			}
			ended := func(outcome string, want uint64) {
				t.Helper()
				deadline := time.Now().Add(2 * time.Second)
				for {
					n := holdsEnded(t, reader, "lock", outcome)
					if n == want {
						return
					}
					if n > want || time.Now().After(deadline) {
						t.Fatalf("atomix.hold.duration{lock,%s} has %d points, want %d", outcome, n, want)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}

			if _, err := l.Lock(ctx); err != nil {
				t.Fatal(err)
			}
			if ok, err := l.Unlock(ctx); !ok || err != nil {
				t.Fatalf("Unlock = %v, %v", ok, err)
			}
			ended("released", 1)

			if _, err := l.Lock(ctx); err != nil {
				t.Fatal(err)
			}
			// Its release keeps failing: the hold ends as its owner sees
			// it, while the driver's hold lasts until the session's end.
			fd.mu.Lock()
			fd.failReleases = 1 << 30
			fd.mu.Unlock()
			if _, err := l.Unlock(ctx); err == nil {
				t.Fatal("Unlock with its release failing: no error")
			}
			select {
			case <-l.Lost():
			default:
				t.Fatal("Lost is open after an Unlock the backend could not confirm")
			}
			ended("released", 2)
			fd.mu.Lock()
			fd.failReleases = 0
			fd.mu.Unlock()

			if _, err := l.Lock(ctx); err != nil {
				t.Fatal(err)
			}
			fd.endSessions(t)
			<-l.Lost()
			ended("lost", 1)
			ended("released", 2)
			if n := holdsLost(t, reader, "lock", "session-ended"); n != 1 {
				t.Fatalf("atomix.hold.lost{lock,session-ended} = %d, want 1", n)
			}
		})
	}
}

// holdsEnded returns how many holds of kind ended with outcome (released,
// lost), as the atomix.hold.duration histogram counts them.
func holdsEnded(t *testing.T, r *sdkmetric.ManualReader, kind, outcome string) uint64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "atomix.hold.duration" {
				continue
			}
			for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
				k, _ := dp.Attributes.Value("atomix.primitive.kind")
				o, _ := dp.Attributes.Value("atomix.outcome")
				if k.AsString() == kind && o.AsString() == outcome {
					n += dp.Count
				}
			}
		}
	}
	return n
}

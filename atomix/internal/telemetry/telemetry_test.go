package telemetry

import (
	"context"
	"errors"
	"fmt"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/drivers/memory"
)

// TestOutcome: every error kind has its name; an interrupted write is
// ambiguous before it is a context error.
func TestOutcome(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, "ok"},
		{driver.Errorf(driver.ErrNotFound, "x"), "not-found"},
		{fmt.Errorf("wrapped: %w", driver.ErrConflict), "conflict"},
		{driver.Interrupted(ctx, true), "ambiguous"},
		{driver.Interrupted(ctx, false), "canceled"},
		{context.DeadlineExceeded, "deadline-exceeded"},
		{driver.ErrPermission, "permission"},
		{errors.New("other"), "error"},
	} {
		if got := Outcome(c.err); got != c.want {
			t.Errorf("Outcome(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// TestNilTelemetry: without providers there is no Telemetry, and a nil one
// records nothing and wraps nothing.
func TestNilTelemetry(t *testing.T) {
	tel := New(nil, nil, "memory")
	if tel != nil {
		t.Fatal("New without providers is not nil")
	}
	tel.SessionRenewed(errors.New("x"))
	tel.WatchResynced(driver.KindMap, driver.ResyncGap)
	tel.HoldEnded(driver.KindLock, 0, true, "removed")
	tel.HoldWaited(context.Background(), driver.KindLock, 0, "acquired")
	if tel.Wrap(nil) != nil {
		t.Fatal("a nil Telemetry wraps")
	}
}

// TestIterationSpan: an iteration is one span, from its first pull to its
// last, even when the caller stops early.
func TestIterationSpan(t *testing.T) {
	sr := tracetest.NewSpanRecorder()
	tel := New(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr)), nil, "memory")
	ctx := context.Background()
	d := tel.Wrap(memory.New())
	defer d.Close(ctx)
	m, err := d.OpenMap(ctx, driver.ID{Name: "m"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b"} {
		if _, err := m.Put(ctx, k, []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, err := range m.Entries(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	var names []string
	for _, s := range sr.Ended() {
		names = append(names, s.Name())
	}
	if want := []string{"map put", "map put", "map entries"}; fmt.Sprint(names) != fmt.Sprint(want) {
		t.Fatalf("spans %q, want %q", names, want)
	}
}

// TestWrapKeepsOptionalInterfaces: a wrapped driver offers semaphores
// exactly when the driver does, and their calls are spans.
func TestWrapKeepsOptionalInterfaces(t *testing.T) {
	sr := tracetest.NewSpanRecorder()
	tel := New(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr)), nil, "memory")
	ctx := context.Background()
	d := tel.Wrap(memory.New())
	defer d.Close(ctx)
	so, ok := d.(driver.SemaphoreOpener)
	if !ok {
		t.Fatal("the wrapped memory driver has no semaphores")
	}
	s, err := so.OpenSemaphore(ctx, driver.ID{Name: "s"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Available(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(sr.Ended()); n != 1 || sr.Ended()[0].Name() != "semaphore available" {
		t.Fatalf("%d spans, want one \"semaphore available\"", n)
	}
	if _, ok := tel.Wrap(withoutSemaphores{memory.New()}).(driver.SemaphoreOpener); ok {
		t.Fatal("the wrapper of a driver without semaphores offers them")
	}
}

// withoutSemaphores hides every method but driver.Driver's.
type withoutSemaphores struct{ driver.Driver }

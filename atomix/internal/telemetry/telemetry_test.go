package telemetry

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/atomix/go-client/driver"
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

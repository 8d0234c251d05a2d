package driver_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
)

func TestInterrupted(t *testing.T) {
	if err := driver.Interrupted(context.Background(), true); err != nil {
		t.Fatalf("Interrupted of a live context = %v", err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := driver.Interrupted(cancelled, false); err != context.Canceled {
		t.Fatalf("read: %v, want context.Canceled alone", err)
	}
	err := driver.Interrupted(cancelled, true)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, driver.ErrAmbiguous) {
		t.Fatalf("write: %v, want context.Canceled and ErrAmbiguous", err)
	}
}

// passedDeadline is a context whose deadline has passed but whose Err is
// still nil, as a context is between its deadline and its timer firing.
type passedDeadline struct{ context.Context }

func (passedDeadline) Deadline() (time.Time, bool) { return time.Now().Add(-time.Millisecond), true }

func TestInterruptedAtThePassedDeadline(t *testing.T) {
	err := driver.Interrupted(passedDeadline{context.Background()}, true)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, driver.ErrAmbiguous) {
		t.Fatalf("write at a passed deadline whose timer has not fired: %v, want DeadlineExceeded and ErrAmbiguous", err)
	}
}

package driver

import (
	"context"
	"time"
)

// Sleep waits for d to pass or for ctx to end, whichever comes first. It
// reports true if d passed and false if ctx ended first, so that a retry
// loop can stop when its caller has gone:
//
//	for attempt() != nil {
//		if !driver.Sleep(ctx, backoff) {
//			return ctx.Err()
//		}
//	}
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

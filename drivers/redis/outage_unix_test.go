//go:build unix

package redis

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
)

// TestLockWaitOutlivedBySessionInOutage freezes the server (SIGSTOP: the
// connections hang, as behind a lost network) while an acquisition waits
// for a lock, and then ends the waiter's session as its lease keeper does
// when renewals fail for a TTL: leaving the queue hangs past the caller's
// deadline. The caller must get its deadline's error, as from any wait
// that outlives it, not ErrClosed for the session's end: a client that
// starts a new session when its old one ended takes that for an
// instruction to wait again, past its deadline (before: "closed: the
// session has ended", as in the Failover scenario).
func TestLockWaitOutlivedBySessionInOutage(t *testing.T) {
	ctx := testContext(t)
	srv := newOwnServer(t)
	newDriver := func() *Driver {
		d, err := New(&goredis.UniversalOptions{Addrs: []string{srv.addr()}, ContextTimeoutEnabled: true}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = d.Close(context.Background()) })
		return d
	}
	// A long TTL: the waiter tries again only after a renewal interval.
	q := queueBehindHolder(t, ctx, newDriver(), newDriver(), testID(t, "l"), 30*time.Second, 2*time.Second)
	if err := srv.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	q.ws.(*session).keeper.Stop()
	err := <-q.done
	_ = srv.cmd.Process.Signal(syscall.SIGCONT)
	if !errors.Is(err, context.DeadlineExceeded) || isKind(err, driver.ErrClosed) {
		t.Fatalf("Acquire whose session ended in an outage that outlived its deadline: %v, want the deadline's error", err)
	}
}

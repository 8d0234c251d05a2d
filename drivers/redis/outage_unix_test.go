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
// for a lock: the waiter's session ends when its lease runs out, and
// leaving the queue hangs past the caller's deadline. The caller must get
// its deadline's error, as from any wait that outlives it, not ErrClosed
// for the session's end: a client that starts a new session when its old
// one ended takes that for an instruction to wait again, past its
// deadline (before: "closed: the session has ended").
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
	id := testID(t, "l")
	holder, waiter := newDriver(), newDriver()
	hs, err := holder.NewSession(ctx, driver.SessionOptions{TTL: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	hl, err := holder.OpenLock(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hl.Acquire(ctx, hs, "holder"); err != nil {
		t.Fatal(err)
	}
	ws, err := waiter.NewSession(ctx, driver.SessionOptions{TTL: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	wl, err := waiter.OpenLock(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := wl.Acquire(wctx, ws, "waiter")
		done <- err
	}()
	queue := newLock(&handle{d: waiter, ks: newKeyspace(waiter.opts.KeyPrefix, "lock", id)}).keys[3]
	for waiter.client.ZCard(ctx, queue).Val() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	err = <-done
	_ = srv.cmd.Process.Signal(syscall.SIGCONT)
	if !errors.Is(err, context.DeadlineExceeded) || isKind(err, driver.ErrClosed) {
		t.Fatalf("Acquire whose session ended in an outage that outlived its deadline: %v, want the deadline's error", err)
	}
	select {
	case <-ws.Done():
	default:
		t.Fatal("the waiter's session did not end in the outage")
	}
	_ = hs.Close(ctx)
	_ = ws.Close(ctx)
}

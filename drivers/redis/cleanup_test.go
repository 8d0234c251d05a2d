package redis

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// cleanupFaults fails, while on, every lock release script in mode 'o'
// (an attempt given up leaving the queue) without sending it, and counts
// the lock acquire scripts sent.
type cleanupFaults struct {
	on       atomic.Bool
	acquires atomic.Int64
}

func (f *cleanupFaults) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (f *cleanupFaults) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}
func (f *cleanupFaults) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		args := cmd.Args()
		if len(args) > 1 {
			switch args[1] {
			case lockAcquire.sha, lockAcquire.src:
				f.acquires.Add(1)
			case lockRelease.sha, lockRelease.src:
				if f.on.Load() && len(args) > 7 && args[7] == "o" {
					err := errors.New("injected: the server cannot be reached")
					cmd.SetErr(err)
					return err
				}
			}
		}
		return next(ctx, cmd)
	}
}

// abandonWithFailingCleanup queues the owner "waiter" of a driver of its
// own behind a holder's hold, with a session TTL of 30s, makes leaving the
// queue fail (faults on), and lets the waiter's Acquire pass its deadline:
// its place stays queued and its clean-up is retried in the background.
func abandonWithFailingCleanup(t *testing.T) (context.Context, *Driver, *cleanupFaults, *queuedWaiter) {
	t.Helper()
	ctx := testContext(t)
	waiter := newTestDriver(t)
	faults := &cleanupFaults{}
	waiter.client.AddHook(faults)
	q := queueBehindHolder(t, ctx, newTestDriver(t), waiter, testID(t, "l"), 30*time.Second, time.Second)
	faults.on.Store(true)
	if err := <-q.done; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire past its deadline: %v", err)
	}
	return ctx, waiter, faults, q
}

// TestCleanupSparesTheOwnersNextAcquire: a waiter gives up (its deadline
// passes) while leaving the queue fails, so that is retried in the
// background; the same owner then acquires again, and the retry would
// succeed from then on. The retry, which finds the owner's traces by owner
// and not by attempt, must not remove the new acquisition's place in the
// queue: the acquisition stops it before it sends anything, and takes over
// the place that was left.
func TestCleanupSparesTheOwnersNextAcquire(t *testing.T) {
	ctx, waiter, faults, q := abandonWithFailingCleanup(t)
	member := queueMember(q.ws.ID(), "waiter")
	score := func() (float64, error) { return waiter.client.ZScore(ctx, q.wl.keys.names[3], member).Result() }
	place, err := score()
	if err != nil {
		t.Fatalf("the place of the waiter whose leaving failed: %v, want still queued", err)
	}
	key := cleanupKey(q.wl.keys.names[3], "waiter")
	waiter.mu.Lock()
	c := waiter.cleanups[key]
	waiter.mu.Unlock()
	if c == nil || isDone(c.Done()) {
		t.Fatal("no clean-up retried in the background after leaving the queue failed")
	}

	sent := faults.acquires.Load()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		h, err := q.wl.Acquire(wctx, q.ws, "waiter")
		if err == nil {
			if closedWithin(h.Gone, time.Second) {
				err = errors.New("the hold's Gone closed while it was held")
			} else if _, err = q.wl.Release(ctx, "waiter", h.Version); err == nil && !closedWithin(h.Gone, 5*time.Second) {
				err = errors.New("Gone not closed after Release")
			}
		}
		done <- err
	}()
	for faults.acquires.Load() == sent {
		time.Sleep(5 * time.Millisecond)
	}
	faults.on.Store(false)
	// Past the retry's longest backoff. A place removed and taken again
	// (the waiter tries again after a renewal interval) would have a later
	// arrival.
	select {
	case err := <-done:
		t.Fatalf("the owner's new Acquire returned while the lock was held: %v", err)
	case <-time.After(3 * time.Second):
	}
	if now, err := score(); err != nil || now != place {
		t.Fatalf("the owner's place in the queue after the old clean-up's backoff: %v (%v), want %v, taken over by its new Acquire", now, err, place)
	}
	if _, err := q.hl.Release(ctx, "holder", q.held.Version); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the owner's new Acquire: %v", err)
	}
}

// TestCleanupTakenOverByTryAcquire: as TestCleanupSparesTheOwnersNextAcquire,
// but the owner's next call is a TryAcquire that finds the lock held. It
// stopped the clean-up and took over the place that was left, so it must
// remove that place before it returns false: TryAcquire leaves nothing
// behind, and nothing else would remove it while the session lives (if
// that removal fails too, it is retried as the first was).
func TestCleanupTakenOverByTryAcquire(t *testing.T) {
	ctx, waiter, faults, q := abandonWithFailingCleanup(t)
	member := queueMember(q.ws.ID(), "waiter")
	if _, err := waiter.client.ZScore(ctx, q.wl.keys.names[3], member).Result(); err != nil {
		t.Fatalf("the place of the waiter whose leaving failed: %v, want still queued", err)
	}
	// Still failing: the TryAcquire's own removal of the place fails too,
	// and must be retried like the first.
	if _, ok, err := q.wl.TryAcquire(ctx, q.ws, "waiter"); ok || err != nil {
		t.Fatalf("TryAcquire of a held lock = %v, %v; want false, nil", ok, err)
	}
	faults.on.Store(false)
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := waiter.client.ZCard(ctx, q.wl.keys.names[3]).Result()
		if err == nil && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queue 5s after a TryAcquire that took over the place left, once the server answers: %d members (%v), want 0", n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package consul

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
)

// The conformance suite covers the semaphore through the public API; these
// tests check what it cannot see: the contender keys failed attempts
// leave, and that versions are the contender keys' CreateIndex.

func openTestSemaphore(t *testing.T, d *Driver, name string, limit int) *consulSemaphore {
	t.Helper()
	s, err := d.OpenSemaphore(testContext(t), testID(name), limit)
	if err != nil {
		t.Fatal(err)
	}
	return s.(*consulSemaphore)
}

// contenderKeys returns the semaphore's contender keys.
func contenderKeys(t *testing.T, s *consulSemaphore) []string {
	t.Helper()
	keys, _, err := s.d.kv.Keys(s.contenders, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestSemaphoreFailedAttemptsLeaveNoKey: a TryAcquire that finds no permit
// free, an Acquire whose context ends while queued and an Acquire refused
// for its limit delete their contender keys before returning; the hold's
// key is the only one left, and its CreateIndex is the hold's version.
func TestSemaphoreFailedAttemptsLeaveNoKey(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	s := testSession(t, d)
	sem := openTestSemaphore(t, d, "s", 1)
	h, err := sem.Acquire(ctx, s, "a", 1)
	if err != nil {
		t.Fatal(err)
	}
	held := contenderKeys(t, sem)
	if len(held) != 1 {
		t.Fatalf("contender keys %q with one holder", held)
	}
	pair, _, err := d.kv.Get(held[0], nil)
	if err != nil || pair == nil || pair.CreateIndex != h.Version {
		t.Fatalf("the holder's key %+v (%v): its CreateIndex must be the version %d", pair, err, h.Version)
	}

	if _, ok, err := sem.TryAcquire(ctx, s, "b", 1); err != nil || ok {
		t.Fatalf("TryAcquire with no permit free = %v, %v", ok, err)
	}
	if keys := contenderKeys(t, sem); !slices.Equal(keys, held) {
		t.Fatalf("a failed TryAcquire left keys: %q", keys)
	}
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := sem.Acquire(wctx, s, "c", 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire with an expiring context: %v", err)
	}
	if keys := contenderKeys(t, sem); !slices.Equal(keys, held) {
		t.Fatalf("an abandoned Acquire left keys: %q", keys)
	}
	other := openTestSemaphore(t, d, "s", 2)
	if _, err := other.Acquire(ctx, s, "d", 1); !errors.Is(err, driver.ErrConflict) {
		t.Fatalf("Acquire with another limit while a permit is held: %v", err)
	}
	if keys := contenderKeys(t, sem); !slices.Equal(keys, held) {
		t.Fatalf("an Acquire refused for its limit left keys: %q", keys)
	}
	if ok, err := sem.Release(ctx, "a", h.Version); err != nil || !ok {
		t.Fatalf("Release = %v, %v", ok, err)
	}
	if keys := contenderKeys(t, sem); len(keys) != 0 {
		t.Fatalf("Release left keys: %q", keys)
	}
}

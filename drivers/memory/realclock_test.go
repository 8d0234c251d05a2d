package memory

import (
	"context"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
)

// TestRealClockExpiry checks session expiry on the system clock with a
// short TTL.
func TestRealClockExpiry(t *testing.T) {
	ctx := context.Background()
	const ttl = 200 * time.Millisecond
	s := NewStore()
	live, crashed := s.Connect(), s.Connect()
	defer live.Close(ctx)
	sl, err := live.NewSession(ctx, driver.SessionOptions{TTL: ttl})
	must(t, "live session", err)
	sc, err := crashed.NewSession(ctx, driver.SessionOptions{TTL: ttl})
	must(t, "crashed session", err)
	l, _ := crashed.OpenLock(ctx, id("l"))
	h, err := l.Acquire(ctx, sc, "me")
	must(t, "acquire", err)

	crashedAt := time.Now()
	crashed.Crash()
	select {
	case <-h.Gone:
	case <-time.After(10 * ttl):
		t.Fatal("the crashed holder's lock was not released")
	}
	if waited := time.Since(crashedAt); waited < ttl/2 {
		t.Fatalf("released %v after the crash, before the TTL could pass", waited)
	}
	recv(t, sc.Done())
	time.Sleep(3 * ttl)
	if !open(sl.Done()) {
		t.Fatal("a live session expired although its connection renews it")
	}
}

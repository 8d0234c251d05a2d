package redis

import (
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// eventually runs op until it succeeds, while the server comes back.
func eventually[T any](t *testing.T, what string, op func() (T, error)) T {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, err := op()
		if err == nil {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestVersionsIncreaseAcrossEmptyRestart restarts a server without
// persistence, which comes back with none of the primitives' counters:
// fencing versions, entry versions and election terms must still be
// greater than every one given out before the restart.
func TestVersionsIncreaseAcrossEmptyRestart(t *testing.T) {
	ctx := testContext(t)
	srv := testbackend.StartRedisServer(t)
	d, err := New(&goredis.UniversalOptions{Addrs: []string{srv.Addr()}, ContextTimeoutEnabled: true}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)

	lock := openTestLock(t, d, testID(t, "lock"))
	m := openTestMap(t, d, testID(t, "map"))
	im, err := d.OpenIndexedMap(ctx, testID(t, "imap"))
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close(ctx)
	v, err := d.OpenValue(ctx, testID(t, "value"))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close(ctx)
	e := openTestElection(t, d, testID(t, "election"))
	sem, err := d.OpenSemaphore(ctx, testID(t, "semaphore"), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer sem.Close(ctx)

	// Each primitive's greatest number before the restart.
	type probe struct {
		name string
		next func(s driver.Session) (uint64, error) // one more write, and its number
	}
	probes := []probe{
		{"lock version", func(s driver.Session) (uint64, error) {
			h, err := lock.Acquire(ctx, s, "owner")
			if err != nil {
				return 0, err
			}
			_, err = lock.Release(ctx, "owner", h.Version)
			return h.Version, err
		}},
		{"semaphore version", func(s driver.Session) (uint64, error) {
			h, err := sem.Acquire(ctx, s, "owner", 1)
			if err != nil {
				return 0, err
			}
			_, err = sem.Release(ctx, "owner", h.Version)
			return h.Version, err
		}},
		{"map version", func(driver.Session) (uint64, error) {
			en, err := m.Put(ctx, "k", []byte("v"), 0)
			return en.Version, err
		}},
		{"indexed map version", func(driver.Session) (uint64, error) {
			if _, err := im.Remove(ctx, "k", 0); err != nil && !isKind(err, driver.ErrNotFound) {
				return 0, err
			}
			en, err := im.Append(ctx, "k", []byte("v"))
			return en.Version, err
		}},
		{"value version", func(driver.Session) (uint64, error) {
			return v.Set(ctx, []byte("v"), 0)
		}},
		{"election term", func(s driver.Session) (uint64, error) {
			if _, err := e.Leave(ctx, "c"); err != nil {
				return 0, err
			}
			term, err := e.Enter(ctx, s, "c")
			return term.Term, err
		}},
	}
	s := newSessionT(t, d)
	before := make([]uint64, len(probes))
	for i, p := range probes {
		for range 3 {
			if before[i], err = p.next(s); err != nil {
				t.Fatalf("%s before the restart: %v", p.name, err)
			}
		}
	}
	s.Close(ctx)

	srv.Restart()

	s2 := eventually(t, "a session after the restart", func() (driver.Session, error) {
		return d.NewSession(ctx, driver.SessionOptions{TTL: testTTL})
	})
	defer s2.Close(ctx)
	for i, p := range probes {
		after := eventually(t, p.name+" after the restart", func() (uint64, error) { return p.next(s2) })
		if after <= before[i] {
			t.Errorf("%s went back across an empty restart: %d, then %d", p.name, before[i], after)
		}
	}
}

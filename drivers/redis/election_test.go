package redis

import (
	"slices"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
)

func openTestElection(t *testing.T, d *Driver, id driver.ID) driver.Election {
	t.Helper()
	e, err := d.OpenElection(testContext(t), id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestElectionLeaderExpiry checks that when the leader's client dies, the
// term changes once, to the next candidate, and that a watcher hears of it
// within about a TTL although nobody calls the election.
func TestElectionLeaderExpiry(t *testing.T) {
	ctx := testContext(t)
	a, b, w := newTestDriver(t), newTestDriver(t), newTestDriver(t)
	id := testID(t, "e")
	ea, eb, ew := openTestElection(t, a, id), openTestElection(t, b, id), openTestElection(t, w, id)
	t1, err := ea.Enter(ctx, newSessionT(t, a), "a")
	if err != nil {
		t.Fatal(err)
	}
	if t1.Leader != "a" || t1.Term == 0 {
		t.Fatalf("term after the first Enter = %+v", t1)
	}
	t2, err := eb.Enter(ctx, newSessionT(t, b), "b")
	if err != nil {
		t.Fatal(err)
	}
	if t2.Term != t1.Term || !slices.Equal(t2.Candidates, []string{"a", "b"}) {
		t.Fatalf("term after a second candidate = %+v; the term must not change with the leader", t2)
	}
	ch := make(chan driver.Term, 10)
	if err := ew.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	crashed := time.Now()
	a.Crash()
	select {
	case got := <-ch:
		if got.Leader != "b" || got.Term != t1.Term+1 || !slices.Equal(got.Candidates, []string{"b"}) {
			t.Fatalf("term after the leader expired = %+v, want b leading term %d", got, t1.Term+1)
		}
		if d := time.Since(crashed); d > 2*testTTL+500*time.Millisecond {
			t.Fatalf("the watcher heard of the expiry after %v", d)
		}
	case <-time.After(5 * testTTL):
		t.Fatal("the watcher did not hear of the leader's expiry")
	}
	got, err := eb.Term(ctx)
	if err != nil || got.Term != t1.Term+1 || got.Leader != "b" {
		t.Fatalf("Term = %+v, %v", got, err)
	}
	select {
	case extra := <-ch:
		t.Fatalf("extra event %+v", extra)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestSessionCloseReleases checks that closing a session withdraws its
// candidacies and deletes its keys.
func TestSessionCloseReleases(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	e := openTestElection(t, d, testID(t, "e"))
	s := newSessionT(t, d)
	if _, err := e.Enter(ctx, s, "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(s.Done(), 0) {
		t.Fatal("Done not closed by Close")
	}
	tm, err := e.Term(ctx)
	if err != nil || tm.Leader != "" {
		t.Fatalf("Term after the session closed = %+v, %v", tm, err)
	}
	if n, err := d.client.Exists(ctx, s.key).Result(); err != nil || n != 0 {
		t.Fatalf("session key after Close: %d, %v", n, err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := e.Enter(ctx, s, "b"); !isKind(err, driver.ErrClosed) {
		t.Fatalf("Enter with a closed session: %v", err)
	}
}

// TestSessionCloseKeepsOthersCandidacy checks that closing a session does
// not withdraw a candidacy that another session entered first.
func TestSessionCloseKeepsOthersCandidacy(t *testing.T) {
	ctx := testContext(t)
	a, b := newTestDriver(t), newTestDriver(t)
	id := testID(t, "e")
	ea, eb := openTestElection(t, a, id), openTestElection(t, b, id)
	if _, err := ea.Enter(ctx, newSessionT(t, a), "node"); err != nil {
		t.Fatal(err)
	}
	sb := newSessionT(t, b)
	if _, err := eb.Enter(ctx, sb, "node"); err != nil { // keeps a's binding
		t.Fatal(err)
	}
	if err := sb.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if tm, err := ea.Term(ctx); err != nil || tm.Leader != "node" {
		t.Fatalf("Term after another session closed = %+v, %v; want node still leading", tm, err)
	}
}

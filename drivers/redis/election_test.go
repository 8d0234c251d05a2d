package redis

import (
	"testing"

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

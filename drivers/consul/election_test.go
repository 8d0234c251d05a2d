package consul

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

func termString(t driver.Term) string {
	return fmt.Sprintf("%d %q %q", t.Term, t.Leader, t.Candidates)
}

func TestElectionOperations(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	s := testSession(t, d)
	e, _ := d.OpenElection(ctx, testID("e"))
	want := func(term uint64, leader string, candidates ...string) func(driver.Term, error) driver.Term {
		return func(got driver.Term, err error) driver.Term {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			if w := (driver.Term{Term: term, Leader: leader, Candidates: candidates}); termString(got) != termString(w) {
				t.Fatalf("term %s, want %s", termString(got), termString(w))
			}
			return got
		}
	}
	want(0, "")(e.Term(ctx))
	want(1, "a", "a")(e.Enter(ctx, s, "a"))
	want(1, "a", "a", "b/x")(e.Enter(ctx, s, "b/x"))
	want(1, "a", "a", "b/x", "c")(e.Enter(ctx, s, "c"))
	want(1, "a", "a", "b/x", "c")(e.Enter(ctx, s, "a")) // keeps its place
	want(1, "a", "a", "c", "b/x")(e.Promote(ctx, "c"))
	want(2, "c", "c", "a", "b/x")(e.Promote(ctx, "c"))
	want(2, "c", "c", "a", "b/x")(e.Promote(ctx, "c")) // at the head
	want(3, "b/x", "b/x", "c", "a")(e.Anoint(ctx, "b/x"))
	want(3, "b/x", "b/x", "c")(e.Evict(ctx, "a"))
	if _, err := e.Evict(ctx, "a"); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("Evict of a non-candidate: %v", err)
	}
	for _, op := range []func(string) (driver.Term, error){
		func(id string) (driver.Term, error) { return e.Anoint(ctx, id) },
		func(id string) (driver.Term, error) { return e.Promote(ctx, id) },
	} {
		if _, err := op("zz"); !errors.Is(err, driver.ErrNotFound) {
			t.Fatalf("change of a non-candidate: %v", err)
		}
	}
	want(3, "b/x", "b/x", "c")(e.Leave(ctx, "zz"))
	want(4, "c", "c")(e.Leave(ctx, "b/x"))
	want(5, "")(e.Leave(ctx, "c"))
	want(6, "a", "a")(e.Enter(ctx, s, "a"))
	want(6, "a", "a")(e.Term(ctx))
}

func TestElectionWatch(t *testing.T) {
	ctx := testContext(t)
	addr, prefix := testbackend.Consul(t), testPrefix(t)
	d1, d2 := testDriverAt(t, addr, prefix), testDriverAt(t, addr, prefix)
	s1, s2 := testSession(t, d1), testSession(t, d2)
	e1, _ := d1.OpenElection(ctx, testID("e"))
	e2, _ := d2.OpenElection(ctx, testID("e"))
	ch := make(chan driver.Term, 100)
	if err := e2.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	t1, _ := e1.Enter(ctx, s1, "one")
	t2, _ := e2.Enter(ctx, s2, "two")
	t3, _ := e2.Anoint(ctx, "two")
	var got []driver.Term
	for len(got) == 0 || termString(got[len(got)-1]) != termString(t3) {
		got = append(got, recvWithin(t, ch, 10*time.Second))
	}
	// States may merge, but what arrives is a subsequence of the changes.
	changes := []string{termString(t1), termString(t2), termString(t3)}
	i := 0
	for _, g := range got {
		for i < len(changes) && changes[i] != termString(g) {
			i++
		}
		if i == len(changes) {
			t.Fatalf("watched %v, not a subsequence of %v", got, changes)
		}
	}
	// A session that ends (closed here) removes its candidacy, and the
	// leader changes with a new term, seen by the watcher and by Term.
	if err := s2.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var last driver.Term
	for last.Leader != "one" {
		last = recvWithin(t, ch, 10*time.Second)
	}
	if last.Term != t3.Term+1 || len(last.Candidates) != 1 {
		t.Fatalf("after the leader's session ended: %s", termString(last))
	}
	if now, err := e1.Term(ctx); err != nil || termString(now) != termString(last) {
		t.Fatalf("Term = %s, %v; the watcher saw %s", termString(now), err, termString(last))
	}
}

func TestElectionRepairAfterExpiry(t *testing.T) {
	ctx := testContext(t)
	addr, prefix := testbackend.Consul(t), testPrefix(t)
	d1, d2 := testDriverAt(t, addr, prefix), testDriverAt(t, addr, prefix)
	s1, s2 := testSession(t, d1), testSession(t, d2)
	e1, _ := d1.OpenElection(ctx, testID("e"))
	e2, _ := d2.OpenElection(ctx, testID("e"))
	first, _ := e1.Enter(ctx, s1, "same")
	// The leader's key disappears without a transaction (as on expiry),
	// and the same candidate enters again with another session: a new
	// leader, so a new term.
	if _, err := d1.client.Session().Destroy(s1.ID(), nil); err != nil {
		t.Fatal(err)
	}
	second, err := e2.Enter(ctx, s2, "same")
	if err != nil || second.Leader != "same" || second.Term <= first.Term {
		t.Fatalf("Enter after the leader's session ended = %s, %v; first term %s", termString(second), err, termString(first))
	}
	if now, err := e1.Term(ctx); err != nil || termString(now) != termString(second) {
		t.Fatalf("Term = %s, %v", termString(now), err)
	}
}

package memory

import (
	"context"
	"slices"
	"testing"

	"github.com/atomix/go-client/driver"
)

func TestElectionTermChangesExactlyWithTheLeader(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	d := connect()
	s := newSession(t, d)
	e, _ := d.OpenElection(ctx, id("e"))

	step := func(what string, term driver.Term, err error, wantTerm uint64, want ...string) {
		t.Helper()
		must(t, what, err)
		leader := ""
		if len(want) > 0 {
			leader = want[0]
		}
		if term.Term != wantTerm || term.Leader != leader || !slices.Equal(term.Candidates, want) {
			t.Fatalf("%s: got %+v, want term %d with candidates %v", what, term, wantTerm, want)
		}
		now, err := e.Term(ctx)
		must(t, "term", err)
		if now.Term != term.Term || now.Leader != term.Leader || !slices.Equal(now.Candidates, term.Candidates) {
			t.Fatalf("%s returned %+v but Term reads %+v", what, term, now)
		}
	}
	term, err := e.Term(ctx)
	step("initial", term, err, 0)
	term, err = e.Enter(ctx, s, "a")
	step("a enters", term, err, 1, "a")
	term, err = e.Enter(ctx, s, "b")
	step("b enters", term, err, 1, "a", "b")
	term, err = e.Enter(ctx, s, "c")
	step("c enters", term, err, 1, "a", "b", "c")
	term, err = e.Enter(ctx, s, "a")
	step("a enters again", term, err, 1, "a", "b", "c")
	term, err = e.Promote(ctx, "c")
	step("c promoted", term, err, 1, "a", "c", "b")
	term, err = e.Promote(ctx, "c")
	step("c promoted to leader", term, err, 2, "c", "a", "b")
	term, err = e.Promote(ctx, "c")
	step("leader promoted", term, err, 2, "c", "a", "b")
	term, err = e.Anoint(ctx, "b")
	step("b anointed", term, err, 3, "b", "c", "a")
	term, err = e.Anoint(ctx, "b")
	step("leader anointed", term, err, 3, "b", "c", "a")
	term, err = e.Evict(ctx, "a")
	step("a evicted", term, err, 3, "b", "c")
	term, err = e.Leave(ctx, "b")
	step("leader leaves", term, err, 4, "c")
	term, err = e.Leave(ctx, "nobody")
	step("non-candidate leaves", term, err, 4, "c")
	term, err = e.Leave(ctx, "c")
	step("last leaves", term, err, 5)
	term, err = e.Enter(ctx, s, "c")
	step("c re-enters", term, err, 6, "c")

	for _, op := range []func(context.Context, string) (driver.Term, error){e.Anoint, e.Promote, e.Evict} {
		_, err := op(ctx, "nobody")
		wantErr(t, "non-candidate", err, driver.ErrNotFound)
	}
}

func TestElectionCandidateLeavesWhenItsSessionExpires(t *testing.T) {
	ctx := context.Background()
	_, clock, connect := newTestStore(t)
	a, b := connect(), connect()
	ea, _ := a.OpenElection(ctx, id("e"))
	eb, _ := b.OpenElection(ctx, id("e"))
	sa, sb := newSession(t, a), newSession(t, b)
	_, err := eb.Enter(ctx, sb, "b1")
	must(t, "b1 enters", err)
	_, err = ea.Enter(ctx, sa, "a")
	must(t, "a enters", err)
	before, err := eb.Enter(ctx, sb, "b2")
	must(t, "b2 enters", err)

	terms := make(chan driver.Term, 10)
	must(t, "watch", eb.Watch(ctx, terms))
	a.Crash()
	clock.Advance(2 * testTTL)
	got := recv(t, terms)
	if got.Term != before.Term || !slices.Equal(got.Candidates, []string{"b1", "b2"}) {
		t.Fatalf("after a non-leader's expiry: %+v, want term %d with [b1 b2]", got, before.Term)
	}

	// The leader's expiry moves the term.
	_, err = ea.Enter(ctx, sa, "late")
	wantErr(t, "enter on a crashed driver", err, driver.ErrClosed)
	must(t, "session close", sb.Close(ctx))
	got = recv(t, terms)
	if len(got.Candidates) != 1 || got.Term != before.Term+1 {
		t.Fatalf("after b1's session ended: %+v", got)
	}
	got = recv(t, terms)
	if got.Leader != "" || got.Term != before.Term+2 {
		t.Fatalf("after every session ended: %+v", got)
	}
}

func TestElectionWatchersGetTheirOwnCandidates(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	d := connect()
	s := newSession(t, d)
	e, _ := d.OpenElection(ctx, id("e"))
	w1, w2 := make(chan driver.Term, 1), make(chan driver.Term, 1)
	must(t, "watch 1", e.Watch(ctx, w1))
	must(t, "watch 2", e.Watch(ctx, w2))
	term, err := e.Enter(ctx, s, "a")
	must(t, "enter", err)
	term.Candidates[0] = "mutated by the caller"
	t1 := recv(t, w1)
	t1.Candidates[0] = "mutated by watcher 1"
	if t2 := recv(t, w2); t2.Candidates[0] != "a" {
		t.Fatalf("watcher 2 saw %q", t2.Candidates[0])
	}
	if now, _ := e.Term(ctx); now.Leader != "a" {
		t.Fatalf("leader %q", now.Leader)
	}
}

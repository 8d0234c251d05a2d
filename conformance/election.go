package conformance

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/election"
	"github.com/atomix/go-client/atomix/primitive"
)

func testElection(t *testing.T, h Harness) {
	skipIfGap(t, h, FeatureElection)
	parallel(t, "IDs", h, testElectionIDs)
	parallel(t, "FirstComeFirstServed", h, testElectionFirstComeFirstServed)
	parallel(t, "AnointPromoteEvict", h, testElectionAnointPromoteEvict)
	parallel(t, "CloseLeaves", h, testElectionCloseLeaves)
	parallel(t, "ClientCloseLeaves", h, testElectionClientCloseLeaves)
	parallel(t, "Watch", h, testElectionWatch)
	testElectionLead(t, h)
	runWatchEveryChange(t, h, electionWatchSpec())
	t.Run("WatchIsolation", func(t *testing.T) { testWatchIsolation(t, h, electionWatchSpec()) })
	t.Run("Isolation", func(t *testing.T) { testIsolation(t, h, electionKind) })
	parallel(t, "InvalidName", h, func(t *testing.T, e *env) {
		_, err := e.client().GetElection(e.ctx, "")
		require.ErrorIs(t, err, atomix.ErrInvalid)
	})
	parallel(t, "Closed", h, func(t *testing.T, e *env) {
		el := e.election(e.client(), "e")
		require.NoError(t, el.Close(e.ctx))
		requireElectionClosed(t, e.ctx, el)
		requireCloseAgain(t, el.Close(e.ctx))
	})
	parallel(t, "ClientClosed", h, func(t *testing.T, e *env) {
		c := e.client()
		el := e.election(c, "e")
		require.NoError(t, c.Close(e.ctx))
		requireElectionClosed(t, e.ctx, el)
		_, err := c.GetElection(e.ctx, "e")
		require.ErrorIs(t, err, atomix.ErrClosed, "GetElection on a closed client")
	})
}

// election opens election name through c, failing the test if it cannot.
func (e *env) election(c *atomix.Client, name string, opts ...primitive.Option) election.Election {
	e.t.Helper()
	el, err := c.GetElection(e.ctx, name, opts...)
	require.NoError(e.t, err, "GetElection %q", name)
	require.Equal(e.t, name, el.Name())
	return el
}

// terms follows the terms of one election and checks each against the
// candidates expected and the rule that the term number changes exactly
// when the leader does.
type terms struct {
	t       testing.TB
	last    election.Term
	started bool
}

// want returns a function that checks the term an operation returned
// against the candidates expected, in priority order:
//
//	ts.want(a, b)(b.Enter(ctx))
func (ts *terms) want(candidates ...election.Election) func(election.Term, error) election.Term {
	return func(term election.Term, err error) election.Term {
		ts.t.Helper()
		require.NoError(ts.t, err)
		return ts.check(term, candidates)
	}
}

func (ts *terms) check(term election.Term, candidates []election.Election) election.Term {
	ts.t.Helper()
	term = normaliseTerm(term)
	var ids []string
	for _, c := range candidates {
		ids = append(ids, c.ID())
	}
	require.Equal(ts.t, ids, term.Candidates, "candidates in priority order")
	leader := ""
	if len(ids) > 0 {
		leader = ids[0]
	}
	require.Equal(ts.t, leader, term.Leader, "the leader is the first candidate")
	if ts.started {
		require.NoError(ts.t, checkTermRule(ts.last, term))
	}
	ts.last, ts.started = term, true
	return term
}

func testElectionIDs(t *testing.T, e *env) {
	c := e.client()
	a, b := e.election(c, "e"), e.election(c, "e")
	require.NotEmpty(t, a.ID())
	require.NotEqual(t, a.ID(), b.ID(), "default IDs are unique per instance")
	require.NotEqual(t, a.ID(), e.election(e.client(), "e").ID(), "default IDs are unique across clients")
	n := e.election(c, "e", primitive.WithSessionID("node-1"))
	require.Equal(t, "node-1", n.ID())
	term, err := n.Enter(e.ctx)
	require.NoError(t, err)
	require.Equal(t, "node-1", term.Leader)
	require.Equal(t, []string{"node-1"}, term.Candidates)
}

func testElectionFirstComeFirstServed(t *testing.T, e *env) {
	ctx := e.ctx
	a := e.election(e.client(), "e")
	b := e.election(e.client(), "e")
	c := e.election(e.client(), "e")
	ts := &terms{t: t}
	ts.want()(a.GetTerm(ctx)) // no candidate, no leader
	first := ts.want(a)(a.Enter(ctx))
	require.Positive(t, first.Term, "a leader's term")
	ts.want(a, b)(b.Enter(ctx))
	ts.want(a, b, c)(c.Enter(ctx))
	ts.want(a, b, c)(b.Enter(ctx)) // entering again keeps the place
	ts.want(a, b, c)(a.GetTerm(ctx))
	require.NoError(t, a.Leave(ctx))
	ts.want(b, c)(c.GetTerm(ctx))
	require.NoError(t, a.Leave(ctx), "leaving when not a candidate")
	ts.want(b, c, a)(a.Enter(ctx)) // back at the end
	require.NoError(t, c.Leave(ctx))
	ts.want(b, a)(c.GetTerm(ctx))
	require.NoError(t, b.Leave(ctx))
	ts.want(a)(b.GetTerm(ctx))
	require.NoError(t, a.Leave(ctx))
	ts.want()(b.GetTerm(ctx)) // nobody left: no leader, a new term
	ts.want(c)(c.Enter(ctx))
}

func testElectionAnointPromoteEvict(t *testing.T, e *env) {
	ctx := e.ctx
	a := e.election(e.client(), "e")
	b := e.election(e.client(), "e")
	c := e.election(e.client(), "e")
	outsider := e.election(e.client(), "e") // never a candidate; acts on the others
	ts := &terms{t: t}
	ts.want()(outsider.GetTerm(ctx))
	ts.want(a)(a.Enter(ctx))
	ts.want(a, b)(b.Enter(ctx))
	ts.want(a, b, c)(c.Enter(ctx))

	ts.want(c, a, b)(outsider.Anoint(ctx, c.ID()))
	ts.want(c, a, b)(outsider.Anoint(ctx, c.ID())) // the leader already
	ts.want(c, b, a)(a.Promote(ctx, b.ID()))
	ts.want(b, c, a)(a.Promote(ctx, b.ID())) // from second place to leader
	ts.want(b, c, a)(a.Promote(ctx, b.ID())) // at the head: no change
	ts.want(b, c)(b.Evict(ctx, a.ID()))      // a candidate that is not the leader
	ts.want(c)(c.Evict(ctx, b.ID()))         // the leader

	for _, op := range []struct {
		name string
		f    func(context.Context, string) (election.Term, error)
	}{{"Anoint", outsider.Anoint}, {"Promote", outsider.Promote}, {"Evict", outsider.Evict}} {
		require.ErrorIs(t, errOf(op.f(ctx, a.ID())), atomix.ErrNotFound, "%s of an evicted candidate", op.name)
		require.ErrorIs(t, errOf(op.f(ctx, "nobody")), atomix.ErrNotFound, "%s of an unknown candidate", op.name)
	}
	ts.want(c)(outsider.GetTerm(ctx))
	ts.want(c, b)(b.Enter(ctx)) // an evicted candidate may enter again
	ts.want(c, b, a)(a.Enter(ctx))
}

func testElectionCloseLeaves(t *testing.T, e *env) {
	ctx := e.ctx
	a := e.election(e.client(), "e")
	b := e.election(e.client(), "e")
	ts := &terms{t: t}
	ts.want(a)(a.Enter(ctx))
	ts.want(a, b)(b.Enter(ctx))
	require.NoError(t, a.Close(ctx))
	ts.want(b)(b.GetTerm(ctx))
}

func testElectionClientCloseLeaves(t *testing.T, e *env) {
	ctx := e.ctx
	ca := e.client()
	a := e.election(ca, "e")
	b := e.election(e.client(), "e")
	ts := &terms{t: t}
	ts.want(a)(a.Enter(ctx))
	ts.want(a, b)(b.Enter(ctx))
	require.NoError(t, ca.Close(ctx))
	ts.want(b)(b.GetTerm(ctx))
}

func testElectionWatch(t *testing.T, e *env) {
	ctx := e.ctx
	writer := e.client()
	x, y, z := e.election(writer, "e"), e.election(writer, "e"), e.election(writer, "e")
	w := e.election(e.client(), "e")
	_, err := z.Enter(ctx)
	require.NoError(t, err)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan election.Event)
	require.NoError(t, w.Watch(wctx, ch))
	expectTerm := func(term election.Term, err error) {
		t.Helper()
		require.NoError(t, err)
		ev := recv(t, ch, e.event)
		require.Equal(t, election.EventChanged, ev.Type)
		require.Equal(t, normaliseTerm(term), normaliseTerm(ev.Term))
	}
	expectTerm(x.Enter(ctx))
	expectTerm(y.Enter(ctx))
	expectTerm(z.Anoint(ctx, y.ID()))
	expectTerm(w.Promote(ctx, x.ID()))
	expectTerm(w.Evict(ctx, z.ID()))
	require.NoError(t, x.Leave(ctx))
	expectTerm(w.GetTerm(ctx))
	require.NoError(t, y.Close(ctx))
	expectTerm(w.GetTerm(ctx))
	_, err = w.Enter(ctx) // the watching instance itself
	require.NoError(t, err)
	expectTerm(w.GetTerm(ctx))
	cancel()
	requireChanClosed(t, ch, e.event)
}

func requireElectionClosed(t *testing.T, ctx context.Context, el election.Election) {
	t.Helper()
	requireClosedErrors(t, map[string]error{
		"GetTerm": errOf(el.GetTerm(ctx)),
		"Enter":   errOf(el.Enter(ctx)),
		"Leave":   el.Leave(ctx),
		"Anoint":  errOf(el.Anoint(ctx, "x")),
		"Promote": errOf(el.Promote(ctx, "x")),
		"Evict":   errOf(el.Evict(ctx, "x")),
		"Watch":   el.Watch(ctx, make(chan election.Event)),
	})
}

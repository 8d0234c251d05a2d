package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/election"
)

// testElectionLead checks Election.Lead: it enters, blocks until leading,
// and its context ends on every cause of the end of leadership. Session
// loss is checked in the SessionExpiry group (LeaderOfLeadVanishes).
func testElectionLead(t *testing.T, h Harness) {
	parallel(t, "LeadEntersAndBlocks", h, testLeadEntersAndBlocks)
	parallel(t, "LeadEndsOnLeave", h, func(t *testing.T, e *env) {
		el := e.election(e.client(), "e")
		lctx := leadNow(t, e, el)
		require.NoError(t, el.Leave(e.ctx))
		requireDoneWithin(t, lctx.Done(), e.event, "the Lead context after Leave")
		require.Error(t, context.Cause(lctx), "the cause of the end of leadership")
		expect(t, "")(leaderOf(e.ctx, el))
	})
	parallel(t, "LeadEndsOnEvict", h, func(t *testing.T, e *env) {
		el := e.election(e.client(), "e")
		other := e.election(e.client(), "e")
		lctx := leadNow(t, e, el)
		_, err := other.Evict(e.ctx, el.ID())
		require.NoError(t, err)
		requireDoneWithin(t, lctx.Done(), e.event, "the Lead context after another client evicted the leader")
	})
	parallel(t, "LeadEndsOnClose", h, func(t *testing.T, e *env) {
		el := e.election(e.client(), "e")
		lctx := leadNow(t, e, el)
		require.NoError(t, el.Close(e.ctx))
		requireDoneWithin(t, lctx.Done(), e.event, "the Lead context after Close")
		require.ErrorIs(t, context.Cause(lctx), atomix.ErrClosed)
		_, _, err := el.Lead(e.ctx)
		require.ErrorIs(t, err, atomix.ErrClosed, "Lead on a closed election")
	})
	parallel(t, "LeadEndsOnClientClose", h, func(t *testing.T, e *env) {
		c := e.client()
		el := e.election(c, "e")
		watcher := e.election(e.client(), "e")
		lctx := leadNow(t, e, el)
		require.NoError(t, c.Close(e.ctx))
		requireDoneWithin(t, lctx.Done(), e.event, "the Lead context after Client.Close")
		expect(t, "")(leaderOf(e.ctx, watcher))
	})
	parallel(t, "LeadEndsWithCtx", h, func(t *testing.T, e *env) {
		el := e.election(e.client(), "e")
		ctx, cancel := context.WithCancel(e.ctx)
		lctx, _, err := el.Lead(ctx)
		require.NoError(t, err)
		cancel()
		requireDoneWithin(t, lctx.Done(), e.event, "the Lead context after its parent ended")
		// Cancelling ctx ends the context Lead returned, not the candidacy.
		expect(t, el.ID())(leaderOf(e.ctx, el))
	})
	parallel(t, "LeadCancelledWhileWaiting", h, func(t *testing.T, e *env) {
		leader := e.election(e.client(), "e")
		waiter := e.election(e.client(), "e")
		leadNow(t, e, leader)
		ctx, cancel := context.WithCancel(e.ctx)
		res := async(func() (context.Context, error) {
			lctx, _, err := waiter.Lead(ctx)
			return lctx, err
		})
		waitFor(t, e.event, "the waiter to become a candidate", func() bool {
			tm, err := leader.GetTerm(e.ctx)
			return err == nil && len(tm.Candidates) == 2
		})
		cancel()
		r := await(t, res, e.event, "Lead must return when its ctx ends")
		require.ErrorIs(t, r.err, context.Canceled)
		// The candidacy Lead made is withdrawn.
		tm, err := leader.GetTerm(e.ctx)
		require.NoError(t, err)
		require.Equal(t, []string{leader.ID()}, tm.Candidates)
	})
}

// testLeadEntersAndBlocks: Lead of a non-candidate enters, waits behind the
// leader, and leads once the leader anoints it; the old leader's context
// ends with the new term.
func testLeadEntersAndBlocks(t *testing.T, e *env) {
	a := e.election(e.client(), "e")
	b := e.election(e.client(), "e")
	actx, at, err := a.Lead(e.ctx)
	require.NoError(t, err)
	require.Equal(t, a.ID(), at.Leader)
	require.NoError(t, actx.Err())

	res := async(func() (leadResult, error) {
		lctx, tm, err := b.Lead(e.ctx)
		return leadResult{lctx, tm}, err
	})
	waitFor(t, e.event, "Lead to enter the election", func() bool {
		tm, err := a.GetTerm(e.ctx)
		return err == nil && len(tm.Candidates) == 2 && tm.Candidates[1] == b.ID()
	})
	requirePending(t, res, e.quiet, "Lead while another candidate leads")
	require.NoError(t, actx.Err(), "the leader's Lead context while it still leads")

	next, err := a.Anoint(e.ctx, b.ID())
	require.NoError(t, err)
	requireDoneWithin(t, actx.Done(), e.event, "the Lead context of a leader replaced by Anoint")
	r := await(t, res, e.event, "Lead of the anointed candidate")
	require.NoError(t, r.err)
	require.Equal(t, b.ID(), r.val.term.Leader)
	require.Equal(t, next.Term, r.val.term.Term)
	require.Greater(t, r.val.term.Term, at.Term)
	require.NoError(t, r.val.ctx.Err())

	// Lead of the leader returns at once with the same term.
	again, tm, err := b.Lead(e.ctx)
	require.NoError(t, err)
	require.Equal(t, next.Term, tm.Term)
	require.NoError(t, again.Err())
}

type leadResult struct {
	ctx  context.Context
	term election.Term
}

// leadNow calls Lead on an election nobody else leads.
func leadNow(t *testing.T, e *env, el election.Election) context.Context {
	t.Helper()
	ctx, tm, err := el.Lead(e.ctx)
	require.NoError(t, err, "Lead of an election nobody leads")
	require.Equal(t, el.ID(), tm.Leader)
	require.NoError(t, ctx.Err(), "the Lead context of the leader")
	return ctx
}

func leaderOf(ctx context.Context, el election.Election) (string, error) {
	tm, err := el.GetTerm(ctx)
	return tm.Leader, err
}

// testLeaderOfLeadVanishes: the Lead context of a client that vanished ends
// no later than its session's expiry, and another candidate's Lead then
// returns.
func testLeaderOfLeadVanishes(t *testing.T, e *env) {
	d := e.driver()
	leader := e.election(e.expiringClientOn(d, e.ns), "e")
	follower := e.election(e.client(), "e")
	lctx := leadNow(t, e, leader)
	res := async(func() (election.Term, error) {
		_, tm, err := follower.Lead(e.ctx)
		return tm, err
	})
	requirePending(t, res, e.quiet, "Lead while another candidate leads")
	crashed := time.Now()
	e.h.Crash(d)
	requireDoneWithin(t, lctx.Done(), e.expiry, "the Lead context of a vanished leader must end once its session (TTL %v) ends", e.h.SessionTTL)
	r := await(t, res, e.expiry, "the follower's Lead once the leader's session expired")
	require.NoError(t, r.err)
	require.Equal(t, follower.ID(), r.val.Leader)
	t.Logf("the follower led %v after the leader vanished", time.Since(crashed).Round(time.Millisecond))
}

package memory

import (
	"context"
	"slices"
	"sync"

	"github.com/atomix/go-client/driver"
)

// electionState is the store's state of one election: the queue of
// candidates, the leader first, and the current term.
type electionState struct {
	mu         sync.Mutex
	term       uint64 // 0 until the first leader
	candidates []*candidacy
	feed       feed[driver.Term]
}

func newElectionState() *electionState { return &electionState{} }

// candidacy is one candidate in the queue, bound to the session it entered
// with.
type candidacy struct {
	state   *electionState
	id      string
	session *sessionState
}

func (st *electionState) leader() string {
	if len(st.candidates) == 0 {
		return ""
	}
	return st.candidates[0].id
}

func (st *electionState) index(id string) int {
	return slices.IndexFunc(st.candidates, func(c *candidacy) bool { return c.id == id })
}

// snapshot returns the current term with its own copy of the candidates.
// st.mu must be held.
func (st *electionState) snapshot() driver.Term {
	ids := make([]string, len(st.candidates))
	for i, c := range st.candidates {
		ids[i] = c.id
	}
	return driver.Term{Term: st.term, Leader: st.leader(), Candidates: ids}
}

// commit ends a change of the queue made while the leader was oldLeader:
// the term moves on if the leader changed, and watchers get the new state.
// st.mu must be held.
func (st *electionState) commit(oldLeader string) driver.Term {
	st.term = driver.NextTerm(st.term, oldLeader, st.leader())
	t := st.snapshot()
	if st.feed.watched() {
		st.feed.publish(t)
		return t.Clone() // the caller's copy is not the watchers'
	}
	return t
}

// remove takes the candidate at i out of the queue. st.mu must be held.
func (st *electionState) remove(i int) driver.Term {
	old := st.leader()
	c := st.candidates[i]
	st.candidates = slices.Delete(st.candidates, i, i+1)
	c.session.unbind(c)
	return st.commit(old)
}

// sessionEnded withdraws the candidacy when its session ends.
func (c *candidacy) sessionEnded() {
	st := c.state
	st.mu.Lock()
	defer st.mu.Unlock()
	if i := slices.Index(st.candidates, c); i >= 0 {
		st.remove(i)
	}
}

// errNotCandidate is the error of moving or evicting a candidate that is
// not in the queue.
var errNotCandidate = driver.Errorf(driver.ErrNotFound, "not a candidate")

// election implements driver.Election.
type election struct {
	*handle
	state *electionState
}

func (e *election) Term(ctx context.Context) (driver.Term, error) {
	if err := e.begin(ctx); err != nil {
		return driver.Term{}, err
	}
	e.state.mu.Lock()
	defer e.state.mu.Unlock()
	return e.state.snapshot(), nil
}

// Enter appends candidate, bound to s. A candidate already in the queue
// keeps its place and its original session.
func (e *election) Enter(ctx context.Context, s driver.Session, candidate string) (driver.Term, error) {
	if err := e.begin(ctx); err != nil {
		return driver.Term{}, err
	}
	ss, err := e.sessionOf(s)
	if err != nil {
		return driver.Term{}, err
	}
	st := e.state
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.index(candidate) >= 0 {
		return st.snapshot(), nil
	}
	c := &candidacy{state: st, id: candidate, session: ss}
	if !ss.bind(c) {
		return driver.Term{}, errSessionEnded(ss)
	}
	old := st.leader()
	st.candidates = append(st.candidates, c)
	return st.commit(old), nil
}

func (e *election) Leave(ctx context.Context, candidate string) (driver.Term, error) {
	if err := e.begin(ctx); err != nil {
		return driver.Term{}, err
	}
	st := e.state
	st.mu.Lock()
	defer st.mu.Unlock()
	i := st.index(candidate)
	if i < 0 {
		return st.snapshot(), nil
	}
	return st.remove(i), nil
}

func (e *election) Anoint(ctx context.Context, candidate string) (driver.Term, error) {
	return e.move(ctx, candidate, func(int) int { return 0 })
}

func (e *election) Promote(ctx context.Context, candidate string) (driver.Term, error) {
	return e.move(ctx, candidate, func(i int) int { return max(i-1, 0) })
}

// move moves candidate from its place i to place to(i).
func (e *election) move(ctx context.Context, candidate string, to func(int) int) (driver.Term, error) {
	if err := e.begin(ctx); err != nil {
		return driver.Term{}, err
	}
	st := e.state
	st.mu.Lock()
	defer st.mu.Unlock()
	i := st.index(candidate)
	if i < 0 {
		return driver.Term{}, errNotCandidate
	}
	j := to(i)
	if j == i {
		return st.snapshot(), nil
	}
	old := st.leader()
	c := st.candidates[i]
	st.candidates = slices.Insert(slices.Delete(st.candidates, i, i+1), j, c)
	return st.commit(old), nil
}

func (e *election) Evict(ctx context.Context, candidate string) (driver.Term, error) {
	if err := e.begin(ctx); err != nil {
		return driver.Term{}, err
	}
	st := e.state
	st.mu.Lock()
	defer st.mu.Unlock()
	i := st.index(candidate)
	if i < 0 {
		return driver.Term{}, errNotCandidate
	}
	return st.remove(i), nil
}

// Watch sends every new state of the election; each state carries its own
// copy of the candidates.
func (e *election) Watch(ctx context.Context, ch chan<- driver.Term) error {
	return watch(ctx, e.handle, &e.state.mu, &e.state.feed, ch, driver.Term.Clone)
}

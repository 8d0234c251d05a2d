package driver

import (
	"context"
	"slices"
)

// Term is the state of an election.
type Term struct {
	// Term is the leader's epoch: unique and strictly increasing over the
	// life of the election, and changed exactly when Leader changes
	// (including to and from no leader).
	Term uint64
	// Leader is the first candidate, or "" when there is none.
	Leader string
	// Candidates are all candidates in priority order, Leader first.
	Candidates []string
}

// Election is a queue of candidates, first come first served; the first
// candidate is the leader.
//
// Candidates are identified by strings chosen by the caller. A candidacy is
// bound to the session it entered with: when the session ends the candidate
// leaves the election. Every method that changes the election is atomic and
// returns the term it produced.
type Election interface {
	// Term returns the current term. The read is linearizable.
	Term(ctx context.Context) (Term, error)
	// Enter appends candidate to the queue, bound to s. If candidate is
	// already in the queue it keeps its place and Enter returns the current
	// term.
	Enter(ctx context.Context, s Session, candidate string) (Term, error)
	// Leave removes candidate from the queue. Leaving when not a candidate
	// is not an error.
	Leave(ctx context.Context, candidate string) (Term, error)
	// Anoint moves candidate to the head of the queue, making it leader.
	// ErrNotFound if it is not a candidate.
	Anoint(ctx context.Context, candidate string) (Term, error)
	// Promote moves candidate one place towards the head; at the second
	// place it becomes leader; at the head it is a no-op.
	// ErrNotFound if it is not a candidate.
	Promote(ctx context.Context, candidate string) (Term, error)
	// Evict removes candidate from the queue. ErrNotFound if it is not a
	// candidate.
	Evict(ctx context.Context, candidate string) (Term, error)
	// Watch sends every new term (every change of leader or candidates) on
	// ch, under the package's watch contract. Consecutive states may be
	// merged only by drivers whose backend reports states, not changes; the
	// last state sent is always the current one once changes stop.
	Watch(ctx context.Context, ch chan<- Term) error
	Closer
}

// Equal reports whether t and u have the same term number, leader and
// candidates in the same order.
func (t Term) Equal(u Term) bool {
	return t.Term == u.Term && t.Leader == u.Leader && slices.Equal(t.Candidates, u.Candidates)
}

// Clone returns a copy of t whose Candidates do not share memory with t's.
func (t Term) Clone() Term {
	t.Candidates = slices.Clone(t.Candidates)
	return t
}

// NextTerm is the term rule: the term number after a change that turned
// the leader oldLeader into newLeader ("" for none) is term+1 when the
// leader changed, else term.
func NextTerm(term uint64, oldLeader, newLeader string) uint64 {
	if oldLeader != newLeader {
		return term + 1
	}
	return term
}

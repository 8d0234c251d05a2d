// Package election defines the distributed leader Election primitive.
package election

import "context"

// Term is the state of an election.
type Term struct {
	// Term is the leader's epoch: unique and strictly increasing, changed
	// exactly when Leader changes (including to and from no leader).
	Term uint64
	// Leader is the ID of the leader, "" when there are no candidates.
	Leader string
	// Candidates are the IDs of all candidates in priority order, the
	// leader first.
	Candidates []string
}

// EventType says what kind of change an Event reports.
type EventType int

const (
	// EventChanged: the leader or the candidates changed.
	EventChanged EventType = iota + 1
)

// String returns "changed".
func (t EventType) String() string {
	if t == EventChanged {
		return "changed"
	}
	return "unknown"
}

// Event is one change to an election, with the term it produced.
type Event struct {
	Type EventType
	Term Term
}

// Election is a distributed leader election: candidates queue first come,
// first served, and the first is the leader. A candidate's candidacy is bound
// to its client's session: a candidate whose client dies leaves the election
// once the session TTL expires.
type Election interface {
	// Name returns the name the election was opened with.
	Name() string
	// ID is this instance's candidate ID: unique per instance, or the one
	// given with primitive.WithSessionID.
	ID() string
	// GetTerm returns the current term.
	GetTerm(ctx context.Context) (Term, error)
	// Enter makes this instance a candidate at the end of the queue (or
	// keeps its place if it already is one) and returns the new term.
	Enter(ctx context.Context) (Term, error)
	// Lead makes this instance a candidate if it is not one, and blocks
	// until it is the leader or ctx ends. It returns the term it leads and
	// a context that is done as soon as it stops leading: a new term (an
	// Anoint, Promote or Evict, or its own Leave), the end of its client's
	// session, Close of this instance or of its client, or the end of ctx.
	// context.Cause tells which. Work that must run only under this
	// leadership should stop when the context is done.
	//
	// Waiting survives the end of the client's session (Lead enters again
	// with the next one); a candidacy removed by Evict or Leave while Lead
	// waits makes it return ErrNotFound. If Lead made the instance a
	// candidate and then fails, it withdraws that candidacy.
	Lead(ctx context.Context) (context.Context, Term, error)
	// Leave withdraws this instance's candidacy; not being a candidate is
	// not an error.
	Leave(ctx context.Context) error
	// Anoint makes candidate id the leader now. ErrNotFound if id is not a
	// candidate.
	Anoint(ctx context.Context, id string) (Term, error)
	// Promote moves candidate id one place up; from second place it becomes
	// leader. ErrNotFound if id is not a candidate.
	Promote(ctx context.Context, id string) (Term, error)
	// Evict removes candidate id. ErrNotFound if id is not a candidate.
	Evict(ctx context.Context, id string) (Term, error)
	// Watch sends an Event for every change on ch. It returns once the
	// watch is established; events come in commit order, none is dropped
	// (a slow reader is buffered for, not skipped), and ch is closed when
	// ctx ends or the election is closed.
	Watch(ctx context.Context, ch chan<- Event) error
	// Close withdraws this instance's candidacy, ends its watches, and
	// makes later calls return ErrClosed.
	Close(ctx context.Context) error
}

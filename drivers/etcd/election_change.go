package etcd

import (
	"context"
	"slices"

	"github.com/atomix/go-client/driver"
)

// The changes of an election, each one plan for etcdElection.change.

// Enter appends candidate, bound to s, unless it is already a candidate.
func (e *etcdElection) Enter(ctx context.Context, s driver.Session, candidate string) (driver.Term, error) {
	es, err := e.d.sessionOf(s)
	if err != nil {
		return driver.Term{}, err
	}
	return e.change(ctx, func(st *electionState, cur driver.Term) plan {
		if slices.Contains(cur.Candidates, candidate) {
			return plan{target: candidate}
		}
		return plan{write: true, queue: append(slices.Clip(cur.Candidates), candidate), target: candidate, enter: es}
	})
}

// Leave removes candidate if it is one.
func (e *etcdElection) Leave(ctx context.Context, candidate string) (driver.Term, error) {
	return e.change(ctx, func(st *electionState, cur driver.Term) plan {
		i := slices.Index(cur.Candidates, candidate)
		if i < 0 {
			return plan{}
		}
		return plan{write: true, queue: slices.Delete(slices.Clone(cur.Candidates), i, i+1), target: candidate, remove: true}
	})
}

// Evict removes candidate, or fails with ErrNotFound.
func (e *etcdElection) Evict(ctx context.Context, candidate string) (driver.Term, error) {
	return e.change(ctx, func(st *electionState, cur driver.Term) plan {
		i := slices.Index(cur.Candidates, candidate)
		if i < 0 {
			return plan{failure: errNotCandidate}
		}
		return plan{write: true, queue: slices.Delete(slices.Clone(cur.Candidates), i, i+1), target: candidate, remove: true}
	})
}

// Anoint moves candidate to the head, or fails with ErrNotFound.
func (e *etcdElection) Anoint(ctx context.Context, candidate string) (driver.Term, error) {
	return e.change(ctx, func(st *electionState, cur driver.Term) plan {
		i := slices.Index(cur.Candidates, candidate)
		switch {
		case i < 0:
			return plan{failure: errNotCandidate}
		case i == 0:
			return plan{target: candidate}
		}
		q := make([]string, 0, len(cur.Candidates))
		q = append(q, candidate)
		q = append(q, cur.Candidates[:i]...)
		q = append(q, cur.Candidates[i+1:]...)
		return plan{write: true, queue: q, target: candidate}
	})
}

// Promote swaps candidate with the one ahead of it, or fails with
// ErrNotFound.
func (e *etcdElection) Promote(ctx context.Context, candidate string) (driver.Term, error) {
	return e.change(ctx, func(st *electionState, cur driver.Term) plan {
		i := slices.Index(cur.Candidates, candidate)
		switch {
		case i < 0:
			return plan{failure: errNotCandidate}
		case i == 0:
			return plan{target: candidate}
		}
		q := slices.Clone(cur.Candidates)
		q[i-1], q[i] = q[i], q[i-1]
		return plan{write: true, queue: q, target: candidate}
	})
}

// errNotCandidate answers a change that names no candidate.
var errNotCandidate = &driver.Error{Kind: driver.ErrNotFound, Detail: "not a candidate"}

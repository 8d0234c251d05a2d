package conformance

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/election"
	"github.com/atomix/go-client/atomix/primitive"
)

// electionWatchSpec describes elections for the generic watch tests. Events
// are compared with their candidate lists normalised (nil and empty are the
// same).
func electionWatchSpec() watchSpec[election.Event] {
	return watchSpec[election.Event]{
		feature:  FeatureElection,
		newModel: func() watchModel[election.Event] { return &electionModel{} },
		open: func(ctx context.Context, c *atomix.Client, name string) (watcher[election.Event], error) {
			el, err := atomix.GetElection(ctx, name, atomix.WithClient(c))
			if err != nil {
				return nil, err
			}
			return normalisingElection{el}, nil
		},
		newWriter: func(ctx context.Context, c *atomix.Client, name string) (writeStep[election.Event], error) {
			w := &electionWriter{rnd: rand.New(rand.NewPCG(6, 6))}
			for i := range 4 {
				el, err := c.GetElection(ctx, name, primitive.WithSessionID(fmt.Sprintf("candidate-%d", i)))
				if err != nil {
					return nil, err
				}
				w.candidates = append(w.candidates, el)
			}
			term, err := w.candidates[0].GetTerm(ctx)
			if err != nil {
				return nil, err
			}
			w.term = normaliseTerm(term)
			return w.step, nil
		},
	}
}

// normalisingElection passes an election's events through normaliseTerm.
type normalisingElection struct{ election.Election }

func (n normalisingElection) Watch(ctx context.Context, ch chan<- election.Event) error {
	in := make(chan election.Event)
	if err := n.Election.Watch(ctx, in); err != nil {
		return err
	}
	go func() {
		defer close(ch)
		for ev := range in {
			ev.Term = normaliseTerm(ev.Term)
			ch <- ev // the test reads until the watch ends
		}
	}()
	return nil
}

// normaliseTerm makes an empty candidate list nil.
func normaliseTerm(t election.Term) election.Term {
	if len(t.Candidates) == 0 {
		t.Candidates = nil
	}
	return t
}

// electionWriter makes pseudo-random changes to an election through four
// candidates of one client, and checks every term it gets back.
type electionWriter struct {
	candidates []election.Election
	term       election.Term // the current term
	rnd        *rand.Rand
}

func (w *electionWriter) step(ctx context.Context, _ int) ([]election.Event, error) {
	el := w.candidates[w.rnd.IntN(len(w.candidates))]
	id := el.ID()
	other := w.candidates[w.rnd.IntN(len(w.candidates))] // any instance may act on any candidate
	var (
		term election.Term
		err  error
		op   string
	)
	if !slices.Contains(w.term.Candidates, id) {
		op = "enter"
		term, err = el.Enter(ctx)
	} else {
		switch w.rnd.IntN(5) {
		case 0:
			op = "evict"
			term, err = other.Evict(ctx, id)
		case 1:
			op = "anoint"
			term, err = other.Anoint(ctx, id)
		case 2:
			op = "leave"
			if err = el.Leave(ctx); err == nil {
				term, err = el.GetTerm(ctx)
			}
		default:
			op = "promote"
			term, err = other.Promote(ctx, id)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", op, id, err)
	}
	term = normaliseTerm(term)
	prev := w.term
	w.term = term
	if err := checkTermRule(prev, term); err != nil {
		return nil, fmt.Errorf("%s %s: %w", op, id, err)
	}
	if termsEqual(prev, term) {
		return nil, nil // no change, no event
	}
	return []election.Event{{Type: election.EventChanged, Term: term}}, nil
}

// electionModel is an election as a watcher rebuilds it from events: the
// last term.
type electionModel struct{ term election.Term }

// apply takes ev's term if it can follow the current one through any number
// of merged changes: it differs from the current term, its number has not
// gone down and went up if the leader changed, and its leader is the first
// of its candidates.
func (m *electionModel) apply(ev election.Event) error {
	if ev.Type != election.EventChanged {
		return fmt.Errorf("unknown event type %v", ev.Type)
	}
	prev, next := m.term, ev.Term
	switch {
	case termsEqual(prev, next):
		return fmt.Errorf("term %+v reported again: not a change", next)
	case next.Term < prev.Term:
		return fmt.Errorf("the term went down from %d to %d", prev.Term, next.Term)
	case next.Leader != prev.Leader && next.Term == prev.Term:
		return fmt.Errorf("leader changed from %q to %q but the term stayed %d", prev.Leader, next.Leader, next.Term)
	case len(next.Candidates) > 0 && next.Leader != next.Candidates[0]:
		return fmt.Errorf("leader %q is not the first of the candidates %q", next.Leader, next.Candidates)
	case len(next.Candidates) == 0 && next.Leader != "":
		return fmt.Errorf("leader %q without candidates", next.Leader)
	}
	m.term = next
	return nil
}

func (m *electionModel) state() any { return m.term }

// checkTermRule checks that the term number changed exactly when the leader
// did, and only upwards.
func checkTermRule(prev, next election.Term) error {
	switch {
	case next.Leader != prev.Leader && next.Term <= prev.Term:
		return fmt.Errorf("leader changed from %q to %q but the term went from %d to %d", prev.Leader, next.Leader, prev.Term, next.Term)
	case next.Leader == prev.Leader && next.Term != prev.Term:
		return fmt.Errorf("leader %q stayed but the term went from %d to %d", prev.Leader, prev.Term, next.Term)
	case len(next.Candidates) > 0 && next.Leader != next.Candidates[0]:
		return fmt.Errorf("leader %q is not the first of the candidates %q", next.Leader, next.Candidates)
	case len(next.Candidates) == 0 && next.Leader != "":
		return fmt.Errorf("leader %q without candidates", next.Leader)
	}
	return nil
}

func termsEqual(a, b election.Term) bool {
	return a.Term == b.Term && a.Leader == b.Leader && slices.Equal(a.Candidates, b.Candidates)
}

package atomix

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/atomix/go-client/atomix/election"
)

// leadings is the set of leadership contexts handed out by Lead that are
// still live, so that Leave and Close end them at once rather than when the
// election's watch reports the new term.
type leadings struct {
	mu     sync.Mutex
	cancel map[*int]context.CancelCauseFunc
}

func (l *leadings) add(cancel context.CancelCauseFunc) *int {
	key := new(int)
	l.mu.Lock()
	if l.cancel == nil {
		l.cancel = map[*int]context.CancelCauseFunc{}
	}
	l.cancel[key] = cancel
	l.mu.Unlock()
	return key
}

func (l *leadings) remove(key *int) {
	l.mu.Lock()
	delete(l.cancel, key)
	l.mu.Unlock()
}

// endAll ends every live leadership context with cause.
func (l *leadings) endAll(cause error) {
	l.mu.Lock()
	cancels := l.cancel
	l.cancel = nil
	l.mu.Unlock()
	for _, c := range cancels {
		c(cause)
	}
}

// The causes of a leadership context's end, as context.Cause reports them.
var (
	errLeadNewTerm  = errors.New("atomix: leadership ended: a new term began")
	errLeadLeft     = errors.New("atomix: leadership ended: Leave was called")
	errLeadClosed   = fmt.Errorf("atomix: leadership ended: %w", errClosed)
	errLeadSession  = errors.New("atomix: leadership ended: the client's session ended")
	errLeadWatch    = errors.New("atomix: leadership ended: the election's watch ended, leadership can no longer be confirmed")
	errLeadEvicted  = fmt.Errorf("%w: the candidacy was removed (Leave or Evict) while Lead waited", ErrNotFound)
	leaveOnFailTime = 5 * time.Second
)

// leadEnded reports the end of the leadership of term led, held since
// since, ended with cause: lost when something else than its owner ended it
// (a new term, the session's end, the watch's end), released when its
// owner did (ctx, Leave, Close of the election or of the client).
func (p *electionPrimitive) leadEnded(led uint64, since time.Time, cause error) {
	reason := ""
	switch {
	case p.closed.Load() || (p.events.c != nil && p.events.c.closed.Load()):
	case errors.Is(cause, errLeadNewTerm):
		reason = lostNewTerm
	case errors.Is(cause, errLeadSession):
		reason = lostSessionEnded
	case errors.Is(cause, errLeadWatch):
		reason = lostWatchEnded
	}
	p.events.ended(led, since, reason != "", reason)
}

// Lead implements election.Election.Lead.
//
// It watches the election before entering it, so that no change after the
// entry is missed, and then follows the watch: no polling. The returned
// context is a child of ctx, ended (with a cause context.Cause reports) by
// the first of: a term after the one led, the end of the session the
// candidacy is bound to, Leave or Close of this instance, the end of the
// watch (the election cannot be followed any more), or ctx.
//
// If Lead made the instance a candidate and fails (ctx ended, say), it
// withdraws the candidacy, so that a failed Lead leaves nothing behind.
func (p *electionPrimitive) Lead(ctx context.Context) (context.Context, election.Term, error) {
	if p.closed.Load() {
		return nil, election.Term{}, p.fail("lead", errClosed)
	}
	lctx, t, err := p.lead(ctx)
	if err != nil {
		return nil, election.Term{}, p.fail("lead", err)
	}
	return lctx, t, nil
}

func (p *electionPrimitive) lead(ctx context.Context) (context.Context, election.Term, error) {
	wctx, stopWatch := context.WithCancel(ctx)
	ch := make(chan election.Event, 16)
	if err := p.watches.Watch(wctx, ch); err != nil {
		stopWatch()
		return nil, election.Term{}, err
	}
	handedOver := false
	defer func() {
		if !handedOver {
			stopWatch()
			for range ch { // the hub closes ch once the watch has ended
			}
		}
	}()

	before, err := p.d.Term(ctx)
	if err != nil {
		return nil, election.Term{}, err
	}
	entered := !slices.Contains(before.Candidates, p.id)
	leaveIfEntered := func() {
		if !entered {
			return
		}
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaveOnFailTime)
		defer cancel()
		_, _ = p.d.Leave(lctx, p.id)
	}

	var session <-chan struct{}
	var seen uint64 // the latest term number known
	enter := func() (election.Term, error) {
		s, err := p.client.session(ctx)
		if err != nil {
			return election.Term{}, err
		}
		p.entered.Store(&enteredWith{session: s.Done()})
		session = s.Done()
		t, err := p.d.Enter(ctx, s, p.id)
		if err != nil {
			return election.Term{}, err
		}
		return term(t), nil
	}
	cur, err := enter()
	if err != nil {
		leaveIfEntered()
		return nil, election.Term{}, err
	}
	seen = cur.Term
	for cur.Leader != p.id {
		select {
		case <-ctx.Done():
			leaveIfEntered()
			return nil, election.Term{}, ctx.Err()
		case <-session:
			// The candidacy ended with its session: nothing was led yet,
			// so wait again with the client's next session.
			if cur, err = enter(); err != nil {
				leaveIfEntered()
				return nil, election.Term{}, err
			}
			seen = max(seen, cur.Term)
		case ev, ok := <-ch:
			if !ok {
				leaveIfEntered()
				if p.closed.Load() {
					return nil, election.Term{}, errClosed
				}
				if ctx.Err() != nil {
					return nil, election.Term{}, ctx.Err()
				}
				return nil, election.Term{}, fmt.Errorf("%w: the election's watch ended while Lead waited", ErrUnavailable)
			}
			if ev.Term.Term < seen {
				continue // from before the entry
			}
			seen = ev.Term.Term
			cur = ev.Term
			if !slices.Contains(cur.Candidates, p.id) && !isClosed(session) {
				// Term numbers change with the leader, not with the
				// candidates: an event of this term may predate the
				// entry. Only a read after it tells an eviction.
				now, err := p.d.Term(ctx)
				if err != nil {
					leaveIfEntered()
					return nil, election.Term{}, err
				}
				if !slices.Contains(now.Candidates, p.id) && !isClosed(session) {
					return nil, election.Term{}, errLeadEvicted
				}
				seen = max(seen, now.Term)
				cur = term(now)
			}
		}
	}

	leadCtx, cancel := context.WithCancelCause(ctx)
	key := p.leading.add(cancel)
	if p.closed.Load() { // closed between the entry and now
		p.leading.remove(key)
		cancel(errLeadClosed)
		return nil, election.Term{}, errClosed
	}
	handedOver = true
	led := cur.Term
	since := time.Now()
	go func() {
		defer func() {
			p.leading.remove(key)
			p.leadEnded(led, since, context.Cause(leadCtx))
			stopWatch()
			for range ch {
			}
		}()
		for {
			select {
			case <-leadCtx.Done():
				return
			case <-session:
				cancel(errLeadSession)
				return
			case ev, ok := <-ch:
				switch {
				case !ok && p.closed.Load():
					cancel(errLeadClosed)
					return
				case !ok:
					cancel(errLeadWatch)
					return
				case ev.Term.Term > led:
					cancel(errLeadNewTerm)
					return
				}
			}
		}
	}()
	return leadCtx, cur, nil
}

package atomix_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/primitive"
	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/drivers/memory"
)

// lateDriver's elections deliver, right after each Enter, the term read
// just before it on every watch: an event of the same term number that
// predates the entry, as a backend's watch may deliver one late (term
// numbers change with the leader, not with the candidates).
type lateDriver struct{ driver.Driver }

func (d lateDriver) OpenElection(ctx context.Context, id driver.ID) (driver.Election, error) {
	e, err := d.Driver.OpenElection(ctx, id)
	if err != nil {
		return nil, err
	}
	return &lateElection{Election: e}, nil
}

type lateElection struct {
	driver.Election
	mu      sync.Mutex
	watches []chan<- driver.Term
}

func (e *lateElection) Watch(ctx context.Context, ch chan<- driver.Term) error {
	// The inner watch writes to a channel of its own, forwarded to ch, so
	// that the late event is sent by the same goroutine and never after
	// ch is closed.
	in := make(chan driver.Term, 16)
	late := make(chan driver.Term, 4)
	if err := e.Election.Watch(ctx, in); err != nil {
		return err
	}
	e.mu.Lock()
	e.watches = append(e.watches, late)
	e.mu.Unlock()
	go func() {
		defer close(ch)
		for {
			select {
			case t, ok := <-in:
				if !ok {
					return
				}
				ch <- t
			case t := <-late:
				ch <- t
			}
		}
	}()
	return nil
}

func (e *lateElection) Enter(ctx context.Context, s driver.Session, candidate string) (driver.Term, error) {
	before, err := e.Election.Term(ctx)
	if err != nil {
		return driver.Term{}, err
	}
	t, err := e.Election.Enter(ctx, s, candidate)
	e.mu.Lock()
	for _, w := range e.watches {
		select {
		case w <- before:
		default:
		}
	}
	e.mu.Unlock()
	return t, err
}

// TestLeadIgnoresEventsBeforeEntry: while Lead waits behind another
// leader, an event of the current term from before its entry (without it
// among the candidates) is no eviction: Lead keeps waiting and leads once
// the leader leaves. Before, Lead returned ErrNotFound ("the candidacy was
// removed") at once, as atomix elect did on etcd in TestElectExcludesProcesses.
func TestLeadIgnoresEventsBeforeEntry(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	store := memory.NewStore()
	a := atomix.NewClient(atomix.WithDriver(store.Connect()))
	b := atomix.NewClient(atomix.WithDriver(lateDriver{store.Connect()}))
	defer a.Close(ctx)
	defer b.Close(ctx)
	ea, err := a.GetElection(ctx, "e", primitive.WithSessionID("a"))
	if err != nil {
		t.Fatal(err)
	}
	eb, err := b.GetElection(ctx, "e", primitive.WithSessionID("b"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ea.Lead(ctx); err != nil {
		t.Fatal(err)
	}
	type led struct {
		ctx  context.Context
		term uint64
		err  error
	}
	done := make(chan led, 1)
	go func() {
		lctx, tm, err := eb.Lead(ctx)
		done <- led{lctx, tm.Term, err}
	}()
	select {
	case r := <-done:
		t.Fatalf("Lead returned while another led: term %d, %v", r.term, r.err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := ea.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("Lead after the leader left: %v", r.err)
	}
	if r.ctx.Err() != nil {
		t.Fatalf("leadership of term %d already ended: %v", r.term, context.Cause(r.ctx))
	}
}

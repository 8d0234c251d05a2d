package atomix

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync/atomic"

	"github.com/atomix/go-client/atomix/election"
	"github.com/atomix/go-client/atomix/internal/watch"
	"github.com/atomix/go-client/atomix/primitive"
	"github.com/atomix/go-client/driver"
)

// GetElection opens the election called name with the client of
// WithClient, else the default client.
func GetElection(ctx context.Context, name string, opts ...primitive.Option) (election.Election, error) {
	return getElection(ctx, nil, name, opts)
}

// GetElection opens the election called name. The instance's candidate ID
// is the one given with primitive.WithSessionID (at most 1024 bytes), else
// 32 random hex digits, unique per instance. Candidacies are bound to the
// client's session.
func (c *Client) GetElection(ctx context.Context, name string, opts ...primitive.Option) (election.Election, error) {
	if c == nil {
		return nil, nilClient(kindElection, name)
	}
	return getElection(ctx, c, name, opts)
}

func getElection(ctx context.Context, c *Client, name string, opts []primitive.Option) (election.Election, error) {
	o, err := begin(kindElection, name, opts)
	if err != nil {
		return nil, err
	}
	id := o.opts.SessionID
	if id == "" {
		id = randomID()
	} else if len(id) > maxNameLen {
		return nil, o.failed(invalidf("session ID of %d bytes is longer than %d", len(id), maxNameLen))
	}
	if err := o.connect(ctx, c); err != nil {
		return nil, err
	}
	d, err := o.driver.OpenElection(ctx, o.id)
	if err != nil {
		return nil, o.failed(err)
	}
	p := &electionPrimitive{d: d, id: id, events: holdEvents{c: o.client, kind: driver.KindElection, name: name}}
	o.setup(&p.base)
	p.watches = watch.New(d.Watch, convertTerm, &o.client.watched)
	if err := o.finish(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// randomID returns 16 random bytes in hex.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return hex.EncodeToString(b[:])
}

// electionPrimitive implements election.Election over a driver.Election.
type electionPrimitive struct {
	base
	d  driver.Election
	id string
	// entered holds the Done of the session of the latest Enter, so that
	// Close leaves, and a Leave the backend cannot confirm is retried until
	// that session ends. Leaving when not a candidate is harmless, so it is
	// never reset.
	entered atomic.Pointer[enteredWith]
	watches *watch.Hub[driver.Term, election.Event]
	// leading holds the live contexts of Lead, ended at once by Leave and
	// Close.
	leading leadings
	// events reports the end of each leadership Lead handed out: lost or
	// given up.
	events holdEvents
}

// enteredWith boxes the Done channel of a candidacy's session.
type enteredWith struct{ session <-chan struct{} }

func term(t driver.Term) election.Term {
	return election.Term{Term: t.Term, Leader: t.Leader, Candidates: t.Candidates}
}

func convertTerm(t driver.Term) (election.Event, error) {
	return election.Event{Type: election.EventChanged, Term: term(t)}, nil
}

func (p *electionPrimitive) ID() string { return p.id }

func (p *electionPrimitive) GetTerm(ctx context.Context) (election.Term, error) {
	if p.closed.Load() {
		return election.Term{}, p.fail("get-term", errClosed)
	}
	t, err := p.d.Term(ctx)
	if err != nil {
		return election.Term{}, p.fail("get-term", err)
	}
	return term(t), nil
}

func (p *electionPrimitive) Enter(ctx context.Context) (election.Term, error) {
	if p.closed.Load() {
		return election.Term{}, p.fail("enter", errClosed)
	}
	s, err := p.client.session(ctx)
	if err != nil {
		return election.Term{}, p.fail("enter", err)
	}
	p.entered.Store(&enteredWith{session: s.Done()})
	t, err := p.d.Enter(ctx, s, p.id)
	if err != nil {
		// The candidacy may exist (ErrAmbiguous): Close still leaves.
		return election.Term{}, p.fail("enter", err)
	}
	return term(t), nil
}

func (p *electionPrimitive) Leave(ctx context.Context) error {
	if p.closed.Load() {
		return p.fail("leave", errClosed)
	}
	// Leadership ends before the candidacy is withdrawn, never after.
	p.leading.endAll(errLeadLeft)
	if _, err := p.d.Leave(ctx, p.id); err != nil {
		return p.fail("leave", err)
	}
	return nil
}

func (p *electionPrimitive) Anoint(ctx context.Context, id string) (election.Term, error) {
	if p.closed.Load() {
		return election.Term{}, p.failKey("anoint", id, errClosed)
	}
	t, err := p.d.Anoint(ctx, id)
	if err != nil {
		return election.Term{}, p.failKey("anoint", id, err)
	}
	return term(t), nil
}

func (p *electionPrimitive) Promote(ctx context.Context, id string) (election.Term, error) {
	if p.closed.Load() {
		return election.Term{}, p.failKey("promote", id, errClosed)
	}
	t, err := p.d.Promote(ctx, id)
	if err != nil {
		return election.Term{}, p.failKey("promote", id, err)
	}
	return term(t), nil
}

func (p *electionPrimitive) Evict(ctx context.Context, id string) (election.Term, error) {
	if p.closed.Load() {
		return election.Term{}, p.failKey("evict", id, errClosed)
	}
	t, err := p.d.Evict(ctx, id)
	if err != nil {
		return election.Term{}, p.failKey("evict", id, err)
	}
	return term(t), nil
}

func (p *electionPrimitive) Watch(ctx context.Context, ch chan<- election.Event) error {
	if p.closed.Load() {
		return p.fail("watch", errClosed)
	}
	if err := p.watches.Watch(ctx, ch); err != nil {
		return p.fail("watch", err)
	}
	return nil
}

func (p *electionPrimitive) Close(ctx context.Context) error {
	if !p.close(p) {
		return nil
	}
	var errs []error
	p.leading.endAll(errLeadClosed)
	p.watches.Close()
	if e := p.entered.Load(); e != nil {
		if _, err := p.d.Leave(ctx, p.id); err != nil {
			errs = append(errs, p.fail("close", err))
			// Leave in the background until the backend confirms it or
			// the candidacy's session ends, then close the driver's
			// election: a candidacy is never left behind.
			go func() {
				retryUntilConfirmed(e.session, func(ctx context.Context) error {
					_, err := p.d.Leave(ctx, p.id)
					return err
				})
				_ = p.d.Close(context.Background())
			}()
			return errors.Join(errs...)
		}
	}
	if err := p.d.Close(ctx); err != nil {
		errs = append(errs, p.fail("close", err))
	}
	return errors.Join(errs...)
}

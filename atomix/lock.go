package atomix

import (
	"context"
	"fmt"
	"sync"

	"github.com/atomix/go-client/atomix/lock"
	"github.com/atomix/go-client/atomix/primitive"
	"github.com/atomix/go-client/driver"
)

// GetLock opens the lock called name with the client of WithClient, else
// the default client.
func GetLock(ctx context.Context, name string, opts ...primitive.Option) (lock.Lock, error) {
	return getLock(ctx, nil, name, opts)
}

// GetLock opens the lock called name. Each instance is one owner: open one
// instance per would-be holder (primitive.WithSessionID does not apply to
// locks). Holds are bound to the client's session.
func (c *Client) GetLock(ctx context.Context, name string, opts ...primitive.Option) (lock.Lock, error) {
	if c == nil {
		return nil, nilClient(kindLock, name)
	}
	return getLock(ctx, c, name, opts)
}

func getLock(ctx context.Context, c *Client, name string, opts []primitive.Option) (lock.Lock, error) {
	o, err := begin(kindLock, name, opts)
	if err != nil {
		return nil, err
	}
	if err := o.connect(ctx, c); err != nil {
		return nil, err
	}
	d, err := o.driver.OpenLock(ctx, o.id)
	if err != nil {
		return nil, o.failed(err)
	}
	p := &lockPrimitive{d: d}
	o.setup(&p.base)
	if err := o.finish(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

var (
	errHeld      = fmt.Errorf("%w: this instance already holds the lock", ErrConflict)
	errAcquiring = fmt.Errorf("%w: a Lock or TryLock call on this instance is in progress", ErrConflict)
	errLockOpts  = invalidf("lock.WithVersion and lock.IfMatch apply to IsLocked and Unlock, not to Lock or TryLock")
)

// closedChan is the Lost channel of an instance that holds nothing.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// lockPrimitive implements lock.Lock over a driver.Lock.
type lockPrimitive struct {
	base
	d driver.Lock

	mu        sync.Mutex
	acquiring bool
	lost      <-chan struct{} // of the last hold; nil before the first
}

func (p *lockPrimitive) Lock(ctx context.Context, opts ...lock.Option) (uint64, error) {
	if err := p.startAcquire(opts); err != nil {
		return 0, p.fail("lock", err)
	}
	s, err := p.client.session(ctx)
	if err != nil {
		p.endAcquire(nil)
		return 0, p.fail("lock", err)
	}
	v, lost, err := p.d.Acquire(ctx, s)
	if err != nil {
		p.endAcquire(nil)
		return 0, p.fail("lock", err)
	}
	p.endAcquire(lost)
	return v, nil
}

func (p *lockPrimitive) TryLock(ctx context.Context, opts ...lock.Option) (uint64, bool, error) {
	if err := p.startAcquire(opts); err != nil {
		return 0, false, p.fail("try-lock", err)
	}
	s, err := p.client.session(ctx)
	if err != nil {
		p.endAcquire(nil)
		return 0, false, p.fail("try-lock", err)
	}
	v, lost, ok, err := p.d.TryAcquire(ctx, s)
	if err != nil {
		p.endAcquire(nil)
		return 0, false, p.fail("try-lock", err)
	}
	if !ok {
		p.endAcquire(nil)
		return 0, false, nil
	}
	p.endAcquire(lost)
	return v, true, nil
}

// startAcquire marks an acquisition in progress, or says why none may start.
func (p *lockPrimitive) startAcquire(opts []lock.Option) error {
	if _, set := lock.Version(opts); set {
		return errLockOpts
	}
	if p.closed.Load() {
		return errClosed
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.acquiring {
		return errAcquiring
	}
	if p.lost != nil && !isClosed(p.lost) {
		return errHeld
	}
	p.acquiring = true
	return nil
}

// endAcquire ends the acquisition in progress; lost is the new hold's
// channel, nil when nothing was acquired.
func (p *lockPrimitive) endAcquire(lost <-chan struct{}) {
	p.mu.Lock()
	p.acquiring = false
	if lost != nil {
		p.lost = lost
	}
	p.mu.Unlock()
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func (p *lockPrimitive) Unlock(ctx context.Context, opts ...lock.Option) (bool, error) {
	if p.closed.Load() {
		return false, p.fail("unlock", errClosed)
	}
	var ok bool
	var err error
	if v, set := lock.Version(opts); set {
		ok, err = p.d.ReleaseVersion(ctx, v)
	} else {
		ok, err = p.d.Release(ctx)
	}
	if err != nil {
		return false, p.fail("unlock", err)
	}
	return ok, nil
}

func (p *lockPrimitive) IsLocked(ctx context.Context, opts ...lock.Option) (bool, error) {
	if p.closed.Load() {
		return false, p.fail("is-locked", errClosed)
	}
	v, held, err := p.d.Holder(ctx)
	if err != nil {
		return false, p.fail("is-locked", err)
	}
	if want, set := lock.Version(opts); set {
		return held && v == want, nil
	}
	return held, nil
}

func (p *lockPrimitive) Lost() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lost == nil {
		return closedChan
	}
	return p.lost
}

func (p *lockPrimitive) Close(ctx context.Context) error {
	if !p.close(p) {
		return nil
	}
	if err := p.d.Close(ctx); err != nil {
		return p.fail("close", err)
	}
	return nil
}

package atomix

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

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
	p.owner.init(o.client, randomID(), d, "the lock", "Lock or TryLock") // c is nil for the package-level GetLock
	p.owner.events = holdEvents{c: o.client, kind: driver.KindLock, name: name}
	if err := o.finish(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

var errLockOpts = invalidf("lock.WithVersion and lock.IfMatch apply to IsLocked and Unlock, not to Lock or TryLock")

// lockPrimitive implements lock.Lock over a driver.Lock. The owner state
// (what this instance holds, when Lost closes, what Close releases) is the
// holder's, shared with every hold-based primitive.
type lockPrimitive struct {
	base
	d     driver.Lock
	owner holder
}

func (p *lockPrimitive) Lock(ctx context.Context, opts ...lock.Option) (uint64, error) {
	if _, set := lock.Version(opts); set {
		return 0, p.fail("lock", errLockOpts)
	}
	if p.closed.Load() {
		return 0, p.fail("lock", errClosed)
	}
	v, _, err := p.owner.acquire(ctx, p.d, true)
	if err != nil {
		return 0, p.fail("lock", err)
	}
	return v, nil
}

func (p *lockPrimitive) TryLock(ctx context.Context, opts ...lock.Option) (uint64, bool, error) {
	if _, set := lock.Version(opts); set {
		return 0, false, p.fail("try-lock", errLockOpts)
	}
	if p.closed.Load() {
		return 0, false, p.fail("try-lock", errClosed)
	}
	v, ok, err := p.owner.acquire(ctx, p.d, false)
	if err != nil {
		return 0, false, p.fail("try-lock", err)
	}
	return v, ok, nil
}

func (p *lockPrimitive) Unlock(ctx context.Context, opts ...lock.Option) (bool, error) {
	if p.closed.Load() {
		return false, p.fail("unlock", errClosed)
	}
	var ok bool
	var err error
	if v, set := lock.Version(opts); set {
		ok, err = p.owner.releaseVersion(ctx, p.d, v)
	} else {
		ok, err = p.owner.release(ctx)
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

func (p *lockPrimitive) Lost() <-chan struct{} { return p.owner.lost() }

func (p *lockPrimitive) Close(ctx context.Context) error {
	if !p.close(p) {
		return nil
	}
	if err := p.owner.closeWith(ctx, p.d); err != nil {
		return p.fail("close", err)
	}
	return nil
}

// holder is the one owner state of a hold-based primitive instance (a lock,
// a semaphore): whether it is acquiring, what it holds, when its Lost
// channel closes, and how a hold is released. Drivers keep none of it.
type holder struct {
	client *Client
	owner  string
	d      releaser

	errHeld      error // of an acquisition while the instance holds
	errAcquiring error // of an acquisition while another is in progress
	// events reports waits and the end of holds to the client's logger
	// and meter.
	events holdEvents

	mu        sync.Mutex
	acquiring context.CancelFunc // of the acquisition in progress, nil when none
	acquired  chan struct{}      // closed when the acquisition in progress ends
	hold      *hold              // the latest hold; nil before the first
	closed    bool
	releasing int    // releases retried in the background
	idle      func() // run when the last of them ends
}

// hold is one acquisition: its version, and a channel closed when it ends
// (released, taken away on the backend, or its session ended).
type hold struct {
	version uint64
	ended   chan struct{}
	once    sync.Once
	since   time.Time // when it was acquired
	// releasing is set before its owner asks the backend to release it,
	// so that its removal is not taken for a loss.
	releasing atomic.Bool
	s         driver.Session // the session it is bound to
	events    holdEvents
	reported  sync.Once // guards report
	// notified: the driver notifies the hold's end (driver.Hold.Notify),
	// and no goroutine waits for it; the driver calls report, and so does
	// end.
	notified bool
}

// end ends the hold as its owner sees it (a release), and reports it
// unless a goroutine waiting for the hold's end does (see watch).
func (h *hold) end() {
	h.close()
	if h.notified {
		h.report()
	}
}

func (h *hold) close() { h.once.Do(func() { close(h.ended) }) }

func (h *hold) live() bool { return !isClosed(h.ended) }

// acquirer makes one kind of acquisition for a holder: a lock's
// (driver.Lock), or a semaphore's for a number of permits.
type acquirer interface {
	Acquire(ctx context.Context, s driver.Session, owner string) (driver.Hold, error)
	TryAcquire(ctx context.Context, s driver.Session, owner string) (driver.Hold, bool, error)
}

// releaser gives a hold back: driver.Lock and driver.Semaphore both are one.
type releaser interface {
	Release(ctx context.Context, owner string, version uint64) (bool, error)
}

// closedChan is the Lost channel of an instance that holds nothing.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// init sets up the holder of one instance. held names what the instance
// holds and calls its acquiring methods, for the ErrConflict messages.
func (o *holder) init(c *Client, owner string, d releaser, held, calls string) {
	o.client, o.owner, o.d = c, owner, d
	o.errHeld = fmt.Errorf("%w: this instance already holds %s", ErrConflict, held)
	o.errAcquiring = fmt.Errorf("%w: a %s call on this instance is in progress", ErrConflict, calls)
}

// acquire takes a hold through a, waiting for it if wait is set. A session
// that ends while it waits is replaced and the wait goes on: nothing was
// held yet. Closing the instance cancels the wait.
func (o *holder) acquire(ctx context.Context, a acquirer, wait bool) (version uint64, acquired bool, err error) {
	o.mu.Lock()
	switch {
	case o.closed:
		o.mu.Unlock()
		return 0, false, errClosed
	case o.acquiring != nil:
		o.mu.Unlock()
		return 0, false, o.errAcquiring
	case o.hold != nil && o.hold.live():
		o.mu.Unlock()
		return 0, false, o.errHeld
	}
	actx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	o.acquiring, o.acquired = cancel, done
	o.mu.Unlock()
	defer func() {
		cancel()
		o.mu.Lock()
		o.acquiring, o.acquired = nil, nil
		o.mu.Unlock()
		close(done)
	}()
	start := time.Now()
	defer func() { o.events.waited(ctx, start, acquired, err) }()

	for {
		s, err := o.client.session(actx)
		if err != nil {
			return 0, false, o.interrupted(ctx, err)
		}
		var h driver.Hold
		ok := true
		if wait {
			h, err = a.Acquire(actx, s, o.owner)
		} else {
			h, ok, err = a.TryAcquire(actx, s, o.owner)
		}
		if err != nil {
			if wait && isClosed(s.Done()) && actx.Err() == nil {
				continue // the session ended while waiting: wait with the next one
			}
			return 0, false, o.interrupted(ctx, err)
		}
		if !ok {
			return 0, false, nil
		}
		hd := &hold{version: h.Version, ended: make(chan struct{}), since: time.Now(),
			s: s, events: o.events, notified: h.Notify != nil}
		o.mu.Lock()
		o.hold = hd
		o.mu.Unlock()
		if hd.notified {
			h.Notify(hd.report)
		} else {
			go hd.watch(h.Gone)
		}
		return h.Version, true, nil
	}
}

// interrupted reports an acquisition that ended with err: ErrClosed if the
// instance was closed meanwhile, else err.
func (o *holder) interrupted(ctx context.Context, err error) error {
	o.mu.Lock()
	closed := o.closed
	o.mu.Unlock()
	if closed && ctx.Err() == nil {
		return errClosed
	}
	return err
}

// watch waits until the driver sees the hold gone, its session ends or
// its owner ends it, and reports its end (see report). It is the goroutine
// of a hold whose driver does not notify (driver.Hold.Notify).
func (h *hold) watch(gone <-chan struct{}) {
	select {
	case <-gone:
	case <-h.s.Done():
	case <-h.ended:
	}
	h.report()
}

// report ends the hold, once it has ended on the backend or as its owner
// sees it, and reports its end to events, once: lost, unless its owner
// released it.
func (h *hold) report() {
	h.reported.Do(func() {
		lost := !isClosed(h.ended) && !h.releasing.Load()
		if lost {
			reason := lostRemoved
			if sessionEnded(h.s) {
				reason = lostSessionEnded
			}
			// Reported before Lost closes, so that whoever waits on
			// Lost finds the loss in the logs and metrics.
			h.events.ended(h.version, h.since, true, reason)
			h.close()
			return
		}
		h.close()
		h.events.ended(h.version, h.since, false, "")
	})
}

// sessionEnded reports whether s has ended: its Done is closed or, for a
// driver.SessionCause, its Cause is set. A driver closes the Gone of a
// hold its session's end removed no later than Done, often before, while
// the cause may already be known.
func sessionEnded(s driver.Session) bool {
	if isClosed(s.Done()) {
		return true
	}
	sc, ok := s.(driver.SessionCause)
	return ok && sc.Cause() != nil
}

// holds reports whether this instance's latest hold has version and has not
// ended as far as it knows (the backend may know better).
func (o *holder) holds(version uint64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hold != nil && o.hold.version == version && o.hold.live()
}

// lost returns the channel that closes when the current hold ends.
func (o *holder) lost() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.hold == nil {
		return closedChan
	}
	return o.hold.ended
}

// release gives up this instance's hold and reports whether it had one. The
// hold ends locally at once, whatever the backend says; if the backend cannot
// confirm the release, it is retried in the background until it succeeds or
// the session ends, and the error is returned.
func (o *holder) release(ctx context.Context) (bool, error) {
	o.mu.Lock()
	h := o.hold
	o.mu.Unlock()
	if h == nil || !h.live() {
		return false, nil
	}
	h.releasing.Store(true)
	ok, err := o.d.Release(ctx, o.owner, h.version)
	h.end()
	if err != nil {
		o.mu.Lock()
		o.releasing++
		o.mu.Unlock()
		go o.releaseLater(h)
		return false, err
	}
	return ok, nil
}

// afterReleases arranges for f to run once no release is being retried in
// the background, and reports whether one is; if none is, it does not run f.
func (o *holder) afterReleases(f func()) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.releasing == 0 {
		return false
	}
	o.idle = f
	return true
}

// releaseLater retries the release of h until the backend confirms it or
// h's session ends (which releases it on the backend too).
func (o *holder) releaseLater(h *hold) {
	defer func() {
		o.mu.Lock()
		o.releasing--
		var idle func()
		if o.releasing == 0 {
			idle, o.idle = o.idle, nil
		}
		o.mu.Unlock()
		if idle != nil {
			idle()
		}
	}()
	retryUntilConfirmed(h.s.Done(), func(ctx context.Context) error {
		_, err := o.d.Release(ctx, o.owner, h.version)
		return err
	})
}

// retryUntilConfirmed retries undo, a release the backend could not confirm,
// with driver.RetryCleanup's backoff, starting one backoff after the
// failure, until it succeeds, fails for good (ErrClosed, ErrInvalid,
// ErrPermission), or session, the Done of the session the released thing
// is bound to, closes: the backend then releases it itself. Each try has
// 5 seconds.
func retryUntilConfirmed(session <-chan struct{}, undo func(ctx context.Context) error) {
	t := time.NewTimer(retryFirstDelay)
	defer t.Stop()
	select {
	case <-session:
		return
	case <-t.C:
	}
	driver.RetryCleanup(context.Background(), session, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		err := undo(ctx)
		if errors.Is(err, ErrClosed) || errors.Is(err, ErrInvalid) || errors.Is(err, ErrPermission) {
			return nil // retrying cannot help
		}
		return err
	})
}

// retryFirstDelay is how long retryUntilConfirmed waits before its first
// try: the release it retries has just failed.
const retryFirstDelay = 50 * time.Millisecond

// releaseVersion releases, through the lock d, whoever holds version; if
// that is this instance, its hold ends.
func (o *holder) releaseVersion(ctx context.Context, d driver.Lock, version uint64) (bool, error) {
	o.mu.Lock()
	h := o.hold
	o.mu.Unlock()
	if h != nil && h.version == version {
		h.releasing.Store(true)
	}
	ok, err := d.ReleaseVersion(ctx, version)
	if err != nil {
		return false, err
	}
	if ok && h != nil && h.version == version {
		h.end()
	}
	return ok, nil
}

// close cancels an acquisition in progress, waits for it to end, and
// releases the hold, if any.
func (o *holder) close(ctx context.Context) error {
	o.mu.Lock()
	o.closed = true
	cancel, done := o.acquiring, o.acquired
	o.mu.Unlock()
	if cancel != nil {
		cancel()
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	_, err := o.release(ctx)
	return err
}

// closeWith is the Close of a hold-based instance whose driver primitive is
// d: it closes the holder (see close), then d. A release the backend could
// not confirm goes on in the background through d, which is closed once it
// is done.
func (o *holder) closeWith(ctx context.Context, d driver.Closer) error {
	err := o.close(ctx)
	if !o.afterReleases(func() { _ = d.Close(context.Background()) }) {
		if cerr := d.Close(ctx); err == nil {
			err = cerr
		}
	}
	return err
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

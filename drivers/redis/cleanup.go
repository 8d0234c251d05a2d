package redis

import (
	"context"
	"errors"
	"time"

	"github.com/atomix/go-client/driver"
)

// abandonTimeout bounds one request that removes what an acquisition given
// up left in a lock or a semaphore.
const abandonTimeout = 5 * time.Second

// The clean-ups of acquisitions given up.
//
// A lock's or a semaphore's waiter whose acquisition is given up leaves the
// queue, and releases a hold the attempt may have got, with one script (see
// lock.abandon and semaphore.abandon). If that request fails, the waiter's
// place would stay at the head of the queue for as long as its session
// lives, which is as long as the client does, blocking every later waiter:
// so the script is sent again in the background (driver.StartCleanup) until
// it succeeds, the session ends (its places and holds end with it) or the
// driver is closed; closing the instance does not stop it.
//
// The script finds its traces by owner, not by attempt: a later
// acquisition by the same owner would look the same to it. So an
// acquisition first stops the clean-up its owner left in the primitive and
// waits for its request in flight to return (see stopCleanup); the driver
// contract lets an owner make one acquisition at a time, so none can start
// while it runs. The acquisition then takes over whatever was left: its
// script returns the place or the hold its owner already has, and if it
// gives up, its own clean-up removes them. (The script finds a hold by owner,
// and a place in the queue by session and owner; an owner's next
// acquisition with another session comes after its first session ended,
// as the portable layer uses its client's session until it ends, and a
// session's places and holds end with it.)

// errTryNotAcquired is what a TryAcquire that did not acquire gives
// abandon, to remove the place in the queue it took over from an earlier
// attempt's clean-up; it is not returned to anyone.
var errTryNotAcquired = errors.New("redis: tried, not acquired")

// cleanupKey names the clean-up of owner in the primitive whose queue key
// is queue.
func cleanupKey(queue, owner string) string { return queue + "\x00" + owner }

// leave runs once, the clean-up of an acquisition of ss given up with err
// (leaving the queue, releasing a hold it may have got), with
// abandonTimeout; if that fails, it is retried in the background as the
// clean-up under key (see retryCleanup). It returns the error to report
// (see abandoned).
func (h *handle) leave(ctx context.Context, ss *session, key string, err error, once func(context.Context) error) error {
	if derr := h.d.check(); derr != nil {
		return derr // the client is gone; so are its sessions
	}
	timed := func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, abandonTimeout)
		defer cancel()
		return once(ctx)
	}
	rerr := timed(context.WithoutCancel(ctx))
	if rerr != nil {
		h.d.retryCleanup(key, ss, timed)
	}
	return h.abandoned(ctx, err, rerr)
}

// retryCleanup retries once in the background, as the clean-up under key,
// until it succeeds, ss ends or the driver is closed.
func (d *Driver) retryCleanup(key string, ss *session, once func(context.Context) error) {
	d.mu.Lock()
	if d.check() != nil {
		d.mu.Unlock()
		return // Close and Crash stop what there is; it would not be stopped
	}
	for k, c := range d.cleanups {
		if isDone(c.Done()) {
			delete(d.cleanups, k)
		}
	}
	old := d.cleanups[key]
	d.cleanups[key] = driver.StartCleanup(d.cleanupCtx, ss.Done(), once)
	d.mu.Unlock()
	if old != nil {
		old.Stop() // not expected: its owner acquired, which stops it
	}
}

// stopCleanup stops the clean-up under key, if there is one, and waits for
// its request in flight to return: what an acquisition does before it
// sends anything. It reports whether the clean-up had not ended: what it
// was removing may still be there, the acquisition's to remove if it gives
// up.
func (d *Driver) stopCleanup(key string) bool {
	d.mu.Lock()
	c := d.cleanups[key]
	delete(d.cleanups, key)
	d.mu.Unlock()
	if c == nil || isDone(c.Done()) {
		return false
	}
	c.Stop()
	return true
}

// stopCleanups stops every clean-up, and its request in flight, once the
// driver is closed or crashed.
func (d *Driver) stopCleanups() {
	d.mu.Lock()
	cs := d.cleanups
	d.cleanups = map[string]*driver.Cleanup{}
	d.mu.Unlock()
	d.endCleanups()
	for _, c := range cs {
		c.Stop()
	}
}

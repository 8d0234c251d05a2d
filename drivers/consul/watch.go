package consul

import (
	"context"
	"errors"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/resync"
)

// Watches are Consul blocking queries: the watcher reads the primitive's
// keys, then asks again with the index of that answer, and the agent holds
// the request until something under those keys changes (or WaitTime
// passes). Each answer is the whole current state; the watcher compares it
// with the previous answer and sends the difference as events, computed by
// driver/resync. Maps, sets and indexed maps share that work: one feed per
// directory per driver runs the blocking query and the listing, and hands
// every watcher only the keys that changed (see feed).
//
// Consul (1.14 at least) does not notice when the client of a blocking
// query goes away: it holds the request, and counts its connection against
// http_max_conns_per_client, until WaitTime passes. Cancelling closes the
// connection on the client's side but not on the agent's, so WaitTime
// (15s by default) bounds how long an ended watch or lock wait keeps a
// connection there.
//
// Consul reports states, not changes: several writes that land between two
// answers arrive merged into one state, so a key updated twice in that
// window yields one EventUpdated with the last value, and a key removed and
// re-created yields one EventUpdated (an IndexedMap entry, whose index
// changes, EventRemoved then EventInserted). Nothing is lost in the
// sense that matters: after every answer the events sent so far, applied to
// the state the watch started from, give exactly the state of that answer,
// so a watcher always converges to the latest state. The same holds after
// errors (the agent unreachable, say): the watcher retries with backoff and
// its next answer is again a whole state.
//
// An index only means something to the store that gave it: after the
// restart of a -dev agent or the restore of an older snapshot, the store's
// index starts again below the one the watcher holds, and the agent would
// hold a query with the old index until the new store passed it or
// WaitTime ended, leaving the watcher stale all that while. So, as
// Consul's documentation of blocking queries asks, the watcher starts over
// from index 0 (an answer at once, a fresh read) after every error (the
// restart shows as one to a query in flight) and whenever an answer's index
// is lower than the one it asked with, and never asks with an index it got
// as 0 (it uses 1), which would not block at all.

const (
	retryMin = 50 * time.Millisecond
	retryMax = 5 * time.Second
)

// follow repeats query as a blocking query from index until ctx ends,
// calling changed with every answer whose index differs from the one it
// asked with, and with every answer to a fresh read (index 0): changed must
// cope with a state equal to the last one. After an error, or an answer
// whose index is lower than the one it asked with (the store was restarted
// empty or restored from an older snapshot), it starts over from index 0,
// so that the next answer comes at once and is the store's current state.
// It returns when changed returns false, when ctx ends, or when the agent
// refuses the query for good (an ACL or request error).
//
// resynced, if not nil, is told of each read that follows a failed one or
// an index that went backwards: a watch that reads again from scratch.
func follow[T any](ctx context.Context, d *Driver, index uint64, query func(*api.QueryOptions) (T, *api.QueryMeta, error), changed func(T) bool, resynced func(driver.ResyncReason, error)) {
	index = max(index, 1)
	backoff := retryMin
	var reason driver.ResyncReason // why this read is a re-read; "" when it is not
	var cause error
	for ctx.Err() == nil {
		q := (&api.QueryOptions{WaitIndex: index, WaitTime: d.opts.WaitTime}).WithContext(ctx)
		v, meta, err := query(q)
		if err != nil {
			if ctx.Err() != nil || permanent(classify(ctx, err, reading)) {
				return
			}
			// The agent may come back as another store, whose index is
			// below ours: a blocking query with ours would wait for it.
			index = 0
			if reason == "" {
				reason, cause = driver.ResyncReconnect, err
			}
			if !driver.Sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, retryMax)
			continue
		}
		backoff = retryMin
		if reason != "" && resynced != nil {
			resynced(reason, cause)
		}
		reason, cause = "", nil
		next := max(meta.LastIndex, 1)
		if next == index {
			continue // WaitTime passed without a change
		}
		if !changed(v) {
			return
		}
		if next < index {
			next = 0 // the index went backwards: read afresh, then block
			reason = driver.ResyncRestart
		}
		index = next
	}
}

// resynced reports a watch's re-read to the driver's Observer.
func (p *primitive) resynced(reason driver.ResyncReason, cause error) {
	p.d.Observer().WatchResynced(p.kind, p.id, reason, cause)
}

// permanent reports whether a watch should give up after err.
func permanent(err error) bool {
	return errors.Is(err, driver.ErrInvalid) || errors.Is(err, driver.ErrPermission)
}

// send delivers v on ch, blocking while ch is full, unless ctx ends first.
func send[T any](ctx context.Context, ch chan<- T, v T) bool {
	select {
	case ch <- v:
		return true
	case <-ctx.Done():
		return false
	}
}

// watchEntries is the Watch of a map-like primitive whose entries are the
// keys under dir: it joins the driver's feed of dir (see feed) and sends,
// for every change the feed lists, the events driver/resync computes from
// the keys that changed.
func (p *primitive) watchEntries(ctx context.Context, dir string, toEntry func(string, *api.KVPair) driver.Entry, ch chan<- driver.EntryEvent) error {
	if err := p.check(); err != nil {
		return err
	}
	sub, err := p.d.subscribe(ctx, dir, "_", false, p.resynced)
	if err != nil {
		return err
	}
	wctx, cancel := p.watchContext(ctx)
	go func() {
		defer close(ch)
		defer cancel()
		defer sub.f.leave()
		for {
			c, ok := sub.next(wctx)
			if !ok {
				return
			}
			for _, ev := range resync.Entries(entries(dir, c.old, toEntry), entries(dir, c.new, toEntry)) {
				if !send(wctx, ch, ev) {
					return
				}
			}
		}
	}()
	return nil
}

// watchGone returns the Gone channel of a hold that lasts while key, as
// blocking queries from index show it, satisfies held: closed when an
// answer does not, or when sess ends (or the driver is closed, which ends
// sess), whichever comes first. Its goroutine ends then too.
func (p *primitive) watchGone(sess *session, key string, index uint64, held func(*api.KVPair) bool) <-chan struct{} {
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		ended := false
		follow(sess.ctx, p.d, index, func(q *api.QueryOptions) (*api.KVPair, *api.QueryMeta, error) {
			return p.d.kv.Get(key, q)
		}, func(pair *api.KVPair) bool {
			ended = !held(pair)
			return !ended
		}, nil)
		if !ended { // the agent refused the query for good: rely on the session
			<-sess.ctx.Done()
		}
	}()
	return gone
}

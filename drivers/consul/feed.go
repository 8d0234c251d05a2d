package consul

import (
	"context"
	"maps"
	"strings"
	"sync"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

// A feed is the one blocking query a driver runs on a directory, shared by
// every watch of that directory the driver serves (every instance of a map,
// set, indexed map or list that the client opened, and every watcher of
// each):
// with W watchers the agent answers one query and lists the directory once
// per change, not W times.
//
// The blocking query itself is a keys-only listing with a separator that
// folds the directory's keys: "_" for directories of segments (maps, sets,
// indexed maps: every key starts with "_"), "/" for a list's (its header
// and its items/ subdirectory), so the answer is one or two keys whatever
// the size of the directory, while its index still covers every key under
// it (Consul counts the keys it folds into the separator in the index). An idle feed thus
// costs one tiny answer per WaitTime. When the index moves, the feed lists
// the directory once (in the mode of Options.Consistency), computes which
// keys changed, and appends that change to a chain that every subscriber
// walks at its own pace: a slow watcher delays only itself, and a watcher
// converts only the keys that changed, not the whole directory.
type feed struct {
	d   *Driver
	dir string
	sep string // folds the directory's keys (see subscribe)
	// resynced is told of each listing that follows a failed query or an
	// index that went backwards (see follow).
	resynced func(driver.ResyncReason, error)
	cancel   context.CancelFunc
	refs     int           // subscribers; guarded by d.mu
	done     chan struct{} // closed when the feed stopped

	mu       sync.Mutex
	state    map[string]*api.KVPair // full key -> pair, as of index
	index    uint64                 // the index of the last listing, 0 before the first
	tail     *change                // the newest change
	progress chan struct{}          // closed and replaced after every listing
	err      error                  // why the feed stopped, if it stopped for good
}

// change is what one listing changed: the previous pair of every key that
// changed (absent: the key is new) and its new pair (absent: removed).
// next and ok link the chain: ok is closed once next is set.
type change struct {
	old, new map[string]*api.KVPair
	next     *change
	ok       chan struct{}
}

func newChange() *change { return &change{ok: make(chan struct{})} }

// subscription is one watcher's place in a feed: the change it has seen
// last. The watcher's state is the feed's state when it joined (which
// includes every write acknowledged before Watch was called) plus the
// changes it walked since.
type subscription struct {
	f  *feed
	at *change
	// state is the directory as of at, full key -> pair, kept only for
	// watchers that need the whole state (lists): see subscribe.
	state map[string]*api.KVPair
}

// subscribe joins the driver's feed of dir, starting it if none runs, and
// returns once the feed has listed the directory at least at the index of
// a fresh read made now, so that the state handed over includes every
// write acknowledged before the call.
//
// With whole, the subscription keeps a copy of the directory's state that
// next brings up to date with every change, for watchers that need more
// than the keys that changed.
//
// sep is a separator that folds every key of the directory into a few (see
// feed): "_" for directories of segments, "/" for one of subdirectories.
//
// resynced is told of the feed's re-reads (see follow); the first subscriber
// of a feed gives it, and every subscriber of one directory watches the same
// primitive.
func (d *Driver) subscribe(ctx context.Context, dir, sep string, whole bool, resynced func(driver.ResyncReason, error)) (*subscription, error) {
	// A fresh, tiny read gives the index the state must have reached.
	_, meta, err := d.kv.Keys(dir, sep, d.read(ctx))
	if err != nil {
		return nil, classify(ctx, err, reading)
	}
	want := meta.LastIndex

	d.mu.Lock()
	f := d.feeds[dir]
	if f != nil {
		select {
		case <-f.done:
			f = nil // stopped for good: start another
		default:
		}
	}
	if f == nil {
		fctx, cancel := context.WithCancel(d.ctx)
		f = &feed{d: d, dir: dir, sep: sep, resynced: resynced, cancel: cancel, done: make(chan struct{}), tail: newChange(), progress: make(chan struct{})}
		if d.feeds == nil {
			d.feeds = map[string]*feed{}
		}
		d.feeds[dir] = f
		go f.run(fctx)
	}
	f.refs++
	d.mu.Unlock()

	for {
		f.mu.Lock()
		if f.index != 0 && f.index >= want {
			s := &subscription{f: f, at: f.tail}
			if whole {
				s.state = maps.Clone(f.state)
			}
			f.mu.Unlock()
			return s, nil
		}
		progress, ferr := f.progress, f.err
		f.mu.Unlock()
		select {
		case <-progress:
		case <-f.done:
			f.leave()
			if ferr == nil {
				f.mu.Lock()
				ferr = f.err
				f.mu.Unlock()
			}
			if ferr == nil {
				ferr = errClosed
			}
			return nil, ferr
		case <-ctx.Done():
			f.leave()
			return nil, classify(ctx, ctx.Err(), reading)
		}
	}
}

// leave ends a subscription; the last one to leave stops the feed.
func (f *feed) leave() {
	f.d.mu.Lock()
	defer f.d.mu.Unlock()
	f.refs--
	if f.refs == 0 {
		f.cancel()
		if f.d.feeds[f.dir] == f {
			delete(f.d.feeds, f.dir)
		}
	}
}

// next waits for the subscription's next change and returns it, or returns
// false when ctx ends or the feed stopped and every change was delivered.
func (s *subscription) next(ctx context.Context) (*change, bool) {
	select {
	case <-s.at.ok:
	default:
		select {
		case <-s.at.ok:
		case <-s.f.done:
			select {
			case <-s.at.ok:
			default:
				return nil, false
			}
		case <-ctx.Done():
			return nil, false
		}
	}
	s.at = s.at.next
	if s.state != nil {
		for k := range s.at.old {
			delete(s.state, k)
		}
		maps.Copy(s.state, s.at.new)
	}
	return s.at, true
}

// run lists the directory, then follows it until ctx ends or the agent
// refuses the query for good.
func (f *feed) run(ctx context.Context) {
	defer close(f.done)
	var lastErr error
	list := func() (*api.QueryMeta, error) {
		pairs, meta, err := f.d.kv.List(f.dir, f.d.read(ctx))
		if err != nil {
			lastErr = classify(ctx, err, reading)
			return nil, err
		}
		meta.LastIndex = max(meta.LastIndex, 1)
		f.apply(pairs, meta.LastIndex)
		return meta, nil
	}
	// The first listing does not block (a blocking query from index 1
	// would wait on an empty directory, whose index is 1).
	var index uint64
	for backoff := retryMin; index == 0; backoff = min(2*backoff, retryMax) {
		meta, err := list()
		if err == nil {
			index = meta.LastIndex
			break
		}
		if ctx.Err() != nil || permanent(lastErr) || !driver.Sleep(ctx, backoff) {
			f.stop(ctx, lastErr)
			return
		}
	}
	follow(ctx, f.d, index, func(q *api.QueryOptions) (api.KVPairs, *api.QueryMeta, error) {
		_, meta, err := f.d.kv.Keys(f.dir, f.sep, q)
		if err != nil {
			lastErr = classify(ctx, err, reading)
			return nil, nil, err
		}
		if q.WaitIndex != 0 && meta.LastIndex == q.WaitIndex {
			return nil, meta, nil // WaitTime passed without a change
		}
		// The next query asks from the listing's index: a stale listing
		// behind the notification is listed again at once.
		lmeta, err := list()
		return nil, lmeta, err
	}, func(api.KVPairs) bool { return true }, f.resynced)
	f.stop(ctx, lastErr)
}

// stop records why the feed stopped, unless it was told to.
func (f *feed) stop(ctx context.Context, err error) {
	if ctx.Err() == nil {
		f.mu.Lock()
		f.err = err
		f.mu.Unlock()
	}
}

// apply makes pairs, listed at index, the feed's state, appending what
// changed to the chain.
func (f *feed) apply(pairs api.KVPairs, index uint64) {
	next := make(map[string]*api.KVPair, len(pairs))
	for _, p := range pairs {
		next[p.Key] = p
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := &change{old: map[string]*api.KVPair{}, new: map[string]*api.KVPair{}}
	for k, was := range f.state {
		if now, ok := next[k]; !ok || now.ModifyIndex != was.ModifyIndex {
			c.old[k] = was
		}
	}
	for k, now := range next {
		if was, ok := f.state[k]; !ok || now.ModifyIndex != was.ModifyIndex {
			c.new[k] = now
		}
	}
	first := f.index == 0
	f.state, f.index = next, index
	if !first && (len(c.old) > 0 || len(c.new) > 0) {
		c.ok = make(chan struct{})
		f.tail.next = c
		close(f.tail.ok)
		f.tail = c
	}
	close(f.progress)
	f.progress = make(chan struct{})
}

// entries decodes the pairs of dir into user key -> entry, leaving out keys
// this driver did not write.
func entries(dir string, pairs map[string]*api.KVPair, toEntry func(string, *api.KVPair) driver.Entry) map[string]driver.Entry {
	s := make(map[string]driver.Entry, len(pairs))
	for k, p := range pairs {
		if key, ok := unsegment(strings.TrimPrefix(k, dir)); ok {
			s[key] = toEntry(key, p)
		}
	}
	return s
}

package etcd

import (
	"context"
	"errors"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

// A watch keeps a mirror of the range it watches: the key-value pairs as of
// the last revision it processed. The mirror is what makes the package's
// watch contract hold on etcd:
//
//   - Watch reads the range at revision R (one linearizable read) and then
//     watches from R+1, so no change committed after Watch returns is missed
//     and none before it is reported.
//   - Every batch of events of one revision (one transaction) is applied to
//     the mirror and handed to the primitive as a list of changes with the
//     previous value of each key, which is what removal events report and
//     what tells an insert from an update.
//   - When the watch breaks for good (its start revision was compacted, or
//     the member lost its leader, or the stream failed), the range is read
//     again at a new revision and the primitive turns the old and the new
//     mirror into events with package resync, so the watcher converges to
//     the true state without losing a change silently. Transient
//     disconnections are resumed by clientv3 itself from the last revision
//     delivered.
//
// The cost is memory: a watching instance holds a copy of the range.

// change is one key's change: prev is nil when the key was created, next is
// nil when it was deleted.
type change struct {
	key  string
	prev *mvccKV
	next *mvccKV
}

// mirror is the state of a watched range, by key.
type mirror map[string]*mvccKV

// rangeWatch is what a primitive does with the changes of the range it
// watches. Its funcs return false when the watch must stop (its context
// ended while they were sending).
type rangeWatch struct {
	// init, if set, receives the first snapshot.
	init func(state mirror)
	// changed receives the changes of one revision and the mirror after
	// them.
	changed func(ctx context.Context, changes []change, state mirror) bool
	// resynced receives the mirror before and after a re-read.
	resynced func(ctx context.Context, old, fresh mirror) bool
	// finish is called once when the watch ends; it closes the channel.
	finish func()
}

// snapshotPage is how many keys one read of a snapshot fetches.
const snapshotPage = 500

// snapshot reads every key in [key, end) at one revision, page by page.
func (p *primitive) snapshot(ctx context.Context, key, end string) (mirror, int64, error) {
	for {
		state := mirror{}
		rev, err := p.scan(ctx, key, end, false, true, func(kv *mvccKV) bool {
			state[string(kv.Key)] = kv
			return true
		})
		if errors.Is(err, errRestart) {
			continue
		}
		return state, rev, err
	}
}

// errRestart reports that a pinned scan found its revision compacted.
var errRestart = errors.New("snapshot revision compacted")

// scan reads the keys in [key, end) in key order, page by page, and calls
// yield for each until it returns false. The pages are read at the revision
// of the first one. If that revision is compacted before the scan ends,
// scan returns errRestart when strict, else it goes on at the latest
// revision (keys already yielded are not yielded again, because the scan
// resumes after the last key). It returns the revision of the first page.
func (p *primitive) scan(ctx context.Context, key, end string, keysOnly, strict bool, yield func(*mvccKV) bool) (int64, error) {
	if err := p.check(); err != nil {
		return 0, err
	}
	opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(snapshotPage)}
	if keysOnly {
		opts = append(opts, clientv3.WithKeysOnly())
	}
	var rev int64
	from := key
	for {
		pageOpts := opts
		if rev != 0 {
			pageOpts = append(pageOpts[:len(opts):len(opts)], clientv3.WithRev(rev))
		}
		resp, err := p.d.client.Get(ctx, from, pageOpts...)
		if errors.Is(err, rpctypes.ErrCompacted) {
			if strict {
				return 0, errRestart
			}
			rev = 0
			resp, err = p.d.client.Get(ctx, from, opts...)
		}
		if err != nil {
			return 0, p.d.classify(ctx, read, err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			if !yield(kv) {
				return rev, nil
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return rev, nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// startWatch reads the range [key, end) and then watches it from the
// revision after the read, handing changes to w in a goroutine until ctx
// ends or the primitive closes; then it calls w.finish. It returns once the
// watch is established.
func (p *primitive) startWatch(ctx context.Context, key, end string, w rangeWatch) error {
	state, rev, err := p.snapshot(ctx, key, end)
	if err != nil {
		return err
	}
	if w.init != nil {
		w.init(state)
	}
	started := p.spawn(func() {
		defer w.finish()
		wctx, cancel := context.WithCancel(p.ctx)
		defer cancel()
		stop := context.AfterFunc(ctx, cancel)
		defer stop()
		p.runWatch(wctx, key, end, state, rev, w)
	})
	if !started {
		return errClosed
	}
	return nil
}

// runWatch is the loop of startWatch.
func (p *primitive) runWatch(ctx context.Context, key, end string, state mirror, rev int64, w rangeWatch) {
	var changes []change
	for {
		wch := p.d.client.Watch(clientv3.WithRequireLeader(ctx), key, clientv3.WithRange(end), clientv3.WithRev(rev+1))
		reason, cause := driver.ResyncReconnect, error(nil)
		for resp := range wch {
			if resp.Canceled || resp.Err() != nil {
				cause = resp.Err()
				if resp.CompactRevision != 0 || errors.Is(cause, rpctypes.ErrCompacted) {
					reason = driver.ResyncCompaction
				}
				break
			}
			events := resp.Events
			for i := 0; i < len(events); {
				batchRev := events[i].Kv.ModRevision
				changes = changes[:0]
				for ; i < len(events) && events[i].Kv.ModRevision == batchRev; i++ {
					ev := events[i]
					k := string(ev.Kv.Key)
					prev := state[k]
					if ev.Type == clientv3.EventTypeDelete {
						if prev == nil {
							continue
						}
						delete(state, k)
						changes = append(changes, change{key: k, prev: prev})
						continue
					}
					state[k] = ev.Kv
					changes = append(changes, change{key: k, prev: prev, next: ev.Kv})
				}
				rev = batchRev
				if len(changes) > 0 && !w.changed(ctx, changes, state) {
					return
				}
			}
		}
		if ctx.Err() != nil {
			return
		}
		// The watch ended without our asking: re-read and catch up.
		fresh, freshRev, ok := p.resnapshot(ctx, key, end)
		if !ok {
			return
		}
		if freshRev < rev {
			reason = driver.ResyncRestart // the cluster's history went back
		}
		p.d.Observer().WatchResynced(p.kind, p.id, reason, cause)
		old := state
		state, rev = fresh, freshRev
		if !w.resynced(ctx, old, fresh) {
			return
		}
	}
}

// resnapshot reads the range again, retrying with backoff while the cluster
// is unreachable. It gives up when ctx ends or the driver closes.
func (p *primitive) resnapshot(ctx context.Context, key, end string) (mirror, int64, bool) {
	delay := 50 * time.Millisecond
	for {
		state, rev, err := p.snapshot(ctx, key, end)
		if err == nil {
			return state, rev, true
		}
		if ctx.Err() != nil || errors.Is(err, driver.ErrClosed) || errors.Is(err, driver.ErrInvalid) {
			return nil, 0, false
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, 0, false
		case <-t.C:
		}
		delay = min(delay*2, 2*time.Second)
	}
}

// sendAll delivers evs on ch in order; it reports false if ctx ended first.
func sendAll[T any](ctx context.Context, ch chan<- T, evs []T) bool {
	for _, ev := range evs {
		if !send(ctx, ch, ev) {
			return false
		}
	}
	return true
}

// send delivers ev on ch, blocking until the watcher takes it or ctx ends.
func send[T any](ctx context.Context, ch chan<- T, ev T) bool {
	select {
	case ch <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

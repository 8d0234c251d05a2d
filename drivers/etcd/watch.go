package etcd

import (
	"context"
	"errors"
	"sort"
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
//     again at a new revision and the difference from the mirror is handed
//     on as one batch, so the watcher converges to the true state without
//     losing a change silently. Transient disconnections are resumed by
//     clientv3 itself from the last revision delivered.
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

// batchFunc receives the changes of one revision and the mirror after them.
// It returns false when the watch must stop (its context ended while it was
// sending).
type batchFunc func(ctx context.Context, changes []change, state mirror) bool

// snapshotPage is how many keys one read of a snapshot fetches.
const snapshotPage = 500

// snapshot reads every key in [key, end) at one revision, page by page.
func (p *primitive) snapshot(ctx context.Context, op, key, end string) (mirror, int64, error) {
	for {
		state := mirror{}
		rev, err := p.scan(ctx, op, key, end, false, true, func(kv *mvccKV) bool {
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
func (p *primitive) scan(ctx context.Context, op, key, end string, keysOnly, strict bool, yield func(*mvccKV) bool) (int64, error) {
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
			return 0, p.d.classify(ctx, p.kind+" "+op, read, err)
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
// revision after the read, handing batches to onBatch in a goroutine until
// ctx ends or the primitive closes; then it calls finish (which closes the
// watcher's channel). It returns once the watch is established.
func (p *primitive) startWatch(ctx context.Context, key, end string, init func(mirror), onBatch batchFunc, finish func()) error {
	if err := p.check("watch"); err != nil {
		return err
	}
	state, rev, err := p.snapshot(ctx, "watch", key, end)
	if err != nil {
		return err
	}
	if init != nil {
		init(state)
	}
	started := p.spawn(func() {
		defer finish()
		wctx, cancel := context.WithCancel(p.ctx)
		defer cancel()
		stop := context.AfterFunc(ctx, cancel)
		defer stop()
		p.runWatch(wctx, key, end, state, rev, onBatch)
	})
	if !started {
		return p.fail("watch", driver.ErrClosed, "")
	}
	return nil
}

// runWatch is the loop of startWatch.
func (p *primitive) runWatch(ctx context.Context, key, end string, state mirror, rev int64, onBatch batchFunc) {
	var changes []change
	for {
		wch := p.d.client.Watch(clientv3.WithRequireLeader(ctx), key, clientv3.WithRange(end), clientv3.WithRev(rev+1))
		for resp := range wch {
			if resp.Canceled || resp.Err() != nil {
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
				if len(changes) > 0 && !onBatch(ctx, changes, state) {
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
		changes = diff(state, fresh)
		state, rev = fresh, freshRev
		if len(changes) > 0 && !onBatch(ctx, changes, state) {
			return
		}
	}
}

// resnapshot reads the range again, retrying with backoff while the cluster
// is unreachable. It gives up when ctx ends or the driver closes.
func (p *primitive) resnapshot(ctx context.Context, key, end string) (mirror, int64, bool) {
	delay := 50 * time.Millisecond
	for {
		state, rev, err := p.snapshot(ctx, "watch", key, end)
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

// diff returns the changes that turn old into fresh, in key order.
func diff(old, fresh mirror) []change {
	var changes []change
	for k, prev := range old {
		next, ok := fresh[k]
		switch {
		case !ok:
			changes = append(changes, change{key: k, prev: prev})
		case next.ModRevision != prev.ModRevision:
			changes = append(changes, change{key: k, prev: prev, next: next})
		}
	}
	for k, next := range fresh {
		if _, ok := old[k]; !ok {
			changes = append(changes, change{key: k, next: next})
		}
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].key < changes[j].key })
	return changes
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

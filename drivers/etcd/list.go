package etcd

import (
	"context"
	"errors"
	"iter"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/resync"
)

// etcdList is a driver.List kept dense: item i is the key
// rootKey + "/" + 16 hex digits of i, for i in [0, Len).
//
// Get, Set and Len are one request. Append is one transaction "if key n is
// absent and key n-1 present, put key n" from the last length this
// instance saw, whose else branch returns the current length: one round
// trip when the guess is right, one more per retry. Insert and Remove shift
// the items after the index: they read them (one request), then write them
// back moved by one place in one transaction that compares the mod
// revisions of the whole range read and the keys at the end of the list,
// retrying if another write came between. A shift is one etcd transaction,
// so it is limited by the server's --max-txn-ops (128 by default): Insert
// and Remove at index i of a list of length n move n-i items, and fail with
// ErrInvalid when that exceeds the limit.
type etcdList struct {
	primitive
	prefix string
	end    string

	mu     sync.Mutex
	length int64 // last length seen
}

var _ driver.List = (*etcdList)(nil)

func newList(d *Driver, id driver.ID) *etcdList {
	l := &etcdList{primitive: newPrimitive(d, kindList, id)}
	l.prefix = l.root + "/"
	l.end = rangeEnd(l.prefix)
	return l
}

func (l *etcdList) itemKey(i int64) string { return indexKey(l.prefix, uint64(i)) }

func (l *etcdList) remember(n int64) {
	l.mu.Lock()
	l.length = n
	l.mu.Unlock()
}

// Append puts key n if the list has length n, from the cached length.
func (l *etcdList) Append(ctx context.Context, value []byte) (int, error) {
	l.mu.Lock()
	n := l.length
	l.mu.Unlock()
	for {
		cmps := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(l.itemKey(n)), "=", 0)}
		if n > 0 {
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(l.itemKey(n-1)), ">", 0))
		}
		resp, err := l.txn(ctx, write, cmps,
			[]clientv3.Op{clientv3.OpPut(l.itemKey(n), string(value))},
			[]clientv3.Op{clientv3.OpGet(l.prefix, clientv3.WithRange(l.end), clientv3.WithCountOnly())})
		if err != nil {
			return 0, err
		}
		if resp.Succeeded {
			l.remember(n + 1)
			return int(n), nil
		}
		n = resp.Responses[0].GetResponseRange().Count
		l.remember(n)
	}
}

// Get reads item index.
func (l *etcdList) Get(ctx context.Context, index int) ([]byte, error) {
	resp, err := l.get(ctx, l.itemKey(int64(index)))
	if err != nil {
		return nil, err
	}
	if len(resp.Kvs) == 0 {
		return nil, errNotFound
	}
	return resp.Kvs[0].Value, nil
}

// Set replaces item index in one transaction that returns the previous
// value.
func (l *etcdList) Set(ctx context.Context, index int, value []byte) ([]byte, error) {
	k := l.itemKey(int64(index))
	resp, err := l.txn(ctx, write,
		[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(k), ">", 0)},
		[]clientv3.Op{clientv3.OpPut(k, string(value), clientv3.WithPrevKV())}, nil)
	if err != nil {
		return nil, err
	}
	if !resp.Succeeded {
		return nil, errNotFound
	}
	return resp.Responses[0].GetResponsePut().PrevKv.Value, nil
}

// tail reads the items from index from (and the length) at one revision.
func (l *etcdList) tail(ctx context.Context, from int64) (items []*mvccKV, length, rev int64, err error) {
	resp, err := l.txn(ctx, read, nil, []clientv3.Op{
		clientv3.OpGet(l.itemKey(from), clientv3.WithRange(l.end)),
		clientv3.OpGet(l.prefix, clientv3.WithRange(l.end), clientv3.WithCountOnly()),
	}, nil)
	if err != nil {
		return nil, 0, 0, err
	}
	length = resp.Responses[1].GetResponseRange().Count
	l.remember(length)
	return rangeResp(resp, 0), length, resp.Header.Revision, nil
}

// shiftGuard compares that nothing in [from, end) was written after rev,
// that the list still ends with the key read last, and that nothing was
// appended.
func (l *etcdList) shiftGuard(from int64, items []*mvccKV, length, rev int64) []clientv3.Cmp {
	cmps := []clientv3.Cmp{
		clientv3.Compare(clientv3.ModRevision(l.itemKey(from)), "<", rev+1).WithRange(l.end),
		clientv3.Compare(clientv3.CreateRevision(l.itemKey(length)), "=", 0),
	}
	if len(items) > 0 {
		last := items[len(items)-1]
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(string(last.Key)), "=", last.CreateRevision))
	}
	return cmps
}

// Insert puts value at index and moves the items from index on up by one.
func (l *etcdList) Insert(ctx context.Context, index int, value []byte) error {
	i := int64(index)
	from := max(i-1, 0) // read one item before, so that the guard covers the end when appending
	for {
		items, length, rev, err := l.tail(ctx, from)
		if err != nil {
			return err
		}
		if i > length {
			return driver.Errorf(driver.ErrNotFound, "the list has %d items", length)
		}
		then := make([]clientv3.Op, 0, length-i+1)
		then = append(then, clientv3.OpPut(l.itemKey(i), string(value)))
		for _, kv := range items[i-from:] {
			then = append(then, clientv3.OpPut(l.itemKey(l.indexOf(kv)+1), string(kv.Value)))
		}
		resp, err := l.txn(ctx, write, l.shiftGuard(from, items, length, rev), then, nil)
		if err != nil {
			return shiftError(length-i, err)
		}
		if resp.Succeeded {
			l.remember(length + 1)
			return nil
		}
	}
}

// Remove deletes item index and moves the items after it down by one.
func (l *etcdList) Remove(ctx context.Context, index int) ([]byte, error) {
	i := int64(index)
	for {
		items, length, rev, err := l.tail(ctx, i)
		if err != nil {
			return nil, err
		}
		if i >= length || len(items) == 0 {
			return nil, driver.Errorf(driver.ErrNotFound, "the list has %d items", length)
		}
		then := make([]clientv3.Op, 0, len(items))
		for j := 1; j < len(items); j++ {
			then = append(then, clientv3.OpPut(l.itemKey(i+int64(j)-1), string(items[j].Value)))
		}
		then = append(then, clientv3.OpDelete(string(items[len(items)-1].Key)))
		resp, err := l.txn(ctx, write, l.shiftGuard(i, items, length, rev), then, nil)
		if err != nil {
			return nil, shiftError(length-i-1, err)
		}
		if resp.Succeeded {
			l.remember(length - 1)
			return items[0].Value, nil
		}
	}
}

// shiftError explains a transaction refused for its size.
func shiftError(moved int64, err error) error {
	var de *driver.Error
	if errors.As(err, &de) && de.Kind == driver.ErrInvalid {
		return driver.Wrap(driver.ErrInvalid, de.Cause, "it moves %d items in one transaction, more than the etcd server accepts (--max-txn-ops, --max-request-bytes)", moved)
	}
	return err
}

func (l *etcdList) indexOf(kv *mvccKV) int64 {
	i, _ := parseIndexKey(l.prefix, string(kv.Key))
	return int64(i)
}

// Len counts the items.
func (l *etcdList) Len(ctx context.Context) (int, error) {
	resp, err := l.get(ctx, l.prefix, clientv3.WithRange(l.end), clientv3.WithCountOnly())
	if err != nil {
		return 0, err
	}
	l.remember(resp.Count)
	return int(resp.Count), nil
}

// Clear deletes every item in one range delete.
func (l *etcdList) Clear(ctx context.Context) error {
	if _, err := l.del(ctx, l.prefix, clientv3.WithRange(l.end)); err != nil {
		return err
	}
	l.remember(0)
	return nil
}

// Items iterates over the items, page by page, every page read at the
// revision of the first: a consistent snapshot. If that revision is
// compacted before the iteration ends, the iteration ends with
// ErrUnavailable.
func (l *etcdList) Items(ctx context.Context) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		stopped := false
		_, err := l.scan(ctx, l.prefix, l.end, false, true, func(kv *mvccKV) bool {
			if !yield(kv.Value, nil) {
				stopped = true
				return false
			}
			return true
		})
		if errors.Is(err, errRestart) {
			err = driver.Errorf(driver.ErrUnavailable, "the snapshot was compacted during the iteration; iterate again")
		}
		if err != nil && !stopped {
			yield(nil, err)
		}
	}
}

// Watch sends the changes of each transaction as list events: the
// difference (package resync) between the items before and after it, so an
// insert or a removal that shifted items is one event, not one per moved
// item.
func (l *etcdList) Watch(ctx context.Context, ch chan<- driver.ListEvent) error {
	var items [][]byte
	update := func(ctx context.Context, m mirror) bool {
		next := l.itemsOf(m)
		events := resync.List(items, next)
		items = next
		return sendAll(ctx, ch, events)
	}
	return l.startWatch(ctx, l.prefix, l.end, rangeWatch{
		init:     func(m mirror) { items = l.itemsOf(m) },
		changed:  func(ctx context.Context, _ []change, m mirror) bool { return update(ctx, m) },
		resynced: func(ctx context.Context, _, fresh mirror) bool { return update(ctx, fresh) },
		finish:   func() { close(ch) },
	})
}

// itemsOf returns the values of the items a mirror holds, in index order.
func (l *etcdList) itemsOf(m mirror) [][]byte {
	items := make([][]byte, len(m))
	present := make([]bool, len(m))
	for k, kv := range m {
		if i, ok := parseIndexKey(l.prefix, k); ok && i < uint64(len(items)) {
			items[i], present[i] = kv.Value, true
		}
	}
	n := 0
	for i, ok := range present {
		if ok {
			items[n] = items[i]
			n++
		}
	}
	return items[:n]
}

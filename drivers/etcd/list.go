package etcd

import (
	"bytes"
	"context"
	"errors"
	"iter"
	"slices"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
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
	if err := l.check("append"); err != nil {
		return 0, err
	}
	l.mu.Lock()
	n := l.length
	l.mu.Unlock()
	for {
		cmps := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(l.itemKey(n)), "=", 0)}
		if n > 0 {
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(l.itemKey(n-1)), ">", 0))
		}
		resp, err := l.txn(ctx, "append", write, cmps,
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
	if err := l.check("get"); err != nil {
		return nil, err
	}
	resp, err := l.get(ctx, "get", l.itemKey(int64(index)))
	if err != nil {
		return nil, err
	}
	if len(resp.Kvs) == 0 {
		return nil, l.fail("get", driver.ErrNotFound, "index %d", index)
	}
	return resp.Kvs[0].Value, nil
}

// Set replaces item index in one transaction that returns the previous
// value.
func (l *etcdList) Set(ctx context.Context, index int, value []byte) ([]byte, error) {
	if err := l.check("set"); err != nil {
		return nil, err
	}
	k := l.itemKey(int64(index))
	resp, err := l.txn(ctx, "set", write,
		[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(k), ">", 0)},
		[]clientv3.Op{clientv3.OpPut(k, string(value), clientv3.WithPrevKV())}, nil)
	if err != nil {
		return nil, err
	}
	if !resp.Succeeded {
		return nil, l.fail("set", driver.ErrNotFound, "index %d", index)
	}
	return resp.Responses[0].GetResponsePut().PrevKv.Value, nil
}

// tail reads the items from index from (and the length) at one revision.
func (l *etcdList) tail(ctx context.Context, op string, from int64) (items []*mvccKV, length, rev int64, err error) {
	resp, err := l.txn(ctx, op, read, nil, []clientv3.Op{
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
	if err := l.check("insert"); err != nil {
		return err
	}
	i := int64(index)
	from := max(i-1, 0) // read one item before, so that the guard covers the end when appending
	for {
		items, length, rev, err := l.tail(ctx, "insert", from)
		if err != nil {
			return err
		}
		if i > length {
			return l.fail("insert", driver.ErrNotFound, "index %d of a list of %d", index, length)
		}
		then := make([]clientv3.Op, 0, length-i+1)
		then = append(then, clientv3.OpPut(l.itemKey(i), string(value)))
		for _, kv := range items[i-from:] {
			then = append(then, clientv3.OpPut(l.itemKey(l.indexOf(kv)+1), string(kv.Value)))
		}
		resp, err := l.txn(ctx, "insert", write, l.shiftGuard(from, items, length, rev), then, nil)
		if err != nil {
			return l.shiftError("insert", index, length-i, err)
		}
		if resp.Succeeded {
			l.remember(length + 1)
			return nil
		}
	}
}

// Remove deletes item index and moves the items after it down by one.
func (l *etcdList) Remove(ctx context.Context, index int) ([]byte, error) {
	if err := l.check("remove"); err != nil {
		return nil, err
	}
	i := int64(index)
	for {
		items, length, rev, err := l.tail(ctx, "remove", i)
		if err != nil {
			return nil, err
		}
		if i >= length || len(items) == 0 {
			return nil, l.fail("remove", driver.ErrNotFound, "index %d of a list of %d", index, length)
		}
		then := make([]clientv3.Op, 0, len(items))
		for j := 1; j < len(items); j++ {
			then = append(then, clientv3.OpPut(l.itemKey(i+int64(j)-1), string(items[j].Value)))
		}
		then = append(then, clientv3.OpDelete(string(items[len(items)-1].Key)))
		resp, err := l.txn(ctx, "remove", write, l.shiftGuard(i, items, length, rev), then, nil)
		if err != nil {
			return nil, l.shiftError("remove", index, length-i-1, err)
		}
		if resp.Succeeded {
			l.remember(length - 1)
			return items[0].Value, nil
		}
	}
}

// shiftError explains a transaction refused for its size.
func (l *etcdList) shiftError(op string, index int, moved int64, err error) error {
	if errors.Is(err, driver.ErrInvalid) {
		return l.fail(op, driver.ErrInvalid, "at index %d it moves %d items in one transaction, more than the etcd server accepts (--max-txn-ops, --max-request-bytes): %v", index, moved, err)
	}
	return err
}

func (l *etcdList) indexOf(kv *mvccKV) int64 {
	i, _ := parseIndexKey(l.prefix, string(kv.Key))
	return int64(i)
}

// Len counts the items.
func (l *etcdList) Len(ctx context.Context) (int, error) {
	if err := l.check("len"); err != nil {
		return 0, err
	}
	resp, err := l.get(ctx, "len", l.prefix, clientv3.WithRange(l.end), clientv3.WithCountOnly())
	if err != nil {
		return 0, err
	}
	l.remember(resp.Count)
	return int(resp.Count), nil
}

// Clear deletes every item in one range delete.
func (l *etcdList) Clear(ctx context.Context) error {
	if err := l.check("clear"); err != nil {
		return err
	}
	if _, err := l.del(ctx, "clear", l.prefix, clientv3.WithRange(l.end)); err != nil {
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
		if err := l.check("items"); err != nil {
			yield(nil, err)
			return
		}
		stopped := false
		_, err := l.scan(ctx, "items", l.prefix, l.end, false, true, func(kv *mvccKV) bool {
			if !yield(kv.Value, nil) {
				stopped = true
				return false
			}
			return true
		})
		if errors.Is(err, errRestart) {
			err = l.fail("items", driver.ErrUnavailable, "the snapshot was compacted during the iteration; iterate again")
		}
		if err != nil && !stopped {
			yield(nil, err)
		}
	}
}

// Watch sends the changes of each transaction as list events: an insert or
// a removal that shifted items is one event, not one per moved item.
func (l *etcdList) Watch(ctx context.Context, ch chan<- driver.ListEvent) error {
	var items []*mvccKV
	return l.startWatch(ctx, l.prefix, l.end,
		func(m mirror) { items = l.itemsOf(m) },
		func(ctx context.Context, changes []change, _ mirror) bool {
			var events []driver.ListEvent
			items, events = l.applyChanges(items, changes)
			for _, ev := range events {
				if !send(ctx, ch, ev) {
					return false
				}
			}
			return true
		},
		func() { close(ch) })
}

// itemsOf returns the items a mirror holds, in index order.
func (l *etcdList) itemsOf(m mirror) []*mvccKV {
	items := make([]*mvccKV, len(m))
	for k, kv := range m {
		if i, ok := parseIndexKey(l.prefix, k); ok && i < uint64(len(items)) {
			items[i] = kv
		}
	}
	return slices.DeleteFunc(items, func(kv *mvccKV) bool { return kv == nil })
}

// applyChanges applies one transaction's changes to items and returns the
// events that reproduce them: one insert or removal when the changes are
// an Insert's or a Remove's shift (or an Append), else updates of the
// changed indexes followed by inserts at the end or removals from the end.
func (l *etcdList) applyChanges(items []*mvccKV, changes []change) ([]*mvccKV, []driver.ListEvent) {
	n := len(items)
	old := make(map[int]*mvccKV, len(changes)) // touched index -> previous item
	lo, hi := -1, -1
	for _, c := range changes {
		u, ok := parseIndexKey(l.prefix, c.key)
		if !ok {
			continue
		}
		i := int(u)
		old[i] = c.prev
		if lo < 0 || i < lo {
			lo = i
		}
		hi = max(hi, i)
		if c.next == nil {
			if i < len(items) {
				items[i] = nil
			}
			continue
		}
		for len(items) <= i {
			items = append(items, nil)
		}
		items[i] = c.next
	}
	// A dense list only loses keys at its end; drop any hole all the same.
	items = slices.DeleteFunc(items, func(kv *mvccKV) bool { return kv == nil })
	if lo < 0 {
		return items, nil
	}
	m := len(items)
	oldAt := func(i int) *mvccKV {
		if kv, touched := old[i]; touched {
			return kv
		}
		return items[i] // untouched: the same before and after
	}
	same := func(a, b *mvccKV) bool { return a != nil && b != nil && bytes.Equal(a.Value, b.Value) }
	if m == n+1 && hi == n && all(lo, n, func(j int) bool { return same(items[j+1], oldAt(j)) }) {
		return items, []driver.ListEvent{{Type: driver.EventInserted, Index: lo, Value: items[lo].Value}}
	}
	if m == n-1 && hi == n-1 && lo <= m && all(lo, m, func(j int) bool { return same(items[j], oldAt(j+1)) }) {
		return items, []driver.ListEvent{{Type: driver.EventRemoved, Index: lo, Value: oldAt(lo).Value}}
	}
	var events []driver.ListEvent
	for i := lo; i < min(n, m); i++ {
		if _, touched := old[i]; touched {
			events = append(events, driver.ListEvent{Type: driver.EventUpdated, Index: i, Value: items[i].Value})
		}
	}
	for i := n; i < m; i++ {
		events = append(events, driver.ListEvent{Type: driver.EventInserted, Index: i, Value: items[i].Value})
	}
	for i := n - 1; i >= m; i-- {
		var v []byte
		if kv := oldAt(i); kv != nil {
			v = kv.Value
		}
		events = append(events, driver.ListEvent{Type: driver.EventRemoved, Index: i, Value: v})
	}
	return items, events
}

// all reports whether f holds for every j in [from, to).
func all(from, to int, f func(int) bool) bool {
	for j := from; j < to; j++ {
		if !f(j) {
			return false
		}
	}
	return true
}

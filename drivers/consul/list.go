package consul

import (
	"context"
	"encoding/binary"
	"errors"
	"iter"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/resync"
)

// consulList keeps, under <base>/:
//
//   - h: the header, the order of the list as a sequence of item IDs plus
//     the next unused ID;
//   - i/<16 hex digits>: one key per item, holding its value, named by its
//     ID. Items never change: Set replaces an item by a new one.
//
// Every change is one transaction that check-and-sets the header and
// creates or deletes item keys, so indexes are always those of one committed
// order. Each instance remembers the header it last read or wrote; an
// uncontended Append or Insert is then one request (the check-and-set
// fails, and the instance reads again, when another client wrote since).
// Reads by index are two requests: the header, then the item (IDs are
// never reused and items never change, so the item read is the one that was
// at that index when the header was read).
//
// The header grows by a few bytes per item and must fit in a transaction
// with a value, which bounds a list to roughly a hundred thousand items.
type consulList struct {
	primitive
	dir    string // base + "/"
	header string // dir + "h"
	items  string // dir + "i/"

	mu    sync.Mutex
	known *listHeader // last header read or written; nil when unknown
}

var _ driver.List = (*consulList)(nil)

func newList(d *Driver, id driver.ID) *consulList {
	l := &consulList{}
	l.init(d, kindList, id)
	l.dir = l.base + "/"
	l.header, l.items = l.dir+"h", l.dir+"i/"
	return l
}

// listHeader is the decoded header key.
type listHeader struct {
	next  uint64   // the next unused item ID
	ids   []uint64 // the items in order
	index uint64   // the header key's ModifyIndex; 0 when absent
}

func (l *consulList) item(id uint64) string {
	b := make([]byte, 0, len(l.items)+16)
	b = append(b, l.items...)
	hex := strconv.AppendUint(nil, id, 16)
	for range 16 - len(hex) {
		b = append(b, '0')
	}
	return string(append(b, hex...))
}

// load reads the header and remembers it.
func (l *consulList) load(ctx context.Context) (*listHeader, error) {
	pair, _, err := l.d.kv.Get(l.header, read(ctx))
	if err != nil {
		return nil, classify(ctx, err, reading)
	}
	h, err := decodeHeader(pair)
	if err != nil {
		return nil, errCorrupt(err)
	}
	l.remember(h)
	return h, nil
}

func (l *consulList) remember(h *listHeader) {
	l.mu.Lock()
	if l.known == nil || h.index >= l.known.index {
		l.known = h
	}
	l.mu.Unlock()
}

func (l *consulList) forget() {
	l.mu.Lock()
	l.known = nil
	l.mu.Unlock()
}

func (l *consulList) cached() *listHeader {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.known
}

// change runs one list change. plan gets a header (which it may modify: it
// is a copy) and returns the operations that go with it; an error from plan
// on a remembered header is checked again against a fresh one. The header
// is check-and-set in the same transaction, from a fresh read whenever it
// changed in between. It returns the results of the transaction after the
// header's own.
func (l *consulList) change(ctx context.Context, plan func(h *listHeader) ([]kvOp, error)) ([]*api.KVPair, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	h := l.cached()
	for {
		fresh := h == nil
		if fresh {
			var err error
			if h, err = l.load(ctx); err != nil {
				return nil, err
			}
		}
		next := &listHeader{next: h.next, ids: slices.Clone(h.ids)}
		ops, err := plan(next)
		if err != nil {
			if fresh {
				return nil, err
			}
			h = nil
			continue
		}
		ops = append([]kvOp{{Verb: api.KVCAS, Key: l.header, Value: next.encode(), Index: h.index}}, ops...)
		res, rb, err := l.d.txn(ctx, ops)
		switch {
		case err != nil:
			l.forget()
			return nil, err
		case rb != nil && rb.has(0):
			h = nil // someone else changed the list
			continue
		case rb != nil:
			l.forget()
			return nil, unexpected(rb)
		}
		next.index = res[0].ModifyIndex
		l.remember(next)
		return res[1:], nil
	}
}

// Append adds an item with a new ID at the end.
func (l *consulList) Append(ctx context.Context, value []byte) (int, error) {
	var index int
	_, err := l.change(ctx, func(h *listHeader) ([]kvOp, error) {
		id := h.next
		h.next++
		index = len(h.ids)
		h.ids = append(h.ids, id)
		return []kvOp{{Verb: api.KVSet, Key: l.item(id), Value: value}}, nil
	})
	return index, err
}

// Insert adds an item with a new ID at index.
func (l *consulList) Insert(ctx context.Context, index int, value []byte) error {
	_, err := l.change(ctx, func(h *listHeader) ([]kvOp, error) {
		if index < 0 || index > len(h.ids) {
			return nil, outOfRange(index, len(h.ids))
		}
		id := h.next
		h.next++
		h.ids = slices.Insert(h.ids, index, id)
		return []kvOp{{Verb: api.KVSet, Key: l.item(id), Value: value}}, nil
	})
	return err
}

// Set replaces the item at index by a new item and returns the old value.
func (l *consulList) Set(ctx context.Context, index int, value []byte) ([]byte, error) {
	res, err := l.change(ctx, func(h *listHeader) ([]kvOp, error) {
		if index < 0 || index >= len(h.ids) {
			return nil, outOfRange(index, len(h.ids))
		}
		old, id := h.ids[index], h.next
		h.next++
		h.ids[index] = id
		return []kvOp{
			{Verb: api.KVGet, Key: l.item(old)},
			{Verb: api.KVDelete, Key: l.item(old)},
			{Verb: api.KVSet, Key: l.item(id), Value: value},
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return res[0].Value, nil
}

// Remove deletes the item at index and returns its value.
func (l *consulList) Remove(ctx context.Context, index int) ([]byte, error) {
	res, err := l.change(ctx, func(h *listHeader) ([]kvOp, error) {
		if index < 0 || index >= len(h.ids) {
			return nil, outOfRange(index, len(h.ids))
		}
		id := h.ids[index]
		h.ids = slices.Delete(h.ids, index, index+1)
		return []kvOp{{Verb: api.KVGet, Key: l.item(id)}, {Verb: api.KVDelete, Key: l.item(id)}}, nil
	})
	if err != nil {
		return nil, err
	}
	return res[0].Value, nil
}

// Clear empties the order and deletes every item key; IDs are not reused.
func (l *consulList) Clear(ctx context.Context) error {
	_, err := l.change(ctx, func(h *listHeader) ([]kvOp, error) {
		h.ids = nil
		return []kvOp{{Verb: api.KVDeleteTree, Key: l.items}}, nil
	})
	return err
}

// Get reads the header, then the item at index.
func (l *consulList) Get(ctx context.Context, index int) ([]byte, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	for {
		h, err := l.load(ctx)
		if err != nil {
			return nil, err
		}
		if index < 0 || index >= len(h.ids) {
			return nil, outOfRange(index, len(h.ids))
		}
		pair, _, err := l.d.kv.Get(l.item(h.ids[index]), read(ctx))
		if err != nil {
			return nil, classify(ctx, err, reading)
		}
		if pair != nil {
			return pair.Value, nil
		}
		// Removed since the header was read: read again.
	}
}

// Len reads the header.
func (l *consulList) Len(ctx context.Context) (int, error) {
	if err := l.check(); err != nil {
		return 0, err
	}
	h, err := l.load(ctx)
	if err != nil {
		return 0, err
	}
	return len(h.ids), nil
}

// Items yields the items of one snapshot (one recursive read).
func (l *consulList) Items(ctx context.Context) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		if err := l.check(); err != nil {
			yield(nil, err)
			return
		}
		pairs, _, err := l.d.kv.List(l.dir, read(ctx))
		if err != nil {
			yield(nil, classify(ctx, err, reading))
			return
		}
		items, err := l.snapshot(pairs)
		if err != nil {
			yield(nil, err)
			return
		}
		for _, v := range items {
			if !yield(v, nil) {
				return
			}
		}
	}
}

// Watch follows the list with blocking queries on its directory and sends
// the changes between consecutive answers, as driver/resync computes them
// (see the package documentation).
func (l *consulList) Watch(ctx context.Context, ch chan<- driver.ListEvent) error {
	if err := l.check(); err != nil {
		return err
	}
	pairs, meta, err := l.d.kv.List(l.dir, read(ctx))
	if err != nil {
		return classify(ctx, err, reading)
	}
	last, err := l.snapshot(pairs)
	if err != nil {
		return err
	}
	wctx, cancel := l.watchContext(ctx)
	go func() {
		defer close(ch)
		defer cancel()
		follow(wctx, l.d, meta.LastIndex, func(q *api.QueryOptions) (api.KVPairs, *api.QueryMeta, error) {
			return l.d.kv.List(l.dir, q)
		}, func(pairs api.KVPairs) bool {
			next, err := l.snapshot(pairs)
			if err != nil {
				return true // a foreign header; wait for the next answer
			}
			for _, ev := range resync.List(last, next) {
				if !send(wctx, ch, ev) {
					return false
				}
			}
			last = next
			return true
		}, l.resynced)
	}()
	return nil
}

// snapshot returns the items of one listing of the list's directory, in
// order.
func (l *consulList) snapshot(pairs api.KVPairs) ([][]byte, error) {
	values := make(map[uint64][]byte, len(pairs))
	var header *api.KVPair
	for _, p := range pairs {
		switch {
		case p.Key == l.header:
			header = p
		case strings.HasPrefix(p.Key, l.items):
			if id, err := strconv.ParseUint(p.Key[len(l.items):], 16, 64); err == nil {
				values[id] = p.Value
			}
		}
	}
	h, err := decodeHeader(header)
	if err != nil {
		return nil, errCorrupt(err)
	}
	items := make([][]byte, 0, len(h.ids))
	for _, id := range h.ids {
		if v, ok := values[id]; ok {
			items = append(items, v)
		}
	}
	return items, nil
}

func outOfRange(index, n int) error {
	return driver.Errorf(driver.ErrNotFound, "index %d is out of range (length %d)", index, n)
}

// headerFormat is the first byte of an encoded header.
const headerFormat = 1

// encode writes the header as the format byte, then uvarints: the next ID,
// the number of items, and their IDs.
func (h *listHeader) encode() []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64*(2+len(h.ids)))
	b = append(b, headerFormat)
	b = binary.AppendUvarint(b, h.next)
	b = binary.AppendUvarint(b, uint64(len(h.ids)))
	for _, id := range h.ids {
		b = binary.AppendUvarint(b, id)
	}
	return b
}

var errBadHeader = errors.New("not an atomix list header")

// decodeHeader decodes the header key; nil (absent) is the empty list.
func decodeHeader(pair *api.KVPair) (*listHeader, error) {
	h := &listHeader{next: 1}
	if pair == nil {
		return h, nil
	}
	h.index = pair.ModifyIndex
	b := pair.Value
	if len(b) == 0 || b[0] != headerFormat {
		return nil, errBadHeader
	}
	b = b[1:]
	var vals [2]uint64
	for i := range vals {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errBadHeader
		}
		vals[i], b = v, b[n:]
	}
	h.next = vals[0]
	if vals[1] > uint64(len(b)) {
		return nil, errBadHeader
	}
	h.ids = make([]uint64, 0, vals[1])
	for range vals[1] {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errBadHeader
		}
		h.ids, b = append(h.ids, v), b[n:]
	}
	if len(b) != 0 {
		return nil, errBadHeader
	}
	return h, nil
}

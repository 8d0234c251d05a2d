package consul

import (
	"cmp"
	"context"
	"iter"
	"slices"
	"strconv"
	"sync"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/chunklist"
	"github.com/atomix/go-client/driver/resync"
)

// consulList is a driver.List kept as a chunked list (package
// driver/chunklist, the layout the etcd driver uses too), under <base>/:
//
//   - d: the directory, the list's chunks in order with the number of
//     items of each;
//   - c/<16 hex digits>: one key per chunk, named by its ID, holding a run
//     of consecutive items within listBounds (a single item may be larger).
//
// Every change is one transaction over the directory and one chunk: it
// check-and-sets the directory by its ModifyIndex (or, when the directory's
// counts do not change, as for Set, checks that index), check-and-sets the
// chunk by its ModifyIndex, and writes the chunk's parts when it outgrew
// its bounds, or deletes it when it was left empty. So a change costs the
// same at 100 items as at 100,000: one chunk's bounded bytes plus the
// directory's few bytes per chunk (about 8 KiB at 100k items of 100 bytes).
// Changes are atomic, and reach watchers in commit order.
//
// Round trips: an instance keeps the directory and the last chunk it used,
// with their ModifyIndexes. Get is one read-only transaction (check the
// cached directory's index, read the chunk) when the list's shape did not
// change since; a write on the cached chunk is one transaction, so Append
// from the instance that appended last, or Set of an item near the last
// one changed, is one round trip. A check that fails costs a read of the
// directory (and of the chunk) and a second try.
//
// Len reads the directory alone, whose total is the number of items: a read
// of a few bytes per chunk, not a listing of every item.
//
// The layout replaced one where a header key held every item's ID (a read
// or check-and-set of O(n) bytes on every operation); lists written in it
// are not readable by this version (no released version wrote it).
type consulList struct {
	primitive
	dir    string // base + "/"
	dirKey string // dir + "d"
	chunks string // dir + "c/"

	mu    sync.Mutex
	cache listCache
}

// listBounds are the chunk bounds. Consul's transactions are bounded by
// txn_max_req_len, and Limits leaves txnOverhead (32 KiB) of it beside the
// largest value: a change that puts such a value into a chunk also writes
// the chunk's other items (at most 4 KiB, 5.5 KiB in base64) and the
// directory (about 3 bytes per chunk), which fit in what is left while the
// list has fewer than some 6,000 chunks (200,000 items of 100 bytes; an
// item of more than 1 KiB is a chunk of its own). Beyond that only values
// near the largest size are refused (ErrInvalid); the directory itself may
// grow to txn_max_req_len. Get and Set move a whole chunk, so chunks are
// kept smaller than etcd's: at 4 KiB a Get of a 100-byte item costs 20%
// less than at 8 KiB, and a Set half.
var listBounds = chunklist.Bounds{Items: 128, Bytes: 4 << 10}

// listCache is what an instance last saw of its list. Its indexes are
// checked by every transaction that relies on them.
type listCache struct {
	dirIndex uint64 // the directory's ModifyIndex; 0 when absent
	dir      *chunklist.Dir

	chunkID    uint64
	chunkIndex uint64 // the chunk's ModifyIndex; 0 when no chunk is cached
	items      [][]byte
}

var _ driver.List = (*consulList)(nil)

func newList(d *Driver, id driver.ID) *consulList {
	l := &consulList{}
	l.init(d, kindList, id)
	l.dir = l.base + "/"
	l.dirKey, l.chunks = l.dir+"d", l.dir+"c/"
	return l
}

// chunkKey returns the key of chunk id.
func (l *consulList) chunkKey(id uint64) string {
	hex := strconv.FormatUint(id, 16)
	b := make([]byte, 0, len(l.chunks)+16)
	b = append(b, l.chunks...)
	for range 16 - len(hex) {
		b = append(b, '0')
	}
	return string(append(b, hex...))
}

// cached returns the cache; ok is false when no directory is cached.
func (l *consulList) cached() (c listCache, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cache, l.cache.dir != nil
}

// forget empties the cache, after a failed check or an unknown outcome.
func (l *consulList) forget() {
	l.mu.Lock()
	l.cache = listCache{}
	l.mu.Unlock()
}

// loadDir reads the directory, caches it and returns it with its index.
func (l *consulList) loadDir(ctx context.Context) (*chunklist.Dir, uint64, error) {
	pair, _, err := l.d.kv.Get(l.dirKey, l.d.read(ctx))
	if err != nil {
		return nil, 0, classify(ctx, err, reading)
	}
	var index uint64
	var v []byte
	if pair != nil {
		index, v = pair.ModifyIndex, pair.Value
	}
	dir, err := chunklist.DecodeDir(v)
	if err != nil {
		return nil, 0, err
	}
	l.mu.Lock()
	if l.cache.dir == nil || l.cache.dirIndex != index {
		l.cache.dir, l.cache.dirIndex = dir, index
	}
	l.mu.Unlock()
	return dir, index, nil
}

// checkDir is the operation that checks that the directory is still at
// index (0: absent).
func (l *consulList) checkDir(index uint64) kvOp {
	if index == 0 {
		return kvOp{Verb: api.KVCheckNotExists, Key: l.dirKey}
	}
	return kvOp{Verb: api.KVCheckIndex, Key: l.dirKey, Index: index}
}

// readChunk reads chunk id in one read-only transaction that also checks
// the directory is still at dirIndex. It returns the chunk's items and
// ModifyIndex, or ok false when the directory changed (then the cache is
// refreshed: the caller tries again).
func (l *consulList) readChunk(ctx context.Context, dirIndex, id uint64) (items [][]byte, index uint64, ok bool, err error) {
	pairs, rb, err := l.d.readTxn(ctx, []kvOp{l.checkDir(dirIndex), {Verb: api.KVGet, Key: l.chunkKey(id)}})
	if err != nil {
		return nil, 0, false, err
	}
	if rb != nil {
		if rb.has(0) {
			l.forget()
			return nil, 0, false, nil
		}
		// The directory is current but names a chunk that is missing.
		return nil, 0, false, chunklist.ErrCorrupt
	}
	chunk := pairs[len(pairs)-1]
	items, err = chunklist.DecodeChunk(chunk.Value)
	return items, chunk.ModifyIndex, err == nil, err
}

// Get reads the chunk that holds item index, checking that the cached
// directory is current in the same read.
func (l *consulList) Get(ctx context.Context, index int) ([]byte, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	for {
		c, ok := l.cached()
		if !ok {
			if _, _, err := l.loadDir(ctx); err != nil {
				return nil, err
			}
			continue
		}
		j, off, err := chunklist.At(index)(c.dir)
		if err != nil {
			if cur, cerr := l.current(ctx, c); cerr != nil || cur {
				return nil, cmp.Or(cerr, err)
			}
			continue
		}
		items, _, ok, err := l.readChunk(ctx, c.dirIndex, c.dir.Chunks[j].ID)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if off >= int64(len(items)) {
			return nil, chunklist.ErrCorrupt
		}
		return items[off], nil
	}
}

// current reports whether the directory c holds is still the list's,
// reading the directory (and caching it).
func (l *consulList) current(ctx context.Context, c listCache) (bool, error) {
	_, index, err := l.loadDir(ctx)
	return err == nil && index == c.dirIndex, err
}

// modify applies e to the chunk that place picks in the directory, in one
// transaction guarded by the ModifyIndexes of the directory and the chunk,
// trying again with fresh reads when either changed.
func (l *consulList) modify(ctx context.Context, place chunklist.Place, e chunklist.Edit) error {
	if err := l.check(); err != nil {
		return err
	}
	for {
		c, ok := l.cached()
		if !ok {
			if _, _, err := l.loadDir(ctx); err != nil {
				return err
			}
			continue
		}
		j, off, err := place(c.dir)
		if err != nil {
			// Out of range in the cached directory: true only if it is
			// current.
			if cur, cerr := l.current(ctx, c); cerr != nil || cur {
				return cmp.Or(cerr, err)
			}
			continue
		}
		var items [][]byte
		var id uint64
		if j >= 0 {
			id = c.dir.Chunks[j].ID
			if c.chunkIndex == 0 || c.chunkID != id || int64(len(c.items)) != c.dir.Chunks[j].N {
				// Read the chunk the cached directory counts, then try
				// again with it cached.
				items, index, ok, err := l.readChunk(ctx, c.dirIndex, id)
				if err != nil {
					return err
				}
				if ok {
					l.mu.Lock()
					if l.cache.dirIndex == c.dirIndex {
						l.cache.chunkID, l.cache.chunkIndex, l.cache.items = id, index, items
					}
					l.mu.Unlock()
				}
				continue
			}
			items = slices.Clone(c.items)
		}
		atEnd := j >= 0 && j == len(c.dir.Chunks)-1 && off == c.dir.Chunks[j].N
		ch := listBounds.Rewrite(c.dir, j, e(items, off), off, atEnd)
		res, rb, err := l.d.txn(ctx, l.ops(c, ch, id))
		switch {
		case err != nil:
			l.forget()
			return err
		case rb != nil:
			l.forget() // the directory or the chunk changed: read again
			continue
		}
		var index uint64
		for _, p := range res {
			index = max(index, p.ModifyIndex)
		}
		l.mu.Lock()
		if ch.Dir != nil {
			l.cache.dir, l.cache.dirIndex = ch.Dir, index
		}
		l.cache.chunkID, l.cache.chunkIndex, l.cache.items = ch.Keep.ID, index, ch.Keep.Items
		if ch.Keep.Items == nil {
			l.cache.chunkIndex = 0
		}
		l.mu.Unlock()
		return nil
	}
}

// ops returns the transaction that applies ch, a change of chunk id, to the
// state c cached: the directory's check-and-set (or check, when it stays),
// then the chunk's writes, each checked against the index it was read at
// (new chunks against 0: they must not exist).
func (l *consulList) ops(c listCache, ch chunklist.Change, id uint64) []kvOp {
	ops := []kvOp{l.checkDir(c.dirIndex)}
	if ch.Dir != nil {
		ops[0] = kvOp{Verb: api.KVCAS, Key: l.dirKey, Value: ch.Dir.Encode(), Index: c.dirIndex}
	}
	for k, p := range ch.Put {
		var index uint64
		if k == 0 && c.chunkIndex != 0 && p.ID == id {
			index = c.chunkIndex
		}
		ops = append(ops, kvOp{Verb: api.KVCAS, Key: l.chunkKey(p.ID), Value: chunklist.EncodeChunk(p.Items), Index: index})
	}
	if ch.Delete {
		ops = append(ops, kvOp{Verb: api.KVDeleteCAS, Key: l.chunkKey(id), Index: c.chunkIndex})
	}
	return ops
}

// Append adds value at the end of the last chunk.
func (l *consulList) Append(ctx context.Context, value []byte) (int, error) {
	var at int64
	if err := l.modify(ctx, chunklist.End(&at), chunklist.Insert(value)); err != nil {
		return 0, err
	}
	return int(at), nil
}

// Insert puts value at index in the chunk that holds it (at the end of the
// last chunk for index == Len).
func (l *consulList) Insert(ctx context.Context, index int, value []byte) error {
	return l.modify(ctx, chunklist.Before(index), chunklist.Insert(value))
}

// Set replaces the item at index in its chunk and returns the old value.
func (l *consulList) Set(ctx context.Context, index int, value []byte) ([]byte, error) {
	var prev []byte
	err := l.modify(ctx, chunklist.At(index), chunklist.Replace(value, &prev))
	return prev, err
}

// Remove deletes the item at index from its chunk, and the chunk if it is
// left empty.
func (l *consulList) Remove(ctx context.Context, index int) ([]byte, error) {
	var prev []byte
	err := l.modify(ctx, chunklist.At(index), chunklist.Delete(&prev))
	return prev, err
}

// Clear deletes the directory and every chunk in one transaction. A
// concurrent change fails its check of the directory and reads again.
func (l *consulList) Clear(ctx context.Context) error {
	if err := l.check(); err != nil {
		return err
	}
	_, err := l.d.apply(ctx, []kvOp{{Verb: api.KVDeleteTree, Key: l.dir}})
	l.forget()
	return err
}

// Len reads the directory, whose total is the number of items.
func (l *consulList) Len(ctx context.Context) (int, error) {
	if err := l.check(); err != nil {
		return 0, err
	}
	dir, _, err := l.loadDir(ctx)
	if err != nil {
		return 0, err
	}
	return int(dir.Total), nil
}

// Items yields the items of one snapshot: one recursive read of the list's
// keys (Consul cannot read several requests at one index), so the whole
// list is in memory during the iteration.
func (l *consulList) Items(ctx context.Context) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		if err := l.check(); err != nil {
			yield(nil, err)
			return
		}
		pairs, _, err := l.d.kv.List(l.dir, l.d.read(ctx))
		if err != nil {
			yield(nil, classify(ctx, err, reading))
			return
		}
		byKey := make(map[string]*api.KVPair, len(pairs))
		for _, p := range pairs {
			byKey[p.Key] = p
		}
		items, err := l.snapshot(byKey)
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

// Watch joins the driver's feed of the list's directory (see feed) and
// sends the changes between consecutive states, as driver/resync computes
// them (see the package documentation).
func (l *consulList) Watch(ctx context.Context, ch chan<- driver.ListEvent) error {
	if err := l.check(); err != nil {
		return err
	}
	sub, err := l.d.subscribe(ctx, l.dir, "/", true, l.resynced)
	if err != nil {
		return err
	}
	last, err := l.snapshot(sub.state)
	if err != nil {
		sub.f.leave()
		return err
	}
	wctx, cancel := l.watchContext(ctx)
	go func() {
		defer close(ch)
		defer cancel()
		defer sub.f.leave()
		for {
			if _, ok := sub.next(wctx); !ok {
				return
			}
			next, err := l.snapshot(sub.state)
			if err != nil {
				continue // a foreign directory; wait for the next change
			}
			for _, ev := range resync.List(last, next) {
				if !send(wctx, ch, ev) {
					return
				}
			}
			last = next
		}
	}()
	return nil
}

// snapshot returns the items of one listing of the list's keys, in order:
// the chunks the directory names, concatenated. A transaction writes the
// directory and its chunks together, so a listing never holds one without
// the other; a directory that names a missing chunk is ErrCorrupt.
func (l *consulList) snapshot(pairs map[string]*api.KVPair) ([][]byte, error) {
	var v []byte
	if p := pairs[l.dirKey]; p != nil {
		v = p.Value
	}
	dir, err := chunklist.DecodeDir(v)
	if err != nil {
		return nil, err
	}
	return dir.Items(func(id uint64) []byte {
		if p := pairs[l.chunkKey(id)]; p != nil {
			return p.Value
		}
		return nil
	})
}

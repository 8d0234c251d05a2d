package etcd

import (
	"context"
	"errors"
	"iter"
	"slices"
	"sync"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/chunklist"
	"github.com/atomix/go-client/driver/resync"
)

// etcdList is a driver.List kept as a chunked list: a directory key
// (rootKey + "/d") lists the list's chunks in order with the number of
// items of each, and each chunk key (rootKey + "/c/" + 16 hex digits of
// the chunk's ID) holds a run of consecutive items, within listBounds
// unless it is a single item (package driver/chunklist has the encodings
// and plans the changes; Consul's driver shares it).
//
// Every change is one transaction over the directory and one chunk: it
// compares the mod revisions of both with the ones it read, writes the
// chunk (or, when it outgrew its bounds, the chunk's halves under new IDs;
// or deletes it when it is left empty) and the directory when the counts
// changed. So an Insert or Remove anywhere costs the same at 100 items as
// at 100,000: the chunk's bounded bytes plus the directory's few bytes per
// chunk (about 3 KiB for 100k short items), and a few operations in the
// transaction, never one per item moved (the earlier layout, one key per
// index, moved n-i keys in one transaction and was capped by
// --max-txn-ops at 127 items). Changes are atomic and, being transactions
// under the list's prefix, reach watchers in commit order.
//
// Round trips: an instance keeps the directory and the last chunk it used,
// with their mod revisions. A read (Get) is one transaction "if the
// directory is the one cached, read the chunk, else read the directory":
// one round trip when nothing changed the list's shape since. A write on
// the cached chunk is one transaction; Append from the instance that
// appended last is one round trip, an Insert or Remove elsewhere two (read
// the chunk, write it). A failed compare returns the current directory and
// chunk, and the write is tried again.
// Chunk bounds (see chunklist.Bounds): with items of up to MaxValueSize
// (512 KiB), a transaction that writes the directory and the parts of one
// chunk stays under etcd's default --max-request-bytes of 1.5 MiB and far
// under its --max-txn-ops of 128.
const (
	maxChunkItems = 128
	maxChunkBytes = 32 << 10
)

var listBounds = chunklist.Bounds{Items: maxChunkItems, Bytes: maxChunkBytes}

type etcdList struct {
	primitive
	prefix string
	end    string
	dirKey string

	mu    sync.Mutex
	cache listCache
}

// listCache is what an instance last saw of its list. Its revisions are
// checked by every transaction that relies on them.
type listCache struct {
	dirRev int64 // the directory's mod revision (0: absent); -1 when not known
	dir    *chunklist.Dir

	chunkID  uint64
	chunkRev int64 // 0 when no chunk is cached
	items    [][]byte
}

var _ driver.List = (*etcdList)(nil)

func newList(d *Driver, id driver.ID) *etcdList {
	l := &etcdList{primitive: newPrimitive(d, kindList, id)}
	l.prefix = l.root + "/"
	l.end = rangeEnd(l.prefix)
	l.dirKey = l.prefix + "d"
	l.cache.dirRev = -1
	return l
}

func (l *etcdList) chunkKey(id uint64) string { return indexKey(l.prefix+"c/", id) }

func (l *etcdList) cached() listCache {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cache
}

// learn updates the cache from the else branch of a failed transaction
// (or a read): the directory at index di of resp's responses and, if ci is
// not negative, the chunk at ci.
func (l *etcdList) learn(resp *clientv3.TxnResponse, di, ci int) error {
	dirRev, dir, err := l.dirOf(rangeResp(resp, di))
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cache.dirRev, l.cache.dir = dirRev, dir
	if ci >= 0 {
		kvs := rangeResp(resp, ci)
		if len(kvs) == 0 {
			l.cache.chunkRev = 0
			return nil
		}
		items, err := chunklist.DecodeChunk(kvs[0].Value)
		if err != nil {
			return err
		}
		id, _ := parseIndexKey(l.prefix+"c/", string(kvs[0].Key))
		l.cache.chunkID, l.cache.chunkRev, l.cache.items = id, kvs[0].ModRevision, items
	}
	return nil
}

// dirOf decodes the directory from the result of reading its key.
func (l *etcdList) dirOf(kvs []*mvccKV) (int64, *chunklist.Dir, error) {
	if len(kvs) == 0 {
		return 0, &chunklist.Dir{}, nil
	}
	dir, err := chunklist.DecodeDir(kvs[0].Value)
	return kvs[0].ModRevision, dir, err
}

// ifDir runs a transaction that does then if the directory's mod revision
// is dirRev, and else reads the directory (and the chunk id, if chunk):
// on failure the cache is refreshed from that read and ok is false.
func (l *etcdList) ifDir(ctx context.Context, kind opKind, dirRev int64, cmps []clientv3.Cmp, then []clientv3.Op, chunk bool, id uint64) (*clientv3.TxnResponse, bool, error) {
	cmps = append([]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(l.dirKey), "=", dirRev)}, cmps...)
	els := []clientv3.Op{clientv3.OpGet(l.dirKey)}
	if chunk {
		els = append(els, clientv3.OpGet(l.chunkKey(id)))
	}
	resp, err := l.txn(ctx, kind, cmps, then, els)
	if err != nil {
		return nil, false, err
	}
	if resp.Succeeded {
		return resp, true, nil
	}
	ci := -1
	if chunk {
		ci = 1
	}
	return resp, false, l.learn(resp, 0, ci)
}

// Get reads the chunk that holds item index, if the cached directory is
// current; else learns the directory and tries again.
func (l *etcdList) Get(ctx context.Context, index int) ([]byte, error) {
	for {
		c := l.cached()
		if c.dirRev < 0 {
			if _, _, err := l.ifDir(ctx, read, -1, nil, nil, false, 0); err != nil {
				return nil, err
			}
			continue
		}
		j, off := c.dir.Find(int64(index), false)
		var then []clientv3.Op
		if j >= 0 {
			then = []clientv3.Op{clientv3.OpGet(l.chunkKey(c.dir.Chunks[j].ID))}
		}
		resp, ok, err := l.ifDir(ctx, read, c.dirRev, nil, then, false, 0)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if j < 0 {
			return nil, errNotFound
		}
		kvs := rangeResp(resp, 0)
		if len(kvs) == 0 {
			return nil, chunklist.ErrCorrupt
		}
		items, err := chunklist.DecodeChunk(kvs[0].Value)
		if err != nil {
			return nil, err
		}
		if off >= int64(len(items)) {
			return nil, chunklist.ErrCorrupt
		}
		return items[off], nil
	}
}

// modify applies e to the chunk that place picks in the directory (the
// chunk's position and the offset in it, or an error such as ErrNotFound
// for an index out of range), in one transaction guarded by the mod
// revisions of the directory and the chunk. It returns the directory the
// change was applied to.
func (l *etcdList) modify(ctx context.Context, place chunklist.Place, e chunklist.Edit) (*chunklist.Dir, error) {
	for {
		c := l.cached()
		if c.dirRev < 0 {
			if _, _, err := l.ifDir(ctx, read, -1, nil, nil, false, 0); err != nil {
				return nil, err
			}
			continue
		}
		j, off, err := place(c.dir)
		if err != nil {
			// Out of range in the cached directory: true only if it is
			// current.
			_, ok, terr := l.ifDir(ctx, read, c.dirRev, nil, nil, false, 0)
			if terr != nil {
				return nil, terr
			}
			if ok {
				return nil, err
			}
			continue
		}
		var items [][]byte
		var cmps []clientv3.Cmp
		var id uint64
		if j >= 0 {
			id = c.dir.Chunks[j].ID
			if c.chunkRev == 0 || c.chunkID != id || int64(len(c.items)) != c.dir.Chunks[j].N {
				// Read the chunk (the cached copy, if any, is not the
				// one the cached directory counts), then try again with
				// it cached.
				resp, ok, err := l.ifDir(ctx, read, c.dirRev, nil, []clientv3.Op{clientv3.OpGet(l.chunkKey(id))}, false, 0)
				if err != nil {
					return nil, err
				}
				if ok {
					if err := l.learnChunk(rangeResp(resp, 0), id); err != nil {
						return nil, err
					}
				}
				continue
			}
			items = slices.Clone(c.items)
			cmps = []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(l.chunkKey(id)), "=", c.chunkRev)}
		}
		atEnd := j >= 0 && j == len(c.dir.Chunks)-1 && off == c.dir.Chunks[j].N
		ch := listBounds.Rewrite(c.dir, j, e(items, off), off, atEnd)
		dir, keep := ch.Dir, ch.Keep
		ops := l.ops(ch, id)
		resp, ok, err := l.ifDir(ctx, write, c.dirRev, cmps, ops, j >= 0, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		l.mu.Lock()
		if dir != nil {
			l.cache.dirRev, l.cache.dir = resp.Header.Revision, dir
		}
		l.cache.chunkID, l.cache.chunkRev, l.cache.items = keep.ID, resp.Header.Revision, keep.Items
		if keep.Items == nil {
			l.cache.chunkRev = 0
		}
		l.mu.Unlock()
		if dir == nil {
			dir = c.dir
		}
		return dir, nil
	}
}

// learnChunk caches the chunk id read in kvs; a chunk that the directory
// names but that is missing is a list this driver did not write.
func (l *etcdList) learnChunk(kvs []*mvccKV, id uint64) error {
	if len(kvs) == 0 {
		return chunklist.ErrCorrupt
	}
	items, err := chunklist.DecodeChunk(kvs[0].Value)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.cache.chunkID, l.cache.chunkRev, l.cache.items = id, kvs[0].ModRevision, items
	l.mu.Unlock()
	return nil
}

// ops returns the operations that apply ch, a change of the chunk id.
func (l *etcdList) ops(ch chunklist.Change, id uint64) []clientv3.Op {
	var ops []clientv3.Op
	for _, c := range ch.Put {
		ops = append(ops, clientv3.OpPut(l.chunkKey(c.ID), string(chunklist.EncodeChunk(c.Items))))
	}
	if ch.Delete {
		ops = append(ops, clientv3.OpDelete(l.chunkKey(id)))
	}
	if ch.Dir != nil {
		ops = append(ops, clientv3.OpPut(l.dirKey, string(ch.Dir.Encode())))
	}
	return ops
}

// Append adds value at the end of the last chunk.
func (l *etcdList) Append(ctx context.Context, value []byte) (int, error) {
	var at int64
	if _, err := l.modify(ctx, chunklist.End(&at), chunklist.Insert(value)); err != nil {
		return 0, err
	}
	return int(at), nil
}

// Insert puts value at index in the chunk that holds it (at the end of the
// last chunk for index == Len).
func (l *etcdList) Insert(ctx context.Context, index int, value []byte) error {
	_, err := l.modify(ctx, chunklist.Before(index), chunklist.Insert(value))
	return err
}

// Set replaces item index in its chunk and returns the previous value.
func (l *etcdList) Set(ctx context.Context, index int, value []byte) ([]byte, error) {
	var prev []byte
	_, err := l.modify(ctx, chunklist.At(index), chunklist.Replace(value, &prev))
	return prev, err
}

// Remove deletes item index from its chunk, and the chunk if it is left
// empty.
func (l *etcdList) Remove(ctx context.Context, index int) ([]byte, error) {
	var prev []byte
	_, err := l.modify(ctx, chunklist.At(index), chunklist.Delete(&prev))
	return prev, err
}

// Len reads the directory.
func (l *etcdList) Len(ctx context.Context) (int, error) {
	resp, err := l.get(ctx, l.dirKey)
	if err != nil {
		return 0, err
	}
	rev, dir, err := l.dirOf(resp.Kvs)
	if err != nil {
		return 0, err
	}
	l.mu.Lock()
	l.cache.dirRev, l.cache.dir = rev, dir
	l.mu.Unlock()
	return int(dir.Total), nil
}

// Clear deletes the directory and every chunk in one range delete.
func (l *etcdList) Clear(ctx context.Context) error {
	if _, err := l.del(ctx, l.prefix, clientv3.WithRange(l.end)); err != nil {
		return err
	}
	l.mu.Lock()
	l.cache = listCache{dirRev: -1}
	l.mu.Unlock()
	return nil
}

// itemsBatch is how many chunks one request of Items reads.
const itemsBatch = 16

// Items iterates over the items: it reads the directory, then the chunks
// itemsBatch at a time, all at the directory's revision: a consistent
// snapshot whose memory is bounded by a batch. If that revision is
// compacted before the iteration ends, the iteration ends with
// ErrUnavailable.
func (l *etcdList) Items(ctx context.Context) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		err := l.items(ctx, yield)
		if err != nil {
			yield(nil, err)
		}
	}
}

// items yields the items; it returns an error to report, or nil when done
// or when yield asked to stop.
func (l *etcdList) items(ctx context.Context, yield func([]byte, error) bool) error {
	resp, err := l.get(ctx, l.dirKey)
	if err != nil {
		return err
	}
	rev := resp.Header.Revision
	_, dir, err := l.dirOf(resp.Kvs)
	if err != nil {
		return err
	}
	for batch := range slices.Chunk(dir.Chunks, itemsBatch) {
		ops := make([]clientv3.Op, len(batch))
		for k, c := range batch {
			ops[k] = clientv3.OpGet(l.chunkKey(c.ID), clientv3.WithRev(rev))
		}
		tr, err := l.txn(ctx, read, nil, ops, nil)
		if errors.Is(err, rpctypes.ErrCompacted) {
			return driver.Errorf(driver.ErrUnavailable, "the snapshot was compacted during the iteration; iterate again")
		}
		if err != nil {
			return err
		}
		for k := range batch {
			kvs := rangeResp(tr, k)
			if len(kvs) == 0 {
				return chunklist.ErrCorrupt
			}
			items, err := chunklist.DecodeChunk(kvs[0].Value)
			if err != nil {
				return err
			}
			for _, it := range items {
				if !yield(it, nil) {
					return nil
				}
			}
		}
	}
	return nil
}

// Watch sends the changes of each transaction as list events: the
// difference (package resync) between the items before and after it, so an
// insert or a removal is one event.
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

// itemsOf returns the items a mirror holds, in order: the chunks the
// directory names, concatenated. (A transaction writes the directory and
// its chunks together, so a mirror never holds one without the other;
// anything unreadable is left out.)
func (l *etcdList) itemsOf(m mirror) [][]byte {
	var dir *chunklist.Dir
	if kv := m[l.dirKey]; kv != nil {
		dir, _ = chunklist.DecodeDir(kv.Value)
	}
	if dir == nil {
		return nil
	}
	items, _ := dir.Items(func(id uint64) []byte {
		if kv := m[l.chunkKey(id)]; kv != nil {
			return kv.Value
		}
		return nil
	})
	return items
}

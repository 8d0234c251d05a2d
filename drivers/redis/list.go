package redis

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"iter"
	"slices"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/resync"
)

var (
	//go:embed lua/list_write.lua
	listWriteSource string
	//go:embed lua/list_read.lua
	listReadSource string
	//go:embed lua/list_snapshot.lua
	listSnapshotSource string

	listWrite = newScript("list_write", withCounter(listWriteSource), false)
	listRead  = newReadScript("list_read", listReadSource)
	// listSnapshot writes only a snapshot under a fresh name: running it
	// twice has the effect of once.
	listSnapshot = newScript("list_snapshot", listSnapshotSource, true)
)

// snapshotTTL is how long an iteration's snapshot of a long list lives
// after the iteration last read from it.
const snapshotTTL = time.Minute

// list implements driver.List with one Redis list. Get is LINDEX and Len
// LLEN; every write is one script.
type list struct {
	*handle
	keys scriptKeys // the items, the version counter
}

func newList(h *handle) *list {
	return &list{handle: h, keys: keysOf(h.ks.key("l"), h.ks.key("ver"))}
}

// write runs the list script; it returns the index written and the item
// replaced or removed.
func (l *list) write(ctx context.Context, mode string, index int, value []byte) (int, []byte, error) {
	if err := l.begin(ctx); err != nil {
		return 0, nil, err
	}
	r, err := listWrite.run(ctx, l.client(), l.keys, l.ks.channelArg(), mode, index, value)
	if err != nil {
		return 0, nil, l.fail(ctx, err, true)
	}
	a, err := replyArray(r, 1)
	if err != nil {
		return 0, nil, l.fail(ctx, err, true)
	}
	if status, _ := replyInt(a[0]); status != 1 || len(a) < 3 {
		return 0, nil, errNoKey
	}
	i, err := replyInt(a[1])
	if err != nil {
		return 0, nil, l.fail(ctx, err, true)
	}
	old, _ := replyString(a[2])
	return int(i), bytesOf(old), nil
}

func (l *list) Append(ctx context.Context, value []byte) (int, error) {
	i, _, err := l.write(ctx, "a", 0, value)
	return i, err
}

func (l *list) Insert(ctx context.Context, index int, value []byte) error {
	_, _, err := l.write(ctx, "i", index, value)
	return err
}

func (l *list) Set(ctx context.Context, index int, value []byte) ([]byte, error) {
	_, old, err := l.write(ctx, "s", index, value)
	return old, err
}

func (l *list) Remove(ctx context.Context, index int) ([]byte, error) {
	_, old, err := l.write(ctx, "r", index, nil)
	return old, err
}

func (l *list) Get(ctx context.Context, index int) ([]byte, error) {
	if err := l.begin(ctx); err != nil {
		return nil, err
	}
	s, err := l.client().LIndex(ctx, l.keys.names[0], int64(index)).Result()
	if err == goredis.Nil {
		return nil, errNoKey
	}
	if err != nil {
		return nil, l.fail(ctx, err, false)
	}
	return bytesOf(s), nil
}

func (l *list) Len(ctx context.Context) (int, error) {
	if err := l.begin(ctx); err != nil {
		return 0, err
	}
	n, err := l.client().LLen(ctx, l.keys.names[0]).Result()
	if err != nil {
		return 0, l.fail(ctx, err, false)
	}
	return int(n), nil
}

func (l *list) Clear(ctx context.Context) error {
	return clearKeys(ctx, l.handle, l.keys.names[1], l.keys.names[0])
}

// Items reads a short list in one script. A list longer than a page is
// copied, by the same script, to a snapshot key that the iteration reads
// page by page and deletes at the end (it expires a minute after the last
// page read if the iteration is abandoned): the iteration sees one
// consistent state without holding the list in memory.
func (l *list) Items(ctx context.Context) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		if err := l.begin(ctx); err != nil {
			yield(nil, err)
			return
		}
		// One page is read without writing anything (a read-only user may
		// iterate a short list); a longer list is read again from a
		// snapshot, so that every page comes from one state.
		r, err := listRead.run(ctx, l.client(), l.keys, scanCount)
		if err != nil {
			yield(nil, l.fail(ctx, err, false))
			return
		}
		_, n, items, err := listPage(r)
		if err != nil {
			yield(nil, l.fail(ctx, err, false))
			return
		}
		snap := l.ks.key("snap:" + randomID())
		if len(items) < n {
			keys := l.keys.with(snap)
			if r, err = listSnapshot.run(ctx, l.client(), keys, scanCount, snapshotTTL.Milliseconds()); err == nil {
				_, n, items, err = listPage(r)
			}
			if err != nil {
				yield(nil, l.fail(ctx, err, false))
				return
			}
		}
		if len(items) < n {
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = l.client().Unlink(ctx, snap).Err()
			}()
		}
		read := 0
		for {
			for _, it := range items {
				if !yield(bytesOf(it), nil) {
					return
				}
			}
			read += len(items)
			if read >= n || len(items) == 0 {
				return
			}
			if err := l.begin(ctx); err != nil {
				yield(nil, err)
				return
			}
			pipe := l.client().Pipeline()
			page := pipe.LRange(ctx, snap, int64(read), int64(read+scanCount-1))
			pipe.PExpire(ctx, snap, snapshotTTL)
			if _, err := pipe.Exec(ctx); err != nil {
				yield(nil, l.fail(ctx, err, false))
				return
			}
			items = page.Val()
			if len(items) == 0 {
				yield(nil, driver.Errorf(driver.ErrTimeout, "the iteration's snapshot expired"))
				return
			}
		}
	}
}

// listPage decodes the reply of listRead and listSnapshot.
func listPage(r any) (seq uint64, n int, items []string, err error) {
	a, err := replyArray(r, 3)
	if err != nil {
		return 0, 0, nil, err
	}
	if seq, err = replyUint(a[0]); err != nil {
		return 0, 0, nil, err
	}
	length, err := replyInt(a[1])
	if err != nil {
		return 0, 0, nil, err
	}
	raw, ok := a[2].([]any)
	if !ok {
		return 0, 0, nil, badReply("want the items, got %T", a[2])
	}
	items = make([]string, len(raw))
	for i, x := range raw {
		items[i], _ = replyString(x)
	}
	return seq, int(length), items, nil
}

func (l *list) Watch(ctx context.Context, ch chan<- driver.ListEvent) error {
	return startWatch(ctx, l.handle, &listReplica{l: l}, l.keys.names[1], ch)
}

// listReplica is a watcher's copy of a list.
type listReplica struct {
	l     *list
	items [][]byte
}

func (r *listReplica) load(ctx context.Context, first bool) (uint64, []driver.ListEvent, error) {
	reply, err := listRead.run(ctx, r.l.client(), r.l.keys, -1)
	if err != nil {
		return 0, nil, err
	}
	seq, _, items, err := listPage(reply)
	if err != nil {
		return 0, nil, err
	}
	next := make([][]byte, len(items))
	for i, it := range items {
		next[i] = bytesOf(it)
	}
	var events []driver.ListEvent
	if !first {
		events = resync.List(r.items, next)
		for i := range events {
			events[i].Value = cloneBytes(events[i].Value)
		}
	}
	r.items = next
	return seq, events, nil
}

func (r *listReplica) apply(_ uint64, p *payload) ([]driver.ListEvent, error) {
	op := p.byte()
	if op == 'C' {
		p.end()
		if p.err != nil {
			return nil, p.err
		}
		if len(r.items) == 0 {
			return nil, badReply("clear of an empty copy")
		}
		events := make([]driver.ListEvent, len(r.items))
		for k, it := range r.items {
			events[k] = driver.ListEvent{Type: driver.EventRemoved, Index: 0, Value: it}
		}
		r.items = nil
		return events, nil
	}
	i64 := p.u64()
	var v string
	if op == 'R' {
		p.end()
	} else {
		v = p.rest()
	}
	if p.err != nil {
		return nil, p.err
	}
	// The index is compared as received, before any conversion: a claimed
	// index of 2^63 or more must not become a negative int.
	n := uint64(len(r.items))
	switch op {
	case 'I':
		if i64 > n {
			return nil, badReply("insertion at %d into a copy of %d items", i64, n)
		}
		i := int(i64)
		r.items = slices.Insert(r.items, i, bytesOf(v))
		return []driver.ListEvent{{Type: driver.EventInserted, Index: i, Value: bytesOf(v)}}, nil
	case 'U':
		if i64 >= n {
			return nil, badReply("update of %d in a copy of %d items", i64, n)
		}
		i := int(i64)
		r.items[i] = bytesOf(v)
		return []driver.ListEvent{{Type: driver.EventUpdated, Index: i, Value: bytesOf(v)}}, nil
	case 'R':
		if i64 >= n {
			return nil, badReply("removal of %d from a copy of %d items", i64, n)
		}
		i := int(i64)
		old := r.items[i]
		r.items = slices.Delete(r.items, i, i+1)
		return []driver.ListEvent{{Type: driver.EventRemoved, Index: i, Value: old}}, nil
	}
	return nil, badReply("unknown list change %q", op)
}

// randomID returns 16 random bytes in hex.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// formatIndex formats a non-negative index for a script.
func formatIndex(i uint64) string { return strconv.FormatUint(i, 10) }

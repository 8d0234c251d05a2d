package redis

import (
	"context"
	_ "embed"
	"iter"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
)

var (
	//go:embed lua/imap_write.lua
	imapWriteSource string
	//go:embed lua/imap_remove.lua
	imapRemoveSource string
	//go:embed lua/imap_find.lua
	imapFindSource string
	//go:embed lua/imap_page.lua
	imapPageSource string

	imapWrite  = newScript("imap_write", withCounter(imapWriteSource), false)
	imapRemove = newScript("imap_remove", withCounter(imapRemoveSource), false)
	imapFind   = newReadScript("imap_find", imapFindSource)
	imapPage   = newReadScript("imap_page", imapPageSource)
)

// indexedMap implements driver.IndexedMap with a Redis hash from each key
// to its version, its index (8 big-endian bytes each) and its value, and a
// sorted set of the keys scored by index. Indexes come from a counter that
// is never reset, so they are never reused. Get is a plain HGET, Len HLEN;
// lookups by index and iteration are read-only scripts over the sorted
// set; every write is one script.
type indexedMap struct {
	*handle
	keys scriptKeys // the entries, the order, the version counter, the index counter
}

func newIndexedMap(h *handle) *indexedMap {
	return &indexedMap{handle: h, keys: keysOf(h.ks.key("h"), h.ks.key("z"), h.ks.key("ver"), h.ks.key("idx"))}
}

func (m *indexedMap) Append(ctx context.Context, key string, value []byte) (driver.Entry, error) {
	return m.write(ctx, "a", key, value, 0)
}

func (m *indexedMap) Update(ctx context.Context, key string, value []byte, ifVersion uint64) (driver.Entry, error) {
	return m.write(ctx, "u", key, value, ifVersion)
}

func (m *indexedMap) write(ctx context.Context, mode, key string, value []byte, ifVersion uint64) (driver.Entry, error) {
	a, err := m.writeEntry(ctx, imapWrite, m.keys, mode, key, value, ifVersion, 2)
	if err != nil {
		return driver.Entry{}, err
	}
	ver, err1 := replyUint(a[0])
	index, err2 := replyUint(a[1])
	if err1 != nil || err2 != nil {
		return driver.Entry{}, m.fail(ctx, badReply("bad version or index"), true)
	}
	return driver.Entry{Key: key, Value: cloneBytes(value), Version: ver, Index: index}, nil
}

func (m *indexedMap) Get(ctx context.Context, key string) (driver.Entry, error) {
	if err := m.begin(ctx); err != nil {
		return driver.Entry{}, err
	}
	s, err := m.client().HGet(ctx, m.keys.names[0], key).Result()
	if err == goredis.Nil {
		return driver.Entry{}, errNoKey
	}
	if err != nil {
		return driver.Entry{}, m.fail(ctx, err, false)
	}
	e, err := entryOf(key, s, 2)
	if err != nil {
		return driver.Entry{}, m.fail(ctx, err, false)
	}
	return e, nil
}

func (m *indexedMap) GetIndex(ctx context.Context, index uint64) (driver.Entry, error) {
	return m.find(ctx, "i", index)
}

func (m *indexedMap) First(ctx context.Context) (driver.Entry, error) {
	return m.find(ctx, "f", 0)
}

func (m *indexedMap) Last(ctx context.Context) (driver.Entry, error) {
	return m.find(ctx, "l", 0)
}

func (m *indexedMap) Prev(ctx context.Context, index uint64) (driver.Entry, error) {
	return m.find(ctx, "p", index)
}

func (m *indexedMap) Next(ctx context.Context, index uint64) (driver.Entry, error) {
	return m.find(ctx, "n", index)
}

func (m *indexedMap) find(ctx context.Context, mode string, index uint64) (driver.Entry, error) {
	if err := m.begin(ctx); err != nil {
		return driver.Entry{}, err
	}
	r, err := imapFind.run(ctx, m.client(), m.keys.first(2), mode, formatIndex(index))
	if err != nil {
		return driver.Entry{}, m.fail(ctx, err, false)
	}
	if r == nil {
		return driver.Entry{}, errNoKey
	}
	a, err := replyArray(r, 2)
	if err != nil {
		return driver.Entry{}, m.fail(ctx, err, false)
	}
	key, _ := replyString(a[0])
	stored, _ := replyString(a[1])
	e, err := entryOf(key, stored, 2)
	if err != nil {
		return driver.Entry{}, m.fail(ctx, err, false)
	}
	return e, nil
}

func (m *indexedMap) Remove(ctx context.Context, key string, ifVersion uint64) (driver.Entry, error) {
	return m.remove(ctx, "k", key, ifVersion)
}

func (m *indexedMap) RemoveIndex(ctx context.Context, index uint64, ifVersion uint64) (driver.Entry, error) {
	return m.remove(ctx, "i", formatIndex(index), ifVersion)
}

func (m *indexedMap) remove(ctx context.Context, mode, target string, ifVersion uint64) (driver.Entry, error) {
	if err := m.begin(ctx); err != nil {
		return driver.Entry{}, err
	}
	r, err := imapRemove.run(ctx, m.client(), m.keys.first(3), m.ks.channelArg(), mode, target, versionBytes(ifVersion))
	if err != nil {
		return driver.Entry{}, m.fail(ctx, err, true)
	}
	a, err := replyArray(r, 1)
	if err != nil {
		return driver.Entry{}, m.fail(ctx, err, true)
	}
	switch status, _ := replyInt(a[0]); status {
	case 1:
	case 0:
		return driver.Entry{}, errNoKey
	default:
		return driver.Entry{}, versionConflict(ifVersion)
	}
	if len(a) < 3 {
		return driver.Entry{}, m.fail(ctx, badReply("no removed entry"), true)
	}
	key, _ := replyString(a[1])
	stored, _ := replyString(a[2])
	e, err := entryOf(key, stored, 2)
	if err != nil {
		return driver.Entry{}, m.fail(ctx, err, true)
	}
	return e, nil
}

func (m *indexedMap) Len(ctx context.Context) (int, error) {
	if err := m.begin(ctx); err != nil {
		return 0, err
	}
	n, err := m.client().HLen(ctx, m.keys.names[0]).Result()
	if err != nil {
		return 0, m.fail(ctx, err, false)
	}
	return int(n), nil
}

func (m *indexedMap) Clear(ctx context.Context) error {
	return clearKeys(ctx, m.handle, m.keys.names[2], m.keys.names[0], m.keys.names[1])
}

// Entries reads pages of entries in index order, each page starting after
// the last index of the one before: an entry present throughout is yielded
// exactly once.
func (m *indexedMap) Entries(ctx context.Context) iter.Seq2[driver.Entry, error] {
	return func(yield func(driver.Entry, error) bool) {
		var after uint64
		for {
			if err := m.begin(ctx); err != nil {
				yield(driver.Entry{}, err)
				return
			}
			r, err := imapPage.run(ctx, m.client(), m.keys.first(2), formatIndex(after), scanCount)
			if err != nil {
				yield(driver.Entry{}, m.fail(ctx, err, false))
				return
			}
			kvs, ok := r.([]any)
			if !ok && r != nil {
				yield(driver.Entry{}, m.fail(ctx, badReply("want a page of entries, got %T", r), false))
				return
			}
			n := 0
			for i := 0; i+1 < len(kvs); i += 2 {
				key, _ := replyString(kvs[i])
				stored, _ := replyString(kvs[i+1])
				if stored == "" {
					continue // cannot happen: the order and the entries change together
				}
				e, err := entryOf(key, stored, 2)
				if err != nil {
					yield(driver.Entry{}, m.fail(ctx, err, false))
					return
				}
				after = e.Index
				n++
				if !yield(e, nil) {
					return
				}
			}
			if n < scanCount {
				return
			}
		}
	}
}

func (m *indexedMap) Watch(ctx context.Context, ch chan<- driver.EntryEvent) error {
	return startWatch(ctx, m.handle, &hashReplica{h: m.handle, keys: m.keys.pick(0, 2), headers: 2}, m.keys.names[2], ch)
}

// Package indexedmap defines the distributed IndexedMap primitive: a map
// whose entries also carry a stable insertion index.
package indexedmap

import (
	"context"
	"iter"

	"github.com/atomix/go-client/atomix/generic"
	"github.com/atomix/go-client/atomix/primitive"
)

// Entry is a key with its index, value and version.
//
// The index is assigned by Append: unique and strictly increasing per map,
// starting at 1, never reused (also across Clear), and unchanged by Update.
// The version is assigned by every write: unique and strictly increasing.
type Entry[K, V any] struct {
	Key     K
	Index   uint64
	Value   V
	Version uint64
}

// EventType says what a change did to an entry.
type EventType int

const (
	// EventInserted: an entry was appended.
	EventInserted EventType = iota + 1
	// EventUpdated: an entry's value was replaced.
	EventUpdated
	// EventRemoved: an entry was removed; Entry is the entry as it was.
	EventRemoved
)

// String returns "inserted", "updated" or "removed".
func (t EventType) String() string {
	switch t {
	case EventInserted:
		return "inserted"
	case EventUpdated:
		return "updated"
	case EventRemoved:
		return "removed"
	}
	return "unknown"
}

// Event is one change to an indexed map.
type Event[K, V any] struct {
	Type  EventType
	Entry Entry[K, V]
}

// IndexedMap is a distributed map whose entries are also ordered by a
// stable insertion index. Every method is atomic on the backend. Methods are
// safe for concurrent use.
type IndexedMap[K, V any] interface {
	// Name returns the name the map was opened with.
	Name() string
	// Append adds key at the end with a new index: ErrAlreadyExists if key
	// is present.
	Append(ctx context.Context, key K, value V) (Entry[K, V], error)
	// Update replaces the value of an existing key, keeping its index:
	// ErrNotFound if absent, ErrConflict if IfVersion(v) does not match.
	Update(ctx context.Context, key K, value V, opts ...Option) (Entry[K, V], error)
	// Get returns the entry of key, or ErrNotFound.
	Get(ctx context.Context, key K) (Entry[K, V], error)
	// GetIndex returns the entry at index, or ErrNotFound.
	GetIndex(ctx context.Context, index uint64) (Entry[K, V], error)
	// FirstEntry returns the entry with the lowest index; ErrNotFound when
	// empty.
	FirstEntry(ctx context.Context) (Entry[K, V], error)
	// LastEntry returns the entry with the highest index; ErrNotFound when
	// empty.
	LastEntry(ctx context.Context) (Entry[K, V], error)
	// PrevEntry returns the entry with the highest index below index (which
	// need not exist); ErrNotFound when there is none.
	PrevEntry(ctx context.Context, index uint64) (Entry[K, V], error)
	// NextEntry returns the entry with the lowest index above index (which
	// need not exist); ErrNotFound when there is none.
	NextEntry(ctx context.Context, index uint64) (Entry[K, V], error)
	// Remove deletes key and returns its entry: ErrNotFound if absent,
	// ErrConflict if IfVersion(v) does not match.
	Remove(ctx context.Context, key K, opts ...Option) (Entry[K, V], error)
	// RemoveIndex deletes the entry at index and returns it: ErrNotFound,
	// ErrConflict as Remove.
	RemoveIndex(ctx context.Context, index uint64, opts ...Option) (Entry[K, V], error)
	// Len returns the number of entries.
	Len(ctx context.Context) (int, error)
	// Clear removes every entry. Indexes are not reused afterwards.
	Clear(ctx context.Context) error
	// Entries iterates over the entries in index order. An entry present
	// for the whole iteration is yielded exactly once. An error ends the
	// iteration: it is yielded once, with a zero Entry.
	Entries(ctx context.Context) iter.Seq2[Entry[K, V], error]
	// Watch sends an Event for every change on ch, with the guarantees of
	// every Watch: established on return, commit order, nothing dropped, ch
	// closed when ctx ends or the map is closed.
	//
	// ch is also closed, with ctx live and the map open, when a change
	// cannot be decoded: a key or value stored in bytes the codec refuses (written
	// by a program with another codec, say). The watch cannot send that
	// change and skipping it would break commit order, so it ends, for
	// every watcher of this instance. Nothing reports the cause yet (the
	// observability work will log it); Get or Entries returns the codec's error
	// for what it cannot decode. Watch again once the data is fixed.
	Watch(ctx context.Context, ch chan<- Event[K, V]) error
	// Close ends the instance's watches and makes later calls return
	// ErrClosed.
	Close(ctx context.Context) error
}

// Option modifies one Update, Remove or RemoveIndex call.
type Option struct {
	version uint64
}

// IfVersion makes the call apply only if the entry's version is v, else
// ErrConflict.
func IfVersion(v uint64) Option { return Option{version: v} }

// Version returns the version the options require, 0 for none. It is used by
// implementations of IndexedMap.
func Version(opts []Option) uint64 {
	var v uint64
	for _, o := range opts {
		if o.version != 0 {
			v = o.version
		}
	}
	return v
}

// WithKeyType sets the codec of the keys; its type must be K.
func WithKeyType[K any](c generic.Codec[K]) primitive.Option {
	return primitive.WithCodec("key", c)
}

// WithValueType sets the codec of the values; its type must be V.
func WithValueType[V any](c generic.Codec[V]) primitive.Option {
	return primitive.WithCodec("value", c)
}

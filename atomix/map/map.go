// Package _map defines the distributed Map primitive.
//
// The package is named _map because map is a Go keyword; import it as
//
//	import _map "github.com/atomix/go-client/atomix/map"
package _map

import (
	"context"
	"iter"

	"github.com/atomix/go-client/atomix/generic"
	"github.com/atomix/go-client/atomix/lock"
	"github.com/atomix/go-client/atomix/primitive"
)

// Entry is a key with its value and version. The version is assigned by the
// write that stored the value; versions are unique and strictly increasing
// per map.
type Entry[K, V any] struct {
	Key     K
	Value   V
	Version uint64
}

// EventType says what a change did to a key.
type EventType int

const (
	// EventInserted: the key was absent and now has a value.
	EventInserted EventType = iota + 1
	// EventUpdated: the key's value was replaced.
	EventUpdated
	// EventRemoved: the key was removed; the event's Entry is the entry as
	// it was.
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

// Event is one change to a map.
type Event[K, V any] struct {
	Type  EventType
	Entry Entry[K, V]
}

// Map is a distributed map with optimistic concurrency control through entry
// versions. Every method is atomic on the backend. Methods are safe for
// concurrent use.
type Map[K, V any] interface {
	// Name returns the name the map was opened with.
	Name() string
	// Put stores value under key, inserting or replacing, and returns the
	// new entry. With IfVersion(v) it writes only if the key exists with
	// version v, else ErrConflict.
	Put(ctx context.Context, key K, value V, opts ...Option) (Entry[K, V], error)
	// Insert stores value under key only if key is absent, else
	// ErrAlreadyExists. Of the options only Ephemeral and Fenced apply;
	// IfVersion is ErrInvalid.
	Insert(ctx context.Context, key K, value V, opts ...Option) (Entry[K, V], error)
	// Get returns the entry of key, or ErrNotFound.
	Get(ctx context.Context, key K) (Entry[K, V], error)
	// Update replaces the value of an existing key: ErrNotFound if absent,
	// ErrConflict if IfVersion(v) is given and the entry's version is not v.
	Update(ctx context.Context, key K, value V, opts ...Option) (Entry[K, V], error)
	// Remove deletes key and returns the entry it had: ErrNotFound if
	// absent, ErrConflict if IfVersion(v) is given and does not match.
	Remove(ctx context.Context, key K, opts ...Option) (Entry[K, V], error)
	// Len returns the number of keys.
	Len(ctx context.Context) (int, error)
	// Clear removes every key.
	Clear(ctx context.Context) error
	// Entries iterates over the entries, in no particular order. An entry
	// present for the whole iteration is yielded exactly once. An error
	// ends the iteration: it is yielded once, with a zero Entry.
	Entries(ctx context.Context) iter.Seq2[Entry[K, V], error]
	// Keys iterates over the keys, like Entries.
	Keys(ctx context.Context) iter.Seq2[K, error]
	// Watch sends an Event for every change on ch. It returns once the
	// watch is established (every change committed after it returns is
	// delivered); events come in commit order, none is dropped (a slow
	// reader is buffered for, not skipped), and ch is closed when ctx ends
	// or the map is closed.
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
	// ErrClosed. The map's contents stay.
	Close(ctx context.Context) error
}

// Option modifies one Put, Insert, Update or Remove call.
type Option struct {
	version   uint64
	ephemeral bool
	fence     *Fence
}

// Fence is the lock hold a fenced write depends on (see Fenced).
type Fence struct {
	Lock    lock.Lock
	Version uint64
}

// Ephemeral binds the entry written by Put, Insert or Update to the writing
// client's session: when the session ends (the client closed, crashed, or
// was cut off from the backend for longer than its session TTL) the entry
// is removed, and watchers see EventRemoved. It is how a process registers
// itself (membership, service discovery) so that its entry vanishes with
// it. Remove does not take it (ErrInvalid). Each successful write of the
// key decides: a later write without Ephemeral makes the entry persistent
// again, and an ephemeral write by another client binds it to that
// client's session.
func Ephemeral() Option { return Option{ephemeral: true} }

// Fenced makes Put, Insert, Update or Remove apply only if l, a lock opened
// by the same client as the map, is still held with the fencing version
// version (the one its Lock or TryLock returned). The backend checks the
// hold in the same atomic step as the write; if the hold has ended (released,
// or lost with its session), the write fails with ErrConflict and changes
// nothing. A lock of another client or backend is ErrInvalid.
func Fenced(l lock.Lock, version uint64) Option {
	return Option{fence: &Fence{Lock: l, Version: version}}
}

// Settings is what a list of options asks for. It is used by
// implementations of Map.
type Settings struct {
	// Version is the IfVersion precondition, 0 for none.
	Version uint64
	// Ephemeral is set by Ephemeral.
	Ephemeral bool
	// Fence is set by Fenced; the last one given wins.
	Fence *Fence
}

// Apply returns what opts ask for. It is used by implementations of Map.
func Apply(opts []Option) Settings {
	var s Settings
	for _, o := range opts {
		if o.version != 0 {
			s.Version = o.version
		}
		if o.ephemeral {
			s.Ephemeral = true
		}
		if o.fence != nil {
			s.Fence = o.fence
		}
	}
	return s
}

// IfVersion makes Put, Update or Remove apply only if the entry's current
// version is v; otherwise they fail with ErrConflict.
func IfVersion(v uint64) Option { return Option{version: v} }

// Version returns the version the options require, 0 for none. It is used by
// implementations of Map.
func Version(opts []Option) uint64 {
	var v uint64
	for _, o := range opts {
		if o.version != 0 {
			v = o.version
		}
	}
	return v
}

// WithKeyType sets the codec of the map's keys. Its type must be the map's
// K, else the getter fails with ErrInvalid.
func WithKeyType[K any](c generic.Codec[K]) primitive.Option {
	return primitive.WithCodec("key", c)
}

// WithValueType sets the codec of the map's values. Its type must be the
// map's V, else the getter fails with ErrInvalid.
func WithValueType[V any](c generic.Codec[V]) primitive.Option {
	return primitive.WithCodec("value", c)
}

package driver

import (
	"context"
	"iter"
)

// Entry is one key of a Map or an IndexedMap with its value and the version
// of the write that stored it.
type Entry struct {
	Key     string
	Value   []byte
	Version uint64
	// Index is the entry's insertion index in an IndexedMap; 0 in a Map.
	Index uint64
}

// EntryEvent is one change to a Map or an IndexedMap. For EventRemoved,
// Entry is the entry as it was before it was removed.
type EntryEvent struct {
	Type  EventType
	Entry Entry
}

// Map is a map from keys to values in which every write gets a version.
//
// A version argument of 0 means "no precondition". Every method that takes
// one checks it and writes in one atomic step.
type Map interface {
	// Put stores value under key, inserting or replacing. With ifVersion
	// != 0 it writes only if the key exists with that version, else
	// ErrConflict. It returns the stored entry.
	Put(ctx context.Context, key string, value []byte, ifVersion uint64) (Entry, error)
	// Insert stores value under key only if the key is absent, else
	// ErrAlreadyExists.
	Insert(ctx context.Context, key string, value []byte) (Entry, error)
	// Update replaces the value of an existing key: ErrNotFound if absent,
	// ErrConflict if ifVersion != 0 and differs from the entry's version.
	Update(ctx context.Context, key string, value []byte, ifVersion uint64) (Entry, error)
	// Get returns the entry of key, or ErrNotFound.
	Get(ctx context.Context, key string) (Entry, error)
	// Remove deletes key and returns the entry it had: ErrNotFound if
	// absent, ErrConflict if ifVersion != 0 and differs.
	Remove(ctx context.Context, key string, ifVersion uint64) (Entry, error)
	// Len returns the number of keys.
	Len(ctx context.Context) (int, error)
	// Clear removes every key. Watchers see one EventRemoved per key.
	Clear(ctx context.Context) error
	// Entries iterates over the entries in an order the driver chooses.
	// Each entry yielded existed at some point during the iteration; an
	// entry neither inserted nor removed during it is yielded exactly once.
	// An error ends the iteration with (Entry{}, err).
	Entries(ctx context.Context) iter.Seq2[Entry, error]
	// Watch sends every change under the package's watch contract.
	Watch(ctx context.Context, ch chan<- EntryEvent) error
	Closer
}

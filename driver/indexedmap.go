package driver

import (
	"context"
	"iter"
)

// IndexedMap is a Map whose entries also carry a stable insertion index.
//
// Indexes are assigned by Append, are unique and strictly increasing per
// IndexedMap (starting at 1, never reused, also across Clear), and never
// change while the entry exists. Entry.Index is set on every entry returned.
// Versions follow the package's rules; a version argument of 0 means "no
// precondition".
type IndexedMap interface {
	// Append adds a new entry at the end: ErrAlreadyExists if key exists.
	Append(ctx context.Context, key string, value []byte) (Entry, error)
	// Update replaces the value of an existing key, keeping its index:
	// ErrNotFound if absent, ErrConflict if ifVersion differs.
	Update(ctx context.Context, key string, value []byte, ifVersion uint64) (Entry, error)
	// Get returns the entry of key, or ErrNotFound.
	Get(ctx context.Context, key string) (Entry, error)
	// GetIndex returns the entry at index, or ErrNotFound.
	GetIndex(ctx context.Context, index uint64) (Entry, error)
	// First and Last return the entries with the lowest and highest index,
	// or ErrNotFound when empty.
	First(ctx context.Context) (Entry, error)
	Last(ctx context.Context) (Entry, error)
	// Prev returns the entry with the highest index below index, Next the
	// one with the lowest index above it; index need not exist. ErrNotFound
	// when there is none.
	Prev(ctx context.Context, index uint64) (Entry, error)
	Next(ctx context.Context, index uint64) (Entry, error)
	// Remove deletes key and returns its entry: ErrNotFound, ErrConflict.
	Remove(ctx context.Context, key string, ifVersion uint64) (Entry, error)
	// RemoveIndex deletes the entry at index: ErrNotFound, ErrConflict.
	RemoveIndex(ctx context.Context, index uint64, ifVersion uint64) (Entry, error)
	// Len returns the number of entries.
	Len(ctx context.Context) (int, error)
	// Clear removes every entry. Watchers see one EventRemoved per entry.
	Clear(ctx context.Context) error
	// Entries iterates in index order, with the guarantees of Map.Entries.
	Entries(ctx context.Context) iter.Seq2[Entry, error]
	// Watch sends every change under the package's watch contract.
	Watch(ctx context.Context, ch chan<- EntryEvent) error
	Closer
}

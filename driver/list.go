package driver

import (
	"context"
	"iter"
)

// ListEvent is one change to a List. Applying the events in order to a copy
// of the list taken when the watch started reproduces the list:
// EventInserted puts Value at Index (shifting later items), EventUpdated
// replaces the item at Index, EventRemoved removes the item at Index
// (Value is the removed item).
type ListEvent struct {
	Type  EventType
	Index int
	Value []byte
}

// List is an ordered sequence of values addressed by 0-based index.
// Indexes are not negative (the portable layer checks); an index outside the
// list is ErrNotFound.
type List interface {
	// Append adds value at the end and returns its index.
	Append(ctx context.Context, value []byte) (int, error)
	// Insert puts value at index, shifting the items from index on;
	// index == Len appends; index > Len is ErrNotFound.
	Insert(ctx context.Context, index int, value []byte) error
	// Set replaces the item at index and returns the item it replaced.
	Set(ctx context.Context, index int, value []byte) ([]byte, error)
	// Get returns the item at index.
	Get(ctx context.Context, index int) ([]byte, error)
	// Remove deletes the item at index and returns it.
	Remove(ctx context.Context, index int) ([]byte, error)
	// Len returns the number of items.
	Len(ctx context.Context) (int, error)
	// Clear removes every item.
	Clear(ctx context.Context) error
	// Items iterates over the items in order from a consistent snapshot.
	Items(ctx context.Context) iter.Seq2[[]byte, error]
	// Watch sends every change under the package's watch contract.
	Watch(ctx context.Context, ch chan<- ListEvent) error
	Closer
}

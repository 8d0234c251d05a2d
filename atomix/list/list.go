// Package list defines the distributed List primitive.
package list

import (
	"context"
	"iter"

	"github.com/atomix/go-client/atomix/generic"
	"github.com/atomix/go-client/atomix/primitive"
)

// EventType says what a change did to the list.
type EventType int

const (
	// EventInserted: an item was inserted at Index, shifting later items.
	EventInserted EventType = iota + 1
	// EventUpdated: the item at Index was replaced.
	EventUpdated
	// EventRemoved: the item at Index was removed; Value is the item.
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

// Event is one change to a list. Applying the events in order to a copy of
// the list taken when the watch started reproduces the list.
type Event[E any] struct {
	Type  EventType
	Index int
	Value E
}

// List is a distributed ordered sequence addressed by 0-based index. Every
// method is atomic on the backend. A negative index is ErrInvalid; an index
// past the end is ErrNotFound. Methods are safe for concurrent use.
type List[E any] interface {
	// Name returns the name the list was opened with.
	Name() string
	// Append adds value at the end and returns its index.
	Append(ctx context.Context, value E) (int, error)
	// Insert puts value at index, shifting the items from index on;
	// index == Len appends.
	Insert(ctx context.Context, index int, value E) error
	// Set replaces the item at index and returns the item it replaced.
	Set(ctx context.Context, index int, value E) (E, error)
	// Get returns the item at index.
	Get(ctx context.Context, index int) (E, error)
	// Remove deletes the item at index and returns it.
	Remove(ctx context.Context, index int) (E, error)
	// Len returns the number of items.
	Len(ctx context.Context) (int, error)
	// Clear removes every item.
	Clear(ctx context.Context) error
	// Items iterates over the items in order, from a consistent snapshot.
	// An error ends the iteration: it is yielded once, with a zero item.
	Items(ctx context.Context) iter.Seq2[E, error]
	// Watch sends an Event for every change on ch, with the guarantees of
	// every Watch: established on return, commit order, nothing dropped, ch
	// closed when ctx ends or the list is closed.
	//
	// ch is also closed, with ctx live and the list open, when a change
	// cannot be decoded: an item stored in bytes the codec refuses (written
	// by a program with another codec, say). The watch cannot send that
	// change and skipping it would break commit order, so it ends, for
	// every watcher of this instance. Nothing reports the cause yet (the
	// observability work will log it); Get or Items returns the codec's error
	// for what it cannot decode. Watch again once the data is fixed.
	Watch(ctx context.Context, ch chan<- Event[E]) error
	// Close ends the instance's watches and makes later calls return
	// ErrClosed.
	Close(ctx context.Context) error
}

// WithElementType sets the codec of the list's items. Its type must be the
// list's E, else the getter fails with ErrInvalid.
func WithElementType[E any](c generic.Codec[E]) primitive.Option {
	return primitive.WithCodec("element", c)
}

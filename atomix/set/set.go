// Package set defines the distributed Set primitive.
package set

import (
	"context"
	"iter"

	"github.com/atomix/go-client/atomix/generic"
	"github.com/atomix/go-client/atomix/primitive"
)

// EventType says what a change did to an element.
type EventType int

const (
	// EventAdded: the element was added.
	EventAdded EventType = iota + 1
	// EventRemoved: the element was removed.
	EventRemoved
)

// String returns "added" or "removed".
func (t EventType) String() string {
	switch t {
	case EventAdded:
		return "added"
	case EventRemoved:
		return "removed"
	}
	return "unknown"
}

// Event is one change to a set.
type Event[E any] struct {
	Type    EventType
	Element E
}

// Set is a distributed set. Elements are compared by their encoding. Every
// method is atomic on the backend. Methods are safe for concurrent use.
type Set[E any] interface {
	// Name returns the name the set was opened with.
	Name() string
	// Add inserts e and reports whether it was absent. With Ephemeral the
	// element is bound to the client's session; adding an element already
	// present changes nothing, its binding included.
	Add(ctx context.Context, e E, opts ...Option) (bool, error)
	// Remove deletes e and reports whether it was present.
	Remove(ctx context.Context, e E) (bool, error)
	// Contains reports whether e is present.
	Contains(ctx context.Context, e E) (bool, error)
	// Len returns the number of elements.
	Len(ctx context.Context) (int, error)
	// Clear removes every element.
	Clear(ctx context.Context) error
	// Elements iterates over the elements, in no particular order. An
	// element present for the whole iteration is yielded exactly once. An
	// error ends the iteration: it is yielded once, with a zero element.
	Elements(ctx context.Context) iter.Seq2[E, error]
	// Watch sends an Event for every change on ch, with the guarantees of
	// every Watch: established on return, commit order, nothing dropped, ch
	// closed when ctx ends or the set is closed.
	//
	// ch is also closed, with ctx live and the set open, when a change
	// cannot be decoded: an element stored in bytes the codec refuses (written
	// by a program with another codec, say). The watch cannot send that
	// change and skipping it would break commit order, so it ends, for
	// every watcher of this instance. Nothing reports the cause yet (the
	// observability work will log it); Elements returns the codec's error
	// for what it cannot decode. Watch again once the data is fixed.
	Watch(ctx context.Context, ch chan<- Event[E]) error
	// Close ends the instance's watches and makes later calls return
	// ErrClosed.
	Close(ctx context.Context) error
}

// Option modifies one Add call.
type Option struct {
	ephemeral bool
}

// Ephemeral binds the element added by Add to the writing client's session:
// when the session ends (the client closed, crashed, or was cut off from the
// backend for longer than its session TTL) the element is removed, and
// watchers see EventRemoved.
func Ephemeral() Option { return Option{ephemeral: true} }

// IsEphemeral reports whether opts include Ephemeral. It is used by
// implementations of Set.
func IsEphemeral(opts []Option) bool {
	for _, o := range opts {
		if o.ephemeral {
			return true
		}
	}
	return false
}

// WithElementType sets the codec of the set's elements. Its type must be the
// set's E, else the getter fails with ErrInvalid.
func WithElementType[E any](c generic.Codec[E]) primitive.Option {
	return primitive.WithCodec("element", c)
}

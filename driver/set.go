package driver

import (
	"context"
	"iter"
)

// ElementEvent is one change to a Set: EventInserted or EventRemoved.
type ElementEvent struct {
	Type    EventType
	Element string
}

// Set is a set of byte strings.
type Set interface {
	// Add inserts element and reports whether it was absent.
	Add(ctx context.Context, element string) (bool, error)
	// Remove deletes element and reports whether it was present.
	Remove(ctx context.Context, element string) (bool, error)
	// Contains reports whether element is present.
	Contains(ctx context.Context, element string) (bool, error)
	// Len returns the number of elements.
	Len(ctx context.Context) (int, error)
	// Clear removes every element. Watchers see one EventRemoved per element.
	Clear(ctx context.Context) error
	// Elements iterates over the elements, with the same guarantees as
	// Map.Entries.
	Elements(ctx context.Context) iter.Seq2[string, error]
	// Watch sends every change under the package's watch contract.
	Watch(ctx context.Context, ch chan<- ElementEvent) error
	Closer
}

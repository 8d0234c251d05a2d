package driver

import "context"

// ValueEvent is one change to a Value: EventInserted (set while absent),
// EventUpdated (set while present) or EventRemoved (deleted; Value and
// Version are those it had).
type ValueEvent struct {
	Type    EventType
	Value   []byte
	Version uint64
}

// Value is a single versioned value that may be absent.
type Value interface {
	// Set stores value and returns its version. With ifVersion != 0 it
	// writes only if the current version is ifVersion, else ErrConflict
	// (also when the value is absent).
	Set(ctx context.Context, value []byte, ifVersion uint64) (uint64, error)
	// Get returns the value and its version, or ErrNotFound when absent.
	Get(ctx context.Context) ([]byte, uint64, error)
	// Delete removes the value: ErrNotFound when absent, ErrConflict when
	// ifVersion != 0 and differs.
	Delete(ctx context.Context, ifVersion uint64) error
	// Watch sends every change under the package's watch contract.
	Watch(ctx context.Context, ch chan<- ValueEvent) error
	Closer
}

// Package counter defines the distributed Counter primitive.
package counter

import "context"

// Counter is a distributed 64-bit signed integer that every client opening
// the same name on the same backend shares. A counter never written reads 0.
// Every operation is atomic on the backend. Methods are safe for concurrent
// use.
//
// The value never wraps around: an Increment or Decrement whose result would
// not fit in an int64 fails with an error wrapping ErrInvalid and leaves the
// value as it was.
type Counter interface {
	// Name returns the name the counter was opened with.
	Name() string
	// Get returns the current value.
	Get(ctx context.Context) (int64, error)
	// Set stores value and returns it: the counter's new value.
	Set(ctx context.Context, value int64) (int64, error)
	// Increment adds delta and returns the new value.
	Increment(ctx context.Context, delta int64) (int64, error)
	// Decrement subtracts delta and returns the new value. Decrement by
	// math.MinInt64, whose negation is not an int64, is ErrInvalid.
	Decrement(ctx context.Context, delta int64) (int64, error)
	// CompareAndSet stores update if the value is expect, and reports
	// whether it did; a failed comparison is (false, nil), not an error.
	CompareAndSet(ctx context.Context, expect, update int64) (bool, error)
	// Close releases the instance; later calls return ErrClosed.
	Close(ctx context.Context) error
}

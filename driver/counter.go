package driver

import "context"

// Counter is a 64-bit signed integer. A counter that was never written reads
// as 0.
type Counter interface {
	// Get returns the current value.
	Get(ctx context.Context) (int64, error)
	// Set stores value unconditionally.
	Set(ctx context.Context, value int64) error
	// Add atomically adds delta (which may be negative) and returns the new
	// value. Overflow wraps around as in Go.
	Add(ctx context.Context, delta int64) (int64, error)
	// CompareAndSet atomically stores update if the current value is expect,
	// and reports whether it did. A failed comparison is (false, nil).
	CompareAndSet(ctx context.Context, expect, update int64) (bool, error)
	Closer
}

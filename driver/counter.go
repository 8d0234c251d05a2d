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
	// value. A sum that does not fit in an int64 is an error wrapping
	// ErrInvalid (CheckedAdd makes it) and writes nothing; the decision is
	// made on the stored value, never on a cached guess of it.
	Add(ctx context.Context, delta int64) (int64, error)
	// CompareAndSet atomically stores update if the current value is expect,
	// and reports whether it did. A failed comparison is (false, nil).
	CompareAndSet(ctx context.Context, expect, update int64) (bool, error)
	Closer
}

// CheckedAdd returns value+delta, or an error wrapping ErrInvalid when the
// sum does not fit in an int64, for a Counter's Add.
func CheckedAdd(value, delta int64) (int64, error) {
	sum := value + delta
	if (delta > 0 && sum < value) || (delta < 0 && sum > value) {
		return 0, Errorf(ErrInvalid, "counter overflow: %d %+d does not fit in an int64", value, delta)
	}
	return sum, nil
}

package conformance

import "testing"

// The sizes the TooLarge tests work with.
const (
	// atLimitCheck: a limit up to this size is also checked from below (a
	// key or value of exactly the limit is accepted).
	atLimitCheck = 2 << 20
	// maxOversize: a limit above this is not checked, to keep the suite's
	// memory modest (Redis accepts 512 MiB values).
	maxOversize = 64 << 20
)

// oversize returns a size just over limit, or false when the driver reports
// no limit or the limit is too large to test cheaply.
func oversize(t testing.TB, limit int) (int, bool) {
	t.Helper()
	switch {
	case limit <= 0:
		return 0, false
	case limit >= maxOversize:
		t.Logf("limit of %d bytes not checked: too large to allocate in a test", limit)
		return 0, false
	}
	return limit + 1, true
}

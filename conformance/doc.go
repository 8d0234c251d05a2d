// Package conformance is the one test suite every driver passes. It drives
// the public API of package atomix over a driver, so what it checks is what
// users see.
//
// A driver's test package runs it with a Harness:
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, conformance.Harness{
//			Name:       "mydriver",
//			NewDriver:  func(ctx context.Context, t testing.TB) (driver.Driver, error) { ... },
//			Crash:      func(d driver.Driver) { ... },
//			SessionTTL: time.Second,
//		})
//	}
//
// A driver outside this repository imports this package from its own module
// and does the same.
package conformance

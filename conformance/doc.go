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
//
// # What it checks
//
// For every primitive: every method with its error cases (ErrNotFound,
// ErrConflict, ErrAlreadyExists, ErrClosed after Close and after the
// client's Close, ErrInvalid for an empty name, a codec of the wrong type and
// a key or value over the driver's Limits), versions strictly increasing,
// two clients seeing one state, and isolation: the same name in two
// namespaces, names and namespaces that prefix each other or contain '/',
// and primitives of different kinds with the same name never share state.
//
// For every Watch: a thousand rapid writes by another client reach two
// watchers of one instance (one of which reads only after the writes) as
// exactly the expected events in commit order (WatchEveryChange); the
// channel closes when the context ends, when the primitive is closed and
// when the client is closed; and no goroutine is left behind. A backend that
// reports states rather than changes declares Harness.WatchMergesStates;
// its watchers may merge changes, and the suite checks instead
// (WatchConverges) that each watcher's events, applied to the state at the
// watch's start, give the latest state, that each event can follow the state
// before it, and that writes arrive in commit order.
//
// Concurrency: clients each with their own driver make compare-and-set
// increments of a counter, a map entry and a value, and take turns at an
// unguarded read-modify-write under a lock; no update may be lost and lock
// versions must increase from holder to holder. Locks and elections are
// also checked for blocking, TryLock, Unlock(IfMatch), waiters that give up,
// Close releasing, Anoint/Promote/Evict, and the term rule (the term number
// changes exactly when the leader does). With Harness.Crash, a vanished lock
// holder and a vanished leader must be replaced after the session TTL.
//
// # The driver tier
//
// What the public API cannot see is checked on the driver itself
// (DriverContract): Name, As and Ping; a second Close of a primitive, a
// session and the driver returns nil and a closed primitive says ErrClosed;
// a Watch that fails leaves its channel alone; lock holds are identified by
// owner and version (a release by the wrong owner or version releases
// nothing, Gone closes after Release, after ReleaseVersion and when the
// session is closed, and a waiter whose context ended is never granted the
// lock). Every error kind produced through the public API reads once
// (Errors): the portable layer names the primitive, the driver, the
// operation and the key, and the driver's part repeats none of them.
//
// # The fault tier
//
// With Harness.Backend and Harness.NewDriverAt the suite puts a TCP fault
// proxy (package faultproxy) between a driver and the backend (Faults): a
// write whose reply is lost with its connection is ErrAmbiguous and was
// applied exactly once, never resent (a counter increment, a conditional
// write and a map write, each checked against a driver that does not go
// through the proxy), a read in the same state is retried or ErrUnavailable
// or ErrTimeout but never ambiguous, and a write whose deadline passes in
// flight matches both the context's error and ErrAmbiguous. A backend with
// no network declares the FeatureFaults gap.
//
// # How it runs
//
// Every subtest uses a namespace of its own, with a random suffix, so a
// persistent server may be shared between runs. Most subtests run in
// parallel; the two that wait for a session TTL run at the same time
// whatever -parallel says. The WatchCleanup subtests count the process's
// goroutines (with go.uber.org/goleak, after the clients are warmed up), so
// they run first and alone: call Run from a test that does not call
// t.Parallel. Every wait is bounded, so a broken driver fails the suite
// rather than hanging it.
package conformance

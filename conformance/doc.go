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
// also checked for blocking, waiters granted in arrival order (locks),
// TryLock, Unlock(IfMatch), waiters that give up,
// Close releasing, Anoint/Promote/Evict, and the term rule (the term number
// changes exactly when the leader does). With Harness.Crash, a vanished lock
// holder, semaphore holder and leader must be replaced after the session TTL.
//
// Semaphores (unless the harness declares FeatureSemaphore a gap): clients
// acquire one to all permits at once and never more than the limit are held
// (an unguarded count), holders of every permit are alone (an unguarded
// read-modify-write), versions are unique and above every version released
// before the request; waiters are granted in arrival order, a large request
// not overtaken by a later small one nor by a TryAcquire (unless the harness
// declares FeatureSemaphoreFIFO a gap); plus Close and the client's Close
// releasing, waiters that give up, a limit disagreement (ErrConflict),
// permits out of range (ErrInvalid), TryAcquire and Available.
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
// flight matches both the context's error and ErrAmbiguous; a lock holder
// whose connections are blackholed past its session TTL loses the lock to
// another client with a greater version, its Lost closes, and its late
// Unlock releases nothing of the new holder's; and a Map history from three
// clients, one of which has its connections cut every 30 ms, is
// linearizable (see the linearizability tier). A backend with no network
// declares the FeatureFaults gap.
//
// With Harness.StartServer each of the following starts a server of its
// own (ServerFaults), so the shared backend is never disturbed: writers
// with 500ms deadlines go on while the server is frozen (SIGSTOP) for 2s,
// every error must be ErrTimeout, ErrUnavailable or ErrAmbiguous, writes
// must succeed again after it resumes, and the counter must end between
// the acknowledged increments and those plus the ambiguous ones; a map
// watcher across a kill and restart on the server's data must replay to
// the final state; and after a restart with no data a lock must be granted
// again, its fencing version above every earlier one if the harness
// declares VersionsSurviveEmptyRestart (else the suite logs what happened).
// A harness without a server of its own declares FeatureServerFaults.
//
// # Cluster scenarios
//
// RunClusterFailover takes a ClusterHarness for a multi-node backend and
// kills its leader (then starts it again) during a workload of counter
// increments, lock turns and map writes, with a lock held throughout. The
// cluster must serve every call kind again within the harness's Recovery
// bound, every error must be typed as above and nothing may be applied
// twice; a Durable backend must also lose no acknowledged write, keep
// fencing versions strictly increasing and keep the held lock (its session
// outlives the leader change), and a Map and a Counter history recorded
// through the leader's loss must be linearizable. Package testbackend starts such clusters
// (StartEtcdCluster, StartConsulCluster, StartRedisCluster,
// StartRedisSentinel) when ATOMIX_TEST_CLUSTERS is set.
//
// # The permissions tier
//
// With Harness.NewReadOnlyDriver, credentials that may read and keep
// sessions but not write, the suite checks (Permissions) that such a client
// reads the same state as a full one, that every write of every primitive
// (each Counter, Map, Set, Value, List and IndexedMap write, Lock, TryLock
// and Election.Enter) returns ErrPermission well within 15 s (no panic, no
// retry until the context ends, no other error kind), and that none of them
// changed anything. A backend without credentials declares the
// FeaturePermissions gap; the drivers of this module run the tier from
// their least-privilege tests, on servers with authentication turned on.
//
// # The linearizability tier
//
// Four independent clients share a few hundred Get/Put/Insert/Remove,
// Get/Increment/Set/CompareAndSet, Get/Set/Delete and Add/Remove/Contains
// operations on one Map, Counter, Value and Set; each history is checked
// against the sequential models of package conformance/linearize with
// porcupine. An operation whose outcome is unknown (ErrAmbiguous,
// ErrTimeout, its context ended while in flight) is pending in the history:
// it may or may not have taken effect. A write refused with ErrUnavailable
// is taken at its word: it is left out, as never applied. A failure shows the shortest prefix
// of one key's history that is already not linearizable.
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
//
// # Timing
//
// Some of what the suite checks happens at a time the driver does not
// control, and the suite waits for each such thing to be observed, never
// for a fixed time:
//
//   - Watch delivery. An event arrives some time after the write that
//     caused it. The suite receives it with a deadline (15s: recv, recvN,
//     the collectors' waitFor, which gives up after 15s without a new
//     event). WatchEveryChange makes a burst of writes and then expects
//     every event, which a backend that reports changes promises; every
//     other watch test waits for the events of each write before making
//     the next, so what it asserts does not depend on how fast the
//     watcher reads or whether the backend merges.
//   - Merges on state-based backends (Harness.WatchMergesStates). Which
//     writes land between two reads of the backend depends on scheduling,
//     so which events a watcher gets does too. Where writes follow each
//     other without waiting (WatchConverges), the suite asserts only what
//     holds however they merged: the events fold into the latest state,
//     each can follow the state before it, versions increase. Driver tests
//     of such a backend must do the same: expect an event only for a write
//     whose predecessor's event was received.
//   - Lock handoff and blocked calls. A waiter gets a released lock, and a
//     blocked Lock returns after Unlock, Close or its context ending, some
//     time later: awaited with a deadline (await, requireDoneWithin).
//   - Session expiry. What a crashed client held (Harness.Crash) is
//     released once its session TTL expires, which backends do up to a TTL
//     late (Consul). The suite waits up to 3 x SessionTTL + 15s for the
//     lock to change hands or the leader to change, and logs how long it
//     took; it asserts no lower bound, since it cannot tell when the
//     driver's last renewal reached the backend. Only the clients it lets
//     expire use Harness.SessionTTL; every other client's session has a TTL
//     of at least 30s, so that a renewal a loaded machine runs late never
//     ends a session in the middle of a test.
//   - Goroutines ending after a watch ends: goleak is polled until none is
//     left, with a deadline.
//
// Each deadline bounds a broken driver's failure, not a correct driver's
// speed: a correct driver meets them with a wide margin under -race on a
// loaded two-core machine (make stress). The one fixed wait is the
// opposite check, that something does not happen: a Lock still blocked, no
// event after the expected ones, nothing from a neighbouring name. The
// suite watches for 300ms (requirePending, and a pause before the last
// look at a watch); a correct driver cannot fail that, a broken one may
// occasionally slip through. (One check leans on it the other way: in
// LockConflict, a Lock started in a goroutine is taken to be under way
// after those 300ms, because the public API shows an acquisition in
// progress only by refusing a second one.) A driver's own timers (renewals, session
// deadlines) must not assume prompt scheduling either: a session that
// ends a TTL after its last successful renewal was sent ends at that
// deadline plus whatever the scheduler adds.
package conformance

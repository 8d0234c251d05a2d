// Package memory is an in-process driver: a real, concurrent implementation
// of every primitive of package driver, with its state held in a [Store] in
// the memory of the current process.
//
// It is the reference implementation that the network drivers are compared
// with, so it follows every contract of package driver exactly: versions are
// never 0 and strictly increasing per primitive, preconditions are checked and
// applied atomically, watches are established when Watch returns and deliver
// every change in commit order through an unbounded per-watch queue (a writer
// never waits for a slow watcher), and locks and election candidacies are
// bound to sessions that expire one TTL after their connection crashes.
//
// # Stores and connections
//
// A [Store] plays the part of a server and a [Driver] the part of one client
// connection to it. [New] makes a fresh store with one connection; [NewStore]
// and [Store.Connect] make several independent connections to one store, as
// several processes would have to one server. [SharedStore] returns the
// process-wide store of a name, and the URL scheme "mem" (registered with
// [driver.Register]) opens a connection to it:
//
//	d, err := driver.Open(ctx, "mem://orders")
//
// Two clients opened on "mem://orders" in one process share state exactly as
// two processes share a server. A process-wide store lives as long as the
// process; closing a connection never clears it.
//
// # Sessions
//
// A session lives as long as the connection that started it is open: an
// in-process connection cannot miss a renewal, so there is no renewal loop.
// [Driver.Crash] makes a connection vanish without releasing anything, as if
// its process had died (a test aid); the store then ends each of its
// sessions one TTL later, releases every lock and candidacy bound to it, and
// closes its Done channel. Time is read from a [Clock] ([WithClock]);
// [ManualClock] lets tests expire sessions without waiting.
//
// # Ephemeral entries and fenced writes
//
// An ephemeral entry or element is bound to the memory session like a lock
// hold, and removed (watchers see EventRemoved) when the session ends: at
// Close, or one TTL after a Crash. A fenced write holds the fence lock's
// state mutex around the check and the write.
//
// # Where package driver leaves a choice
//
//   - A session is usable by primitives of any connection to the same store;
//     one of another store, or of another driver, is ErrInvalid, and one that
//     has ended is ErrClosed.
//   - When a session ends, what is bound to it is released in the order it
//     was bound, one primitive change at a time (an election may go through
//     intermediate terms).
//   - Lock.Acquire that is cut short by closing its instance or connection
//     withdraws like one whose ctx ended, and returns ErrClosed; after
//     [Driver.Crash] its wait stays queued until the session expires.
//   - Semaphores grant waiters strictly in arrival order (a waiter that
//     does not fit blocks every later one, and TryAcquire fails while
//     anyone waits). The first OpenSemaphore of an ID records its limit
//     for the life of the store; an open with another limit is ErrConflict.
//   - [Driver.As] gives the [Store] (target a **Store); [Driver.Ping] only
//     reports whether the connection is open.
//   - Election.Enter of a candidate already in the queue keeps its place and
//     the session it entered with.
//   - Watch that returns an error leaves ch open; the caller still owns it.
//   - Closing a primitive waits for its watches to close their channels.
//
// # Limits
//
// Keys (map keys, set elements, indexed-map keys) are limited to
// [DefaultMaxKeySize] bytes and values to [DefaultMaxValueSize] bytes, the
// order of magnitude network backends accept; [WithLimits] changes both.
// [Driver.Limits] reports them, and the portable layer rejects larger ones
// before they reach the driver.
//
// Byte slices are copied on the way in and on the way out: a caller can never
// change the store's state by mutating a slice it passed or received.
package memory

// Package atomix is the entry point of the atomix client: distributed
// coordination primitives (Counter, Lock, Semaphore, Election, Map, Set,
// Value, List, IndexedMap) with one API over any backend that has a driver.
//
// # Clients
//
// A [Client] is a connection to one backend through a driver. Make one from
// a driver value with [NewClient] and [WithDriver], or from a URL with
// [Open]; the URL's scheme selects the driver, whose package must be
// imported to register it:
//
//	mem://NAME                          drivers/memory: a process-wide in-memory store
//	etcd://host:2379[,host:2379]        drivers/etcd
//	redis://[user:pass@]host:6379[/db]  drivers/redis (rediss:// for TLS)
//	consul://host:8500                  drivers/consul
//
// Query parameters carry driver settings; each driver documents its own.
// Two are read by [Open] for every scheme: namespace= and session-ttl= (as
// [WithNamespace] and [WithSessionTTL]). The backend's own client is reached
// with [Client.As]; [Client.Ping] makes one round trip.
//
// Primitives are opened by name. Two primitives of the same kind with the
// same name in the same namespace ([WithNamespace]) on the same backend share
// one state, whichever process opened them. Names and namespaces are
// arbitrary strings of at most 1024 bytes; a name may not be empty.
//
// # The default client
//
// The package-level getters ([GetCounter], [GetMap], …) use the client given
// with [WithClient], else the default client: it is opened on first use from
// the URL in the environment variable ATOMIX_URL, and lives as long as the
// process. When ATOMIX_URL is unset every getter fails with an error that
// says how to set it. There is deliberately no in-memory fallback: a
// process-local lock that looks distributed is a correctness bug.
//
// # Sessions
//
// Locks, semaphore permits and election candidacies are bound to their
// client's session, which the driver keeps alive. A client that dies loses
// them once its session TTL ([WithSessionTTL], 15 seconds by default) passes
// without a renewal. A client starts its session when a Lock, a Semaphore or
// an Election first needs one, and starts a new one if it ends.
//
// # Closing
//
// Close on a primitive releases what the instance holds (its lock, its
// permits, its candidacy), ends its watches and makes every later call return
// [ErrClosed]; a second Close does nothing and returns nil. Closing a client
// closes every primitive it opened.
//
// # Errors
//
// Every error a primitive returns is an [*Error] naming the primitive, the
// operation and, where there is one, the key; it wraps one of the error
// values below, which are the driver package's, so errors.Is classifies it
// whatever the backend:
//
//	atomix: map "users": put "alice": conflict
//
// An operation whose context ends returns an error that matches ctx.Err();
// when the deadline passed it matches [ErrTimeout] too.
//
// # Watches
//
// Every Watch method returns once the watch is established: every change
// committed after it returns is delivered, in commit order. One instance
// keeps one backend watch however many local watchers it has, and gives each
// watcher its own goroutine and an unbounded queue, so a slow reader delays
// only itself and no event is dropped. Watch takes ownership of the channel:
// it is closed exactly once, when the watch's context ends, when the
// primitive or its client is closed, or when the backend watch fails for
// good (after the events received before the failure). If Watch returns an
// error the channel is not used and not closed. A watcher that joins an
// instance's running watch may also receive a few changes committed just
// before its Watch call returned. All watchers of an instance receive the
// same decoded values: treat slices and pointers in them as read-only.
//
// One backend reports states rather than changes: over Consul, changes that
// land between two of the driver's blocking queries reach watchers merged
// into the events that turn one state into the next (an insert followed by
// an update arrives as one insert with the later value). Watchers still see
// every state change they need to converge to the latest state; see
// package drivers/consul.
//
// An event whose key or value cannot be decoded with the primitive's codec
// ends the backend watch like a failure: the watchers get the events before
// it, then their channels are closed. Nothing is skipped silently; reading
// the offending key reports the decoding error. A removal event whose old
// value the backend could not supply (an empty value that the codec cannot
// decode) carries the zero value instead.
package atomix

// Package etcd is the driver that keeps atomix primitives in etcd v3
// (go.etcd.io/etcd/client/v3), using leases for sessions, revisions for
// versions and transactions for every precondition.
//
// Open it with [New] and a [Config], over an existing client with
// [NewFromClient], or by URL once the package is imported:
//
//	import _ "github.com/atomix/go-client/drivers/etcd"
//	client, err := atomix.Open(ctx, "etcd://127.0.0.1:2379")
//
// The URL's parameters, documented by [ParseURL], are tls, ca-file,
// cert-file, key-file, server-name and insecure-skip-verify (the TLS keys
// every driver shares), dial-timeout, keepalive-time, keepalive-timeout and
// prefix; atomix.Open also reads namespace and session-ttl. An unknown,
// repeated or malformed parameter is an error wrapping ErrInvalid.
//
// # Keys
//
// Every key lives under Config.Prefix ("atomix/" by default), then the
// primitive's kind, then its namespace and name, each written as its
// length in decimal, a colon, and its bytes:
//
//	atomix/map/7:default5:users/<map key>
//
// A length-prefixed part says where it ends, so no ID's keys are a prefix
// of another's: "a" and "a/b", "ns1" and "ns10", names containing "/" are
// all unrelated. The kinds' layouts below the ID are documented on each
// type; in short: a counter or a value is one key; a map or a set one key
// per entry; a list a directory and chunks of items; an indexed map two keys per entry
// (by key and by index) and an index counter; a lock one key per waiter; an
// election one key per candidate and a record.
//
// # Versions
//
// A version is an etcd revision: the mod revision of the key that holds
// the entry, which is the revision of the transaction that wrote it.
// Revisions are global to the cluster, never reused (also across Clear and
// delete-then-recreate) and strictly increasing, so versions are too.
//
// # Round trips and atomicity
//
// Reads are linearizable (clientv3's default). Every write that has a
// precondition (IfVersion, IfMatch, CompareAndSet, insert-if-absent,
// Append) is one etcd transaction whose compare is the precondition, and
// whose else branch returns what the caller needs to tell one failure from
// another, so an uncontended operation is one round trip. etcd cannot add
// on the server, so Counter.Add, List.Append and IndexedMap.Append compare
// against the revision this instance saw last and retry from what the
// failed transaction returned: one more round trip per retry, never two.
// The exceptions, which read before they write, are the List writes on a
// chunk the instance has not cached (they read it first), IndexedMap.Update, Remove and
// RemoveIndex (which need the entry's index), and Lock.ReleaseVersion
// (which needs the holder's key).
//
// # Lists
//
// A list is chunked: a directory key lists chunks in order with their item
// counts, and each chunk key holds a bounded run of consecutive items (at
// most 128 items and 32 KiB, or one item alone). Every change, Insert and
// Remove at any index included, is one transaction over the directory and
// one chunk (split in halves when it outgrows its bounds, deleted when it
// empties), so its cost does not grow with the list's length and no list
// is too long to change. This layout was chosen over keys ordered with gaps
// between neighbours because etcd cannot find the i-th key of a range
// without reading the keys before it: a Get by index would be O(i), where
// here it is one read of a chunk located through the directory (kept
// cached by each instance and checked by the read's transaction). What
// grows with the length is the directory, a few bytes per chunk (about
// 2 KiB for 100,000 short items), which every Insert or Remove rewrites.
// Chunks are not merged back, so removals scattered across a long list
// can leave chunks well under their bounds.
//
// # Sessions
//
// A session is one lease, granted by NewSession and renewed every third of
// its TTL by a driver/lease Keeper, one KeepAliveOnce per renewal. etcd
// counts TTLs in whole seconds and raises them to its minimum (1.5 election
// timeouts, 2 s with default settings). The session's Done channel closes
// when the session is closed, when the lease is found gone, or when the
// time since the last successful renewal was sent exceeds the TTL: never
// later than the cluster expires the lease.
//
// # Locks and elections
//
// A lock is a queue of lease-bound waiter keys, one name per owner, ordered
// by create revision, so waiters get the lock first come, first served; the
// fencing version is the holder's create revision, and a hold's Gone
// channel closes when a watch sees its key deleted. A waiter watches only
// its predecessor, from the server's current revision, so a handoff waits
// for no resync of lagging watches. The
// driver keeps no state per owner or candidate. An election is a
// queue of lease-bound candidate keys plus a record of the term and order;
// its term changes exactly when its leader does, including when a leader's
// lease expires with no transaction. See the types' documentation.
//
// # Semaphores
//
// A semaphore is a queue like the lock's whose keys also carry their
// permits: an acquisition holds once its permits and those of every key
// created before it fit in the limit, so waiters are granted strictly in
// arrival order (a large request is never overtaken) and the fencing
// version is again the key's create revision. Waiters watch the queue for
// deletions; nobody polls. OpenSemaphore reads the limit record: the first open
// of a name records its limit in a key that is never removed, and an open
// or acquisition with another limit is ErrConflict. A TryAcquire that
// finds no room removes its key again at once.
//
// # Ephemeral entries and fenced writes
//
// An ephemeral map entry or set element is its key put with the session's
// lease: etcd deletes it when the lease expires or is revoked, and watchers
// see the delete. A plain put of the key detaches it from the lease. A
// fenced write is one transaction whose compares add, to the write's own
// precondition, that the lock owner's queue key has the fence's version as
// its create revision and that no key of the lock's queue is older: that
// key is the head, the holder. No extra round trip; a failed fence is told
// from a failed precondition by a read of the queue's head in the else
// branch.
//
// # Watches
//
// A watch reads the range it covers at a revision and watches from the next
// one, keeping a copy of the range. When its start revision was compacted
// or its stream fails, it reads the range again and sends the difference,
// so a watcher always converges to the true state. A watching instance
// holds a copy of the primitive's state in memory.
//
// # Errors
//
// Errors are *driver.Error values: a kind, a detail that never repeats the
// primitive, its name, the operation or the key (the portable layer adds
// them once), and the clientv3 error as the Cause, which errors.As reaches
// (an rpctypes.EtcdError, a gRPC status error). A write that may have
// reached the server but whose reply was lost (the connection broke, the
// server timed out the proposal) is ErrAmbiguous, and one whose context
// ended while it was in flight matches both the context's error and
// ErrAmbiguous (driver.Interrupted); clientv3 does not retry such writes
// and neither does the driver. Requests the server refused for their size
// or shape (over --max-request-bytes, over --max-txn-ops) are ErrInvalid;
// refused credentials or permissions are ErrPermission; a cluster without
// a leader or out of space is ErrUnavailable.
//
// # Connecting, TLS and permissions
//
// [New] checks the connection before it returns: it connects to every
// endpoint at once, within Config.DialTimeout, and needs one to complete
// the TLS handshake (when configured) and answer as an HTTP/2 server.
// (gRPC, under clientv3, would retry a failed handshake until each
// request's deadline and report it only as text.) Its failures wrap their
// cause, which errors.As reaches, and have these kinds:
//
//   - a server certificate that does not verify (unknown CA, a name that is
//     not in it) is ErrInvalid: the configuration is wrong, retrying cannot
//     help;
//   - a client certificate the server refuses, or none when it requires one,
//     is ErrPermission (the cause is crypto/tls's *net.OpError with Op
//     "remote error");
//   - plaintext against a TLS server is ErrInvalid;
//   - TLS against a plaintext server, which ends the handshake without a
//     word, is ErrUnavailable with the cause io.EOF, as is a server that
//     cannot be reached;
//   - a wrong username or password is ErrPermission.
//
// Config.ServerName (the URL's server-name) is the name checked in every
// server's certificate whatever host its endpoint names; gRPC alone would
// check the endpoint's host.
//
// The least privilege the driver needs is a user whose role has readwrite
// on [Prefix, the end of Prefix); sessions are leases, which need no key
// permission. A user with read only on the prefix gets ErrPermission at
// once from every write, and nothing is written.
//
// # Limits
//
// [MaxKeySize] (4 KiB) and [MaxValueSize] (512 KiB) keep every request well
// under etcd's default --max-request-bytes of 1.5 MiB, including an
// indexed map's double copy of a value.
package etcd

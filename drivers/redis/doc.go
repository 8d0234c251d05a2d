// Package redis is the driver for Redis: every primitive of package driver
// on a single Redis server, a Sentinel-managed primary or a Redis Cluster,
// through a go-redis UniversalClient.
//
// Open it with [New] (the driver makes and owns its client), [NewFromClient]
// (over a client you own), or a URL once the package is imported:
//
//	import _ "github.com/atomix/go-client/drivers/redis"
//
//	client, err := atomix.Open(ctx, "redis://user:pass@localhost:6379/0")
//
// The schemes are redis:// and rediss:// (TLS); [ParseURL] documents every
// URL parameter: addr, cluster, sentinel-master, sentinel-username,
// sentinel-password, password-file, sentinel-password-file, client-name, protocol, dial-timeout, read-timeout,
// write-timeout, pool-size, min-idle-conns, max-retries, key-prefix,
// max-key-size, max-value-size, wait-replicas, wait-timeout, and the TLS keys every driver shares (tls,
// ca-file, cert-file, key-file, server-name, insecure-skip-verify);
// atomix.Open also reads namespace and session-ttl. An unknown, repeated or
// malformed parameter is an error wrapping ErrInvalid. Redis 6.2 or later
// is needed.
//
// # Secrets
//
// A password need not be in the URL: password-file=path (and
// sentinel-password-file=path for the Sentinels) reads it from a file when
// the URL is parsed, such as a mounted Kubernetes or Docker secret. [New]
// takes it in goredis.UniversalOptions, from wherever the program reads
// it. No error shows a password or a file's content.
//
// # ACL
//
// The driver needs, on its keys and channels only, the commands it sends
// itself and those of its Lua scripts (a script runs with its caller's
// permissions). With the default prefix "atomix", the minimal rule is:
//
//	ACL SETUSER app on >password ~atomix:* &atomix:* +hello +ping +client|setname
//	  +get +set +del +incrby +incr +pexpire +pttl +unlink +exists +copy +time
//	  +hget +hlen +hscan +hset +hdel +hexists +hgetall +hincrby +hmget
//	  +scard +sismember +sscan +sadd +srem +smembers
//	  +llen +lindex +lrange +lpop +lpush +lset +rpop +rpush
//	  +zadd +zrange +zrangebyscore +zrem +zrevrangebyscore
//	  +evalsha +eval +evalsha_ro +eval_ro +publish +subscribe +unsubscribe
//
// (one line in redis-cli; replace atomix with [Options].KeyPrefix).
// +client|setname is needed only with client-name, +wait only with
// wait-replicas; go-redis also sends
// CLIENT SETINFO on Redis 7.2 and later and ignores its refusal. Scripts
// are loaded with EVAL, never SCRIPT LOAD; TIME is read by a script that
// starts a missing version counter from the server's clock; nothing needs KEYS, SCAN, CONFIG,
// FLUSH* or any admin command. TestConformanceLeastPrivilege runs the
// whole conformance suite as such a user. Scripts that only read run with
// EVALSHA_RO and EVAL_RO (Redis 7), so a user that may only read needs no
// write command at all:
//
//	ACL SETUSER reader on >password %R~atomix:* ~atomix:session:* &atomix:*
//	  +@read +@connection +evalsha_ro +eval_ro +subscribe +unsubscribe
//	  +set +pexpire +del
//
// (SET, PEXPIRE and DEL on the session keys keep the client's session;
// iterating a List longer than one page of 256 items copies it to a
// snapshot, a write, which such a user may not do; every write of a
// primitive is then refused with ErrPermission, which the conformance
// suite's permissions tier checks). A user refused a command gets
// ErrPermission at once (it is never retried), and a refused write stores
// nothing: scripts read and publish before they write (see Watches).
//
// # Keys
//
// All the keys of one primitive start with "<prefix>:{<kind>:<namespace>:<name>}",
// the namespace and name escaped so that no two IDs share a prefix ('%',
// '{', '}' and ':' become %XX): "a" and "a/b", "ns1" and "ns10" never meet.
// Redis Cluster hashes the part in braces, so every key of a primitive is in
// one slot and every script touches one slot. The prefix is "atomix" unless
// [Options].KeyPrefix says otherwise.
//
// # Operations
//
// An operation that is one atomic Redis command is that command: Counter.Add
// is INCRBY, List.Len is LLEN (O(1)). Map.Get, Set.Contains and the Len of a
// map or set are one script each, because they first remove what an expired
// session had bound there (see Ephemeral entries). Every
// other operation that reads and writes is one Lua script: a constant text,
// run with EVALSHA and loaded with EVAL when the server does not have it;
// user data travels only in KEYS and ARGV. Each costs one round trip.
//
// Concurrent writes of one map, set or value instance share script runs (a
// group commit, see batch.go): a map's Put, Insert, Update or Remove, a
// set's Add or Remove, or a value's Set that is neither session-bound nor
// fenced is sent at once, alone, while fewer than four runs of such writes
// of that instance are in flight, and otherwise waits for one of them to
// end and goes with every write that queued behind it in one run of a batch
// script, which applies each as its own script would, with its own
// precondition, version and change message, in the order they queued. A
// script run costs Redis a fixed amount before it does anything, about a
// third of a Put's server time, and each run costs both sides a round
// trip's system calls; from 64 goroutines this lets one map instance write
// about twice as fast as go-redis sending one HSET per call
// (BenchmarkScaleThroughput64), and from a few goroutines it changes
// nothing (BenchmarkThroughputByCallers). A write whose context ends while
// it is queued is taken out, unsent, and ends with the context's error;
// once its batch is sent it ends ErrAmbiguous like any write in flight, and
// a batch whose reply is lost makes each of its writes ErrAmbiguous. Writes
// of other kinds (a value's Delete, the writes of lists, indexed maps and
// counters, whose Add is one INCRBY) go one run each.
//
// go-redis retries a command whose connection failed, even after the
// command was sent. The driver sends every write that is not idempotent
// with retries turned off for that command (whatever MaxRetries says), and
// reports a write whose reply was lost as driver.ErrAmbiguous: it may or may
// not have been applied. A connection that cannot be made is
// ErrUnavailable, no reply in time ErrTimeout (for a read), a refusal by the
// server before running anything (LOADING, READONLY, CLUSTERDOWN, OOM, ...)
// ErrUnavailable. With TLS, the handshake completes while dialing, so its
// failures are never ambiguous: a server certificate that does not verify
// is ErrInvalid, a client certificate the server refuses (or none) is
// ErrPermission, and a server that does not answer the handshake within
// dial-timeout (a plaintext server) is ErrUnavailable; the x509 error or
// TLS alert stays reachable with errors.As.
//
// With wait-replicas=N ([Options].WaitReplicas), a lock acquisition
// sends WAIT N after its script, on the same connection, and keeps the
// hold only if N replicas acknowledged it within wait-timeout (else it
// releases it and fails with ErrUnavailable): a failover to one of those
// replicas then keeps the hold and its fencing version. What it does not
// promise is in the option's documentation: Redis stays asynchronously
// replicated.
//
// On a Redis Cluster, a command that cannot reach its master (a dial
// error: the master is down) makes the client reload its map of slots to
// masters at once, so after a failover the next call goes to the new
// master rather than to the dead one until go-redis's periodic reload.
//
// # Versions
//
// Every write of a map, value, set, list or indexed map increments the
// primitive's version counter in the script that writes, and an entry's
// version is the counter's new value. The counter is never deleted, so
// versions keep increasing across Clear and across delete and re-create. A
// map's entry is stored as its version (8 bytes) followed by its value, so
// Get stays one HGET.
//
// A counter that is missing starts from the server's clock, TIME in
// microseconds (about 2^51), not from 0: the first version of a new
// primitive is such a number. This holds for every counter a script
// advances: versions (also the watch sequence numbers), a lock's fencing
// versions, an election's term and its event counter. A server without
// persistence that restarts comes back with no counter at all, so the
// numbers it gives out next are still greater than every one given out
// before, provided that
//
//   - the server's clock did not go back across the restart (a clock set
//     back, by hand or by a VM restored from a snapshot, can give out a
//     number again), and
//   - the primitive had fewer changes than microseconds went by since its
//     counter started, which holds as Redis runs far fewer than a million
//     scripts a second.
//
// What the clock cannot help with is a counter that is present but behind:
// a failover to a replica that lacks the primary's recent writes
// (replication is asynchronous), or a restart that reloads a snapshot or an
// append-only file missing the last writes (appendfsync everysec loses up
// to a second of them). The numbers those lost writes gave out are then
// given out again, to other writes or holders. An indexed map's indexes
// are not versions: they start at 1, as the driver contract says, so after
// an empty restart they start at 1 again and earlier indexes are reused.
// An election that has never had a leader, or has lost its state, reads
// term 0 until one is elected.
//
// Clear is O(1) on the server: UNLINK frees the elements in the
// background, and nothing is sent to the client. Entries and Elements
// iterate with HSCAN and SSCAN, remembering the keys yielded to skip the
// repeats SCAN may return; an indexed map iterates in index order, page by
// page; a list longer than a page is iterated from a snapshot that the
// script copies server-side (COPY) and the iteration deletes.
//
// # Watches
//
// The script that writes also publishes the change on the primitive's
// channel, "<base>:ch", with PUBLISH: nothing depends on keyspace
// notifications. Every script reads, then publishes, then writes, and
// increments the sequence counter (below) last. A script error does not
// undo what a script wrote, so this order is what makes a user whose ACL
// denies PUBLISH on the channels get ErrPermission with nothing stored,
// rather than a write stored and reported failed; the script is atomic
// for every observer, so no one sees the message before the write.
// (Checking the permission when a primitive is opened would need ACL
// DRYRUN, which needs admin rights, and would go stale when the ACL
// changes.) A user without PUBLISH permission can still use counters,
// read everything, and take a free lock that nobody waits for; whatever
// publishes is refused. Watch subscribes (over one pub/sub connection per driver)
// and returns once the server has confirmed the subscription and the
// watcher has read the state.
//
// Pub/sub is lossy: go-redis reconnects and resubscribes silently, and
// messages published meanwhile are gone. Each watcher therefore keeps a copy
// of the primitive, and each change message starts with the primitive's
// sequence number (the version counter, incremented once per change). A
// watcher that has applied change n expects n+1; on any other number (a
// counter that started from the clock after the server came back empty
// jumps far ahead, which is such a gap), on a
// reconnection (the driver drops and replaces the connection when receiving
// fails or pings go unanswered, and treats any subscription it did not ask
// for as one), it reads the whole state again and sends the difference
// between its copy and that state, so it always converges to the true
// state. The price is memory: a watching instance holds a copy of the
// primitive. A Clear publishes one message; watchers send one removal per
// element from their copy. A watcher whose channel is not read holds at
// most 16Ki messages or 64 MiB; past that it drops them and re-reads.
//
// # Forged messages
//
// Pub/sub messages are not authenticated: anyone allowed to PUBLISH on a
// channel can send any message on it. A watcher therefore treats a message
// only as a hint that the server confirms:
//
//   - Every message is parsed with its lengths checked against the bytes
//     present, nothing is allocated from a claimed count, and every index
//     is checked against the copy before use. A message that is malformed,
//     has an unknown operation, or is inconsistent with the copy (the
//     insertion of a key the copy has, the removal of one it lacks, an
//     election term that does not move by one exactly when its leader
//     does, ...) is not applied: the watcher re-reads the state, as after
//     a lost message.
//   - The server publishes each sequence number once. A message whose
//     number the watcher already applied from another message means one
//     of the two was forged: the watcher re-reads the state.
//   - After each batch of messages it applied, the watcher reads the
//     sequence counter (one GET per batch, not per message): a counter
//     below the last number applied means a message announced a change
//     the server never made, and the watcher re-reads the state. When the
//     counter has reached it, each number applied was published by the
//     server after the watcher last read the state, so its genuine message
//     arrives too (or the subscription is lost and the watcher re-reads)
//     and the rule above catches a forged one.
//
// What this guarantees, against a forger who can PUBLISH but cannot write
// the primitive's keys: a forger cannot crash a watcher, cannot make it
// allocate more than a small multiple of the messages it sends, and cannot
// make it keep a state that was not stored: once the forged messages stop,
// every watcher converges to the stored state, sending the events that
// take it there. What it does not guarantee: a forged change with the next
// sequence number is applied, and its events sent, before the check that
// undoes it, so a forger can make a watcher send events for changes that
// were never stored, each followed shortly by the events that restore the
// stored state; a forger can make watchers re-read the whole state as
// often as it publishes; and go-redis reads each message whole before the
// watcher sees it (Redis's client-output-buffer-limit for pub/sub, 32 MB
// by default, bounds its size). A lock's holder reads the hold when it
// hears the hold's version, so a forged release cannot close a live hold's
// Gone; it can wake the waiter it names, which then tries again. A forger
// who can write the keys can do anything a writer can; restrict both with
// ACLs (channels &<prefix>:*, keys ~<prefix>:*).
//
// # Sessions
//
// A session is a key with the TTL the client asks for (10s when zero, at
// least 100ms), kept alive by driver/lease (PEXPIRE every third of the
// TTL). A lock hold or an election candidacy refers to a lease key of its
// session in the primitive's own slot, which the script that binds it sets
// with the session's TTL and the session renews with its key; a hold or
// candidacy whose lease is gone has ended, so what a client that vanished
// had ends one TTL after its last renewal. The driver ends a session (Done)
// when one of its keys is found gone, or by the lease deadline rule. Close
// runs, in every primitive the session was bound in, the script that
// removes its holds or candidacies there and publishes the change.
//
// # Ephemeral entries
//
// A map entry or set element written with a session ([driver.Write].Session)
// is recorded in the primitive's binding index ("<base>:eph", key to session
// ID), and the session gets a lease in the primitive's slot, as for a lock
// hold. The entry lives while that lease does. Nothing on the server expires
// the entry by itself, so three things remove it, each in one script that
// publishes the removal as Remove does (watchers see EventRemoved):
//
//   - every script that reads or writes a key removes it first if its
//     session's lease is gone, and Len, Entries and Elements first sweep the
//     whole primitive: a reader never sees an entry of an expired session;
//   - closing the session (Client.Close) removes its entries at once;
//   - every live driver of the backend sweeps, every
//     [EphemeralSweepInterval] (1s), each primitive listed in
//     "<prefix>:ephemeral" (the registry of primitives that ever had a bound
//     entry; members are never removed).
//
// The bound: the entry of a client that died, or was cut off, is removed
// and its removal published at most the session TTL after the session's
// last renewal plus [EphemeralSweepInterval] (plus one script's run), as
// long as some driver of the backend is running, even when nobody reads the
// map. The cost is one SMEMBERS and one script per registered primitive per
// driver per second. A plain write of a bound key makes it persistent again.
//
// # Fenced writes
//
// A write with a fence ([driver.Write].Fence) runs a variant of its script
// that first reads the lock's hold and its session's lease, as Lock.Holder
// does, and refuses the write (ErrConflict) unless the hold is the fence's:
// the check and the write are one script run, no extra round trip. On Redis
// Cluster the lock's keys and the map's or value's keys are in different
// slots (their hash tags differ by kind and name), and one script cannot
// read both: a fenced write there is ErrNotSupported, refused before
// anything is sent (the conformance suite declares the gap). Use etcd or
// Consul, or one Redis primary, for fenced writes.
//
// # Locks
//
// The driver keeps no owner state: a hold is a hash of its version, its
// session and its owner. The fencing version comes from INCR in the script
// that takes the hold. Waiters are queued on the server in arrival order
// (a sorted set in the lock's slot; the semaphore's queue uses the same
// scripts) and get the lock first come, first served: neither a newcomer
// nor TryAcquire takes a free lock ahead of a queued waiter. Every removal
// of a hold publishes its version on the lock's channel together with the
// waiter at the head of the queue (a holder's own Release publishes only
// that waiter, and nothing when nobody waits), and only that waiter tries
// again; the others try again only when the lease of the holder (or of the
// waiter whose turn it is) would expire (the attempt returns its TTL): no
// polling, and a waiter whose client vanished delays the others by one
// TTL at most. With nobody queued, taking a free lock and the holder's own
// release find the queue empty with one EXISTS and go straight to the
// write; only a queue makes them read its head (the same holds for a
// semaphore). A waiter's session gets its lease in the lock's slot when
// it queues, so a crashed waiter is skipped once its session expires; a
// waiter whose context ends leaves the queue and, if the lock is free,
// wakes the next. A hold's Gone closes when a Release through the same
// instance removes it, when a read of the hold, made when the removal of
// its version is heard or after a lost subscription, finds it gone, or
// when its session ends.
//
// What Redis can promise: on one primary the lock is safe while that
// primary stays up (it serializes the scripts, and the hold expires only
// after its holder's session has stopped renewing its lease). Replication is asynchronous:
// if the primary fails and a replica takes over, recent writes can be lost,
// so two clients can hold the lock at once and the version counter can go
// back, and the fencing version is then no longer a safe token. Use etcd
// or Consul where that matters. Persistence settings (appendfsync) bound
// the same loss on a restart that reloads the data. A restart without
// persistence loses every hold (their sessions end, which their holders
// learn) and the counter, which starts again from the server's clock (see
// Versions): the next holder's fencing version is still greater than
// every earlier one while the clock does not go back, so a resource that
// checks fencing versions still turns away a holder from before the
// restart that has not noticed yet.
//
// # Semaphores
//
// A semaphore keeps, in its hash slot, its holds (owner, version, permits,
// session), a queue of waiters ordered by arrival, a version counter (the
// lock's rule: it starts from the server's clock when missing) and its
// limit. Waiters are granted in arrival order: a request that does not fit
// yet stops every later one, however small, and TryAcquire fails while
// anyone waits. Grants are made on the server by the script that frees
// permits (a release, a withdrawn wait, a session's Close, or any script
// that finds a hold whose lease has expired), which publishes the owners it
// granted; each waiter wakes only for its own grant, or when the first
// lease ahead of it would expire unless renewed, so that the permits of a
// client that vanished go to the next waiter about a TTL after its last
// renewal. A waiter whose context ends withdraws from the queue. The limit
// is recorded while anything is held or queued and forgotten when the
// semaphore is idle: a different limit is ErrConflict only while it is in
// use. Replication and restarts weaken it as they weaken locks (above).
//
// # Elections
//
// Every election operation, reading the term included, is one script that
// first drops the candidates whose lease has expired and increments the
// term if the leader is then not the stored term's leader: the term changes
// exactly when the leader does, also when the leader's session expired.
// Because a lease can expire without any script running, a watcher runs the
// term script again when the shortest lease among the candidates would
// expire (each script returns it, each change message carries it): a dead
// leader is replaced, and every watcher told, within about a TTL after its
// last renewal, at the cost of about one script per watcher per TTL.
//
// # Limits
//
// Redis accepts 512 MB strings, but every write also publishes its value
// to watchers, and by default Redis disconnects a subscriber whose output
// buffer passes 32 MB (or 8 MB for a minute). The default limits are
// therefore 4 MiB per value and 64 KiB per key ([DefaultMaxValueSize],
// [DefaultMaxKeySize]); [Options] changes them.
//
// # Cluster
//
// Scripts touch one slot each and sessions spread over the slots. Watches
// use classic pub/sub, which a Redis Cluster broadcasts to every node, so
// the one pub/sub connection of a driver hears every primitive; the price is
// that each write's message crosses the cluster bus.
package redis

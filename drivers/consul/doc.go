// Package consul is the atomix driver for HashiCorp Consul's KV store,
// built on github.com/hashicorp/consul/api. Every primitive is implemented
// natively on KV keys, sessions, check-and-set, transactions (/v1/txn) and
// blocking queries.
//
// Open it with [New] (or [NewWithClient] over a client you configured), or
// through a URL once the package is imported:
//
//	import _ "github.com/atomix/go-client/drivers/consul"
//
//	client, err := atomix.Open(ctx, "consul://127.0.0.1:8500?token=secret&dc=dc1")
//
// [ParseURL] lists the URL's parameters: token, token-file, dc,
// consul-namespace, partition, env, prefix, session-ttl-min, wait,
// consistency, txn-max-req-len, and the TLS keys every driver shares (tls, ca-file,
// cert-file, key-file, server-name, insecure-skip-verify); atomix.Open also
// reads namespace (the atomix namespace) and session-ttl. An unknown,
// repeated or malformed parameter is an error wrapping ErrInvalid. [Config]
// and [Options] document every setting. The configuration is explicit: the
// CONSUL_* environment variables are not read unless Config.UseEnvironment
// (env=true) asks for them.
//
// # Layout
//
// Every primitive lives under <prefix>/<kind>/<namespace>/<name> (the
// prefix defaults to "atomix"; kind is counter, lock, election, map, set,
// value, list or indexedmap). Namespace, name and user keys are escaped into
// single path elements: "_" followed by the string with every byte other
// than an ASCII letter, digit, '-' or '.' written as "_xx" in hex. No two
// strings share an encoding and no encoded path is a prefix of another's,
// so "a" and "a/b", or "ns1" and "ns10", are unrelated. Below that path:
//
//	counter, value   the path itself holds the value (a counter in decimal)
//	map, set         /<key> per entry or element
//	lock             /h, the hold, present while held; /w/<token> per waiter
//	election         /c/<candidate> per candidate; /term, the term record
//	list             /d, the directory of chunks; /c/<id> per chunk of items
//	indexedmap       /n, the last index; /k/<key> per entry (index in Flags);
//	                 /x/<index> per entry, naming its key
//
// # Versions and preconditions
//
// A version is the ModifyIndex of the key that holds the entry: the index
// of the raft log entry that wrote it. It is never 0, unique, and increases
// in commit order across all keys, so across Clear and re-creation too.
// Writes go through /v1/txn, so that a precondition (IfVersion,
// insert-if-absent, compare-and-set, IfMatch) and the write are one atomic
// transaction whose answer carries the new ModifyIndex: check-and-set (with
// index 0 for "absent"), check-not-exists, check-index and get operations
// carry the checks.
//
// Because the transaction body carries values in base64, the largest value
// is about three quarters of the servers' txn_max_req_len (by default 512
// KiB, so 360 KiB); [Driver.Limits] reports it, and
// Options.TxnMaxRequestSize adapts it to servers configured differently.
// Larger requests are ErrInvalid.
//
// # Sessions
//
// A session is a Consul session with a TTL (at least 10s, Consul's
// minimum: shorter TTLs are rounded up), LockDelay 0 and Behavior "delete",
// kept alive by driver/lease (renewed three times per TTL). Lock holds, lock
// waiters and election candidacies are keys locked by a session, so when
// the session ends (closed, or not renewed) Consul deletes them: the lock is
// released, the candidacy is gone. Consul keeps an unrenewed session for up
// to twice its TTL; the client side gives up sooner: the session's Done
// channel closes one TTL after the last successful renewal was sent.
//
// # Locks
//
// A free lock is taken with one transaction (check-not-exists on the hold,
// then a KV lock with the session). The fencing version is the hold's
// ModifyIndex, Consul's index of the acquisition: every acquisition is a
// later raft entry, so versions strictly increase across holders. Waiters
// register a key and queue in the order of those keys' creation: the first
// follows the lock's keys with blocking queries, each other one the key of
// the waiter before it (as in ZooKeeper's lock recipe), so a handover wakes
// the new holder and the new first waiter rather than every waiter, and the
// new holder knows the next waiter from the answer that gave it the lock. A release
// reads the waiters and hands the lock to the first one in the
// transaction that releases it, so the waiter holds the lock as soon as
// its blocking query answers. An instance that found its lock contended
// registers at once on its next Acquire instead of first trying a take
// that would fail. A waiter whose context ends deletes its key: nothing stays
// behind. The hold and the waiter keys hold the attempt's token and the
// owner; the driver keeps no state per owner, and a hold's Gone channel
// closes when a blocking query on the hold shows it deleted or replaced.
//
// # Ephemeral entries and fenced writes
//
// The driver's sessions have the delete behaviour (and no lock delay), so an
// ephemeral map entry or set element is a key written with the lock verb by
// the client's session: Consul deletes it when the session ends, and
// watchers see it gone. Consul keeps a key's session on a plain set and
// refuses to lock a key another session holds, so every map write but
// Insert deletes the key first in its transaction: a later plain write makes
// the entry persistent, a later ephemeral one binds it to its own session,
// as on the other backends. A fenced write puts a
// check-index on the fence lock's hold key ahead of the write in its one
// transaction: the hold key is never modified while held and is deleted
// when the hold ends, so its ModifyIndex is the fencing version exactly
// while that hold lives.
//
// # Semaphores
//
// Each acquisition attempt creates a contender key held by its session
// (deleted by Consul when the session ends); its CreateIndex orders the
// contenders by arrival and is the fencing version if it is granted. The
// holder record lists the holders and the limit and changes only by
// check-and-set. Waiters are granted strictly in arrival order: a contender
// adds itself to the record once every earlier contender holds and its
// permits fit, so a large request is never overtaken, and TryAcquire fails
// while anyone waits. Waiters follow the semaphore's directory with
// blocking queries; every change wakes every waiter of that semaphore,
// which reads the directory again (Consul has no per-key notification to
// wake only the next one). A holder whose session ended stops counting at
// once, and the next writer drops it from the record. A contender whose
// limit differs from the recorded one while permits are held gets
// ErrConflict; once nothing is held the next grant records its own limit.
// A TryAcquire that fails, and an Acquire given up, delete their key
// before returning (or, if the agent cannot be reached, in the background
// until the session ends).
//
// # Elections
//
// Candidates are session-bound keys; the term record holds the term
// number, the leader (and its session) and the queue order. Every change is
// one transaction that changes candidate keys and check-and-sets the record,
// with a new term number exactly when the leader changes. When a leader's
// session expires Consul deletes its key without touching the record; the
// first client that reads the election afterwards (to answer Term, to
// watch, or to change it) repairs the record, with a check-and-set, before
// it reports anything. So every term reported was committed first, Term and
// Watch agree, and the term changes exactly when the leader does. A client
// that only watches needs write access to the record.
//
// # Watches
//
// Watches are blocking queries on the primitive's keys. Consul answers
// with states, not events: the driver sends the difference between
// consecutive answers, as driver/resync computes it. Changes that land between two answers merge (two
// updates of a key arrive as one; within one answer, removals come first,
// then insertions and updates in commit order), but the events received,
// applied to the state when the watch started, always give the latest
// state, also after the agent was unreachable for a while.
//
// Every watch of a map, set, indexed map or list that one driver serves shares
// one blocking query per primitive: a keys-only query whose answer is one
// key whatever the size of the directory, then one listing per change,
// whose changed keys are handed to every watcher. W watchers in one client
// cost the agent what one costs; W clients still cost W listings per
// change, since Consul's KV store can only answer "what is there now", not
// "what changed since".
//
// Consul does not end a blocking query whose client went away: the agent
// keeps it, and counts its connection against http_max_conns_per_client,
// until the query's wait time passes. Options.WaitTime (wait= in the URL,
// 15s by default) therefore bounds how long an ended watch or lock wait
// still holds a connection on the agent; with Consul's 5 minutes, 100
// watches opened and closed kept the agent from accepting new clients.
//
// # Sizes
//
// Map and IndexedMap Entries list the keys only, then read the values a
// page of 64 keys at a time (one read-only transaction per page), so they
// hold one page of values at once, not the whole collection. IndexedMap
// First, Last, Prev and Next list only the keys of the smallest aligned
// block of index keys around a bound that holds the answer (the bound is
// the last index assigned for Last, the lowest index the instance found
// before for First), which Consul serves by walking that block alone: O(1)
// unless the nearest entry is far from the bound. Their Len (and a Set's)
// is a keys-only listing, O(n) keys transferred (no values): Consul's KV
// API has no count, and keeping one would make every write of a map or set
// contend on one key.
//
// A List is a chunked list, the layout the etcd driver uses too (package
// driver/chunklist): a directory key names the list's chunks in order with
// the number of items of each, and each chunk key holds a run of at most 128
// consecutive items and 4 KiB (an item of more than 1 KiB is a chunk of its
// own). Every change is one transaction that check-and-sets the directory
// and one chunk by their ModifyIndexes, so Get, Set, Insert, Remove and
// Append read and write a bounded chunk plus a directory of a few bytes per
// chunk, whatever the list's length, and Len reads the directory alone. An
// instance keeps the directory and the chunk it last used, so Get is one
// read-only transaction and a write near the last one one transaction, while
// nobody else changes the list's shape. The directory (about 3 bytes per
// chunk) must fit in a transaction beside the largest value until the list
// holds some 6,000 chunks (200,000 items of 100 bytes); beyond, only values
// near the largest size are refused. Items and watches read the whole list
// in one listing (Consul cannot read several requests at one index). An
// earlier version kept one header key holding every item's ID (O(n) bytes
// read and rewritten by every operation); lists it wrote are not readable by
// this one (it was never released).
//
// # Consistency
//
// Reads are linearizable by default: Get, Len, Entries and the listings
// of watches use Consul's consistent mode, in which the leader confirms
// with a quorum of servers that it still leads before it answers, so a
// deposed leader that has not noticed yet cannot answer with stale data.
// Options.Consistency (consistency= in the URL) trades that for speed:
// "default" lets the leader answer without the confirmation (stale only in
// that window), "stale" lets any server answer from its own state (it may
// lag, and works without a leader). The reads that the driver contract
// requires to be linearizable (Lock.Holder, Election.Term) stay consistent
// whatever the setting, and the reads that a write's check-and-set
// validates (before a lock release or an election change) use the default
// mode, since a stale answer only makes the write fail and retry. On a
// single agent the confirmation costs little; the benchmarks
// (BenchmarkConsistency) measure it.
//
// # ACLs
//
// With Consul's ACL system enabled (default policy "deny"), the token
// needs no more than write access to the keys under the prefix and to the
// sessions of the agent's node:
//
//	key_prefix "atomix/" {
//	  policy = "write"
//	}
//	session "<node name of the agent the driver talks to>" {
//	  policy = "write"
//	}
//
// (session_prefix "" instead of session allows any agent.) Every primitive
// reads and writes, elections and watches included (a watch may repair an
// election's record, see Elections). A token with less, or one Consul does
// not know, gets ErrPermission from the call that needs what it lacks, at
// once: Ping, which reads under the prefix, checks the token that way.
//
// # Errors
//
// An unreachable agent is ErrUnavailable; a write whose request was sent
// but whose answer was lost (including a server error after the write may
// have reached the raft log, and a write cut short by its context) is
// ErrAmbiguous (a server that could not reach the leader to forward a write
// never sent it: ErrUnavailable); a request or value too large (HTTP 413) or a malformed
// request is ErrInvalid; a refused ACL token (HTTP 401, 403) is
// ErrPermission, and so is a transaction the agent rolls back because the
// token lacks a permission for one of its operations (HTTP 409 whose reason
// is "Permission denied"): a refusal is never retried and, since Consul
// checks every operation's permission before it applies any, it wrote
// nothing. Over HTTPS (HTTP/1.1: see newTransport's comment), an agent
// certificate that does not verify is ErrInvalid, a client certificate the
// agent refuses (or none, when it wants one) is ErrPermission, and an agent
// that does not speak TLS is ErrInvalid, never ambiguous: the request was
// not read. A read that timed out is ErrTimeout. Every error is a
// *driver.Error whose cause is the API's own error (an api.StatusError, a
// *url.Error), reachable with errors.As.
package consul

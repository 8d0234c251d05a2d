// Package driver defines the contract between the portable primitives in
// package atomix and the backends that store their state.
//
// The contract is byte-level and has no generics: keys are strings of
// arbitrary bytes, values are []byte, versions are uint64. Codecs, option
// parsing, name and size validation, error wrapping, session bookkeeping and
// fan-out of watches to many local watchers all live in the portable layer;
// a driver implements only what depends on its backend.
//
// # Identity
//
// Every primitive is opened with an [ID]: a namespace and a name. Two
// primitives of the same kind with equal IDs on the same backend share one
// state, whichever process opened them. IDs that differ in any byte never
// share state: a driver must encode them so that no ID is a prefix of another
// ("a" and "a/b", "ns1" and "ns10" are unrelated). Primitives of different
// kinds with the same ID are unrelated too.
//
// # Versions
//
// A version is a uint64 that the backend assigns to a write. Versions are
// never 0 (0 means "no version" in every precondition below), and for one
// primitive they are unique and strictly increasing in commit order, also
// across Clear and across delete-then-recreate.
//
// # Errors
//
// Drivers classify every error into the kinds below by wrapping one of the
// sentinel values (fmt.Errorf("...: %w", driver.ErrConflict)). The portable
// layer relies on errors.Is and never parses backend messages. Errors caused
// by the caller's context are returned as, or wrapping, ctx.Err().
//
// A write whose outcome the driver cannot know (the request may have been
// applied but the reply was lost) must be reported as [ErrAmbiguous], never
// retried blindly unless the write is idempotent.
//
// # Watches
//
// Every Watch method has the same contract: it returns once the watch is
// established, so that every change committed after it returns is delivered;
// it sends events on ch in commit order; it never drops an event silently (a
// driver that can lose its connection re-reads the state after reconnecting
// and sends the difference, so a watcher always converges to the true state);
// a driver whose backend reports states rather than changes (Consul's
// blocking queries) may merge changes that land between two of its reads
// into the events that turn one state into the next, and must say so in its
// documentation: its watchers still converge to the latest state;
// it blocks on a full ch rather than dropping; and it closes ch when ctx ends,
// when the primitive is closed, or when the watch fails for good. A Watch
// that returns an error has not sent on ch and does not close it.
//
// # Sessions
//
// Locks and election candidacies are bound to a [Session]. A session is kept
// alive by its driver; when its holder stops renewing it (the process died,
// the network is gone) the backend ends it after its TTL and releases every
// lock and candidacy bound to it.
//
// # Optional interfaces
//
// Primitives added after the first round are offered through optional
// interfaces that a Driver may implement, so that existing drivers keep
// compiling: [SemaphoreOpener]. The portable layer reports ErrNotSupported
// for a driver that lacks one.
//
// # Observability
//
// A driver tells the operator what only it sees through an [Observer], which
// the portable layer gives it once, through the optional [Observable]
// interface, before opening anything: embed an [ObserverSlot] in the driver
// type and call Observer() where there is something to report. Three
// things are reported: the backend client's own log lines go to
// Observer().Logger(), at levels that keep a healthy process quiet; each
// session renewal goes to SessionRenewed (a driver whose sessions use
// package lease passes lease.OnRenew); and each time a watch re-reads its
// state instead of following changes it calls WatchResynced with a
// [ResyncReason], after the re-read succeeded and before it sends the
// events. A session that can say why it ended implements [SessionCause].
// Spans and metrics of operations are not the driver's business: the
// portable layer records them around every driver call.
//
// # Concurrency
//
// Every value returned by a driver must be safe for concurrent use.
package driver

package driver

import (
	"log/slog"
	"sync/atomic"
)

// Observer is what the portable layer gives a driver so that the driver can
// tell an operator what only it sees: its backend client's own log lines,
// the renewals of its sessions, and the watches it had to re-read. The
// portable layer implements it; a driver only calls it. Its methods are safe
// for concurrent use and return quickly (they log or count, never block on
// the backend).
type Observer interface {
	// Logger is the logger the driver and its backend client log through.
	// It is never nil; a client made without a logger gives one that
	// discards everything.
	Logger() *slog.Logger

	// SessionRenewed reports one renewal of the session with the given ID:
	// err is nil if the backend confirmed it, else the renewal's error (the
	// keeper goes on retrying until the session's deadline).
	SessionRenewed(session string, err error)

	// WatchResynced reports that a watch of the primitive of kind and id
	// read its whole state again instead of following changes, and why.
	// cause is the backend's error that made the watch re-read, if any. It
	// is called once per re-read, after the re-read succeeded, before the
	// events it produced are sent.
	WatchResynced(kind Kind, id ID, reason ResyncReason, cause error)
}

// ResyncReason says why a watch re-read the state of its primitive.
type ResyncReason string

// The reasons a watch re-reads its state.
const (
	// ResyncGap: a change feed skipped changes (a sequence number jumped).
	ResyncGap ResyncReason = "gap"
	// ResyncReconnect: the connection the watch listened on broke and was
	// made again, and changes may have been missed meanwhile.
	ResyncReconnect ResyncReason = "reconnect"
	// ResyncCompaction: the backend no longer has the history from where
	// the watch was (etcd's compaction).
	ResyncCompaction ResyncReason = "compaction"
	// ResyncRestart: the backend came back with other state or history (a
	// restarted server, an index that went backwards).
	ResyncRestart ResyncReason = "restart"
	// ResyncInconsistent: a change did not fit the watch's copy of the
	// state, or the watch fell too far behind to keep its queue.
	ResyncInconsistent ResyncReason = "inconsistent"
	// ResyncExpiry: state may have changed without a notification (a
	// session expired on the backend), so the watch checked it.
	ResyncExpiry ResyncReason = "expiry"
)

// Observable is implemented by a driver that reports to an Observer. The
// portable layer calls SetObserver once, when a client takes the driver,
// before it opens anything with it. A driver that does not implement it is
// simply not observed.
type Observable interface {
	SetObserver(o Observer)
}

// SessionCause is implemented by a Session that can say why it ended.
type SessionCause interface {
	// Cause says why Done closed (closed by its owner, expired, renewal
	// failed for good, gone on the backend); nil while the session lives.
	// It may be set before Done closes, as soon as the session has ended:
	// the portable layer then reports a hold whose Gone closed first as
	// lost with its session rather than removed.
	Cause() error
}

// ObserverSlot holds a driver's Observer. Embed it in a driver to implement
// Observable; until SetObserver is called, Observer returns one that
// discards everything. Its methods are safe for concurrent use; the zero
// value is ready to use.
type ObserverSlot struct {
	o atomic.Pointer[observerBox]
}

// observerBox boxes an Observer for atomic.Pointer.
type observerBox struct{ Observer }

// SetObserver makes the slot report to o; a nil o resets it to discarding.
func (s *ObserverSlot) SetObserver(o Observer) {
	if o == nil {
		s.o.Store(nil)
		return
	}
	s.o.Store(&observerBox{o})
}

// Observer returns the slot's Observer, never nil.
func (s *ObserverSlot) Observer() Observer {
	if b := s.o.Load(); b != nil {
		return b.Observer
	}
	return nopObserver{}
}

// discard is the logger of a driver nobody observes.
var discard = slog.New(slog.DiscardHandler)

// nopObserver reports nothing.
type nopObserver struct{}

func (nopObserver) Logger() *slog.Logger                        { return discard }
func (nopObserver) SessionRenewed(string, error)                {}
func (nopObserver) WatchResynced(Kind, ID, ResyncReason, error) {}

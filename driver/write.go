package driver

import "context"

// Write carries what a write to a Map, Set or Value may be conditioned on or
// bound to, beyond the plain methods of those interfaces. Its zero value is
// a plain write.
type Write struct {
	// IfVersion, when not 0, makes the write apply only if the entry (or
	// the value) exists with that version, as the ifVersion argument of the
	// plain methods.
	IfVersion uint64

	// Session, when not nil, makes the written entry ephemeral: it is bound
	// to the session, and when the session ends (closed, expired, or its
	// renewals failed for good) the backend removes it and watchers see
	// EventRemoved, as for a Remove. The session was started by the same
	// driver. Only Map Put, Insert and Update and Set Add take one. A
	// write that fails binds nothing (and must leave the session as it
	// was). A later successful write of a bound key replaces its binding:
	// it binds the entry to that write's session, or makes it persistent
	// when the write has none.
	Session Session

	// Fence, when not nil, makes the write apply only if the lock it names
	// is held, at the moment of the write, by the hold it names. The check
	// and the write are one atomic step on the backend, else the fence
	// would protect nothing. When the check fails the write returns an error
	// wrapping ErrConflict and changes nothing.
	Fence *Fence
}

// Fence names one hold of a lock opened by the same driver: the lock's ID,
// the owner string the portable layer acquired it with, and the hold's
// fencing version. The hold is live while the backend still records it as
// the current hold: released, taken over after its session ended, or
// replaced by a later hold, it is not.
type Fence struct {
	Lock    ID
	Owner   string
	Version uint64
}

// MapOp names the write of a [ConditionalMap.WriteWith] call.
type MapOp int

// The writes of a Map, with the meaning of the Map methods of the same
// names.
const (
	MapPut MapOp = iota + 1
	MapInsert
	MapUpdate
	MapRemove
)

// ConditionalMap is a Map that also takes ephemeral and fenced writes. A
// driver implements it to support _map.Ephemeral and _map.Fenced; the
// portable layer reports ErrNotSupported for those options on a Map that
// does not.
type ConditionalMap interface {
	Map
	// WriteWith is Put, Insert, Update or Remove (op) under w. For
	// MapRemove value is nil and w.Session is nil; for MapInsert
	// w.IfVersion is 0. The errors are those of the plain method, plus
	// ErrConflict when w.Fence does not hold. A removal of an ephemeral
	// entry because its session ended is reported to watchers as an
	// EventRemoved of the entry as it was.
	WriteWith(ctx context.Context, op MapOp, key string, value []byte, w Write) (Entry, error)
}

// ConditionalSet is a Set whose Add can bind the element to a session.
type ConditionalSet interface {
	Set
	// AddWith is Add under w; only w.Session applies (the others are zero).
	// Adding an element already present reports false and changes nothing,
	// its binding included.
	AddWith(ctx context.Context, element string, w Write) (bool, error)
}

// ConditionalValue is a Value whose writes can be fenced by a lock.
type ConditionalValue interface {
	Value
	// SetWith is Set under w; w.Session is nil.
	SetWith(ctx context.Context, value []byte, w Write) (uint64, error)
	// DeleteWith is Delete under w; w.Session is nil.
	DeleteWith(ctx context.Context, w Write) error
}

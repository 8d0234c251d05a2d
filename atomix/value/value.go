// Package value defines the distributed Value primitive.
package value

import (
	"context"

	"github.com/atomix/go-client/atomix/generic"
	"github.com/atomix/go-client/atomix/lock"
	"github.com/atomix/go-client/atomix/primitive"
)

// EventType says what a change did to the value.
type EventType int

const (
	// EventCreated: the value was set while absent.
	EventCreated EventType = iota + 1
	// EventUpdated: the value was replaced.
	EventUpdated
	// EventDeleted: the value was deleted; the event carries the value and
	// version it had.
	EventDeleted
)

// String returns "created", "updated" or "deleted".
func (t EventType) String() string {
	switch t {
	case EventCreated:
		return "created"
	case EventUpdated:
		return "updated"
	case EventDeleted:
		return "deleted"
	}
	return "unknown"
}

// Event is one change to a value.
type Event[V any] struct {
	Type    EventType
	Value   V
	Version uint64
}

// Value is a distributed single value with a version, supporting atomic
// compare-and-set through IfVersion. Versions are unique and strictly
// increasing. Methods are safe for concurrent use.
type Value[V any] interface {
	// Name returns the name the value was opened with.
	Name() string
	// Set stores v and returns its new version. With IfVersion(ver) it
	// writes only if the current version is ver, else ErrConflict.
	Set(ctx context.Context, v V, opts ...Option) (uint64, error)
	// Get returns the value and its version, or ErrNotFound if it was never
	// set or was deleted.
	Get(ctx context.Context) (V, uint64, error)
	// Delete removes the value: ErrNotFound if absent, ErrConflict if
	// IfVersion(ver) is given and does not match.
	Delete(ctx context.Context, opts ...Option) error
	// Watch sends an Event for every change on ch, with the guarantees of
	// every Watch: established on return, commit order, nothing dropped, ch
	// closed when ctx ends or the value is closed.
	//
	// ch is also closed, with ctx live and the value open, when a change
	// cannot be decoded: the value stored in bytes the codec refuses (written
	// by a program with another codec, say). The watch cannot send that
	// change and skipping it would break commit order, so it ends, for
	// every watcher of this instance. Nothing reports the cause yet (the
	// observability work will log it); Get returns the codec's error
	// for what it cannot decode. Watch again once the data is fixed.
	Watch(ctx context.Context, ch chan<- Event[V]) error
	// Close ends the instance's watches and makes later calls return
	// ErrClosed.
	Close(ctx context.Context) error
}

// Option modifies one Set or Delete call.
type Option struct {
	version uint64
	fence   *Fence
}

// Fence is the lock hold a fenced write depends on (see Fenced).
type Fence struct {
	Lock    lock.Lock
	Version uint64
}

// Fenced makes Set or Delete apply only if l, a lock opened by the same
// client as the value, is still held with the fencing version version (the
// one its Lock or TryLock returned). The backend checks the hold in the
// same atomic step as the write; if the hold has ended (released, or lost
// with its session), the write fails with ErrConflict and changes nothing.
// A lock of another client or backend is ErrInvalid.
func Fenced(l lock.Lock, version uint64) Option {
	return Option{fence: &Fence{Lock: l, Version: version}}
}

// FenceOf returns the fence the options ask for (the last Fenced given),
// nil for none. It is used by implementations of Value.
func FenceOf(opts []Option) *Fence {
	var f *Fence
	for _, o := range opts {
		if o.fence != nil {
			f = o.fence
		}
	}
	return f
}

// IfVersion makes Set or Delete apply only if the current version is v.
func IfVersion(v uint64) Option { return Option{version: v} }

// Version returns the version the options require, 0 for none. It is used by
// implementations of Value.
func Version(opts []Option) uint64 {
	var v uint64
	for _, o := range opts {
		if o.version != 0 {
			v = o.version
		}
	}
	return v
}

// WithType sets the codec of the value. Its type must be V, else the getter
// fails with ErrInvalid.
func WithType[V any](c generic.Codec[V]) primitive.Option {
	return primitive.WithCodec("value", c)
}

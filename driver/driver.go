package driver

import (
	"context"
	"time"
)

// ID identifies one primitive on a backend: same kind + same ID = same state.
// Both parts may contain any bytes, including '/'; the portable layer
// guarantees that Name is not empty.
type ID struct {
	Namespace string
	Name      string
}

// Limits describes the sizes a backend accepts. The portable layer rejects
// larger keys and values with ErrInvalid before calling the driver. A zero
// field means "no limit the driver knows of".
type Limits struct {
	// MaxKeySize is the largest encoded map key, set element or index key.
	MaxKeySize int
	// MaxValueSize is the largest encoded value.
	MaxValueSize int
}

// SessionOptions configures a new session.
type SessionOptions struct {
	// TTL is how long the backend keeps the session after its last renewal.
	// Zero means the driver's default. A driver may round it up to the
	// smallest TTL its backend accepts, and must document that.
	TTL time.Duration
}

// Driver is a connection to one backend. It opens primitives and sessions.
//
// Open methods do not need to contact the backend; they may. A driver that
// cannot implement a primitive returns an error wrapping ErrNotSupported from
// its Open method.
type Driver interface {
	// Name is the driver's short name, as error messages show it: "etcd",
	// "redis", "consul", "memory".
	Name() string

	// Limits reports the sizes the backend accepts.
	Limits() Limits

	// As sets target, a pointer, to the backend's own client if its type
	// matches (*clientv3.Client for etcd, redis.UniversalClient for Redis,
	// *api.Client for Consul) and reports whether it did. It lets a user
	// reach the backend below a client opened from a URL.
	As(target any) bool

	// Ping makes one round trip to the backend and reports whether it
	// answered.
	Ping(ctx context.Context) error

	// NewSession starts a session kept alive by the driver until it is closed
	// or can no longer be renewed.
	NewSession(ctx context.Context, opts SessionOptions) (Session, error)

	OpenCounter(ctx context.Context, id ID) (Counter, error)
	OpenLock(ctx context.Context, id ID) (Lock, error)
	OpenElection(ctx context.Context, id ID) (Election, error)
	OpenMap(ctx context.Context, id ID) (Map, error)
	OpenSet(ctx context.Context, id ID) (Set, error)
	OpenValue(ctx context.Context, id ID) (Value, error)
	OpenList(ctx context.Context, id ID) (List, error)
	OpenIndexedMap(ctx context.Context, id ID) (IndexedMap, error)

	// Close releases the driver's connections. Sessions it started are
	// closed (their locks and candidacies released) where the backend can be
	// reached. Using the driver or anything it opened afterwards returns
	// ErrClosed.
	Close(ctx context.Context) error
}

// Session is a liveness lease shared by the locks and candidacies of one
// client.
type Session interface {
	// ID is the backend's identity of the session (a lease ID, a session
	// key). It is unique on the backend for as long as the session lives.
	ID() string
	// Done is closed when the session has ended: it was closed, it expired,
	// or renewing it failed for good. Everything bound to it is then, or
	// will be within the TTL, released by the backend.
	Done() <-chan struct{}
	// Close ends the session at once, releasing everything bound to it.
	Close(ctx context.Context) error
}

// Closer is embedded by every primitive.
type Closer interface {
	// Close releases the primitive's local resources and ends its watches.
	// It never changes the primitive's state on the backend (the portable
	// layer releases holds before it closes a primitive). Calls after Close
	// return ErrClosed; a second Close returns nil.
	Close(ctx context.Context) error
}

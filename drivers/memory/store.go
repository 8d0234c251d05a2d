package memory

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/atomix/go-client/driver"
)

// Store holds the state of every primitive and session of one in-memory
// backend; it plays the part of a server. Connect it to get a [Driver].
// A Store is safe for concurrent use and lives as long as something refers
// to it: closing its connections never clears it.
type Store struct {
	clock      Clock
	limits     driver.Limits
	sessionTTL time.Duration

	lastSession atomic.Uint64

	mu         sync.Mutex
	primitives map[primitiveKey]any
}

// primitiveKey identifies one primitive's state: same kind and same ID mean
// same state; anything else is unrelated.
type primitiveKey struct {
	kind string
	id   driver.ID
}

// NewStore returns a new, empty store configured by opts.
func NewStore(opts ...Option) *Store {
	c := newConfig(opts)
	return &Store{
		clock:      c.clock,
		limits:     c.limits,
		sessionTTL: c.sessionTTL,
		primitives: map[primitiveKey]any{},
	}
}

// New returns a connection to a new store of its own, configured by opts.
// Use [NewStore] and [Store.Connect] for several connections to one store.
func New(opts ...Option) *Driver {
	return NewStore(opts...).Connect()
}

// Connect returns a new, independent connection to the store, as a new
// process connecting to a server would have.
func (s *Store) Connect() *Driver {
	return newDriver(s)
}

// state returns the state of the primitive of kind with id, made by create
// on first use.
func state[S any](s *Store, kind string, id driver.ID, create func() *S) *S {
	k := primitiveKey{kind: kind, id: id}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.primitives[k]; ok {
		return st.(*S)
	}
	st := create()
	s.primitives[k] = st
	return st
}

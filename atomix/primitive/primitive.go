// Package primitive holds what every primitive shares: the option type
// accepted by every getter, the session ID option, and the error values.
package primitive

import "github.com/atomix/go-client/driver"

// Options is what a getter's options configure. It is plumbing between the
// atomix package and the primitive packages; user code builds it only
// through Option values.
type Options struct {
	// SessionID identifies this instance as a lock owner or election
	// candidate. Empty means a unique ID per instance.
	SessionID string
	// Client is the *atomix.Client that package-level getters use instead
	// of the default client (set by atomix.WithClient).
	Client any
	// Codecs holds codec options keyed by their role ("key", "value",
	// "element"); each value is a generic.Codec of the primitive's type.
	Codecs map[string]any
	// Limit is a semaphore's total number of permits, set by
	// semaphore.WithLimit; LimitSet reports whether it was given (a
	// semaphore then checks Limit, else it has one permit).
	Limit    int
	LimitSet bool
}

// Option configures a primitive when it is opened.
type Option func(*Options)

// WithSessionID sets the identity of the instance: the owner ID of a lock,
// the candidate ID of an election. Two instances with the same ID are the
// same candidate.
func WithSessionID(id string) Option {
	return func(o *Options) { o.SessionID = id }
}

// WithCodec returns an Option that sets the codec for role. Primitive
// packages wrap it in typed functions such as _map.WithKeyType.
func WithCodec(role string, codec any) Option {
	return func(o *Options) {
		if o.Codecs == nil {
			o.Codecs = map[string]any{}
		}
		o.Codecs[role] = codec
	}
}

// Apply returns the Options that opts configure.
func Apply(opts ...Option) Options {
	var o Options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// The error values, usable with errors.Is. They are the same values as the
// driver package's, so a driver's classification reaches the user intact.
var (
	ErrNotFound      = driver.ErrNotFound
	ErrAlreadyExists = driver.ErrAlreadyExists
	ErrConflict      = driver.ErrConflict
	ErrInvalid       = driver.ErrInvalid
	ErrNotSupported  = driver.ErrNotSupported
	ErrClosed        = driver.ErrClosed
	ErrUnavailable   = driver.ErrUnavailable
	ErrTimeout       = driver.ErrTimeout
	ErrAmbiguous     = driver.ErrAmbiguous
	ErrPermission    = driver.ErrPermission
)

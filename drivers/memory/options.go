package memory

import (
	"time"

	"github.com/atomix/go-client/driver"
)

// Defaults of a [Store] made without options.
const (
	// DefaultMaxKeySize is the largest key, set element or indexed-map key
	// a store accepts by default: 64 KiB.
	DefaultMaxKeySize = 64 << 10
	// DefaultMaxValueSize is the largest value or list item a store accepts
	// by default: 1 MiB.
	DefaultMaxValueSize = 1 << 20
	// DefaultSessionTTL is the TTL of a session started with a zero
	// driver.SessionOptions.TTL.
	DefaultSessionTTL = 15 * time.Second
	// MinSessionTTL is the smallest session TTL; smaller positive TTLs are
	// rounded up to it.
	MinSessionTTL = 10 * time.Millisecond
)

// Option configures a [Store] made by [NewStore] or [New].
type Option func(*config)

type config struct {
	clock      Clock
	limits     driver.Limits
	sessionTTL time.Duration
}

func newConfig(opts []Option) config {
	c := config{
		clock:      realClock{},
		limits:     driver.Limits{MaxKeySize: DefaultMaxKeySize, MaxValueSize: DefaultMaxValueSize},
		sessionTTL: DefaultSessionTTL,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&c)
		}
	}
	return c
}

// WithClock makes the store set its timers through c instead of the system
// clock: the sessions of crashed connections expire when c says so. A nil c leaves the system clock.
func WithClock(c Clock) Option {
	return func(cfg *config) {
		if c != nil {
			cfg.clock = c
		}
	}
}

// WithLimits sets the largest key and value the store accepts. A zero field
// means no limit, so WithLimits(driver.Limits{}) removes both. Negative
// fields are treated as zero.
func WithLimits(l driver.Limits) Option {
	return func(cfg *config) {
		cfg.limits = driver.Limits{MaxKeySize: max(l.MaxKeySize, 0), MaxValueSize: max(l.MaxValueSize, 0)}
	}
}

// WithDefaultSessionTTL sets the TTL of sessions started with a zero TTL
// (default [DefaultSessionTTL]). Values below [MinSessionTTL] are rounded up.
func WithDefaultSessionTTL(ttl time.Duration) Option {
	return func(cfg *config) {
		if ttl > 0 {
			cfg.sessionTTL = max(ttl, MinSessionTTL)
		}
	}
}

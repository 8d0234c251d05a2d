package atomix

import (
	"errors"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/atomix/go-client/atomix/primitive"
	"github.com/atomix/go-client/driver"
)

// DefaultSessionTTL is the session TTL of a client made without
// WithSessionTTL.
const DefaultSessionTTL = 15 * time.Second

// maxNameLen is the longest primitive name, namespace or candidate ID, in
// bytes.
const maxNameLen = 1024

// Option configures a Client.
type Option func(*config)

// config is what a client's options configure.
type config struct {
	driver     driver.Driver
	namespace  string
	sessionTTL time.Duration
	// logger, tracerProvider and meterProvider are those of WithLogger,
	// WithTracerProvider and WithMeterProvider; nil when not given.
	logger         *slog.Logger
	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	errs           []error
}

// WithDriver makes the client use d. The client owns d from then on: its
// Close closes d.
func WithDriver(d driver.Driver) Option {
	return func(c *config) {
		if d == nil {
			c.errs = append(c.errs, invalidf("WithDriver(nil)"))
			return
		}
		c.driver = d
	}
}

// WithNamespace sets the namespace the client's primitives live in: the same
// name in the same namespace on the same backend is the same state, and
// different namespaces never share state. The default is the empty
// namespace. A namespace is at most 1024 bytes.
func WithNamespace(ns string) Option {
	return func(c *config) {
		if len(ns) > maxNameLen {
			c.errs = append(c.errs, invalidf("namespace of %d bytes is longer than %d", len(ns), maxNameLen))
			return
		}
		c.namespace = ns
	}
}

// WithSessionTTL sets how long the backend keeps the client's session after
// its last renewal: how long the locks and candidacies of a client that died
// without closing survive it. Shorter means faster failover, but a client
// stalled for longer than the TTL (a GC pause, a network partition) loses
// them too. The default is DefaultSessionTTL (15s); d must be positive, and
// drivers may round it up to the smallest TTL their backend accepts.
func WithSessionTTL(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.errs = append(c.errs, invalidf("session TTL %v is not positive", d))
			return
		}
		c.sessionTTL = d
	}
}

// WithClient makes a package-level getter (GetCounter, GetMap, …) use c
// instead of the default client. The getter methods of a Client always use
// their receiver and ignore it.
func WithClient(c *Client) primitive.Option {
	return func(o *primitive.Options) { o.Client = c }
}

// apply builds the configuration; its error joins every bad option's.
func apply(opts []Option) (config, error) {
	cfg := config{sessionTTL: DefaultSessionTTL}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	return cfg, errors.Join(cfg.errs...)
}

package atomix

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/atomix/go-client/atomix/primitive"
	"github.com/atomix/go-client/driver"
)

// The kinds of primitive, as error messages name them.
const (
	kindCounter    = string(driver.KindCounter)
	kindLock       = string(driver.KindLock)
	kindElection   = string(driver.KindElection)
	kindMap        = string(driver.KindMap)
	kindSet        = string(driver.KindSet)
	kindValue      = string(driver.KindValue)
	kindList       = string(driver.KindList)
	kindIndexedMap = string(driver.KindIndexedMap)
	kindSemaphore  = string(driver.KindSemaphore)
)

// base is what every primitive instance has: its identity for error
// messages, its client, the backend's limits, and whether it is closed.
type base struct {
	client *Client
	kind   string
	name   string
	driver string // the driver's name, for error messages
	id     driver.ID
	limits driver.Limits
	closed atomic.Bool
}

// Name returns the name the primitive was opened with.
func (b *base) Name() string { return b.name }

// fail wraps err for operation op without a key.
func (b *base) fail(op string, err error) error {
	return &Error{Primitive: b.kind, Name: b.name, Driver: b.driver, Op: op, Err: err}
}

// failKey wraps err for operation op on key.
func (b *base) failKey(op string, key any, err error) error {
	return &Error{Primitive: b.kind, Name: b.name, Driver: b.driver, Op: op, Key: key, Err: err}
}

// errClosed is the cause reported by a closed primitive.
var errClosed = fmt.Errorf("%w: the primitive was closed", ErrClosed)

// close marks the primitive closed and unregisters it from its client. It
// reports false if it was closed already.
func (b *base) close(p closer) bool {
	if !b.closed.CompareAndSwap(false, true) {
		return false
	}
	b.client.forget(p)
	return true
}

// checkKey rejects an encoded key larger than the backend accepts.
func (b *base) checkKey(n int) error {
	if m := b.limits.MaxKeySize; m > 0 && n > m {
		return tooLarge("key", n, m)
	}
	return nil
}

// checkValue rejects an encoded value larger than the backend accepts.
func (b *base) checkValue(n int) error {
	if m := b.limits.MaxValueSize; m > 0 && n > m {
		return tooLarge("value", n, m)
	}
	return nil
}

func tooLarge(what string, n, limit int) error {
	return invalidf("%s of %d bytes exceeds the backend's limit of %d", what, n, limit)
}

// opening is the part of every getter that does not depend on the kind of
// primitive: validating the name and the options, then finding the client
// (the receiver, else the one of WithClient, else the default client) and
// its driver.
type opening struct {
	kind   string
	name   string
	opts   primitive.Options
	client *Client
	driver driver.Driver
	id     driver.ID
}

// begin validates the name and the codec roles (roles are those the kind
// accepts) of a getter call.
func begin(kind, name string, opts []primitive.Option, roles ...string) (*opening, error) {
	o := &opening{kind: kind, name: name, opts: primitive.Apply(opts...)}
	if err := checkName("name", name); err != nil {
		return nil, o.failed(err)
	}
	for role := range o.opts.Codecs {
		if slices.Contains(roles, role) {
			continue
		}
		if len(roles) == 0 {
			return nil, o.failed(invalidf("a %s takes no codec, but a %q codec was given", kind, role))
		}
		return nil, o.failed(invalidf("a %s has no %q codec (its codecs: %s)", kind, role, strings.Join(roles, ", ")))
	}
	return o, nil
}

// nilClient is the error of a getter method called on a nil *Client.
func nilClient(kind, name string) error {
	return &Error{Primitive: kind, Name: name, Op: "open", Err: invalidf("nil *atomix.Client")}
}

// connect finds the client and its driver; c is the getter's receiver, nil
// for a package-level getter.
func (o *opening) connect(ctx context.Context, c *Client) error {
	if c == nil {
		var err error
		if c, err = clientFor(ctx, &o.opts); err != nil {
			return o.failed(err)
		}
	}
	d, err := c.use()
	if err != nil {
		return o.failed(err)
	}
	o.client, o.driver = c, d
	o.id = driver.ID{Namespace: c.cfg.namespace, Name: o.name}
	return nil
}

// setup fills in the base of the primitive being opened.
func (o *opening) setup(b *base) {
	b.client, b.kind, b.name, b.limits = o.client, o.kind, o.name, o.driver.Limits()
	b.id = o.id
	b.driver = o.driver.Name()
}

// finish registers the opened primitive p with its client. If the client
// was closed meanwhile, it closes p and returns the error to report.
func (o *opening) finish(ctx context.Context, p closer) error {
	if err := o.client.remember(p); err != nil {
		_ = p.Close(ctx)
		return o.failed(err)
	}
	return nil
}

// failed wraps an error of opening the primitive.
func (o *opening) failed(err error) error {
	e := &Error{Primitive: o.kind, Name: o.name, Op: "open", Err: err}
	if o.driver != nil {
		e.Driver = o.driver.Name()
	}
	return e
}

// checkName validates a name, namespace or candidate ID.
func checkName(what, s string) error {
	if s == "" {
		return invalidf("empty %s", what)
	}
	if len(s) > maxNameLen {
		return invalidf("%s of %d bytes is longer than %d", what, len(s), maxNameLen)
	}
	return nil
}

// collection is the part of a driver's Map, Set, List and IndexedMap that
// Len and Clear need.
type collection interface {
	Len(ctx context.Context) (int, error)
	Clear(ctx context.Context) error
}

// length implements Len for every collection.
func (b *base) length(ctx context.Context, d collection) (int, error) {
	if b.closed.Load() {
		return 0, b.fail("len", errClosed)
	}
	n, err := d.Len(ctx)
	if err != nil {
		return 0, b.fail("len", err)
	}
	return n, nil
}

// clear implements Clear for every collection.
func (b *base) clear(ctx context.Context, d collection) error {
	if b.closed.Load() {
		return b.fail("clear", errClosed)
	}
	if err := d.Clear(ctx); err != nil {
		return b.fail("clear", err)
	}
	return nil
}

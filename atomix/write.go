package atomix

import (
	"context"
	"fmt"

	"github.com/atomix/go-client/atomix/lock"
	"github.com/atomix/go-client/driver"
)

// fence resolves the lock of a Fenced option into the hold the driver
// checks. The lock must be one this package opened with the same client as
// the primitive written (so on the same backend, through the same driver);
// anything else is ErrInvalid, as is version 0, which no hold has.
func (b *base) fence(l lock.Lock, version uint64) (*driver.Fence, error) {
	lp, ok := l.(*lockPrimitive)
	switch {
	case !ok || lp == nil:
		return nil, invalidf("the fence lock (%T) was not opened by an atomix.Client", l)
	case lp.client != b.client:
		return nil, invalidf("the fence lock %q was opened by another client: a fence must come from the client of the %s", lp.name, b.kind)
	case version == 0:
		return nil, invalidf("fencing version 0: no hold has it")
	case !lp.owner.holds(version):
		// This instance never held version, or knows its hold ended: no
		// need to ask the backend, which checks the rest atomically.
		return nil, fmt.Errorf("%w: fence: lock %q is not held by this instance with version %d", ErrConflict, lp.name, version)
	}
	return &driver.Fence{Lock: lp.id, Owner: lp.owner.owner, Version: version}, nil
}

// writeWith fills in a driver.Write: the client's session when ephemeral,
// the fence when fenced.
func (b *base) writeWith(ctx context.Context, ifVersion uint64, ephemeral bool, l lock.Lock, version uint64) (driver.Write, error) {
	w := driver.Write{IfVersion: ifVersion}
	if l != nil {
		f, err := b.fence(l, version)
		if err != nil {
			return w, err
		}
		w.Fence = f
	}
	if ephemeral {
		s, err := b.client.session(ctx)
		if err != nil {
			return w, err
		}
		w.Session = s
	}
	return w, nil
}

// notConditional is the error of an ephemeral or fenced write on a driver
// that does not implement the conditional interface of the primitive.
func (b *base) notConditional(what string) error {
	return fmt.Errorf("%w: the %s driver does not support %s writes to a %s", ErrNotSupported, b.driver, what, b.kind)
}

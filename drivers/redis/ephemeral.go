package redis

import (
	"context"
	_ "embed"
	"errors"
	"strings"
	"time"

	"github.com/atomix/go-client/driver"
)

// Ephemeral (session-bound) map entries and set elements.
//
// A bound key is recorded in the primitive's binding index (a hash from key
// to session ID, "<base>:eph"), and the session gets a lease in the
// primitive's slot ("<base>:s:<id>", renewed with the session like the
// leases of locks and elections). The key lives while that lease does:
//
//   - Every script that reads or writes a key first removes it if it is
//     bound to a session whose lease is gone (ephExpire in
//     lua/ephemeral.lua), publishing the removal as Remove does; Len and
//     Entries (Elements) first sweep the whole primitive. So no reader ever
//     sees a key of an expired session.
//   - Closing the session removes its keys at once (its drop function).
//   - A session that expires (its client crashed or was cut off) leaves its
//     keys to a sweeper: every driver, every EphemeralSweepInterval, sweeps
//     each primitive in the backend's registry of primitives that have had
//     bound keys ("<prefix>:ephemeral", a Redis set of their keyspace bases),
//     so that watchers hear of the removal even when the owner is dead and
//     nobody reads. The bound: a key is removed, and the removal published,
//     at most the session TTL after the session's last renewal plus
//     EphemeralSweepInterval (plus a script's run), as long as one driver of
//     the backend is alive.
//
// The registry keeps one member per primitive that ever had a bound key;
// members are never removed (a removal could not be made atomic with a
// concurrent first binding, in another slot of a cluster).

// EphemeralSweepInterval is how often every driver sweeps the expired
// ephemeral keys of the backend.
const EphemeralSweepInterval = time.Second

var (
	//go:embed lua/ephemeral.lua
	ephemeralLib string
	//go:embed lua/eph_sweep.lua
	ephSweepSource string
	//go:embed lua/eph_get.lua
	ephGetSource string
	//go:embed lua/eph_expired.lua
	ephExpiredSource string

	// ephSweep changes nothing when run twice; ephGet only reads.
	ephSweep = newScript("eph_sweep", withEphemeral(ephSweepSource), true)
	ephGet   = newReadScript("eph_get", ephGetSource)
	// ephExpired lists, reading only, what a reader must not see.
	ephExpired = newReadScript("eph_expired", ephExpiredSource)
)

// withEphemeral returns the source of a script that uses the ephemeral
// library (and so the counter library).
func withEphemeral(src string) string { return counterLib + ephemeralLib + src }

// ephemeralKeys returns the keys of a bindable primitive: its entries, its
// version counter, its binding index and its lease prefix.
func ephemeralKeys(ks keyspace, entries string) scriptKeys {
	return keysOf(ks.key(entries), ks.key("ver"), ks.key("eph"), ks.leasePrefix())
}

// registryKey is the backend's set of the primitives that have had bound
// keys.
func registryKey(prefix string) string { return prefix + ":ephemeral" }

// bindable is a map or a set: what binding, sweeping and dropping need.
type bindable struct {
	h    *handle
	kind string     // "m" or "s", as the scripts name it
	keys scriptKeys // see ephemeralKeys
	// getKeys are the keys lua/eph_get.lua reads: the entries, the binding
	// index and the lease prefix. A read sends no more than it needs:
	// each key and argument of a script costs the server time.
	getKeys scriptKeys
}

// newBindable returns the bindable of kind ("m" or "s") with keys (see
// ephemeralKeys).
func newBindable(h *handle, kind string, keys scriptKeys) bindable {
	return bindable{h: h, kind: kind, keys: keys, getKeys: keys.pick(0, 2, 3)}
}

// binding returns the session of w (nil for a plain write) and the
// arguments that bind a write to it ("" and "0" for none), registering the
// primitive first. The script creates the session's lease in the
// primitive's slot only when it binds a key; bound then makes the session
// renew it.
func (b bindable) binding(ctx context.Context, w driver.Write) (ss *session, sid, ttl string, err error) {
	if w.Session == nil {
		return nil, "", "0", nil
	}
	if ss, err = b.h.sessionOf(w.Session); err != nil {
		return nil, "", "", err
	}
	if err := b.h.d.register(ctx, b.kind+b.h.ks.base); err != nil {
		return nil, "", "", err
	}
	return ss, ss.id, ss.ttlMS, nil
}

// bound makes ss, if not nil, renew its lease in the primitive once a
// script bound a key to it: applied says it did, and err (the script's
// error) that it may have (a lost reply), in which case the lease is looked
// for. A session renews only leases that exist (a missing one ends it), so
// a write that bound nothing binds no lease. If ss ended meanwhile, what
// it bound is removed at once.
func (b bindable) bound(ctx context.Context, ss *session, applied bool, err error) {
	if ss == nil {
		return
	}
	lease := b.keys.names[3] + ss.id
	if err != nil {
		if !errors.Is(err, driver.ErrAmbiguous) {
			return
		}
		n, xerr := b.h.client().Exists(context.WithoutCancel(ctx), lease).Result()
		if xerr != nil || n == 0 {
			return
		}
	} else if !applied {
		return
	}
	if !ss.bind(lease, b.drop) {
		_ = b.drop(context.WithoutCancel(ctx), ss.id)
	}
}

// drop removes every key bound to session id, and its lease: run when the
// session is closed.
func (b bindable) drop(ctx context.Context, id string) error {
	_, err := ephSweep.run(ctx, b.h.client(), b.keys, b.h.ks.channelArg(), b.kind, id, "n")
	return err
}

// expired returns the primitive's length without its expired keys (bound
// to a session whose lease is gone) and those keys, reading only: Len,
// Entries and Elements leave them out, and the sweep removes them.
func (b bindable) expired(ctx context.Context) (int, map[string]struct{}, error) {
	r, err := ephExpired.run(ctx, b.h.client(), b.keys, b.kind)
	if err != nil {
		return 0, nil, b.h.fail(ctx, err, false)
	}
	a, err := replyArray(r, 2)
	if err != nil {
		return 0, nil, b.h.fail(ctx, err, false)
	}
	n, err := replyInt(a[0])
	if err != nil {
		return 0, nil, b.h.fail(ctx, err, false)
	}
	raw, ok := a[1].([]any)
	if !ok {
		return 0, nil, b.h.fail(ctx, badReply("want the expired keys, got %T", a[1]), false)
	}
	var keys map[string]struct{}
	if len(raw) > 0 {
		keys = make(map[string]struct{}, len(raw))
		for _, x := range raw {
			k, _ := replyString(x)
			keys[k] = struct{}{}
		}
	}
	return int(n), keys, nil
}

// get reads one key once it is swept: the stored entry (map) or "1"/"0"
// (set); found is false for an absent map key.
func (b bindable) get(ctx context.Context, key string) (stored any, err error) {
	r, err := ephGet.run(ctx, b.h.client(), b.getKeys, b.kind, key)
	if err != nil {
		return nil, b.h.fail(ctx, err, false)
	}
	return r, nil
}

// register adds member ("m" or "s" and a keyspace base) to the backend's
// registry, once per driver.
func (d *Driver) register(ctx context.Context, member string) error {
	d.mu.Lock()
	_, done := d.registered[member]
	d.mu.Unlock()
	if done {
		return nil
	}
	// SADD is idempotent: go-redis may retry it.
	if err := d.client.SAdd(ctx, registryKey(d.opts.KeyPrefix), member).Err(); err != nil {
		return wrapError(ctx, err, false)
	}
	d.mu.Lock()
	d.registered[member] = struct{}{}
	d.mu.Unlock()
	return nil
}

// sweepLoop sweeps the registered primitives every EphemeralSweepInterval
// until the driver stops.
func (d *Driver) sweepLoop() {
	defer close(d.swept)
	stopped, stop := context.WithCancel(context.Background())
	defer stop()
	t := time.NewTicker(EphemeralSweepInterval)
	defer t.Stop()
	for {
		select {
		case <-d.quit:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(stopped, EphemeralSweepInterval)
		go func() {
			select {
			case <-d.quit:
				cancel()
			case <-ctx.Done():
			}
		}()
		d.sweepAll(ctx)
		cancel()
	}
}

// sweepAll sweeps every registered primitive once; errors wait for the
// next round.
func (d *Driver) sweepAll(ctx context.Context) {
	members, err := d.client.SMembers(ctx, registryKey(d.opts.KeyPrefix)).Result()
	if err != nil {
		return
	}
	for _, m := range members {
		if len(m) < 2 || (m[0] != 'm' && m[0] != 's') || !strings.HasPrefix(m[1:], d.opts.KeyPrefix+":{") {
			continue
		}
		ks := keyspaceOf(m[1:])
		entries := "h"
		if m[0] == 's' {
			entries = "s"
		}
		_, _ = ephSweep.run(ctx, d.client, ephemeralKeys(ks, entries), ks.channelArg(), m[:1], "", "n")
		if ctx.Err() != nil {
			return
		}
	}
}

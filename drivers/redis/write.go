package redis

import (
	"context"
	_ "embed"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
)

// Fenced writes.
//
// A fenced write runs a variant of the write's script with the fence
// check prepended: it reads the fence lock's hold and its session's lease,
// as Lock.Holder does, and refuses the write (status fenceRefused) unless
// the hold is the fence's, all in the one script run. The lock's keys are
// passed after the write's own keys, and the owner and version after its
// arguments.
//
// Redis Cluster: a script can only touch the keys of one hash slot, and the
// keys of a lock and of a map (each under a hash tag of its own kind and
// name) are in different slots. A fenced write on a cluster whose lock and
// primitive slots differ (always: the kind is part of the tag) is refused
// with ErrNotSupported before anything is sent; nothing is checked, or
// written, in two steps.

//go:embed lua/fence.lua
var fenceLib string

// fenceRefused is the status a fenced script returns when the fence does
// not hold.
const fenceRefused = -9

// fenced returns the source of a fenced variant of a script: the fence
// check, then the script, refusing with refusal ("{-9, 0}" or "-9").
func fenced(src, refusal string) string {
	return fenceLib + "if not fenceHolds() then return " + refusal + " end\n" + src
}

var (
	mapWriteFenced    = newScript("map_write_fenced", withEphemeral(fenced(mapWriteSource, "{-9, 0}")), false)
	mapRemoveFenced   = newScript("map_remove_fenced", withEphemeral(fenced(mapRemoveSource, "{-9}")), false)
	valueSetFenced    = newScript("value_set_fenced", withCounter(fenced(valueSetSource, "{-9, 0}")), false)
	valueDeleteFenced = newScript("value_delete_fenced", withCounter(fenced(valueDeleteSource, "-9")), false)
)

// fence returns the keys and arguments to append for w's fence, or an error
// if it cannot be checked in one script.
func (h *handle) fence(w driver.Write) (keys []string, args []any, err error) {
	f := w.Fence
	ks := newKeyspace(h.d.opts.KeyPrefix, "lock", f.Lock)
	keys = []string{ks.key("hold"), ks.leasePrefix()}
	if _, cluster := h.client().(*goredis.ClusterClient); cluster {
		return nil, nil, driver.Errorf(driver.ErrNotSupported,
			"a fenced write needs the lock and the written primitive in one hash slot, which Redis Cluster does not give them")
	}
	return keys, []any{f.Owner, strconv.FormatUint(f.Version, 10)}, nil
}

// errFence is the error of a write whose fence did not hold.
func errFence(f *driver.Fence) error {
	return driver.Errorf(driver.ErrConflict, "fence: the lock is no longer held with version %d", f.Version)
}

// WriteWith implements driver.ConditionalMap; Put, Insert, Update and
// Remove are WriteWith with a plain Write. One script run: the fence (with
// the fenced variant), the expiry of the key if bound to an expired session,
// the precondition, the write, and the binding.
func (m *redisMap) WriteWith(ctx context.Context, op driver.MapOp, key string, value []byte, w driver.Write) (driver.Entry, error) {
	if err := m.begin(ctx); err != nil {
		return driver.Entry{}, err
	}
	keys := m.keys
	var fargs []any
	write, remove := mapWrite, mapRemove
	if w.Fence != nil {
		fkeys, fa, err := m.fence(w)
		if err != nil {
			return driver.Entry{}, err
		}
		keys, fargs = m.keys.with(fkeys...), fa
		write, remove = mapWriteFenced, mapRemoveFenced
	}
	if op == driver.MapRemove {
		args := append([]any{m.ks.channelArg(), key, versionBytes(w.IfVersion)}, fargs...)
		var r any
		var err error
		if w.Fence == nil {
			r, err = m.writes.write(ctx, func(ctx context.Context) (any, error) {
				return remove.run(ctx, m.client(), keys, args...)
			}, func() ([]any, int) {
				return []any{"r", args[1], "", args[2]}, len(key)
			})
		} else {
			r, err = remove.run(ctx, m.client(), keys, args...)
		}
		return m.removed(ctx, key, w.IfVersion, w.Fence, r, err)
	}
	var mode any // typed any: a constant converts without allocating
	switch op {
	case driver.MapPut:
		mode = "p"
	case driver.MapInsert:
		mode = "i"
	case driver.MapUpdate:
		mode = "u"
	default:
		return driver.Entry{}, driver.Errorf(driver.ErrInvalid, "unknown map write %d", op)
	}
	ss, sid, ttl, err := m.eph.binding(ctx, w)
	if err != nil {
		return driver.Entry{}, err
	}
	args := make([]any, 4, 9)
	args[0], args[1], args[2], args[3] = m.ks.channelArg(), mode, key, value
	if w.IfVersion != 0 || ss != nil || w.Fence != nil {
		// A plain write leaves these out (see lua/map_write.lua); the
		// fence's arguments are found from the end, after them.
		args = append(args, versionBytes(w.IfVersion), sid, ttl)
	}
	var r any
	if ss == nil && w.Fence == nil {
		// A persistent write may go with others (see batch.go): its
		// arguments to map_write_batch.lua are the mode, the key, the
		// value and the required version.
		r, err = m.writes.write(ctx, func(ctx context.Context) (any, error) {
			return write.run(ctx, m.client(), keys, args...)
		}, func() ([]any, int) {
			return []any{args[1], args[2], args[3], versionBytes(w.IfVersion)}, len(key) + len(value)
		})
	} else {
		r, err = write.run(ctx, m.client(), keys, append(args, fargs...)...)
	}
	if err != nil {
		err = m.fail(ctx, err, true)
		m.eph.bound(ctx, ss, false, err)
		return driver.Entry{}, err
	}
	a, err := replyArray(r, 2)
	if err != nil {
		err = m.fail(ctx, err, true)
		m.eph.bound(ctx, ss, false, err)
		return driver.Entry{}, err
	}
	status, _ := replyInt(a[0])
	m.eph.bound(ctx, ss, status == 1, nil)
	switch status {
	case 1:
	case 0:
		return driver.Entry{}, errNoKey
	case -2:
		return driver.Entry{}, driver.Errorf(driver.ErrAlreadyExists, "")
	case fenceRefused:
		return driver.Entry{}, errFence(w.Fence)
	default:
		return driver.Entry{}, versionConflict(w.IfVersion)
	}
	ver, err := replyUint(a[1])
	if err != nil {
		return driver.Entry{}, m.fail(ctx, err, true)
	}
	return driver.Entry{Key: key, Value: cloneBytes(value), Version: ver}, nil
}

// AddWith implements driver.ConditionalSet: the set_change script binds
// the element it adds.
func (s *set) AddWith(ctx context.Context, element string, w driver.Write) (bool, error) {
	return s.change(ctx, "I", element, w)
}

// SetWith implements driver.ConditionalValue for fenced writes.
func (v *value) SetWith(ctx context.Context, b []byte, w driver.Write) (uint64, error) {
	fkeys, fargs, err := v.fence(w)
	if err != nil {
		return 0, err
	}
	if err := v.begin(ctx); err != nil {
		return 0, err
	}
	keys := v.keys.with(fkeys...)
	r, err := valueSetFenced.run(ctx, v.client(), keys, append([]any{v.ks.channelArg(), b, versionBytes(w.IfVersion)}, fargs...)...)
	if err != nil {
		return 0, v.fail(ctx, err, true)
	}
	a, err := replyArray(r, 2)
	if err != nil {
		return 0, v.fail(ctx, err, true)
	}
	switch status, _ := replyInt(a[0]); status {
	case 1:
	case fenceRefused:
		return 0, errFence(w.Fence)
	default:
		return 0, versionConflict(w.IfVersion)
	}
	ver, err := replyUint(a[1])
	if err != nil {
		return 0, v.fail(ctx, err, true)
	}
	return ver, nil
}

// DeleteWith implements driver.ConditionalValue for fenced writes.
func (v *value) DeleteWith(ctx context.Context, w driver.Write) error {
	fkeys, fargs, err := v.fence(w)
	if err != nil {
		return err
	}
	if err := v.begin(ctx); err != nil {
		return err
	}
	keys := v.keys.with(fkeys...)
	r, err := valueDeleteFenced.run(ctx, v.client(), keys, append([]any{v.ks.channelArg(), versionBytes(w.IfVersion)}, fargs...)...)
	if err != nil {
		return v.fail(ctx, err, true)
	}
	switch status, _ := replyInt(r); status {
	case 1:
		return nil
	case 0:
		return errNoKey
	case fenceRefused:
		return errFence(w.Fence)
	default:
		return versionConflict(w.IfVersion)
	}
}

var (
	_ driver.ConditionalMap   = (*redisMap)(nil)
	_ driver.ConditionalSet   = (*set)(nil)
	_ driver.ConditionalValue = (*value)(nil)
)

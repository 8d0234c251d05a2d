package consul

import (
	"context"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

// Ephemeral and fenced writes, each one /v1/txn request.
//
// A fence is a check-index operation at the head of the transaction on the
// fence lock's hold key (consulLock's h): the hold key is never modified
// while held and is deleted when the hold ends (released, or its session
// ended: sessions have the delete behaviour), so its ModifyIndex equals the
// fencing version exactly while that hold lives.
//
// An ephemeral entry is written with the lock verb and the client's
// session: the key is acquired by the session, and since the driver's
// sessions have the delete behaviour, Consul deletes the key when the
// session ends, which watchers see as a removal. Consul keeps a key's
// session on a set, and refuses to lock a key another session holds, so
// an ephemeral write deletes the key first in the same transaction, and
// binds it to the writer's session; a plain Put or Update sets the key and
// checks in the same transaction that no session holds it, and only when
// one does writes again with the delete: a plain write of a bound key
// makes it persistent, as on the other backends. Watchers see one update
// (the transaction that wrote is one state; the refused one wrote
// nothing).

// fenceOps returns the operations that check w's fence, if any.
func (p *primitive) fenceOps(w driver.Write) []kvOp {
	if w.Fence == nil {
		return nil
	}
	return []kvOp{{Verb: api.KVCheckIndex, Key: p.d.base(kindLock, w.Fence.Lock) + "/h", Index: w.Fence.Version}}
}

// errFence is the error of a write whose fence did not hold.
func errFence(f *driver.Fence) error {
	return driver.Errorf(driver.ErrConflict, "fence: the lock is no longer held with version %d", f.Version)
}

// store returns the operations that write value at path under w: a delete
// (which drops a binding the key may have: Consul keeps a key's session on
// a set), then a lock by w's session when ephemeral, else a set.
func (p *primitive) store(path string, value []byte, w driver.Write) ([]kvOp, error) {
	drop := kvOp{Verb: api.KVDelete, Key: path}
	if w.Session == nil {
		return []kvOp{drop, {Verb: api.KVSet, Key: path, Value: value}}, nil
	}
	s, err := p.d.sessionOf(w.Session)
	if err != nil {
		return nil, err
	}
	return []kvOp{drop, {Verb: api.KVLock, Key: path, Value: value, Session: s.id}}, nil
}

// storePlain returns the operations of a plain (persistent) write of value
// at path that expects the key not to be bound to a session: the set, then
// a check-session with no session, which holds when the key (just set, so
// present) is held by no session. It fails only when the key was bound,
// and then the transaction changed nothing: the caller writes again with
// store's delete and set. A plain write thus costs one operation, not a
// delete that would recreate the key (and its CreateIndex) every time;
// only a plain write over an ephemeral entry costs a second request.
func storePlain(path string, value []byte) []kvOp {
	return []kvOp{{Verb: api.KVSet, Key: path, Value: value}, {Verb: api.KVCheckSession, Key: path}}
}

// WriteWith implements driver.ConditionalMap: the fence, the
// precondition and the write in one transaction. A plain Put or Update
// first tries storePlain's form and, if the key was bound, store's.
func (m *consulMap) WriteWith(ctx context.Context, op driver.MapOp, key string, value []byte, w driver.Write) (driver.Entry, error) {
	if err := m.check(); err != nil {
		return driver.Entry{}, err
	}
	plain := w.Session == nil && (op == driver.MapPut || op == driver.MapUpdate)
	e, bound, err := m.writeOnce(ctx, op, key, value, w, plain)
	if bound {
		e, _, err = m.writeOnce(ctx, op, key, value, w, false)
	}
	return e, err
}

// writeOnce is one transaction of WriteWith; with plain, its write is
// storePlain's, and bound reports that it failed only because the key was
// bound to a session.
func (m *consulMap) writeOnce(ctx context.Context, op driver.MapOp, key string, value []byte, w driver.Write, plain bool) (_ driver.Entry, bound bool, _ error) {
	path := m.path(key)
	ops := m.fenceOps(w)
	fence := len(ops) // the index of the first operation after the fence
	var write []kvOp
	switch op {
	case driver.MapPut:
		if w.IfVersion != 0 {
			ops = append(ops, kvOp{Verb: api.KVCheckIndex, Key: path, Index: w.IfVersion})
		}
	case driver.MapInsert:
		ops = append(ops, kvOp{Verb: api.KVCheckNotExists, Key: path})
	case driver.MapUpdate, driver.MapRemove:
		ops = append(ops, kvOp{Verb: api.KVGet, Key: path})
		if w.IfVersion != 0 {
			ops = append(ops, kvOp{Verb: api.KVCheckIndex, Key: path, Index: w.IfVersion})
		}
	default:
		return driver.Entry{}, false, driver.Errorf(driver.ErrInvalid, "unknown map write %d", op)
	}
	switch {
	case op == driver.MapRemove:
		write = []kvOp{{Verb: api.KVDelete, Key: path}}
	case plain:
		write = storePlain(path, value)
	default:
		var err error
		if write, err = m.store(path, value, w); err != nil {
			return driver.Entry{}, false, err
		}
	}
	ops = append(ops, write...)
	res, rb, err := m.d.txn(ctx, ops)
	switch {
	case err != nil:
		return driver.Entry{}, false, err
	case rb == nil:
	case fence > 0 && rb.has(0):
		return driver.Entry{}, false, errFence(w.Fence)
	case op == driver.MapInsert && rb.has(fence):
		return driver.Entry{}, false, driver.Errorf(driver.ErrAlreadyExists, "")
	case (op == driver.MapUpdate || op == driver.MapRemove) && rb.has(fence):
		return driver.Entry{}, false, errNotFound
	case rb.has(len(ops)-1) && plain:
		// The check-session failed alone: the key is bound.
		return driver.Entry{}, !rb.hasBefore(len(ops) - 1), errVersion
	case rb.has(len(ops) - 1):
		// The lock of the key failed: its session ended meanwhile.
		return driver.Entry{}, false, errSessionEnded
	default:
		return driver.Entry{}, false, errVersion
	}
	if op == driver.MapRemove {
		old := res[resultCount(ops[:fence])]
		return driver.Entry{Key: key, Value: old.Value, Version: old.ModifyIndex}, false, nil
	}
	// The last result is the key as written (the set or lock, or
	// storePlain's check of it).
	return driver.Entry{Key: key, Value: value, Version: res[len(res)-1].ModifyIndex}, false, nil
}

// AddWith implements driver.ConditionalSet: the element's key is created
// only if absent, acquired by the session.
func (s *consulSet) AddWith(ctx context.Context, element string, w driver.Write) (bool, error) {
	if err := s.check(); err != nil {
		return false, err
	}
	path := s.dir + segment(element)
	write, err := s.store(path, nil, w)
	if err != nil {
		return false, err
	}
	_, rb, err := s.d.txn(ctx, append([]kvOp{{Verb: api.KVCheckNotExists, Key: path}}, write...))
	switch {
	case err != nil:
		return false, err
	case rb == nil:
		return true, nil
	case rb.has(0):
		return false, nil
	}
	return false, errSessionEnded
}

// SetWith implements driver.ConditionalValue: the fence, the
// precondition and the write in one transaction.
func (v *consulValue) SetWith(ctx context.Context, value []byte, w driver.Write) (uint64, error) {
	if err := v.check(); err != nil {
		return 0, err
	}
	ops := v.fenceOps(w)
	if w.IfVersion != 0 {
		ops = append(ops, kvOp{Verb: api.KVCheckIndex, Key: v.base, Index: w.IfVersion})
	}
	ops = append(ops, kvOp{Verb: api.KVSet, Key: v.base, Value: value})
	res, rb, err := v.d.txn(ctx, ops)
	switch {
	case err != nil:
		return 0, err
	case rb == nil:
		return res[len(res)-1].ModifyIndex, nil
	case w.Fence != nil && rb.has(0):
		return 0, errFence(w.Fence)
	}
	return 0, errVersion
}

// DeleteWith implements driver.ConditionalValue: the fence, a get (absent:
// ErrNotFound), the precondition and the delete in one transaction.
func (v *consulValue) DeleteWith(ctx context.Context, w driver.Write) error {
	if err := v.check(); err != nil {
		return err
	}
	ops := v.fenceOps(w)
	fence := len(ops)
	ops = append(ops, kvOp{Verb: api.KVGet, Key: v.base})
	if w.IfVersion != 0 {
		ops = append(ops, kvOp{Verb: api.KVCheckIndex, Key: v.base, Index: w.IfVersion})
	}
	ops = append(ops, kvOp{Verb: api.KVDelete, Key: v.base})
	_, rb, err := v.d.txn(ctx, ops)
	switch {
	case err != nil:
		return err
	case rb == nil:
		return nil
	case fence > 0 && rb.has(0):
		return errFence(w.Fence)
	case rb.has(fence):
		return errNotFound
	}
	return errVersion
}

var (
	_ driver.ConditionalMap   = (*consulMap)(nil)
	_ driver.ConditionalSet   = (*consulSet)(nil)
	_ driver.ConditionalValue = (*consulValue)(nil)
)

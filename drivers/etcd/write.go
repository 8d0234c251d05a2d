package etcd

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

// Ephemeral and fenced writes.
//
// An ephemeral entry is its key put with the session's lease: etcd deletes
// it when the lease expires or is revoked, and watchers see the delete as
// any other.
//
// A fence is two compares added to the write's transaction: the owner's
// waiter key (etcdLock's prefix + owner) has the fence's version as its
// create revision, and no key of the lock's queue has a lower one, so that
// key is the head of the queue, the holder. The lock's keys live on the
// holder's lease, so a hold whose session expired has no key left. The
// transaction's else branch reads the head of the queue to tell a failed
// fence from a failed precondition.

// fencedTxn runs one transaction: cmps plus the fence's compares, then on
// success, els plus a read of the fence lock's head on failure. fenced
// reports, for a failed transaction, whether the fence held (so that the
// failure is the caller's precondition's, whose else results come first).
func (p *primitive) fencedTxn(ctx context.Context, f *driver.Fence, cmps []clientv3.Cmp, then, els []clientv3.Op) (resp *clientv3.TxnResponse, fenced bool, err error) {
	if f == nil {
		resp, err = p.txn(ctx, write, cmps, then, els)
		return resp, true, err
	}
	prefix := rootKey(p.d.prefix, kindLock, f.Lock) + "/"
	end := rangeEnd(prefix)
	ownerKey := prefix + f.Owner
	cmps = append(cmps,
		clientv3.Compare(clientv3.CreateRevision(ownerKey), "=", int64(f.Version)),
		clientv3.Compare(clientv3.CreateRevision(prefix), ">", int64(f.Version)-1).WithRange(end))
	els = append(els, clientv3.OpGet(prefix, clientv3.WithRange(end), clientv3.WithKeysOnly(),
		clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend), clientv3.WithLimit(1)))
	resp, err = p.txn(ctx, write, cmps, then, els)
	if err != nil || resp.Succeeded {
		return resp, true, err
	}
	head := resp.Responses[len(resp.Responses)-1].GetResponseRange().Kvs
	return resp, len(head) == 1 && string(head[0].Key) == ownerKey && head[0].CreateRevision == int64(f.Version), nil
}

// errFence is the error of a write whose fence did not hold.
func errFence(f *driver.Fence) error {
	return driver.Errorf(driver.ErrConflict, "fence: the lock is no longer held with version %d", f.Version)
}

// leaseOf returns the put options that bind a key to w's session, if any.
func (p *primitive) leaseOf(w driver.Write) ([]clientv3.OpOption, error) {
	if w.Session == nil {
		return nil, nil
	}
	s, err := p.d.sessionOf(w.Session)
	if err != nil {
		return nil, err
	}
	return []clientv3.OpOption{clientv3.WithLease(s.lease)}, nil
}

// WriteWith implements driver.ConditionalMap in one transaction.
func (m *etcdMap) WriteWith(ctx context.Context, op driver.MapOp, key string, value []byte, w driver.Write) (driver.Entry, error) {
	k := m.entryKey(key)
	opts, err := m.leaseOf(w)
	if err != nil {
		return driver.Entry{}, err
	}
	var cmps []clientv3.Cmp
	then := []clientv3.Op{clientv3.OpPut(k, string(value), opts...)}
	els := []clientv3.Op{clientv3.OpGet(k, clientv3.WithCountOnly())}
	switch op {
	case driver.MapPut:
		if w.IfVersion != 0 {
			cmps = append(cmps, versionCmp(k, w.IfVersion))
		}
	case driver.MapInsert:
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(k), "=", 0))
	case driver.MapUpdate:
		cmps = append(cmps, versionCmp(k, w.IfVersion))
	case driver.MapRemove:
		cmps = append(cmps, versionCmp(k, w.IfVersion))
		then = []clientv3.Op{clientv3.OpDelete(k, clientv3.WithPrevKV())}
	default:
		return driver.Entry{}, driver.Errorf(driver.ErrInvalid, "unknown map write %d", op)
	}
	resp, fenced, err := m.fencedTxn(ctx, w.Fence, cmps, then, els)
	switch {
	case err != nil:
		return driver.Entry{}, err
	case !fenced:
		return driver.Entry{}, errFence(w.Fence)
	case !resp.Succeeded && op == driver.MapInsert:
		return driver.Entry{}, errAlreadyExists
	case !resp.Succeeded:
		return driver.Entry{}, missingOrConflict(w.IfVersion, resp)
	case op == driver.MapRemove:
		return m.entry(resp.Responses[0].GetResponseDeleteRange().PrevKvs[0]), nil
	}
	return driver.Entry{Key: key, Value: value, Version: uint64(resp.Header.Revision)}, nil
}

// AddWith implements driver.ConditionalSet: the element's key is created
// with the session's lease.
func (s *etcdSet) AddWith(ctx context.Context, element string, w driver.Write) (bool, error) {
	opts, err := s.leaseOf(w)
	if err != nil {
		return false, err
	}
	k := s.prefix + element
	resp, err := s.txn(ctx, write,
		[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(k), "=", 0)},
		[]clientv3.Op{clientv3.OpPut(k, "", opts...)}, nil)
	if err != nil {
		return false, err
	}
	return resp.Succeeded, nil
}

// SetWith implements driver.ConditionalValue in one transaction.
func (v *etcdValue) SetWith(ctx context.Context, value []byte, w driver.Write) (uint64, error) {
	var cmps []clientv3.Cmp
	if w.IfVersion != 0 {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(v.key), "=", int64(w.IfVersion)))
	}
	resp, fenced, err := v.fencedTxn(ctx, w.Fence, cmps, []clientv3.Op{clientv3.OpPut(v.key, string(value))}, nil)
	switch {
	case err != nil:
		return 0, err
	case !fenced:
		return 0, errFence(w.Fence)
	case !resp.Succeeded:
		return 0, notAtVersion(w.IfVersion)
	}
	return uint64(resp.Header.Revision), nil
}

// DeleteWith implements driver.ConditionalValue in one transaction.
func (v *etcdValue) DeleteWith(ctx context.Context, w driver.Write) error {
	resp, fenced, err := v.fencedTxn(ctx, w.Fence,
		[]clientv3.Cmp{versionCmp(v.key, w.IfVersion)},
		[]clientv3.Op{clientv3.OpDelete(v.key)},
		[]clientv3.Op{clientv3.OpGet(v.key, clientv3.WithCountOnly())})
	switch {
	case err != nil:
		return err
	case !fenced:
		return errFence(w.Fence)
	case !resp.Succeeded:
		return missingOrConflict(w.IfVersion, resp)
	}
	return nil
}

var (
	_ driver.ConditionalMap   = (*etcdMap)(nil)
	_ driver.ConditionalSet   = (*etcdSet)(nil)
	_ driver.ConditionalValue = (*etcdValue)(nil)
)

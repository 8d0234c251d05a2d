package etcd

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

// etcdValue is a driver.Value stored as the single key rootKey; its version
// is the key's mod revision.
type etcdValue struct {
	primitive
	key string
}

var _ driver.Value = (*etcdValue)(nil)

func newValue(d *Driver, id driver.ID) *etcdValue {
	v := &etcdValue{primitive: newPrimitive(d, kindValue, id)}
	v.key = v.root
	return v
}

// Set stores value in one put, or with ifVersion in one transaction
// comparing the mod revision (which fails when the value is absent).
func (v *etcdValue) Set(ctx context.Context, value []byte, ifVersion uint64) (uint64, error) {
	if err := v.check("set"); err != nil {
		return 0, err
	}
	if ifVersion == 0 {
		resp, err := v.put(ctx, "set", v.key, value)
		if err != nil {
			return 0, err
		}
		return uint64(resp.Header.Revision), nil
	}
	resp, err := v.txn(ctx, "set", write,
		[]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(v.key), "=", int64(ifVersion))},
		[]clientv3.Op{clientv3.OpPut(v.key, string(value))}, nil)
	if err != nil {
		return 0, err
	}
	if !resp.Succeeded {
		return 0, v.fail("set", driver.ErrConflict, "not at version %d", ifVersion)
	}
	return uint64(resp.Header.Revision), nil
}

// Get returns the value and its version.
func (v *etcdValue) Get(ctx context.Context) ([]byte, uint64, error) {
	if err := v.check("get"); err != nil {
		return nil, 0, err
	}
	resp, err := v.get(ctx, "get", v.key)
	if err != nil {
		return nil, 0, err
	}
	if len(resp.Kvs) == 0 {
		return nil, 0, v.fail("get", driver.ErrNotFound, "")
	}
	return resp.Kvs[0].Value, uint64(resp.Kvs[0].ModRevision), nil
}

// Delete removes the value in one delete, or with ifVersion in one
// transaction whose else branch tells ErrNotFound from ErrConflict.
func (v *etcdValue) Delete(ctx context.Context, ifVersion uint64) error {
	if err := v.check("delete"); err != nil {
		return err
	}
	if ifVersion == 0 {
		resp, err := v.del(ctx, "delete", v.key)
		if err != nil {
			return err
		}
		if resp.Deleted == 0 {
			return v.fail("delete", driver.ErrNotFound, "")
		}
		return nil
	}
	resp, err := v.txn(ctx, "delete", write,
		[]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(v.key), "=", int64(ifVersion))},
		[]clientv3.Op{clientv3.OpDelete(v.key)},
		[]clientv3.Op{clientv3.OpGet(v.key, clientv3.WithCountOnly())})
	if err != nil {
		return err
	}
	if !resp.Succeeded {
		if resp.Responses[0].GetResponseRange().Count == 0 {
			return v.fail("delete", driver.ErrNotFound, "")
		}
		return v.fail("delete", driver.ErrConflict, "not at version %d", ifVersion)
	}
	return nil
}

// Watch sends one event per change of the key.
func (v *etcdValue) Watch(ctx context.Context, ch chan<- driver.ValueEvent) error {
	return v.startWatch(ctx, v.key, v.key+"\x00", nil, func(ctx context.Context, changes []change, _ mirror) bool {
		for _, c := range changes {
			var ev driver.ValueEvent
			switch {
			case c.next == nil:
				ev = driver.ValueEvent{Type: driver.EventRemoved, Value: c.prev.Value, Version: uint64(c.prev.ModRevision)}
			case c.prev == nil:
				ev = driver.ValueEvent{Type: driver.EventInserted, Value: c.next.Value, Version: uint64(c.next.ModRevision)}
			default:
				ev = driver.ValueEvent{Type: driver.EventUpdated, Value: c.next.Value, Version: uint64(c.next.ModRevision)}
			}
			if !send(ctx, ch, ev) {
				return false
			}
		}
		return true
	}, func() { close(ch) })
}

package etcd

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/resync"
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
	if ifVersion == 0 {
		resp, err := v.put(ctx, v.key, value)
		if err != nil {
			return 0, err
		}
		return uint64(resp.Header.Revision), nil
	}
	resp, err := v.txn(ctx, write,
		[]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(v.key), "=", int64(ifVersion))},
		[]clientv3.Op{clientv3.OpPut(v.key, string(value))}, nil)
	if err != nil {
		return 0, err
	}
	if !resp.Succeeded {
		return 0, notAtVersion(ifVersion)
	}
	return uint64(resp.Header.Revision), nil
}

// Get returns the value and its version.
func (v *etcdValue) Get(ctx context.Context) ([]byte, uint64, error) {
	resp, err := v.get(ctx, v.key)
	if err != nil {
		return nil, 0, err
	}
	if len(resp.Kvs) == 0 {
		return nil, 0, errNotFound
	}
	return resp.Kvs[0].Value, uint64(resp.Kvs[0].ModRevision), nil
}

// Delete removes the value in one delete, or with ifVersion in one
// transaction whose else branch tells ErrNotFound from ErrConflict.
func (v *etcdValue) Delete(ctx context.Context, ifVersion uint64) error {
	if ifVersion == 0 {
		resp, err := v.del(ctx, v.key)
		if err != nil {
			return err
		}
		if resp.Deleted == 0 {
			return errNotFound
		}
		return nil
	}
	resp, err := v.txn(ctx, write,
		[]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(v.key), "=", int64(ifVersion))},
		[]clientv3.Op{clientv3.OpDelete(v.key)},
		[]clientv3.Op{clientv3.OpGet(v.key, clientv3.WithCountOnly())})
	if err != nil {
		return err
	}
	if !resp.Succeeded {
		if resp.Responses[0].GetResponseRange().Count == 0 {
			return errNotFound
		}
		return notAtVersion(ifVersion)
	}
	return nil
}

// Watch sends one event per change of the key.
func (v *etcdValue) Watch(ctx context.Context, ch chan<- driver.ValueEvent) error {
	return v.startWatch(ctx, v.key, v.key+"\x00", rangeWatch{
		changed: func(ctx context.Context, changes []change, _ mirror) bool {
			for _, c := range changes {
				if !sendAll(ctx, ch, resync.Value(valueOf(c.prev), valueOf(c.next))) {
					return false
				}
			}
			return true
		},
		resynced: func(ctx context.Context, old, fresh mirror) bool {
			return sendAll(ctx, ch, resync.Value(valueOf(old[v.key]), valueOf(fresh[v.key])))
		},
		finish: func() { close(ch) },
	})
}

// valueOf is the state of the value a stored key holds: Version 0 when kv
// is nil (absent).
func valueOf(kv *mvccKV) driver.ValueEvent {
	if kv == nil {
		return driver.ValueEvent{}
	}
	return driver.ValueEvent{Value: kv.Value, Version: uint64(kv.ModRevision)}
}

package etcd

import (
	"context"
	"iter"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/resync"
)

// etcdSet is a driver.Set: each element is the empty-valued key
// rootKey + "/" + element.
type etcdSet struct {
	primitive
	prefix string
	end    string
}

var _ driver.Set = (*etcdSet)(nil)

func newSet(d *Driver, id driver.ID) *etcdSet {
	s := &etcdSet{primitive: newPrimitive(d, kindSet, id)}
	s.prefix = s.root + "/"
	s.end = rangeEnd(s.prefix)
	return s
}

func (s *etcdSet) element(kv *mvccKV) string { return string(kv.Key[len(s.prefix):]) }

// Add creates the element's key if absent, in one transaction.
func (s *etcdSet) Add(ctx context.Context, element string) (bool, error) {
	k := s.prefix + element
	resp, err := s.txn(ctx, write,
		[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(k), "=", 0)},
		[]clientv3.Op{clientv3.OpPut(k, "")}, nil)
	if err != nil {
		return false, err
	}
	return resp.Succeeded, nil
}

// Remove deletes the element's key.
func (s *etcdSet) Remove(ctx context.Context, element string) (bool, error) {
	resp, err := s.del(ctx, s.prefix+element)
	if err != nil {
		return false, err
	}
	return resp.Deleted > 0, nil
}

// Contains counts the element's key.
func (s *etcdSet) Contains(ctx context.Context, element string) (bool, error) {
	resp, err := s.get(ctx, s.prefix+element, clientv3.WithCountOnly())
	if err != nil {
		return false, err
	}
	return resp.Count > 0, nil
}

// Len counts the elements.
func (s *etcdSet) Len(ctx context.Context) (int, error) {
	resp, err := s.get(ctx, s.prefix, clientv3.WithRange(s.end), clientv3.WithCountOnly())
	if err != nil {
		return 0, err
	}
	return int(resp.Count), nil
}

// Clear deletes every element in one range delete.
func (s *etcdSet) Clear(ctx context.Context) error {
	_, err := s.del(ctx, s.prefix, clientv3.WithRange(s.end))
	return err
}

// Elements iterates in byte order, like Map.Entries.
func (s *etcdSet) Elements(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		stopped := false
		_, err := s.scan(ctx, s.prefix, s.end, true, false, func(kv *mvccKV) bool {
			if !yield(s.element(kv), nil) {
				stopped = true
				return false
			}
			return true
		})
		if err != nil && !stopped {
			yield("", err)
		}
	}
}

// Watch sends EventInserted and EventRemoved per element.
func (s *etcdSet) Watch(ctx context.Context, ch chan<- driver.ElementEvent) error {
	return s.startWatch(ctx, s.prefix, s.end, rangeWatch{
		changed: func(ctx context.Context, changes []change, _ mirror) bool {
			for _, c := range changes {
				var ev driver.ElementEvent
				switch {
				case c.next == nil:
					ev = driver.ElementEvent{Type: driver.EventRemoved, Element: s.element(c.prev)}
				case c.prev == nil:
					ev = driver.ElementEvent{Type: driver.EventInserted, Element: s.element(c.next)}
				default:
					continue // rewritten while present: no change to the set
				}
				if !send(ctx, ch, ev) {
					return false
				}
			}
			return true
		},
		resynced: func(ctx context.Context, old, fresh mirror) bool {
			return sendAll(ctx, ch, resync.Elements(s.elements(old), s.elements(fresh)))
		},
		finish: func() { close(ch) },
	})
}

// elements returns the elements a mirror holds, each with the revision
// that created its key.
func (s *etcdSet) elements(state mirror) map[string]uint64 {
	elements := make(map[string]uint64, len(state))
	for _, kv := range state {
		elements[s.element(kv)] = uint64(kv.CreateRevision)
	}
	return elements
}

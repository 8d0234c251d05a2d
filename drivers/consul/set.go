package consul

import (
	"context"
	"iter"
	"strings"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/resync"
)

// consulSet stores each element as an empty key <base>/<segment(element)>.
type consulSet struct {
	primitive
	dir string // base + "/"
}

var _ driver.Set = (*consulSet)(nil)

func newSet(d *Driver, id driver.ID) *consulSet {
	s := &consulSet{}
	s.init(d, kindSet, id)
	s.dir = s.base + "/"
	return s
}

// Add creates the element's key with a check-and-set at index 0, which
// fails if it exists.
func (s *consulSet) Add(ctx context.Context, element string) (bool, error) {
	if err := s.check(); err != nil {
		return false, err
	}
	ok, _, err := s.d.kv.CAS(&api.KVPair{Key: s.dir + segment(element), ModifyIndex: 0}, write(ctx))
	if err != nil {
		return false, classify(ctx, err, writing)
	}
	return ok, nil
}

// Remove deletes the element's key in a transaction whose first operation,
// a get, fails if it is absent.
func (s *consulSet) Remove(ctx context.Context, element string) (bool, error) {
	if err := s.check(); err != nil {
		return false, err
	}
	path := s.dir + segment(element)
	_, rb, err := s.d.txn(ctx, []kvOp{{Verb: api.KVGet, Key: path}, {Verb: api.KVDelete, Key: path}})
	switch {
	case err != nil:
		return false, err
	case rb != nil && rb.has(0):
		return false, nil
	case rb != nil:
		return false, unexpected(rb)
	}
	return true, nil
}

// Contains reads the element's key.
func (s *consulSet) Contains(ctx context.Context, element string) (bool, error) {
	if err := s.check(); err != nil {
		return false, err
	}
	pair, _, err := s.d.kv.Get(s.dir+segment(element), read(ctx))
	if err != nil {
		return false, classify(ctx, err, reading)
	}
	return pair != nil, nil
}

// Len counts the keys.
func (s *consulSet) Len(ctx context.Context) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	keys, _, err := s.d.kv.Keys(s.dir, "", read(ctx))
	if err != nil {
		return 0, classify(ctx, err, reading)
	}
	return len(keys), nil
}

// Clear deletes every element with one recursive delete.
func (s *consulSet) Clear(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	_, err := s.d.apply(ctx, []kvOp{{Verb: api.KVDeleteTree, Key: s.dir}})
	return err
}

// Elements yields the elements of one snapshot (a keys-only listing).
func (s *consulSet) Elements(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := s.check(); err != nil {
			yield("", err)
			return
		}
		keys, _, err := s.d.kv.Keys(s.dir, "", read(ctx))
		if err != nil {
			yield("", classify(ctx, err, reading))
			return
		}
		for _, k := range keys {
			e, ok := unsegment(strings.TrimPrefix(k, s.dir))
			if !ok {
				continue
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// Watch follows the set with blocking queries on its directory and sends
// the difference between consecutive answers, as driver/resync computes it
// (see the package documentation).
func (s *consulSet) Watch(ctx context.Context, ch chan<- driver.ElementEvent) error {
	if err := s.check(); err != nil {
		return err
	}
	pairs, meta, err := s.d.kv.List(s.dir, read(ctx))
	if err != nil {
		return classify(ctx, err, reading)
	}
	last := s.snapshot(pairs)
	wctx, cancel := s.watchContext(ctx)
	go func() {
		defer close(ch)
		defer cancel()
		follow(wctx, s.d, meta.LastIndex, func(q *api.QueryOptions) (api.KVPairs, *api.QueryMeta, error) {
			return s.d.kv.List(s.dir, q)
		}, func(pairs api.KVPairs) bool {
			next := s.snapshot(pairs)
			for _, ev := range resync.Elements(last, next) {
				if !send(wctx, ch, ev) {
					return false
				}
			}
			last = next
			return true
		}, s.resynced)
	}()
	return nil
}

// snapshot maps each element to the CreateIndex of its key.
func (s *consulSet) snapshot(pairs api.KVPairs) map[string]uint64 {
	m := make(map[string]uint64, len(pairs))
	for _, p := range pairs {
		if e, ok := unsegment(strings.TrimPrefix(p.Key, s.dir)); ok {
			m[e] = p.CreateIndex
		}
	}
	return m
}

package redis

import (
	"context"
	_ "embed"
	"iter"
	"slices"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/resync"
)

var (
	//go:embed lua/set_entry.lua
	setEntrySource string
	//go:embed lua/set_change.lua
	setChangeScript string
	//go:embed lua/set_change_batch.lua
	setChangeBatchSource string
	// setChangeSource is set_change.lua with the function it calls.
	setChangeSource = setEntrySource + setChangeScript
	//go:embed lua/set_read.lua
	setReadSource string

	setChange      = newScript("set_change", withEphemeral(setChangeSource), false)
	setChangeBatch = newScript("set_change_batch", withEphemeral(setEntrySource+setChangeBatchSource), false)
	setRead        = newReadScript("set_read", setReadSource)
)

// set implements driver.Set with one Redis set. Contains is SISMEMBER and
// Len SCARD; Add and Remove are scripts that also publish the change.
// Changes that are not session-bound and find the instance's runs in
// flight at their limit are sent together (see batch.go).
type set struct {
	*handle
	keys    scriptKeys // see ephemeralKeys
	eph     bindable
	changes *batcher
}

func newSet(h *handle) *set {
	s := &set{handle: h, keys: ephemeralKeys(h.ks, "s")}
	s.eph = newBindable(h, "s", s.keys)
	s.changes = newBatcher(h, setChangeBatch, s.keys, 1, h.ks.channelArg())
	return s
}

func (s *set) Add(ctx context.Context, element string) (bool, error) {
	return s.change(ctx, "I", element, driver.Write{})
}

func (s *set) Remove(ctx context.Context, element string) (bool, error) {
	return s.change(ctx, "R", element, driver.Write{})
}

func (s *set) change(ctx context.Context, mode, element string, w driver.Write) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	ss, sid, ttl, err := s.eph.binding(ctx, w)
	if err != nil {
		return false, err
	}
	var r any
	if ss == nil {
		r, err = s.changes.write(ctx, func(ctx context.Context) (any, error) {
			return setChange.run(ctx, s.client(), s.keys, s.ks.channelArg(), element, mode)
		}, func() ([]any, int) {
			return []any{mode, element}, len(element)
		})
	} else {
		r, err = setChange.run(ctx, s.client(), s.keys, s.ks.channelArg(), element, mode, sid, ttl)
	}
	if err != nil {
		err = s.fail(ctx, err, true)
		s.eph.bound(ctx, ss, false, err)
		return false, err
	}
	n, err := replyInt(r)
	if err != nil {
		err = s.fail(ctx, err, true)
		s.eph.bound(ctx, ss, false, err)
		return false, err
	}
	s.eph.bound(ctx, ss, n == 1, nil)
	return n == 1, nil
}

func (s *set) Contains(ctx context.Context, element string) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	r, err := s.eph.get(ctx, element)
	if err != nil {
		return false, err
	}
	n, err := replyInt(r)
	if err != nil {
		return false, s.fail(ctx, err, false)
	}
	return n == 1, nil
}

func (s *set) Len(ctx context.Context) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	n, _, err := s.eph.expired(ctx)
	return n, err
}

func (s *set) Clear(ctx context.Context) error {
	return clearKeys(ctx, s.handle, s.keys.names[1], s.keys.names[0], s.keys.names[2])
}

// Elements iterates with SSCAN, skipping the repeats SSCAN may return and
// the expired ephemeral elements.
func (s *set) Elements(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := s.begin(ctx); err != nil {
			yield("", err)
			return
		}
		_, expired, err := s.eph.expired(ctx)
		if err != nil {
			yield("", err)
			return
		}
		seen := map[string]struct{}{}
		var cursor uint64
		for {
			elems, next, err := s.client().SScan(ctx, s.keys.names[0], cursor, "", scanCount).Result()
			if err != nil {
				yield("", s.fail(ctx, err, false))
				return
			}
			for _, e := range elems {
				if _, dup := seen[e]; dup {
					continue
				}
				if _, gone := expired[e]; gone {
					continue
				}
				seen[e] = struct{}{}
				if !yield(e, nil) {
					return
				}
			}
			if next == 0 {
				return
			}
			cursor = next
			if err := s.begin(ctx); err != nil {
				yield("", err)
				return
			}
		}
	}
}

func (s *set) Watch(ctx context.Context, ch chan<- driver.ElementEvent) error {
	return startWatch(ctx, s.handle, &setReplica{s: s}, s.keys.names[1], ch)
}

// setReplica is a watcher's copy of a set.
type setReplica struct {
	s        *set
	elements map[string]uint64 // the elements; the set keeps no versions
}

func (r *setReplica) load(ctx context.Context, first bool) (uint64, []driver.ElementEvent, error) {
	reply, err := setRead.run(ctx, r.s.client(), r.s.keys)
	if err != nil {
		return 0, nil, err
	}
	a, err := replyArray(reply, 2)
	if err != nil {
		return 0, nil, err
	}
	seq, err := replyUint(a[0])
	if err != nil {
		return 0, nil, err
	}
	members, ok := a[1].([]any)
	if !ok {
		return 0, nil, badReply("want the elements, got %T", a[1])
	}
	next := make(map[string]uint64, len(members))
	for _, m := range members {
		e, _ := replyString(m)
		next[e] = 0
	}
	var events []driver.ElementEvent
	if !first {
		events = resync.Elements(r.elements, next)
	}
	r.elements = next
	return seq, events, nil
}

func (r *setReplica) apply(_ uint64, p *payload) ([]driver.ElementEvent, error) {
	switch op := p.byte(); op {
	case 'I', 'R':
		e := p.rest()
		if p.err != nil {
			return nil, p.err
		}
		_, present := r.elements[e]
		if present == (op == 'I') {
			return nil, badReply("change %q of %q inconsistent with the watcher's copy", op, e)
		}
		if op == 'I' {
			r.elements[e] = 0
			return []driver.ElementEvent{{Type: driver.EventInserted, Element: e}}, nil
		}
		delete(r.elements, e)
		return []driver.ElementEvent{{Type: driver.EventRemoved, Element: e}}, nil
	case 'C':
		p.end()
		if p.err != nil {
			return nil, p.err
		}
		if len(r.elements) == 0 {
			return nil, badReply("clear of an empty copy")
		}
		removed := make([]string, 0, len(r.elements))
		for e := range r.elements {
			removed = append(removed, e)
		}
		slices.Sort(removed)
		events := make([]driver.ElementEvent, len(removed))
		for i, e := range removed {
			events[i] = driver.ElementEvent{Type: driver.EventRemoved, Element: e}
		}
		r.elements = map[string]uint64{}
		return events, nil
	}
	if p.err != nil {
		return nil, p.err
	}
	return nil, badReply("unknown set change of %d bytes", len(p.s))
}

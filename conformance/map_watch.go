package conformance

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"

	"github.com/atomix/go-client/atomix"
	_map "github.com/atomix/go-client/atomix/map"
)

type mapEvent = _map.Event[string, string]

func mapWatchSpec() watchSpec[mapEvent] {
	return watchSpec[mapEvent]{
		feature:  FeatureMap,
		newModel: func() watchModel[mapEvent] { return &mapModel{entries: map[string]_map.Entry[string, string]{}} },
		open: func(ctx context.Context, c *atomix.Client, name string) (watcher[mapEvent], error) {
			return atomix.GetMap[string, string](ctx, name, atomix.WithClient(c))
		},
		newWriter: func(ctx context.Context, c *atomix.Client, name string) (writeStep[mapEvent], error) {
			m, err := atomix.GetMap[string, string](ctx, name, atomix.WithClient(c))
			if err != nil {
				return nil, err
			}
			w := &mapWriter{m: m, model: map[string]_map.Entry[string, string]{}, rnd: rand.New(rand.NewPCG(1, 1))}
			return w.step, nil
		},
	}
}

// mapWriter makes pseudo-random changes to a map through every writing
// method, failed preconditions included, and knows what each must cause.
type mapWriter struct {
	m     _map.Map[string, string]
	model map[string]_map.Entry[string, string]
	last  uint64 // the highest version written
	rnd   *rand.Rand
}

func (w *mapWriter) step(ctx context.Context, i int) ([]mapEvent, error) {
	key := fmt.Sprintf("k%02d", w.rnd.IntN(16))
	val := fmt.Sprintf("v%d", i)
	cur, present := w.model[key]
	stale := w.last + 1 // no entry has it
	if !present {
		switch w.rnd.IntN(5) {
		case 0:
			_, err := w.m.Update(ctx, key, val)
			return nil, expectErr(err, atomix.ErrNotFound, "update of absent key %q", key)
		case 1:
			_, err := w.m.Remove(ctx, key)
			return nil, expectErr(err, atomix.ErrNotFound, "remove of absent key %q", key)
		case 2:
			_, err := w.m.Put(ctx, key, val, _map.IfVersion(stale))
			return nil, expectErr(err, atomix.ErrConflict, "put of absent key %q if version %d", key, stale)
		case 3:
			e, err := w.m.Insert(ctx, key, val)
			return w.stored(e, err, false, "insert %q", key)
		default:
			e, err := w.m.Put(ctx, key, val)
			return w.stored(e, err, false, "put %q", key)
		}
	}
	switch w.rnd.IntN(9) {
	case 0:
		_, err := w.m.Insert(ctx, key, val)
		return nil, expectErr(err, atomix.ErrAlreadyExists, "insert of present key %q", key)
	case 1:
		e, err := w.m.Update(ctx, key, val)
		return w.stored(e, err, true, "update %q", key)
	case 2:
		e, err := w.m.Put(ctx, key, val, _map.IfVersion(cur.Version))
		return w.stored(e, err, true, "put %q if version %d", key, cur.Version)
	case 3:
		e, err := w.m.Update(ctx, key, val, _map.IfVersion(cur.Version))
		return w.stored(e, err, true, "update %q if version %d", key, cur.Version)
	case 4:
		_, err := w.m.Update(ctx, key, val, _map.IfVersion(stale))
		return nil, expectErr(err, atomix.ErrConflict, "update %q if stale version", key)
	case 5:
		_, err := w.m.Remove(ctx, key, _map.IfVersion(stale))
		return nil, expectErr(err, atomix.ErrConflict, "remove %q if stale version", key)
	case 6:
		e, err := w.m.Remove(ctx, key, _map.IfVersion(cur.Version))
		return w.removed(e, err, cur)
	case 7:
		e, err := w.m.Remove(ctx, key)
		return w.removed(e, err, cur)
	default:
		e, err := w.m.Put(ctx, key, val)
		return w.stored(e, err, true, "put %q", key)
	}
}

// stored checks a write that stored e and returns its event.
func (w *mapWriter) stored(e _map.Entry[string, string], err error, present bool, format string, args ...any) ([]mapEvent, error) {
	what := fmt.Sprintf(format, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if e.Version <= w.last {
		return nil, fmt.Errorf("%s: version %d not above the previous write's %d", what, e.Version, w.last)
	}
	w.last = e.Version
	w.model[e.Key] = e
	typ := _map.EventInserted
	if present {
		typ = _map.EventUpdated
	}
	return []mapEvent{{Type: typ, Entry: e}}, nil
}

// removed checks a removal that returned e and returns its event.
func (w *mapWriter) removed(e _map.Entry[string, string], err error, was _map.Entry[string, string]) ([]mapEvent, error) {
	if err != nil {
		return nil, fmt.Errorf("remove %q: %w", was.Key, err)
	}
	if e != was {
		return nil, fmt.Errorf("remove %q returned %+v, the entry was %+v", was.Key, e, was)
	}
	delete(w.model, e.Key)
	return []mapEvent{{Type: _map.EventRemoved, Entry: was}}, nil
}

// mapModel is a map as a watcher rebuilds it from events.
type mapModel struct {
	entries   map[string]_map.Entry[string, string]
	lastWrite uint64 // the version of the last insert or update applied
}

func (m *mapModel) apply(ev mapEvent) error {
	e := ev.Entry
	cur, present := m.entries[e.Key]
	switch ev.Type {
	case _map.EventInserted, _map.EventUpdated:
		if present != (ev.Type == _map.EventUpdated) {
			return fmt.Errorf("%v of key %q, which is present=%v", ev.Type, e.Key, present)
		}
		if e.Version <= m.lastWrite {
			return fmt.Errorf("%v of key %q at version %d, not above the last write's %d", ev.Type, e.Key, e.Version, m.lastWrite)
		}
		m.entries[e.Key], m.lastWrite = e, e.Version
	case _map.EventRemoved:
		if !present || cur != e {
			return fmt.Errorf("removal of %+v, but the entry is %+v (present=%v)", e, cur, present)
		}
		delete(m.entries, e.Key)
	default:
		return fmt.Errorf("unknown event type %v", ev.Type)
	}
	return nil
}

func (m *mapModel) state() any { return maps.Clone(m.entries) }

package conformance

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/indexedmap"
)

type indexedMapEvent = indexedmap.Event[string, string]
type indexedMapEntry = indexedmap.Entry[string, string]

func indexedMapWatchSpec() watchSpec[indexedMapEvent] {
	return watchSpec[indexedMapEvent]{
		feature: FeatureIndexedMap,
		newModel: func() watchModel[indexedMapEvent] {
			return &indexedMapModel{entries: map[string]indexedMapEntry{}, used: map[uint64]bool{}}
		},
		open: func(ctx context.Context, c *atomix.Client, name string) (watcher[indexedMapEvent], error) {
			return atomix.GetIndexedMap[string, string](ctx, name, atomix.WithClient(c))
		},
		newWriter: func(ctx context.Context, c *atomix.Client, name string) (writeStep[indexedMapEvent], error) {
			m, err := atomix.GetIndexedMap[string, string](ctx, name, atomix.WithClient(c))
			if err != nil {
				return nil, err
			}
			w := &indexedMapWriter{m: m, model: map[string]indexedMapEntry{}, rnd: rand.New(rand.NewPCG(5, 5))}
			return w.step, nil
		},
	}
}

// indexedMapWriter makes pseudo-random changes through every writing method
// of an indexed map, failed preconditions included, and knows what each must
// cause.
type indexedMapWriter struct {
	m           indexedmap.IndexedMap[string, string]
	model       map[string]indexedMapEntry
	lastIndex   uint64
	lastVersion uint64
	rnd         *rand.Rand
}

func (w *indexedMapWriter) step(ctx context.Context, i int) ([]indexedMapEvent, error) {
	key := fmt.Sprintf("k%02d", w.rnd.IntN(16))
	val := fmt.Sprintf("v%d", i)
	cur, present := w.model[key]
	stale := w.lastVersion + 1 // no entry has it
	if !present {
		switch w.rnd.IntN(4) {
		case 0:
			_, err := w.m.Update(ctx, key, val)
			return nil, expectErr(err, atomix.ErrNotFound, "update of absent key %q", key)
		case 1:
			_, err := w.m.Remove(ctx, key)
			return nil, expectErr(err, atomix.ErrNotFound, "remove of absent key %q", key)
		default:
			e, err := w.m.Append(ctx, key, val)
			if err != nil {
				return nil, fmt.Errorf("append %q: %w", key, err)
			}
			if e.Index <= w.lastIndex {
				return nil, fmt.Errorf("append %q: index %d not above the previous append's %d", key, e.Index, w.lastIndex)
			}
			w.lastIndex = e.Index
			return w.written(e, indexedmap.EventInserted, "append")
		}
	}
	switch w.rnd.IntN(9) {
	case 0:
		_, err := w.m.Append(ctx, key, val)
		return nil, expectErr(err, atomix.ErrAlreadyExists, "append of present key %q", key)
	case 1:
		_, err := w.m.Update(ctx, key, val, indexedmap.IfVersion(stale))
		return nil, expectErr(err, atomix.ErrConflict, "update %q if stale version", key)
	case 2:
		_, err := w.m.RemoveIndex(ctx, cur.Index, indexedmap.IfVersion(stale))
		return nil, expectErr(err, atomix.ErrConflict, "remove index %d if stale version", cur.Index)
	case 3:
		_, err := w.m.RemoveIndex(ctx, w.lastIndex+1)
		return nil, expectErr(err, atomix.ErrNotFound, "remove of index %d never assigned", w.lastIndex+1)
	case 4:
		e, err := w.m.Update(ctx, key, val, indexedmap.IfVersion(cur.Version))
		return w.updated(e, err, cur)
	case 5:
		e, err := w.m.Remove(ctx, key)
		return w.removed(e, err, cur)
	case 6:
		e, err := w.m.RemoveIndex(ctx, cur.Index, indexedmap.IfVersion(cur.Version))
		return w.removed(e, err, cur)
	case 7:
		e, err := w.m.RemoveIndex(ctx, cur.Index)
		return w.removed(e, err, cur)
	default:
		e, err := w.m.Update(ctx, key, val)
		return w.updated(e, err, cur)
	}
}

func (w *indexedMapWriter) updated(e indexedMapEntry, err error, was indexedMapEntry) ([]indexedMapEvent, error) {
	if err != nil {
		return nil, fmt.Errorf("update %q: %w", was.Key, err)
	}
	if e.Index != was.Index {
		return nil, fmt.Errorf("update %q moved it from index %d to %d", was.Key, was.Index, e.Index)
	}
	return w.written(e, indexedmap.EventUpdated, "update")
}

func (w *indexedMapWriter) written(e indexedMapEntry, typ indexedmap.EventType, op string) ([]indexedMapEvent, error) {
	if e.Version <= w.lastVersion {
		return nil, fmt.Errorf("%s %q: version %d not above the previous write's %d", op, e.Key, e.Version, w.lastVersion)
	}
	w.lastVersion = e.Version
	w.model[e.Key] = e
	return []indexedMapEvent{{Type: typ, Entry: e}}, nil
}

func (w *indexedMapWriter) removed(e indexedMapEntry, err error, was indexedMapEntry) ([]indexedMapEvent, error) {
	if err != nil {
		return nil, fmt.Errorf("remove %q at %d: %w", was.Key, was.Index, err)
	}
	if e != was {
		return nil, fmt.Errorf("remove %q returned %+v, the entry was %+v", was.Key, e, was)
	}
	delete(w.model, e.Key)
	return []indexedMapEvent{{Type: indexedmap.EventRemoved, Entry: was}}, nil
}

// indexedMapModel is an indexed map as a watcher rebuilds it from events.
//
// Its appends need not come in index order: an append merged with later
// updates of its entry carries the version of the last update, and events
// come in version order, so an entry appended before another may be
// reported after it. What merging cannot change is that an index is never
// given to a second entry.
type indexedMapModel struct {
	entries   map[string]indexedMapEntry
	used      map[uint64]bool // every index an applied insertion had
	lastWrite uint64          // the version of the last insert or update applied
}

func (m *indexedMapModel) apply(ev indexedMapEvent) error {
	e := ev.Entry
	cur, present := m.entries[e.Key]
	switch ev.Type {
	case indexedmap.EventInserted, indexedmap.EventUpdated:
		if present != (ev.Type == indexedmap.EventUpdated) {
			return fmt.Errorf("%v of key %q, which is present=%v", ev.Type, e.Key, present)
		}
		if e.Version <= m.lastWrite {
			return fmt.Errorf("%v of key %q at version %d, not above the last write's %d", ev.Type, e.Key, e.Version, m.lastWrite)
		}
		if present && e.Index != cur.Index {
			return fmt.Errorf("update of key %q moved it from index %d to %d", e.Key, cur.Index, e.Index)
		}
		if !present {
			if m.used[e.Index] {
				return fmt.Errorf("append of key %q at index %d, which an earlier entry had: indexes are not reused", e.Key, e.Index)
			}
			m.used[e.Index] = true
		}
		m.entries[e.Key], m.lastWrite = e, e.Version
	case indexedmap.EventRemoved:
		if !present || cur != e {
			return fmt.Errorf("removal of %+v, but the entry is %+v (present=%v)", e, cur, present)
		}
		delete(m.entries, e.Key)
	default:
		return fmt.Errorf("unknown event type %v", ev.Type)
	}
	return nil
}

func (m *indexedMapModel) state() any { return maps.Clone(m.entries) }

package conformance

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/list"
)

type listEvent = list.Event[string]

func listWatchSpec() watchSpec[listEvent] {
	return watchSpec[listEvent]{
		feature:  FeatureList,
		newModel: func() watchModel[listEvent] { return &listModel{} },
		open: func(ctx context.Context, c *atomix.Client, name string) (watcher[listEvent], error) {
			return atomix.GetList[string](ctx, name, atomix.WithClient(c))
		},
		newWriter: func(ctx context.Context, c *atomix.Client, name string) (writeStep[listEvent], error) {
			l, err := atomix.GetList[string](ctx, name, atomix.WithClient(c))
			if err != nil {
				return nil, err
			}
			w := &listWriter{l: l, rnd: rand.New(rand.NewPCG(4, 4))}
			return w.step, nil
		},
	}
}

// listWriter appends, inserts, replaces and removes items at pseudo-random
// indexes, some of them out of range, and keeps a model of the list.
type listWriter struct {
	l     list.List[string]
	model []string
	rnd   *rand.Rand
}

func (w *listWriter) step(ctx context.Context, i int) ([]listEvent, error) {
	val := fmt.Sprintf("i%d", i)
	n := len(w.model)
	op := w.rnd.IntN(7)
	switch {
	case n >= 20:
		op = 3 // keep the list short
	case n == 0 && op < 5:
		op = op % 2 // only Append and Insert make sense
	}
	switch op {
	case 0:
		idx, err := w.l.Append(ctx, val)
		if err != nil {
			return nil, fmt.Errorf("append: %w", err)
		}
		if idx != n {
			return nil, fmt.Errorf("append to a list of %d returned index %d", n, idx)
		}
		w.model = append(w.model, val)
		return []listEvent{{Type: list.EventInserted, Index: idx, Value: val}}, nil
	case 1:
		idx := w.rnd.IntN(n + 1)
		if err := w.l.Insert(ctx, idx, val); err != nil {
			return nil, fmt.Errorf("insert at %d of %d: %w", idx, n, err)
		}
		w.model = slices.Insert(w.model, idx, val)
		return []listEvent{{Type: list.EventInserted, Index: idx, Value: val}}, nil
	case 2:
		idx := w.rnd.IntN(n)
		old, err := w.l.Set(ctx, idx, val)
		if err != nil {
			return nil, fmt.Errorf("set at %d of %d: %w", idx, n, err)
		}
		if old != w.model[idx] {
			return nil, fmt.Errorf("set at %d returned %q, the item was %q", idx, old, w.model[idx])
		}
		w.model[idx] = val
		return []listEvent{{Type: list.EventUpdated, Index: idx, Value: val}}, nil
	case 3, 4:
		idx := w.rnd.IntN(n)
		item, err := w.l.Remove(ctx, idx)
		if err != nil {
			return nil, fmt.Errorf("remove at %d of %d: %w", idx, n, err)
		}
		if item != w.model[idx] {
			return nil, fmt.Errorf("remove at %d returned %q, the item was %q", idx, item, w.model[idx])
		}
		w.model = slices.Delete(w.model, idx, idx+1)
		return []listEvent{{Type: list.EventRemoved, Index: idx, Value: item}}, nil
	case 5:
		return nil, expectErr(w.l.Insert(ctx, n+1, val), atomix.ErrNotFound, "insert past the end")
	default:
		_, err := w.l.Set(ctx, n, val)
		return nil, expectErr(err, atomix.ErrNotFound, "set past the end")
	}
}

// listModel is a list as a watcher rebuilds it from events, applying each
// at its index.
type listModel struct{ items []string }

func (m *listModel) apply(ev listEvent) error {
	n := len(m.items)
	switch ev.Type {
	case list.EventInserted:
		if ev.Index < 0 || ev.Index > n {
			return fmt.Errorf("insertion at %d in a list of %d", ev.Index, n)
		}
		m.items = slices.Insert(m.items, ev.Index, ev.Value)
	case list.EventUpdated:
		if ev.Index < 0 || ev.Index >= n {
			return fmt.Errorf("update at %d in a list of %d", ev.Index, n)
		}
		m.items[ev.Index] = ev.Value
	case list.EventRemoved:
		if ev.Index < 0 || ev.Index >= n {
			return fmt.Errorf("removal at %d in a list of %d", ev.Index, n)
		}
		if m.items[ev.Index] != ev.Value {
			return fmt.Errorf("removal of %q at %d, but the item there is %q", ev.Value, ev.Index, m.items[ev.Index])
		}
		m.items = slices.Delete(m.items, ev.Index, ev.Index+1)
	default:
		return fmt.Errorf("unknown event type %v", ev.Type)
	}
	return nil
}

// state returns the items, nil when there are none.
func (m *listModel) state() any {
	if len(m.items) == 0 {
		return []string(nil)
	}
	return slices.Clone(m.items)
}

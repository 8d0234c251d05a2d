package conformance

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/set"
)

type setEvent = set.Event[string]

func setWatchSpec() watchSpec[setEvent] {
	return watchSpec[setEvent]{
		feature:  FeatureSet,
		newModel: func() watchModel[setEvent] { return setModel{} },
		open: func(ctx context.Context, c *atomix.Client, name string) (watcher[setEvent], error) {
			return atomix.GetSet[string](ctx, name, atomix.WithClient(c))
		},
		newWriter: func(ctx context.Context, c *atomix.Client, name string) (writeStep[setEvent], error) {
			s, err := atomix.GetSet[string](ctx, name, atomix.WithClient(c))
			if err != nil {
				return nil, err
			}
			w := &setWriter{s: s, model: map[string]bool{}, rnd: rand.New(rand.NewPCG(2, 2))}
			return w.step, nil
		},
	}
}

// setWriter adds and removes pseudo-random elements, present or not, and
// knows which calls change the set.
type setWriter struct {
	s     set.Set[string]
	model map[string]bool
	rnd   *rand.Rand
}

func (w *setWriter) step(ctx context.Context, _ int) ([]setEvent, error) {
	el := fmt.Sprintf("e%02d", w.rnd.IntN(16))
	present := w.model[el]
	if w.rnd.IntN(2) == 0 {
		added, err := w.s.Add(ctx, el)
		if err != nil {
			return nil, fmt.Errorf("add %q: %w", el, err)
		}
		if added == present {
			return nil, fmt.Errorf("add %q returned %v with the element present=%v", el, added, present)
		}
		if !added {
			return nil, nil
		}
		w.model[el] = true
		return []setEvent{{Type: set.EventAdded, Element: el}}, nil
	}
	removed, err := w.s.Remove(ctx, el)
	if err != nil {
		return nil, fmt.Errorf("remove %q: %w", el, err)
	}
	if removed != present {
		return nil, fmt.Errorf("remove %q returned %v with the element present=%v", el, removed, present)
	}
	if !removed {
		return nil, nil
	}
	delete(w.model, el)
	return []setEvent{{Type: set.EventRemoved, Element: el}}, nil
}

// setModel is a set as a watcher rebuilds it from events.
type setModel map[string]bool

func (m setModel) apply(ev setEvent) error {
	switch ev.Type {
	case set.EventAdded, set.EventRemoved:
		if m[ev.Element] != (ev.Type == set.EventRemoved) {
			return fmt.Errorf("%v of %q, which is present=%v", ev.Type, ev.Element, m[ev.Element])
		}
		if ev.Type == set.EventAdded {
			m[ev.Element] = true
		} else {
			delete(m, ev.Element)
		}
		return nil
	}
	return fmt.Errorf("unknown event type %v", ev.Type)
}

func (m setModel) state() any { return maps.Clone(m) }

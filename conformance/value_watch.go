package conformance

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/value"
)

type valueEvent = value.Event[string]

func valueWatchSpec() watchSpec[valueEvent] {
	return watchSpec[valueEvent]{
		feature:  FeatureValue,
		newModel: func() watchModel[valueEvent] { return &valueModel{} },
		open: func(ctx context.Context, c *atomix.Client, name string) (watcher[valueEvent], error) {
			return atomix.GetValue[string](ctx, name, atomix.WithClient(c))
		},
		newWriter: func(ctx context.Context, c *atomix.Client, name string) (writeStep[valueEvent], error) {
			v, err := atomix.GetValue[string](ctx, name, atomix.WithClient(c))
			if err != nil {
				return nil, err
			}
			w := &valueWriter{v: v, rnd: rand.New(rand.NewPCG(3, 3))}
			return w.step, nil
		},
	}
}

// valueWriter sets and deletes a value, with and without (failing)
// preconditions, and knows what each call must cause.
type valueWriter struct {
	v       value.Value[string]
	present bool
	cur     string
	version uint64 // of cur while present; the last version written
	rnd     *rand.Rand
}

func (w *valueWriter) step(ctx context.Context, i int) ([]valueEvent, error) {
	val := fmt.Sprintf("v%d", i)
	stale := w.version + 1 // never the current version
	switch op := w.rnd.IntN(6); {
	case op == 0 && w.present:
		return nil, expectErr(w.v.Delete(ctx, value.IfVersion(stale)), atomix.ErrConflict, "delete if stale version")
	case op == 1:
		_, err := w.v.Set(ctx, val, value.IfVersion(stale))
		return nil, expectErr(err, atomix.ErrConflict, "set if stale version")
	case op == 2 && w.present:
		return w.set(ctx, val, value.IfVersion(w.version))
	case op == 3 && !w.present:
		return nil, expectErr(w.v.Delete(ctx), atomix.ErrNotFound, "delete while absent")
	case op == 3 || op == 4 && w.present:
		was := valueEvent{Type: value.EventDeleted, Value: w.cur, Version: w.version}
		var err error
		if op == 3 {
			err = w.v.Delete(ctx)
		} else {
			err = w.v.Delete(ctx, value.IfVersion(w.version))
		}
		if err != nil {
			return nil, fmt.Errorf("delete: %w", err)
		}
		w.present = false
		return []valueEvent{was}, nil
	default:
		return w.set(ctx, val)
	}
}

func (w *valueWriter) set(ctx context.Context, val string, opts ...value.Option) ([]valueEvent, error) {
	version, err := w.v.Set(ctx, val, opts...)
	if err != nil {
		return nil, fmt.Errorf("set %q: %w", val, err)
	}
	if version <= w.version {
		return nil, fmt.Errorf("set %q: version %d not above the previous write's %d", val, version, w.version)
	}
	typ := value.EventCreated
	if w.present {
		typ = value.EventUpdated
	}
	w.present, w.cur, w.version = true, val, version
	return []valueEvent{{Type: typ, Value: val, Version: version}}, nil
}

// valueModel is a value as a watcher rebuilds it from events.
type valueModel struct {
	cur       valueState
	lastWrite uint64 // the version of the last create or update applied
}

// valueState is what a value holds; the zero value is absent.
type valueState struct {
	Present bool
	Value   string
	Version uint64
}

func (m *valueModel) apply(ev valueEvent) error {
	switch ev.Type {
	case value.EventCreated, value.EventUpdated:
		if m.cur.Present != (ev.Type == value.EventUpdated) {
			return fmt.Errorf("%v of a value that is present=%v", ev.Type, m.cur.Present)
		}
		if ev.Version <= m.lastWrite {
			return fmt.Errorf("%v at version %d, not above the last write's %d", ev.Type, ev.Version, m.lastWrite)
		}
		m.cur, m.lastWrite = valueState{Present: true, Value: ev.Value, Version: ev.Version}, ev.Version
	case value.EventDeleted:
		was := valueState{Present: true, Value: ev.Value, Version: ev.Version}
		if m.cur != was {
			return fmt.Errorf("deletion of %+v, but the value is %+v", was, m.cur)
		}
		m.cur = valueState{}
	default:
		return fmt.Errorf("unknown event type %v", ev.Type)
	}
	return nil
}

func (m *valueModel) state() any { return m.cur }

package atomix

import (
	"context"
	"fmt"
	"iter"

	"github.com/atomix/go-client/atomix/generic"
	"github.com/atomix/go-client/atomix/internal/watch"
	"github.com/atomix/go-client/atomix/primitive"
	"github.com/atomix/go-client/atomix/set"
	"github.com/atomix/go-client/driver"
)

// GetSet opens the set called name with the client of WithClient, else the
// default client. Elements are encoded with the codec of
// set.WithElementType; without it string and []byte use their plain codecs
// and any other type JSON. Elements are equal when their encodings are.
func GetSet[E any](ctx context.Context, name string, opts ...primitive.Option) (set.Set[E], error) {
	o, err := begin(kindSet, name, opts, "element")
	if err != nil {
		return nil, err
	}
	elements, err := generic.Resolve[E]("element", o.opts.Codecs["element"])
	if err != nil {
		return nil, o.failed(err)
	}
	if err := o.connect(ctx, nil); err != nil {
		return nil, err
	}
	d, err := o.driver.OpenSet(ctx, o.id)
	if err != nil {
		return nil, o.failed(err)
	}
	p := &setPrimitive[E]{d: d, elements: newKeyCodec(elements)}
	o.setup(&p.base)
	p.watches = watch.New(d.Watch, p.convert, &o.client.watched)
	if err := o.finish(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// setPrimitive implements set.Set over a driver.Set.
type setPrimitive[E any] struct {
	base
	d        driver.Set
	elements keyCodec[E]
	watches  *watch.Hub[driver.ElementEvent, set.Event[E]]
}

func (p *setPrimitive[E]) encode(e E) (string, error) {
	s, err := p.elements.encode(e)
	if err != nil {
		return "", err
	}
	if err := p.checkKey(len(s)); err != nil {
		return "", err
	}
	return s, nil
}

func (p *setPrimitive[E]) Add(ctx context.Context, e E, opts ...set.Option) (bool, error) {
	if !set.IsEphemeral(opts) {
		return p.call(ctx, opAdd, e)
	}
	if p.closed.Load() {
		return false, p.failKey(opAdd, e, errClosed)
	}
	s, err := p.encode(e)
	if err != nil {
		return false, p.failKey(opAdd, e, err)
	}
	cs, ok := p.d.(driver.ConditionalSet)
	if !ok {
		return false, p.failKey(opAdd, e, p.notConditional("ephemeral"))
	}
	w, err := p.writeWith(ctx, 0, true, nil, 0)
	if err != nil {
		return false, p.failKey(opAdd, e, err)
	}
	added, err := cs.AddWith(ctx, s, w)
	if err != nil {
		return false, p.failKey(opAdd, e, err)
	}
	return added, nil
}

func (p *setPrimitive[E]) Remove(ctx context.Context, e E) (bool, error) {
	return p.call(ctx, opRemove, e)
}

func (p *setPrimitive[E]) Contains(ctx context.Context, e E) (bool, error) {
	return p.call(ctx, opContains, e)
}

// The element operations of a set, named as error messages name them.
const (
	opAdd      = "add"
	opRemove   = "remove"
	opContains = "contains"
)

// call is Add, Remove and Contains.
func (p *setPrimitive[E]) call(ctx context.Context, op string, e E) (bool, error) {
	if p.closed.Load() {
		return false, p.failKey(op, e, errClosed)
	}
	s, err := p.encode(e)
	if err != nil {
		return false, p.failKey(op, e, err)
	}
	var ok bool
	switch op {
	case opAdd:
		ok, err = p.d.Add(ctx, s)
	case opRemove:
		ok, err = p.d.Remove(ctx, s)
	default:
		ok, err = p.d.Contains(ctx, s)
	}
	if err != nil {
		return false, p.failKey(op, e, err)
	}
	return ok, nil
}

func (p *setPrimitive[E]) Len(ctx context.Context) (int, error) { return p.length(ctx, p.d) }

func (p *setPrimitive[E]) Clear(ctx context.Context) error { return p.clear(ctx, p.d) }

func (p *setPrimitive[E]) Elements(ctx context.Context) iter.Seq2[E, error] {
	return func(yield func(E, error) bool) {
		var zero E
		if p.closed.Load() {
			yield(zero, p.fail("elements", errClosed))
			return
		}
		for s, err := range p.d.Elements(ctx) {
			if err != nil {
				yield(zero, p.fail("elements", err))
				return
			}
			e, err := p.elements.decode(s)
			if err != nil {
				yield(zero, p.failKey("elements", s, err))
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

func (p *setPrimitive[E]) Watch(ctx context.Context, ch chan<- set.Event[E]) error {
	if p.closed.Load() {
		return p.fail("watch", errClosed)
	}
	if err := p.watches.Watch(ctx, ch); err != nil {
		return p.fail("watch", err)
	}
	return nil
}

func (p *setPrimitive[E]) convert(ev driver.ElementEvent) (set.Event[E], error) {
	var out set.Event[E]
	switch ev.Type {
	case driver.EventInserted:
		out.Type = set.EventAdded
	case driver.EventRemoved:
		out.Type = set.EventRemoved
	default:
		return out, fmt.Errorf("unexpected set event type %v", ev.Type)
	}
	e, err := p.elements.decode(ev.Element)
	if err != nil {
		return out, err
	}
	out.Element = e
	return out, nil
}

func (p *setPrimitive[E]) Close(ctx context.Context) error {
	if !p.close(p) {
		return nil
	}
	p.watches.Close()
	if err := p.d.Close(ctx); err != nil {
		return p.fail("close", err)
	}
	return nil
}

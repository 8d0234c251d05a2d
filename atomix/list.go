package atomix

import (
	"context"
	"fmt"
	"iter"

	"github.com/atomix/go-client/atomix/generic"
	"github.com/atomix/go-client/atomix/internal/watch"
	"github.com/atomix/go-client/atomix/list"
	"github.com/atomix/go-client/atomix/primitive"
	"github.com/atomix/go-client/driver"
)

// GetList opens the list called name with the client of WithClient, else
// the default client. Items are encoded with the codec of
// list.WithElementType; without it string and []byte use their plain codecs
// and any other type JSON.
func GetList[E any](ctx context.Context, name string, opts ...primitive.Option) (list.List[E], error) {
	o, err := begin(kindList, name, opts, "element")
	if err != nil {
		return nil, err
	}
	codec, err := generic.Resolve[E]("element", o.opts.Codecs["element"])
	if err != nil {
		return nil, o.failed(err)
	}
	if err := o.connect(ctx, nil); err != nil {
		return nil, err
	}
	d, err := o.driver.OpenList(ctx, o.id)
	if err != nil {
		return nil, o.failed(err)
	}
	p := &listPrimitive[E]{d: d, codec: codec}
	o.setup(&p.base)
	p.watches = watch.New(d.Watch, p.convert, &o.client.watched)
	if err := o.finish(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// listPrimitive implements list.List over a driver.List.
type listPrimitive[E any] struct {
	base
	d       driver.List
	codec   generic.Codec[E]
	watches *watch.Hub[driver.ListEvent, list.Event[E]]
}

// encode encodes and size-checks an item.
func (p *listPrimitive[E]) encode(v E) ([]byte, error) {
	b, err := p.codec.Encode(v)
	if err != nil {
		return nil, err
	}
	if err := p.checkValue(len(b)); err != nil {
		return nil, err
	}
	return b, nil
}

// check reports why an operation cannot run at index, if it cannot.
func (p *listPrimitive[E]) check(index int) error {
	if p.closed.Load() {
		return errClosed
	}
	if index < 0 {
		return invalidf("negative index %d", index)
	}
	return nil
}

func (p *listPrimitive[E]) Append(ctx context.Context, v E) (int, error) {
	if p.closed.Load() {
		return 0, p.fail("append", errClosed)
	}
	b, err := p.encode(v)
	if err != nil {
		return 0, p.fail("append", err)
	}
	i, err := p.d.Append(ctx, b)
	if err != nil {
		return 0, p.fail("append", err)
	}
	return i, nil
}

func (p *listPrimitive[E]) Insert(ctx context.Context, index int, v E) error {
	if err := p.check(index); err != nil {
		return p.failKey("insert", index, err)
	}
	b, err := p.encode(v)
	if err != nil {
		return p.failKey("insert", index, err)
	}
	if err := p.d.Insert(ctx, index, b); err != nil {
		return p.failKey("insert", index, err)
	}
	return nil
}

func (p *listPrimitive[E]) Set(ctx context.Context, index int, v E) (E, error) {
	var zero E
	if err := p.check(index); err != nil {
		return zero, p.failKey("set", index, err)
	}
	b, err := p.encode(v)
	if err != nil {
		return zero, p.failKey("set", index, err)
	}
	old, err := p.d.Set(ctx, index, b)
	if err != nil {
		return zero, p.failKey("set", index, err)
	}
	return p.decode("set", index, old)
}

func (p *listPrimitive[E]) Get(ctx context.Context, index int) (E, error) {
	var zero E
	if err := p.check(index); err != nil {
		return zero, p.failKey("get", index, err)
	}
	b, err := p.d.Get(ctx, index)
	if err != nil {
		return zero, p.failKey("get", index, err)
	}
	return p.decode("get", index, b)
}

func (p *listPrimitive[E]) Remove(ctx context.Context, index int) (E, error) {
	var zero E
	if err := p.check(index); err != nil {
		return zero, p.failKey("remove", index, err)
	}
	b, err := p.d.Remove(ctx, index)
	if err != nil {
		return zero, p.failKey("remove", index, err)
	}
	return p.decode("remove", index, b)
}

// decode decodes the item that op at index returned.
func (p *listPrimitive[E]) decode(op string, index int, b []byte) (E, error) {
	v, err := p.codec.Decode(b)
	if err != nil {
		var zero E
		return zero, p.failKey(op, index, err)
	}
	return v, nil
}

func (p *listPrimitive[E]) Len(ctx context.Context) (int, error) { return p.length(ctx, p.d) }

func (p *listPrimitive[E]) Clear(ctx context.Context) error { return p.clear(ctx, p.d) }

func (p *listPrimitive[E]) Items(ctx context.Context) iter.Seq2[E, error] {
	return func(yield func(E, error) bool) {
		var zero E
		if p.closed.Load() {
			yield(zero, p.fail("items", errClosed))
			return
		}
		i := 0
		for b, err := range p.d.Items(ctx) {
			if err != nil {
				yield(zero, p.fail("items", err))
				return
			}
			v, err := p.codec.Decode(b)
			if err != nil {
				yield(zero, p.failKey("items", i, err))
				return
			}
			if !yield(v, nil) {
				return
			}
			i++
		}
	}
}

func (p *listPrimitive[E]) Watch(ctx context.Context, ch chan<- list.Event[E]) error {
	if p.closed.Load() {
		return p.fail("watch", errClosed)
	}
	if err := p.watches.Watch(ctx, ch); err != nil {
		return p.fail("watch", err)
	}
	return nil
}

func (p *listPrimitive[E]) convert(ev driver.ListEvent) (list.Event[E], error) {
	out := list.Event[E]{Index: ev.Index}
	var err error
	switch ev.Type {
	case driver.EventInserted:
		out.Type = list.EventInserted
		out.Value, err = p.codec.Decode(ev.Value)
	case driver.EventUpdated:
		out.Type = list.EventUpdated
		out.Value, err = p.codec.Decode(ev.Value)
	case driver.EventRemoved:
		out.Type = list.EventRemoved
		out.Value, err = decodeRemoved(p.codec, ev.Value)
	default:
		err = fmt.Errorf("unexpected list event type %v", ev.Type)
	}
	return out, err
}

func (p *listPrimitive[E]) Close(ctx context.Context) error {
	if !p.close(p) {
		return nil
	}
	p.watches.Close()
	if err := p.d.Close(ctx); err != nil {
		return p.fail("close", err)
	}
	return nil
}

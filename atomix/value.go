package atomix

import (
	"context"
	"fmt"

	"github.com/atomix/go-client/atomix/generic"
	"github.com/atomix/go-client/atomix/internal/watch"
	"github.com/atomix/go-client/atomix/primitive"
	"github.com/atomix/go-client/atomix/value"
	"github.com/atomix/go-client/driver"
)

// GetValue opens the value called name with the client of WithClient, else
// the default client. The value is encoded with the codec of
// value.WithType; without it string and []byte use their plain codecs and
// any other type JSON.
func GetValue[V any](ctx context.Context, name string, opts ...primitive.Option) (value.Value[V], error) {
	o, err := begin(kindValue, name, opts, "value")
	if err != nil {
		return nil, err
	}
	codec, err := generic.Resolve[V]("value", o.opts.Codecs["value"])
	if err != nil {
		return nil, o.failed(err)
	}
	if err := o.connect(ctx, nil); err != nil {
		return nil, err
	}
	d, err := o.driver.OpenValue(ctx, o.id)
	if err != nil {
		return nil, o.failed(err)
	}
	p := &valuePrimitive[V]{d: d, codec: codec}
	o.setup(&p.base)
	p.watches = watch.New(d.Watch, p.convert, &o.client.watched)
	if err := o.finish(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// valuePrimitive implements value.Value over a driver.Value.
type valuePrimitive[V any] struct {
	base
	d       driver.Value
	codec   generic.Codec[V]
	watches *watch.Hub[driver.ValueEvent, value.Event[V]]
}

func (p *valuePrimitive[V]) Set(ctx context.Context, v V, opts ...value.Option) (uint64, error) {
	if p.closed.Load() {
		return 0, p.fail("set", errClosed)
	}
	b, err := p.codec.Encode(v)
	if err != nil {
		return 0, p.fail("set", err)
	}
	if err := p.checkValue(len(b)); err != nil {
		return 0, p.fail("set", err)
	}
	var version uint64
	if f := value.FenceOf(opts); f != nil {
		var cv driver.ConditionalValue
		var w driver.Write
		if cv, w, err = p.fenced(ctx, opts, f); err != nil {
			return 0, p.fail("set", err)
		}
		version, err = cv.SetWith(ctx, b, w)
	} else {
		version, err = p.d.Set(ctx, b, value.Version(opts))
	}
	if err != nil {
		return 0, p.fail("set", err)
	}
	return version, nil
}

func (p *valuePrimitive[V]) Get(ctx context.Context) (V, uint64, error) {
	var zero V
	if p.closed.Load() {
		return zero, 0, p.fail("get", errClosed)
	}
	b, version, err := p.d.Get(ctx)
	if err != nil {
		return zero, 0, p.fail("get", err)
	}
	v, err := p.codec.Decode(b)
	if err != nil {
		return zero, 0, p.fail("get", err)
	}
	return v, version, nil
}

func (p *valuePrimitive[V]) Delete(ctx context.Context, opts ...value.Option) error {
	if p.closed.Load() {
		return p.fail("delete", errClosed)
	}
	var err error
	if f := value.FenceOf(opts); f != nil {
		var cv driver.ConditionalValue
		var w driver.Write
		if cv, w, err = p.fenced(ctx, opts, f); err != nil {
			return p.fail("delete", err)
		}
		err = cv.DeleteWith(ctx, w)
	} else {
		err = p.d.Delete(ctx, value.Version(opts))
	}
	if err != nil {
		return p.fail("delete", err)
	}
	return nil
}

// fenced makes the driver write of a fenced Set or Delete.
func (p *valuePrimitive[V]) fenced(ctx context.Context, opts []value.Option, f *value.Fence) (driver.ConditionalValue, driver.Write, error) {
	cv, ok := p.d.(driver.ConditionalValue)
	if !ok {
		return nil, driver.Write{}, p.notConditional("fenced")
	}
	if f.Lock == nil {
		return nil, driver.Write{}, invalidf("value.Fenced with a nil lock")
	}
	w, err := p.writeWith(ctx, value.Version(opts), false, f.Lock, f.Version)
	return cv, w, err
}

func (p *valuePrimitive[V]) Watch(ctx context.Context, ch chan<- value.Event[V]) error {
	if p.closed.Load() {
		return p.fail("watch", errClosed)
	}
	if err := p.watches.Watch(ctx, ch); err != nil {
		return p.fail("watch", err)
	}
	return nil
}

func (p *valuePrimitive[V]) convert(ev driver.ValueEvent) (value.Event[V], error) {
	out := value.Event[V]{Version: ev.Version}
	var err error
	switch ev.Type {
	case driver.EventInserted:
		out.Type = value.EventCreated
		out.Value, err = p.codec.Decode(ev.Value)
	case driver.EventUpdated:
		out.Type = value.EventUpdated
		out.Value, err = p.codec.Decode(ev.Value)
	case driver.EventRemoved:
		out.Type = value.EventDeleted
		out.Value, err = decodeRemoved(p.codec, ev.Value)
	default:
		err = fmt.Errorf("unexpected value event type %v", ev.Type)
	}
	return out, err
}

func (p *valuePrimitive[V]) Close(ctx context.Context) error {
	if !p.close(p) {
		return nil
	}
	p.watches.Close()
	if err := p.d.Close(ctx); err != nil {
		return p.fail("close", err)
	}
	return nil
}

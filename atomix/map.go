package atomix

import (
	"context"
	"fmt"
	"iter"

	"github.com/atomix/go-client/atomix/generic"
	"github.com/atomix/go-client/atomix/internal/watch"
	"github.com/atomix/go-client/atomix/lock"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/atomix/primitive"
	"github.com/atomix/go-client/driver"
)

// GetMap opens the map called name with the client of WithClient, else the
// default client. Keys and values are encoded with the codecs of
// _map.WithKeyType and _map.WithValueType; without them string and []byte
// use their plain codecs and any other type JSON. A codec of another type
// than K or V is an error wrapping ErrInvalid.
func GetMap[K, V any](ctx context.Context, name string, opts ...primitive.Option) (_map.Map[K, V], error) {
	o, err := begin(kindMap, name, opts, "key", "value")
	if err != nil {
		return nil, err
	}
	keys, err := generic.Resolve[K]("key", o.opts.Codecs["key"])
	if err != nil {
		return nil, o.failed(err)
	}
	values, err := generic.Resolve[V]("value", o.opts.Codecs["value"])
	if err != nil {
		return nil, o.failed(err)
	}
	if err := o.connect(ctx, nil); err != nil {
		return nil, err
	}
	d, err := o.driver.OpenMap(ctx, o.id)
	if err != nil {
		return nil, o.failed(err)
	}
	p := &mapPrimitive[K, V]{d: d, keys: newKeyCodec(keys), values: values}
	o.setup(&p.base)
	p.watches = watch.New(d.Watch, p.convert, &o.client.watched)
	if err := o.finish(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// mapPrimitive implements _map.Map over a driver.Map.
type mapPrimitive[K, V any] struct {
	base
	d       driver.Map
	keys    keyCodec[K]
	values  generic.Codec[V]
	watches *watch.Hub[driver.EntryEvent, _map.Event[K, V]]
}

// encode encodes and size-checks a key and a value.
func (p *mapPrimitive[K, V]) encode(key K, value V) (string, []byte, error) {
	k, err := p.encodeKey(key)
	if err != nil {
		return "", nil, err
	}
	v, err := p.values.Encode(value)
	if err != nil {
		return "", nil, err
	}
	if err := p.checkValue(len(v)); err != nil {
		return "", nil, err
	}
	return k, v, nil
}

func (p *mapPrimitive[K, V]) encodeKey(key K) (string, error) {
	k, err := p.keys.encode(key)
	if err != nil {
		return "", err
	}
	if err := p.checkKey(len(k)); err != nil {
		return "", err
	}
	return k, nil
}

// entry makes the entry of key from a driver entry, decoding its value.
func (p *mapPrimitive[K, V]) entry(key K, e driver.Entry) (_map.Entry[K, V], error) {
	v, err := p.values.Decode(e.Value)
	if err != nil {
		return _map.Entry[K, V]{}, err
	}
	return _map.Entry[K, V]{Key: key, Value: v, Version: e.Version}, nil
}

func (p *mapPrimitive[K, V]) Put(ctx context.Context, key K, value V, opts ..._map.Option) (_map.Entry[K, V], error) {
	return p.write(ctx, opPut, key, value, _map.Apply(opts))
}

func (p *mapPrimitive[K, V]) Insert(ctx context.Context, key K, value V, opts ..._map.Option) (_map.Entry[K, V], error) {
	return p.write(ctx, opInsert, key, value, _map.Apply(opts))
}

func (p *mapPrimitive[K, V]) Update(ctx context.Context, key K, value V, opts ..._map.Option) (_map.Entry[K, V], error) {
	return p.write(ctx, opUpdate, key, value, _map.Apply(opts))
}

var (
	errInsertVersion   = invalidf("_map.IfVersion does not apply to Insert (only Ephemeral and Fenced do)")
	errRemoveEphemeral = invalidf("_map.Ephemeral does not apply to Remove")
)

// conditional makes the driver write of the options when they ask for an
// ephemeral or fenced write; ok is false for a plain write.
func (p *mapPrimitive[K, V]) conditional(ctx context.Context, s _map.Settings) (driver.ConditionalMap, driver.Write, bool, error) {
	if !s.Ephemeral && s.Fence == nil {
		return nil, driver.Write{}, false, nil
	}
	cm, ok := p.d.(driver.ConditionalMap)
	if !ok {
		return nil, driver.Write{}, true, p.notConditional("ephemeral or fenced")
	}
	var l lock.Lock
	var version uint64
	if s.Fence != nil {
		l, version = s.Fence.Lock, s.Fence.Version
		if l == nil {
			return nil, driver.Write{}, true, invalidf("_map.Fenced with a nil lock")
		}
	}
	w, err := p.writeWith(ctx, s.Version, s.Ephemeral, l, version)
	return cm, w, true, err
}

// The writes of a map, named as error messages name them.
const (
	opPut    = "put"
	opInsert = "insert"
	opUpdate = "update"
)

// mapOps maps the writes to the driver's names of them.
var mapOps = map[string]driver.MapOp{
	opPut: driver.MapPut, opInsert: driver.MapInsert, opUpdate: driver.MapUpdate, opRemove: driver.MapRemove,
}

// write is Put, Insert and Update. The entry returned holds the caller's
// key and value: the codec guarantees they decode from what was stored.
func (p *mapPrimitive[K, V]) write(ctx context.Context, op string, key K, value V, s _map.Settings) (_map.Entry[K, V], error) {
	if p.closed.Load() {
		return _map.Entry[K, V]{}, p.failKey(op, key, errClosed)
	}
	if op == opInsert && s.Version != 0 {
		return _map.Entry[K, V]{}, p.failKey(op, key, errInsertVersion)
	}
	k, v, err := p.encode(key, value)
	if err != nil {
		return _map.Entry[K, V]{}, p.failKey(op, key, err)
	}
	cm, w, cond, err := p.conditional(ctx, s)
	if err != nil {
		return _map.Entry[K, V]{}, p.failKey(op, key, err)
	}
	var e driver.Entry
	switch {
	case cond:
		e, err = cm.WriteWith(ctx, mapOps[op], k, v, w)
	case op == opPut:
		e, err = p.d.Put(ctx, k, v, s.Version)
	case op == opInsert:
		e, err = p.d.Insert(ctx, k, v)
	default:
		e, err = p.d.Update(ctx, k, v, s.Version)
	}
	if err != nil {
		return _map.Entry[K, V]{}, p.failKey(op, key, err)
	}
	return _map.Entry[K, V]{Key: key, Value: value, Version: e.Version}, nil
}

func (p *mapPrimitive[K, V]) Get(ctx context.Context, key K) (_map.Entry[K, V], error) {
	if p.closed.Load() {
		return _map.Entry[K, V]{}, p.failKey("get", key, errClosed)
	}
	k, err := p.encodeKey(key)
	if err != nil {
		return _map.Entry[K, V]{}, p.failKey("get", key, err)
	}
	e, err := p.d.Get(ctx, k)
	if err != nil {
		return _map.Entry[K, V]{}, p.failKey("get", key, err)
	}
	entry, err := p.entry(key, e)
	if err != nil {
		return _map.Entry[K, V]{}, p.failKey("get", key, err)
	}
	return entry, nil
}

func (p *mapPrimitive[K, V]) Remove(ctx context.Context, key K, opts ..._map.Option) (_map.Entry[K, V], error) {
	if p.closed.Load() {
		return _map.Entry[K, V]{}, p.failKey("remove", key, errClosed)
	}
	k, err := p.encodeKey(key)
	if err != nil {
		return _map.Entry[K, V]{}, p.failKey("remove", key, err)
	}
	s := _map.Apply(opts)
	if s.Ephemeral {
		return _map.Entry[K, V]{}, p.failKey("remove", key, errRemoveEphemeral)
	}
	cm, w, cond, err := p.conditional(ctx, s)
	if err != nil {
		return _map.Entry[K, V]{}, p.failKey("remove", key, err)
	}
	var e driver.Entry
	if cond {
		e, err = cm.WriteWith(ctx, driver.MapRemove, k, nil, w)
	} else {
		e, err = p.d.Remove(ctx, k, s.Version)
	}
	if err != nil {
		return _map.Entry[K, V]{}, p.failKey("remove", key, err)
	}
	entry, err := p.entry(key, e)
	if err != nil {
		return _map.Entry[K, V]{}, p.failKey("remove", key, err)
	}
	return entry, nil
}

func (p *mapPrimitive[K, V]) Len(ctx context.Context) (int, error) { return p.length(ctx, p.d) }

func (p *mapPrimitive[K, V]) Clear(ctx context.Context) error { return p.clear(ctx, p.d) }

func (p *mapPrimitive[K, V]) Entries(ctx context.Context) iter.Seq2[_map.Entry[K, V], error] {
	return func(yield func(_map.Entry[K, V], error) bool) {
		if p.closed.Load() {
			yield(_map.Entry[K, V]{}, p.fail("entries", errClosed))
			return
		}
		for e, err := range p.d.Entries(ctx) {
			if err != nil {
				yield(_map.Entry[K, V]{}, p.fail("entries", err))
				return
			}
			k, err := p.keys.decode(e.Key)
			if err != nil {
				yield(_map.Entry[K, V]{}, p.failKey("entries", e.Key, err))
				return
			}
			entry, err := p.entry(k, e)
			if err != nil {
				yield(_map.Entry[K, V]{}, p.failKey("entries", e.Key, err))
				return
			}
			if !yield(entry, nil) {
				return
			}
		}
	}
}

func (p *mapPrimitive[K, V]) Keys(ctx context.Context) iter.Seq2[K, error] {
	return func(yield func(K, error) bool) {
		var zero K
		if p.closed.Load() {
			yield(zero, p.fail("keys", errClosed))
			return
		}
		for e, err := range p.d.Entries(ctx) {
			if err != nil {
				yield(zero, p.fail("keys", err))
				return
			}
			k, err := p.keys.decode(e.Key)
			if err != nil {
				yield(zero, p.failKey("keys", e.Key, err))
				return
			}
			if !yield(k, nil) {
				return
			}
		}
	}
}

func (p *mapPrimitive[K, V]) Watch(ctx context.Context, ch chan<- _map.Event[K, V]) error {
	if p.closed.Load() {
		return p.fail("watch", errClosed)
	}
	if err := p.watches.Watch(ctx, ch); err != nil {
		return p.fail("watch", err)
	}
	return nil
}

// convert decodes a driver event for the watchers.
func (p *mapPrimitive[K, V]) convert(ev driver.EntryEvent) (_map.Event[K, V], error) {
	var out _map.Event[K, V]
	switch ev.Type {
	case driver.EventInserted:
		out.Type = _map.EventInserted
	case driver.EventUpdated:
		out.Type = _map.EventUpdated
	case driver.EventRemoved:
		out.Type = _map.EventRemoved
	default:
		return out, fmt.Errorf("unexpected map event type %v", ev.Type)
	}
	k, err := p.keys.decode(ev.Entry.Key)
	if err != nil {
		return out, err
	}
	var v V
	if ev.Type == driver.EventRemoved {
		v, err = decodeRemoved(p.values, ev.Entry.Value)
	} else {
		v, err = p.values.Decode(ev.Entry.Value)
	}
	if err != nil {
		return out, err
	}
	out.Entry = _map.Entry[K, V]{Key: k, Value: v, Version: ev.Entry.Version}
	return out, nil
}

func (p *mapPrimitive[K, V]) Close(ctx context.Context) error {
	if !p.close(p) {
		return nil
	}
	p.watches.Close()
	if err := p.d.Close(ctx); err != nil {
		return p.fail("close", err)
	}
	return nil
}

package atomix

import (
	"context"
	"fmt"
	"iter"

	"github.com/atomix/go-client/atomix/generic"
	"github.com/atomix/go-client/atomix/indexedmap"
	"github.com/atomix/go-client/atomix/internal/watch"
	"github.com/atomix/go-client/atomix/primitive"
	"github.com/atomix/go-client/driver"
)

// GetIndexedMap opens the indexed map called name with the client of
// WithClient, else the default client. Keys and values are encoded with the
// codecs of indexedmap.WithKeyType and indexedmap.WithValueType; without
// them string and []byte use their plain codecs and any other type JSON.
func GetIndexedMap[K, V any](ctx context.Context, name string, opts ...primitive.Option) (indexedmap.IndexedMap[K, V], error) {
	o, err := begin(kindIndexedMap, name, opts, "key", "value")
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
	d, err := o.driver.OpenIndexedMap(ctx, o.id)
	if err != nil {
		return nil, o.failed(err)
	}
	p := &indexedMapPrimitive[K, V]{d: d, keys: newKeyCodec(keys), values: values}
	o.setup(&p.base)
	p.watches = watch.New(d.Watch, p.convert, &o.client.watched)
	if err := o.finish(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// indexedMapPrimitive implements indexedmap.IndexedMap over a
// driver.IndexedMap.
type indexedMapPrimitive[K, V any] struct {
	base
	d       driver.IndexedMap
	keys    keyCodec[K]
	values  generic.Codec[V]
	watches *watch.Hub[driver.EntryEvent, indexedmap.Event[K, V]]
}

type imEntry[K, V any] = indexedmap.Entry[K, V]

func (p *indexedMapPrimitive[K, V]) encodeKey(key K) (string, error) {
	k, err := p.keys.encode(key)
	if err != nil {
		return "", err
	}
	if err := p.checkKey(len(k)); err != nil {
		return "", err
	}
	return k, nil
}

func (p *indexedMapPrimitive[K, V]) encodeValue(v V) ([]byte, error) {
	b, err := p.values.Encode(v)
	if err != nil {
		return nil, err
	}
	if err := p.checkValue(len(b)); err != nil {
		return nil, err
	}
	return b, nil
}

// entry makes the entry of key from a driver entry, decoding its value.
func (p *indexedMapPrimitive[K, V]) entry(key K, e driver.Entry) (imEntry[K, V], error) {
	v, err := p.values.Decode(e.Value)
	if err != nil {
		return imEntry[K, V]{}, err
	}
	return imEntry[K, V]{Key: key, Index: e.Index, Value: v, Version: e.Version}, nil
}

// decode makes an entry from a driver entry, decoding its key and value.
func (p *indexedMapPrimitive[K, V]) decode(e driver.Entry) (imEntry[K, V], error) {
	k, err := p.keys.decode(e.Key)
	if err != nil {
		return imEntry[K, V]{}, err
	}
	return p.entry(k, e)
}

func (p *indexedMapPrimitive[K, V]) Append(ctx context.Context, key K, value V) (imEntry[K, V], error) {
	return p.write(ctx, "append", key, value, 0)
}

func (p *indexedMapPrimitive[K, V]) Update(ctx context.Context, key K, value V, opts ...indexedmap.Option) (imEntry[K, V], error) {
	return p.write(ctx, "update", key, value, indexedmap.Version(opts))
}

// write is Append and Update; the entry returned holds the caller's key and
// value.
func (p *indexedMapPrimitive[K, V]) write(ctx context.Context, op string, key K, value V, ifVersion uint64) (imEntry[K, V], error) {
	if p.closed.Load() {
		return imEntry[K, V]{}, p.failKey(op, key, errClosed)
	}
	k, err := p.encodeKey(key)
	if err != nil {
		return imEntry[K, V]{}, p.failKey(op, key, err)
	}
	v, err := p.encodeValue(value)
	if err != nil {
		return imEntry[K, V]{}, p.failKey(op, key, err)
	}
	var e driver.Entry
	if op == "append" {
		e, err = p.d.Append(ctx, k, v)
	} else {
		e, err = p.d.Update(ctx, k, v, ifVersion)
	}
	if err != nil {
		return imEntry[K, V]{}, p.failKey(op, key, err)
	}
	return imEntry[K, V]{Key: key, Index: e.Index, Value: value, Version: e.Version}, nil
}

func (p *indexedMapPrimitive[K, V]) Get(ctx context.Context, key K) (imEntry[K, V], error) {
	return p.byKey(ctx, "get", key, 0)
}

func (p *indexedMapPrimitive[K, V]) Remove(ctx context.Context, key K, opts ...indexedmap.Option) (imEntry[K, V], error) {
	return p.byKey(ctx, "remove", key, indexedmap.Version(opts))
}

// byKey is Get and Remove.
func (p *indexedMapPrimitive[K, V]) byKey(ctx context.Context, op string, key K, ifVersion uint64) (imEntry[K, V], error) {
	if p.closed.Load() {
		return imEntry[K, V]{}, p.failKey(op, key, errClosed)
	}
	k, err := p.encodeKey(key)
	if err != nil {
		return imEntry[K, V]{}, p.failKey(op, key, err)
	}
	var e driver.Entry
	if op == "get" {
		e, err = p.d.Get(ctx, k)
	} else {
		e, err = p.d.Remove(ctx, k, ifVersion)
	}
	if err != nil {
		return imEntry[K, V]{}, p.failKey(op, key, err)
	}
	entry, err := p.entry(key, e)
	if err != nil {
		return imEntry[K, V]{}, p.failKey(op, key, err)
	}
	return entry, nil
}

// The operations by index, named as error messages name them.
const (
	opGetIndex    = "get-index"
	opRemoveIndex = "remove-index"
	opPrevEntry   = "prev-entry"
	opNextEntry   = "next-entry"
	opFirstEntry  = "first-entry"
	opLastEntry   = "last-entry"
)

func (p *indexedMapPrimitive[K, V]) GetIndex(ctx context.Context, index uint64) (imEntry[K, V], error) {
	return p.byIndex(ctx, opGetIndex, index, 0)
}

func (p *indexedMapPrimitive[K, V]) RemoveIndex(ctx context.Context, index uint64, opts ...indexedmap.Option) (imEntry[K, V], error) {
	return p.byIndex(ctx, opRemoveIndex, index, indexedmap.Version(opts))
}

func (p *indexedMapPrimitive[K, V]) PrevEntry(ctx context.Context, index uint64) (imEntry[K, V], error) {
	return p.byIndex(ctx, opPrevEntry, index, 0)
}

func (p *indexedMapPrimitive[K, V]) NextEntry(ctx context.Context, index uint64) (imEntry[K, V], error) {
	return p.byIndex(ctx, opNextEntry, index, 0)
}

// byIndex is the operations that take an index.
func (p *indexedMapPrimitive[K, V]) byIndex(ctx context.Context, op string, index, ifVersion uint64) (imEntry[K, V], error) {
	if p.closed.Load() {
		return imEntry[K, V]{}, p.failKey(op, index, errClosed)
	}
	var e driver.Entry
	var err error
	switch op {
	case opGetIndex:
		e, err = p.d.GetIndex(ctx, index)
	case opRemoveIndex:
		e, err = p.d.RemoveIndex(ctx, index, ifVersion)
	case opPrevEntry:
		e, err = p.d.Prev(ctx, index)
	default:
		e, err = p.d.Next(ctx, index)
	}
	if err != nil {
		return imEntry[K, V]{}, p.failKey(op, index, err)
	}
	entry, err := p.decode(e)
	if err != nil {
		return imEntry[K, V]{}, p.failKey(op, index, err)
	}
	return entry, nil
}

func (p *indexedMapPrimitive[K, V]) FirstEntry(ctx context.Context) (imEntry[K, V], error) {
	return p.end(ctx, opFirstEntry)
}

func (p *indexedMapPrimitive[K, V]) LastEntry(ctx context.Context) (imEntry[K, V], error) {
	return p.end(ctx, opLastEntry)
}

// end is FirstEntry and LastEntry.
func (p *indexedMapPrimitive[K, V]) end(ctx context.Context, op string) (imEntry[K, V], error) {
	if p.closed.Load() {
		return imEntry[K, V]{}, p.fail(op, errClosed)
	}
	var e driver.Entry
	var err error
	if op == opFirstEntry {
		e, err = p.d.First(ctx)
	} else {
		e, err = p.d.Last(ctx)
	}
	if err != nil {
		return imEntry[K, V]{}, p.fail(op, err)
	}
	entry, err := p.decode(e)
	if err != nil {
		return imEntry[K, V]{}, p.fail(op, err)
	}
	return entry, nil
}

func (p *indexedMapPrimitive[K, V]) Len(ctx context.Context) (int, error) { return p.length(ctx, p.d) }

func (p *indexedMapPrimitive[K, V]) Clear(ctx context.Context) error { return p.clear(ctx, p.d) }

func (p *indexedMapPrimitive[K, V]) Entries(ctx context.Context) iter.Seq2[imEntry[K, V], error] {
	return func(yield func(imEntry[K, V], error) bool) {
		if p.closed.Load() {
			yield(imEntry[K, V]{}, p.fail("entries", errClosed))
			return
		}
		for e, err := range p.d.Entries(ctx) {
			if err != nil {
				yield(imEntry[K, V]{}, p.fail("entries", err))
				return
			}
			entry, err := p.decode(e)
			if err != nil {
				yield(imEntry[K, V]{}, p.failKey("entries", e.Key, err))
				return
			}
			if !yield(entry, nil) {
				return
			}
		}
	}
}

func (p *indexedMapPrimitive[K, V]) Watch(ctx context.Context, ch chan<- indexedmap.Event[K, V]) error {
	if p.closed.Load() {
		return p.fail("watch", errClosed)
	}
	if err := p.watches.Watch(ctx, ch); err != nil {
		return p.fail("watch", err)
	}
	return nil
}

func (p *indexedMapPrimitive[K, V]) convert(ev driver.EntryEvent) (indexedmap.Event[K, V], error) {
	var out indexedmap.Event[K, V]
	switch ev.Type {
	case driver.EventInserted:
		out.Type = indexedmap.EventInserted
	case driver.EventUpdated:
		out.Type = indexedmap.EventUpdated
	case driver.EventRemoved:
		out.Type = indexedmap.EventRemoved
	default:
		return out, fmt.Errorf("unexpected indexed map event type %v", ev.Type)
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
	out.Entry = imEntry[K, V]{Key: k, Index: ev.Entry.Index, Value: v, Version: ev.Entry.Version}
	return out, nil
}

func (p *indexedMapPrimitive[K, V]) Close(ctx context.Context) error {
	if !p.close(p) {
		return nil
	}
	p.watches.Close()
	if err := p.d.Close(ctx); err != nil {
		return p.fail("close", err)
	}
	return nil
}

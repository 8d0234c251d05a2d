// Wrappers of the driver interfaces: one per primitive interface, each
// method begin → the driver's call → end. A primitive offered through an
// optional interface (driver.SemaphoreOpener, in semaphore.go) gets a
// driver type of its own that Wrap returns only when the driver has it.

package telemetry

import (
	"context"
	"iter"

	"github.com/atomix/go-client/driver"
)

// Wrap returns d instrumented: its sessions and the primitives it opens
// are wrapped, and every other method (Name, Limits, As, Close) is d's.
// A nil t returns d itself.
func (t *Telemetry) Wrap(d driver.Driver) driver.Driver {
	if t == nil {
		return d
	}
	td := &tracedDriver{Driver: d, t: t}
	if so, ok := d.(driver.SemaphoreOpener); ok {
		return &tracedSemaphoreDriver{tracedDriver: td, opener: so}
	}
	return td
}

type tracedDriver struct {
	driver.Driver
	t *Telemetry
}

// kindSession and kindClient name the spans of calls on no primitive.
const (
	kindSession driver.Kind = "session"
	kindClient  driver.Kind = "client"
)

func (d *tracedDriver) Ping(ctx context.Context) error {
	ctx, c := d.t.begin(ctx, kindClient, "", "ping")
	err := d.Driver.Ping(ctx)
	c.end(err)
	return err
}

func (d *tracedDriver) NewSession(ctx context.Context, opts driver.SessionOptions) (driver.Session, error) {
	ctx, c := d.t.begin(ctx, kindSession, "", "new")
	s, err := d.Driver.NewSession(ctx, opts)
	c.end(err)
	return s, err
}

// prim is what every wrapped primitive knows: its kind and name.
type prim struct {
	t    *Telemetry
	kind driver.Kind
	name string
}

func (p prim) begin(ctx context.Context, op string) (context.Context, call) {
	return p.t.begin(ctx, p.kind, p.name, op)
}

func (d *tracedDriver) OpenCounter(ctx context.Context, id driver.ID) (driver.Counter, error) {
	x, err := d.Driver.OpenCounter(ctx, id)
	if err != nil {
		return nil, err
	}
	return &tracedCounter{Counter: x, prim: prim{d.t, driver.KindCounter, id.Name}}, nil
}

type tracedCounter struct {
	driver.Counter
	prim
}

func (x *tracedCounter) Get(ctx context.Context) (int64, error) {
	ctx, c := x.begin(ctx, "get")
	r0, err := x.Counter.Get(ctx)
	c.end(err)
	return r0, err
}

func (x *tracedCounter) Set(ctx context.Context, value int64) error {
	ctx, c := x.begin(ctx, "set")
	err := x.Counter.Set(ctx, value)
	c.end(err)
	return err
}

func (x *tracedCounter) Add(ctx context.Context, delta int64) (int64, error) {
	ctx, c := x.begin(ctx, "add")
	r0, err := x.Counter.Add(ctx, delta)
	c.end(err)
	return r0, err
}

func (x *tracedCounter) CompareAndSet(ctx context.Context, expect, update int64) (bool, error) {
	ctx, c := x.begin(ctx, "compare-and-set")
	r0, err := x.Counter.CompareAndSet(ctx, expect, update)
	c.end(err)
	return r0, err
}

func (d *tracedDriver) OpenLock(ctx context.Context, id driver.ID) (driver.Lock, error) {
	x, err := d.Driver.OpenLock(ctx, id)
	if err != nil {
		return nil, err
	}
	return &tracedLock{Lock: x, prim: prim{d.t, driver.KindLock, id.Name}}, nil
}

type tracedLock struct {
	driver.Lock
	prim
}

func (x *tracedLock) Acquire(ctx context.Context, s driver.Session, owner string) (driver.Hold, error) {
	ctx, c := x.begin(ctx, "acquire")
	r0, err := x.Lock.Acquire(ctx, s, owner)
	c.end(err)
	return r0, err
}

func (x *tracedLock) TryAcquire(ctx context.Context, s driver.Session, owner string) (driver.Hold, bool, error) {
	ctx, c := x.begin(ctx, "try-acquire")
	r0, r1, err := x.Lock.TryAcquire(ctx, s, owner)
	c.end(err)
	return r0, r1, err
}

func (x *tracedLock) Release(ctx context.Context, owner string, version uint64) (bool, error) {
	ctx, c := x.begin(ctx, "release")
	r0, err := x.Lock.Release(ctx, owner, version)
	c.end(err)
	return r0, err
}

func (x *tracedLock) ReleaseVersion(ctx context.Context, version uint64) (bool, error) {
	ctx, c := x.begin(ctx, "release-version")
	r0, err := x.Lock.ReleaseVersion(ctx, version)
	c.end(err)
	return r0, err
}

func (x *tracedLock) Holder(ctx context.Context) (uint64, bool, error) {
	ctx, c := x.begin(ctx, "holder")
	r0, r1, err := x.Lock.Holder(ctx)
	c.end(err)
	return r0, r1, err
}

func (d *tracedDriver) OpenElection(ctx context.Context, id driver.ID) (driver.Election, error) {
	x, err := d.Driver.OpenElection(ctx, id)
	if err != nil {
		return nil, err
	}
	return &tracedElection{Election: x, prim: prim{d.t, driver.KindElection, id.Name}}, nil
}

type tracedElection struct {
	driver.Election
	prim
}

func (x *tracedElection) Term(ctx context.Context) (driver.Term, error) {
	ctx, c := x.begin(ctx, "term")
	r0, err := x.Election.Term(ctx)
	c.end(err)
	return r0, err
}

func (x *tracedElection) Enter(ctx context.Context, s driver.Session, candidate string) (driver.Term, error) {
	ctx, c := x.begin(ctx, "enter")
	r0, err := x.Election.Enter(ctx, s, candidate)
	c.end(err)
	return r0, err
}

func (x *tracedElection) Leave(ctx context.Context, candidate string) (driver.Term, error) {
	ctx, c := x.begin(ctx, "leave")
	r0, err := x.Election.Leave(ctx, candidate)
	c.end(err)
	return r0, err
}

func (x *tracedElection) Anoint(ctx context.Context, candidate string) (driver.Term, error) {
	ctx, c := x.begin(ctx, "anoint")
	r0, err := x.Election.Anoint(ctx, candidate)
	c.end(err)
	return r0, err
}

func (x *tracedElection) Promote(ctx context.Context, candidate string) (driver.Term, error) {
	ctx, c := x.begin(ctx, "promote")
	r0, err := x.Election.Promote(ctx, candidate)
	c.end(err)
	return r0, err
}

func (x *tracedElection) Evict(ctx context.Context, candidate string) (driver.Term, error) {
	ctx, c := x.begin(ctx, "evict")
	r0, err := x.Election.Evict(ctx, candidate)
	c.end(err)
	return r0, err
}

func (x *tracedElection) Watch(ctx context.Context, ch chan<- driver.Term) error {
	ctx, c := x.begin(ctx, "watch")
	err := x.Election.Watch(ctx, ch)
	c.end(err)
	return err
}

func (d *tracedDriver) OpenMap(ctx context.Context, id driver.ID) (driver.Map, error) {
	x, err := d.Driver.OpenMap(ctx, id)
	if err != nil {
		return nil, err
	}
	return &tracedMap{Map: x, prim: prim{d.t, driver.KindMap, id.Name}}, nil
}

type tracedMap struct {
	driver.Map
	prim
}

func (x *tracedMap) Put(ctx context.Context, key string, value []byte, ifVersion uint64) (driver.Entry, error) {
	ctx, c := x.begin(ctx, "put")
	r0, err := x.Map.Put(ctx, key, value, ifVersion)
	c.end(err)
	return r0, err
}

func (x *tracedMap) Insert(ctx context.Context, key string, value []byte) (driver.Entry, error) {
	ctx, c := x.begin(ctx, "insert")
	r0, err := x.Map.Insert(ctx, key, value)
	c.end(err)
	return r0, err
}

func (x *tracedMap) Update(ctx context.Context, key string, value []byte, ifVersion uint64) (driver.Entry, error) {
	ctx, c := x.begin(ctx, "update")
	r0, err := x.Map.Update(ctx, key, value, ifVersion)
	c.end(err)
	return r0, err
}

func (x *tracedMap) Get(ctx context.Context, key string) (driver.Entry, error) {
	ctx, c := x.begin(ctx, "get")
	r0, err := x.Map.Get(ctx, key)
	c.end(err)
	return r0, err
}

func (x *tracedMap) Remove(ctx context.Context, key string, ifVersion uint64) (driver.Entry, error) {
	ctx, c := x.begin(ctx, "remove")
	r0, err := x.Map.Remove(ctx, key, ifVersion)
	c.end(err)
	return r0, err
}

func (x *tracedMap) Len(ctx context.Context) (int, error) {
	ctx, c := x.begin(ctx, "len")
	r0, err := x.Map.Len(ctx)
	c.end(err)
	return r0, err
}

func (x *tracedMap) Clear(ctx context.Context) error {
	ctx, c := x.begin(ctx, "clear")
	err := x.Map.Clear(ctx)
	c.end(err)
	return err
}

func (x *tracedMap) Watch(ctx context.Context, ch chan<- driver.EntryEvent) error {
	ctx, c := x.begin(ctx, "watch")
	err := x.Map.Watch(ctx, ch)
	c.end(err)
	return err
}

func (d *tracedDriver) OpenSet(ctx context.Context, id driver.ID) (driver.Set, error) {
	x, err := d.Driver.OpenSet(ctx, id)
	if err != nil {
		return nil, err
	}
	return &tracedSet{Set: x, prim: prim{d.t, driver.KindSet, id.Name}}, nil
}

type tracedSet struct {
	driver.Set
	prim
}

func (x *tracedSet) Add(ctx context.Context, element string) (bool, error) {
	ctx, c := x.begin(ctx, "add")
	r0, err := x.Set.Add(ctx, element)
	c.end(err)
	return r0, err
}

func (x *tracedSet) Remove(ctx context.Context, element string) (bool, error) {
	ctx, c := x.begin(ctx, "remove")
	r0, err := x.Set.Remove(ctx, element)
	c.end(err)
	return r0, err
}

func (x *tracedSet) Contains(ctx context.Context, element string) (bool, error) {
	ctx, c := x.begin(ctx, "contains")
	r0, err := x.Set.Contains(ctx, element)
	c.end(err)
	return r0, err
}

func (x *tracedSet) Len(ctx context.Context) (int, error) {
	ctx, c := x.begin(ctx, "len")
	r0, err := x.Set.Len(ctx)
	c.end(err)
	return r0, err
}

func (x *tracedSet) Clear(ctx context.Context) error {
	ctx, c := x.begin(ctx, "clear")
	err := x.Set.Clear(ctx)
	c.end(err)
	return err
}

func (x *tracedSet) Watch(ctx context.Context, ch chan<- driver.ElementEvent) error {
	ctx, c := x.begin(ctx, "watch")
	err := x.Set.Watch(ctx, ch)
	c.end(err)
	return err
}

func (d *tracedDriver) OpenValue(ctx context.Context, id driver.ID) (driver.Value, error) {
	x, err := d.Driver.OpenValue(ctx, id)
	if err != nil {
		return nil, err
	}
	return &tracedValue{Value: x, prim: prim{d.t, driver.KindValue, id.Name}}, nil
}

type tracedValue struct {
	driver.Value
	prim
}

func (x *tracedValue) Set(ctx context.Context, value []byte, ifVersion uint64) (uint64, error) {
	ctx, c := x.begin(ctx, "set")
	r0, err := x.Value.Set(ctx, value, ifVersion)
	c.end(err)
	return r0, err
}

func (x *tracedValue) Get(ctx context.Context) ([]byte, uint64, error) {
	ctx, c := x.begin(ctx, "get")
	r0, r1, err := x.Value.Get(ctx)
	c.end(err)
	return r0, r1, err
}

func (x *tracedValue) Delete(ctx context.Context, ifVersion uint64) error {
	ctx, c := x.begin(ctx, "delete")
	err := x.Value.Delete(ctx, ifVersion)
	c.end(err)
	return err
}

func (x *tracedValue) Watch(ctx context.Context, ch chan<- driver.ValueEvent) error {
	ctx, c := x.begin(ctx, "watch")
	err := x.Value.Watch(ctx, ch)
	c.end(err)
	return err
}

func (d *tracedDriver) OpenList(ctx context.Context, id driver.ID) (driver.List, error) {
	x, err := d.Driver.OpenList(ctx, id)
	if err != nil {
		return nil, err
	}
	return &tracedList{List: x, prim: prim{d.t, driver.KindList, id.Name}}, nil
}

type tracedList struct {
	driver.List
	prim
}

func (x *tracedList) Append(ctx context.Context, value []byte) (int, error) {
	ctx, c := x.begin(ctx, "append")
	r0, err := x.List.Append(ctx, value)
	c.end(err)
	return r0, err
}

func (x *tracedList) Insert(ctx context.Context, index int, value []byte) error {
	ctx, c := x.begin(ctx, "insert")
	err := x.List.Insert(ctx, index, value)
	c.end(err)
	return err
}

func (x *tracedList) Set(ctx context.Context, index int, value []byte) ([]byte, error) {
	ctx, c := x.begin(ctx, "set")
	r0, err := x.List.Set(ctx, index, value)
	c.end(err)
	return r0, err
}

func (x *tracedList) Get(ctx context.Context, index int) ([]byte, error) {
	ctx, c := x.begin(ctx, "get")
	r0, err := x.List.Get(ctx, index)
	c.end(err)
	return r0, err
}

func (x *tracedList) Remove(ctx context.Context, index int) ([]byte, error) {
	ctx, c := x.begin(ctx, "remove")
	r0, err := x.List.Remove(ctx, index)
	c.end(err)
	return r0, err
}

func (x *tracedList) Len(ctx context.Context) (int, error) {
	ctx, c := x.begin(ctx, "len")
	r0, err := x.List.Len(ctx)
	c.end(err)
	return r0, err
}

func (x *tracedList) Clear(ctx context.Context) error {
	ctx, c := x.begin(ctx, "clear")
	err := x.List.Clear(ctx)
	c.end(err)
	return err
}

func (x *tracedList) Watch(ctx context.Context, ch chan<- driver.ListEvent) error {
	ctx, c := x.begin(ctx, "watch")
	err := x.List.Watch(ctx, ch)
	c.end(err)
	return err
}

func (d *tracedDriver) OpenIndexedMap(ctx context.Context, id driver.ID) (driver.IndexedMap, error) {
	x, err := d.Driver.OpenIndexedMap(ctx, id)
	if err != nil {
		return nil, err
	}
	return &tracedIndexedMap{IndexedMap: x, prim: prim{d.t, driver.KindIndexedMap, id.Name}}, nil
}

type tracedIndexedMap struct {
	driver.IndexedMap
	prim
}

func (x *tracedIndexedMap) Append(ctx context.Context, key string, value []byte) (driver.Entry, error) {
	ctx, c := x.begin(ctx, "append")
	r0, err := x.IndexedMap.Append(ctx, key, value)
	c.end(err)
	return r0, err
}

func (x *tracedIndexedMap) Update(ctx context.Context, key string, value []byte, ifVersion uint64) (driver.Entry, error) {
	ctx, c := x.begin(ctx, "update")
	r0, err := x.IndexedMap.Update(ctx, key, value, ifVersion)
	c.end(err)
	return r0, err
}

func (x *tracedIndexedMap) Get(ctx context.Context, key string) (driver.Entry, error) {
	ctx, c := x.begin(ctx, "get")
	r0, err := x.IndexedMap.Get(ctx, key)
	c.end(err)
	return r0, err
}

func (x *tracedIndexedMap) GetIndex(ctx context.Context, index uint64) (driver.Entry, error) {
	ctx, c := x.begin(ctx, "get-index")
	r0, err := x.IndexedMap.GetIndex(ctx, index)
	c.end(err)
	return r0, err
}

func (x *tracedIndexedMap) First(ctx context.Context) (driver.Entry, error) {
	ctx, c := x.begin(ctx, "first")
	r0, err := x.IndexedMap.First(ctx)
	c.end(err)
	return r0, err
}

func (x *tracedIndexedMap) Last(ctx context.Context) (driver.Entry, error) {
	ctx, c := x.begin(ctx, "last")
	r0, err := x.IndexedMap.Last(ctx)
	c.end(err)
	return r0, err
}

func (x *tracedIndexedMap) Prev(ctx context.Context, index uint64) (driver.Entry, error) {
	ctx, c := x.begin(ctx, "prev")
	r0, err := x.IndexedMap.Prev(ctx, index)
	c.end(err)
	return r0, err
}

func (x *tracedIndexedMap) Next(ctx context.Context, index uint64) (driver.Entry, error) {
	ctx, c := x.begin(ctx, "next")
	r0, err := x.IndexedMap.Next(ctx, index)
	c.end(err)
	return r0, err
}

func (x *tracedIndexedMap) Remove(ctx context.Context, key string, ifVersion uint64) (driver.Entry, error) {
	ctx, c := x.begin(ctx, "remove")
	r0, err := x.IndexedMap.Remove(ctx, key, ifVersion)
	c.end(err)
	return r0, err
}

func (x *tracedIndexedMap) RemoveIndex(ctx context.Context, index uint64, ifVersion uint64) (driver.Entry, error) {
	ctx, c := x.begin(ctx, "remove-index")
	r0, err := x.IndexedMap.RemoveIndex(ctx, index, ifVersion)
	c.end(err)
	return r0, err
}

func (x *tracedIndexedMap) Len(ctx context.Context) (int, error) {
	ctx, c := x.begin(ctx, "len")
	r0, err := x.IndexedMap.Len(ctx)
	c.end(err)
	return r0, err
}

func (x *tracedIndexedMap) Clear(ctx context.Context) error {
	ctx, c := x.begin(ctx, "clear")
	err := x.IndexedMap.Clear(ctx)
	c.end(err)
	return err
}

func (x *tracedIndexedMap) Watch(ctx context.Context, ch chan<- driver.EntryEvent) error {
	ctx, c := x.begin(ctx, "watch")
	err := x.IndexedMap.Watch(ctx, ch)
	c.end(err)
	return err
}

// traceSeq instruments an iteration: its span covers the whole iteration,
// from the first pull to the last, and ends with the error that ended it,
// if any.
func traceSeq[T any](ctx context.Context, p prim, op string, open func(context.Context) iter.Seq2[T, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		ctx, c := p.begin(ctx, op)
		var err error
		defer func() { c.end(err) }()
		for v, e := range open(ctx) {
			if e != nil {
				err = e
			}
			if !yield(v, e) {
				return
			}
		}
	}
}

func (x *tracedMap) Entries(ctx context.Context) iter.Seq2[driver.Entry, error] {
	return traceSeq(ctx, x.prim, "entries", x.Map.Entries)
}

func (x *tracedSet) Elements(ctx context.Context) iter.Seq2[string, error] {
	return traceSeq(ctx, x.prim, "elements", x.Set.Elements)
}

func (x *tracedList) Items(ctx context.Context) iter.Seq2[[]byte, error] {
	return traceSeq(ctx, x.prim, "items", x.List.Items)
}

func (x *tracedIndexedMap) Entries(ctx context.Context) iter.Seq2[driver.Entry, error] {
	return traceSeq(ctx, x.prim, "entries", x.IndexedMap.Entries)
}

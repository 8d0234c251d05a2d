package telemetry

import (
	"context"

	"github.com/atomix/go-client/driver"
)

// The conditional writes (ephemeral and fenced) are optional interfaces of
// a driver's Map, Set and Value: the wrapper of each offers them exactly
// when the wrapped primitive does.

type tracedConditionalMap struct {
	*tracedMap
	cm driver.ConditionalMap
}

func (x *tracedConditionalMap) WriteWith(ctx context.Context, op driver.MapOp, key string, value []byte, w driver.Write) (driver.Entry, error) {
	ctx, c := x.begin(ctx, mapOpName(op))
	r0, err := x.cm.WriteWith(ctx, op, key, value, w)
	c.end(err)
	return r0, err
}

// mapOpName names a conditional map write as the plain method's span does.
func mapOpName(op driver.MapOp) string {
	switch op {
	case driver.MapPut:
		return "put"
	case driver.MapInsert:
		return "insert"
	case driver.MapUpdate:
		return "update"
	case driver.MapRemove:
		return "remove"
	}
	return "write"
}

type tracedConditionalSet struct {
	*tracedSet
	cs driver.ConditionalSet
}

func (x *tracedConditionalSet) AddWith(ctx context.Context, element string, w driver.Write) (bool, error) {
	ctx, c := x.begin(ctx, "add")
	r0, err := x.cs.AddWith(ctx, element, w)
	c.end(err)
	return r0, err
}

type tracedConditionalValue struct {
	*tracedValue
	cv driver.ConditionalValue
}

func (x *tracedConditionalValue) SetWith(ctx context.Context, value []byte, w driver.Write) (uint64, error) {
	ctx, c := x.begin(ctx, "set")
	r0, err := x.cv.SetWith(ctx, value, w)
	c.end(err)
	return r0, err
}

func (x *tracedConditionalValue) DeleteWith(ctx context.Context, w driver.Write) error {
	ctx, c := x.begin(ctx, "delete")
	err := x.cv.DeleteWith(ctx, w)
	c.end(err)
	return err
}

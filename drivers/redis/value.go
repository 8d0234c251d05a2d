package redis

import (
	"bytes"
	"context"
	_ "embed"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/resync"
)

var (
	//go:embed lua/value_entry.lua
	valueEntrySource string
	//go:embed lua/value_set.lua
	valueSetScript string
	//go:embed lua/value_set_batch.lua
	valueSetBatchSource string
	// valueSetSource is value_set.lua with the function it calls.
	valueSetSource = valueEntrySource + valueSetScript
	//go:embed lua/value_delete.lua
	valueDeleteSource string
	//go:embed lua/value_read.lua
	valueReadSource string

	valueSet      = newScript("value_set", withCounter(valueSetSource), false)
	valueSetBatch = newScript("value_set_batch", withCounter(valueEntrySource+valueSetBatchSource), false)
	valueDelete   = newScript("value_delete", withCounter(valueDeleteSource), false)
	valueRead     = newReadScript("value_read", valueReadSource)
)

// value implements driver.Value with one Redis string: the version as 8
// big-endian bytes, then the value. Get is a plain GET; Set and Delete are
// scripts that also bump the version counter and publish the change. Sets
// that find the instance's runs in flight at their limit are sent together
// (see batch.go).
type value struct {
	*handle
	keys scriptKeys // the value, its version counter
	sets *batcher
}

func newValue(h *handle) *value {
	v := &value{handle: h, keys: keysOf(h.ks.key("v"), h.ks.key("ver"))}
	v.sets = newBatcher(h, valueSetBatch, v.keys, 2, h.ks.channelArg())
	return v
}

func (v *value) Set(ctx context.Context, b []byte, ifVersion uint64) (uint64, error) {
	if err := v.begin(ctx); err != nil {
		return 0, err
	}
	want := versionBytes(ifVersion)
	r, err := v.sets.write(ctx, func(ctx context.Context) (any, error) {
		return valueSet.run(ctx, v.client(), v.keys, v.ks.channelArg(), b, want)
	}, func() ([]any, int) {
		return []any{b, want}, len(b)
	})
	if err != nil {
		return 0, v.fail(ctx, err, true)
	}
	a, err := replyArray(r, 2)
	if err != nil {
		return 0, v.fail(ctx, err, true)
	}
	if status, _ := replyInt(a[0]); status != 1 {
		return 0, versionConflict(ifVersion)
	}
	ver, err := replyUint(a[1])
	if err != nil {
		return 0, v.fail(ctx, err, true)
	}
	return ver, nil
}

func (v *value) Get(ctx context.Context) ([]byte, uint64, error) {
	if err := v.begin(ctx); err != nil {
		return nil, 0, err
	}
	s, err := v.client().Get(ctx, v.keys.names[0]).Result()
	if err == goredis.Nil {
		return nil, 0, errNoKey
	}
	if err != nil {
		return nil, 0, v.fail(ctx, err, false)
	}
	rec, err := parseRecord(s, 1)
	if err != nil {
		return nil, 0, v.fail(ctx, err, false)
	}
	return bytesOf(rec.value), rec.fields[0], nil
}

func (v *value) Delete(ctx context.Context, ifVersion uint64) error {
	if err := v.begin(ctx); err != nil {
		return err
	}
	r, err := valueDelete.run(ctx, v.client(), v.keys, v.ks.channelArg(), versionBytes(ifVersion))
	if err != nil {
		return v.fail(ctx, err, true)
	}
	switch status, _ := replyInt(r); status {
	case 1:
		return nil
	case 0:
		return errNoKey
	default:
		return versionConflict(ifVersion)
	}
}

func (v *value) Watch(ctx context.Context, ch chan<- driver.ValueEvent) error {
	return startWatch(ctx, v.handle, &valueReplica{v: v}, v.keys.names[1], ch)
}

// valueReplica is a watcher's copy of a value; a zero Version means
// absent.
type valueReplica struct {
	v   *value
	cur driver.ValueEvent
}

func (r *valueReplica) load(ctx context.Context, first bool) (uint64, []driver.ValueEvent, error) {
	reply, err := valueRead.run(ctx, r.v.client(), r.v.keys)
	if err != nil {
		return 0, nil, err
	}
	a, err := replyArray(reply, 2)
	if err != nil {
		return 0, nil, err
	}
	seq, err := replyUint(a[0])
	if err != nil {
		return 0, nil, err
	}
	stored, err := replyString(a[1])
	if err != nil {
		return 0, nil, err
	}
	var next driver.ValueEvent
	if stored != "" {
		rec, err := parseRecord(stored, 1)
		if err != nil {
			return 0, nil, err
		}
		next = driver.ValueEvent{Value: bytesOf(rec.value), Version: rec.fields[0]}
	}
	var events []driver.ValueEvent
	switch {
	case first:
	case r.cur.Version != 0 && r.cur.Version == next.Version && !bytes.Equal(r.cur.Value, next.Value):
		// A forged change applied with the number a genuine one then
		// got: same version, another value.
		events = []driver.ValueEvent{{Type: driver.EventUpdated, Value: cloneBytes(next.Value), Version: next.Version}}
	default:
		events = resync.Value(r.cur, next)
		for i := range events {
			events[i].Value = cloneBytes(events[i].Value)
		}
	}
	r.cur = next
	return seq, events, nil
}

func (r *valueReplica) apply(seq uint64, p *payload) ([]driver.ValueEvent, error) {
	op := p.byte()
	var b string
	if op == 'R' {
		p.end()
	} else {
		b = p.rest()
	}
	if p.err != nil {
		return nil, p.err
	}
	present := r.cur.Version != 0
	switch op {
	case 'I', 'U':
		if present != (op == 'U') {
			return nil, badReply("change %q inconsistent with the watcher's copy", op)
		}
		r.cur = driver.ValueEvent{Value: bytesOf(b), Version: seq}
		t := driver.EventInserted
		if op == 'U' {
			t = driver.EventUpdated
		}
		return []driver.ValueEvent{{Type: t, Value: bytesOf(b), Version: seq}}, nil
	case 'R':
		if !present {
			return nil, badReply("removal of a value the watcher's copy does not have")
		}
		ev := driver.ValueEvent{Type: driver.EventRemoved, Value: r.cur.Value, Version: r.cur.Version}
		r.cur = driver.ValueEvent{}
		return []driver.ValueEvent{ev}, nil
	}
	return nil, badReply("unknown value change %q", op)
}

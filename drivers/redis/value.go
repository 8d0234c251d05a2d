package redis

import (
	"context"
	_ "embed"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
)

var (
	//go:embed lua/value_set.lua
	valueSetSource string
	//go:embed lua/value_delete.lua
	valueDeleteSource string
	//go:embed lua/value_read.lua
	valueReadSource string

	valueSet    = newScript("value_set", valueSetSource, false)
	valueDelete = newScript("value_delete", valueDeleteSource, false)
	valueRead   = newScript("value_read", valueReadSource, true)
)

// value implements driver.Value with one Redis string: the version as 8
// big-endian bytes, then the value. Get is a plain GET; Set and Delete are
// scripts that also bump the version counter and publish the change.
type value struct {
	*handle
	keys []string // the value, its version counter
}

func newValue(h *handle) *value {
	return &value{handle: h, keys: []string{h.ks.key("v"), h.ks.key("ver")}}
}

func (v *value) Set(ctx context.Context, b []byte, ifVersion uint64) (uint64, error) {
	const op = "set"
	if err := v.begin(ctx, op); err != nil {
		return 0, err
	}
	if err := v.checkValue(op, b); err != nil {
		return 0, err
	}
	r, err := valueSet.run(ctx, v.client(), v.keys, v.ks.channel(), b, versionBytes(ifVersion))
	if err != nil {
		return 0, v.fail(ctx, op, err, true)
	}
	a, err := replyArray(r, 2)
	if err != nil {
		return 0, v.fail(ctx, op, err, true)
	}
	if status, _ := replyInt(a[0]); status != 1 {
		return 0, v.failf(op, driver.ErrConflict, "the value's version is not %d", ifVersion)
	}
	ver, err := replyUint(a[1])
	if err != nil {
		return 0, v.fail(ctx, op, err, true)
	}
	return ver, nil
}

func (v *value) Get(ctx context.Context) ([]byte, uint64, error) {
	const op = "get"
	if err := v.begin(ctx, op); err != nil {
		return nil, 0, err
	}
	s, err := v.client().Get(ctx, v.keys[0]).Result()
	if err == goredis.Nil {
		return nil, 0, v.failf(op, driver.ErrNotFound, "the value is not set")
	}
	if err != nil {
		return nil, 0, v.fail(ctx, op, err, false)
	}
	rec, err := parseRecord(s, 1)
	if err != nil {
		return nil, 0, v.fail(ctx, op, err, false)
	}
	return bytesOf(rec.value), rec.fields[0], nil
}

func (v *value) Delete(ctx context.Context, ifVersion uint64) error {
	const op = "delete"
	if err := v.begin(ctx, op); err != nil {
		return err
	}
	r, err := valueDelete.run(ctx, v.client(), v.keys, v.ks.channel(), versionBytes(ifVersion))
	if err != nil {
		return v.fail(ctx, op, err, true)
	}
	switch status, _ := replyInt(r); status {
	case 1:
		return nil
	case 0:
		return v.failf(op, driver.ErrNotFound, "the value is not set")
	default:
		return v.failf(op, driver.ErrConflict, "the value's version is not %d", ifVersion)
	}
}

func (v *value) Watch(ctx context.Context, ch chan<- driver.ValueEvent) error {
	return startWatch(ctx, v.handle, &valueReplica{v: v}, ch)
}

// valueReplica is a watcher's copy of a value.
type valueReplica struct {
	v       *value
	present bool
	value   []byte
	version uint64
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
	var events []driver.ValueEvent
	if stored == "" {
		if r.present && !first {
			events = append(events, driver.ValueEvent{Type: driver.EventRemoved, Value: r.value, Version: r.version})
		}
		r.present, r.value, r.version = false, nil, 0
		return seq, events, nil
	}
	rec, err := parseRecord(stored, 1)
	if err != nil {
		return 0, nil, err
	}
	if !first && (!r.present || r.version != rec.fields[0]) {
		t := driver.EventUpdated
		if !r.present {
			t = driver.EventInserted
		}
		events = append(events, driver.ValueEvent{Type: t, Value: bytesOf(rec.value), Version: rec.fields[0]})
	}
	r.present, r.value, r.version = true, bytesOf(rec.value), rec.fields[0]
	return seq, events, nil
}

func (r *valueReplica) apply(p *payload) ([]driver.ValueEvent, error) {
	seq := beUint64(p.s)
	switch op := p.byte(); op {
	case 'I', 'U':
		b := p.rest()
		r.present, r.value, r.version = true, bytesOf(b), seq
		t := driver.EventInserted
		if op == 'U' {
			t = driver.EventUpdated
		}
		return []driver.ValueEvent{{Type: t, Value: bytesOf(b), Version: seq}}, nil
	case 'R':
		ev := driver.ValueEvent{Type: driver.EventRemoved, Value: r.value, Version: r.version}
		r.present, r.value, r.version = false, nil, 0
		return []driver.ValueEvent{ev}, nil
	}
	return nil, badReply("unknown value change %q", p.s)
}

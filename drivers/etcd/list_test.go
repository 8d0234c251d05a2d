package etcd

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/atomix/go-client/driver"
)

// TestListEventsReproduceAnyChange: whatever the difference between two
// states of a list (as a resync after compaction may find), the events
// applyChanges sends turn the old list into the new one.
func TestListEventsReproduceAnyChange(t *testing.T) {
	l := &etcdList{prefix: "l/"}
	mirrorOf := func(items []string, rev int64) mirror {
		m := mirror{}
		for i, v := range items {
			k := l.itemKey(int64(i))
			m[k] = &mvccKV{Key: []byte(k), Value: []byte(v), ModRevision: rev + int64(i)}
		}
		return m
	}
	r := rand.New(rand.NewPCG(1, 2))
	randomList := func() []string {
		items := make([]string, r.IntN(6))
		for i := range items {
			items[i] = string(rune('a' + r.IntN(3)))
		}
		return items
	}
	for round := 0; round < 2000; round++ {
		before, after := randomList(), randomList()
		oldMirror, newMirror := mirrorOf(before, 1), mirrorOf(after, 100)
		items, events := l.applyChanges(l.itemsOf(oldMirror), diff(oldMirror, newMirror))
		model := slices.Clone(before)
		for _, ev := range events {
			switch ev.Type {
			case driver.EventInserted:
				model = slices.Insert(model, ev.Index, string(ev.Value))
			case driver.EventUpdated:
				model[ev.Index] = string(ev.Value)
			case driver.EventRemoved:
				if model[ev.Index] != string(ev.Value) {
					t.Fatalf("%q -> %q: removal of %q at %d where %q is", before, after, ev.Value, ev.Index, model[ev.Index])
				}
				model = slices.Delete(model, ev.Index, ev.Index+1)
			}
		}
		if !slices.Equal(model, after) {
			t.Fatalf("%q -> %q: events %+v give %q", before, after, events, model)
		}
		if len(items) != len(after) {
			t.Fatalf("%q -> %q: the watch's copy has %d items", before, after, len(items))
		}
	}
}

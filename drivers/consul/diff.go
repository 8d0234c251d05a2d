package consul

import (
	"cmp"
	"slices"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

// diffEntries returns the events that turn the state old into next, both
// keyed by the decoded key. toEntry converts a stored pair to the entry the
// events carry.
//
// Removals come first: Consul does not say when a key was deleted. Then
// insertions and updates in the order of their ModifyIndex, which is commit
// order. A key whose CreateIndex changed was removed and created again
// between the two states: it yields EventRemoved then EventInserted.
func diffEntries(old, next map[string]*api.KVPair, toEntry func(string, *api.KVPair) driver.Entry) []driver.EntryEvent {
	var removed, changed []driver.EntryEvent
	for key, was := range old {
		now, ok := next[key]
		if !ok || now.CreateIndex != was.CreateIndex {
			removed = append(removed, driver.EntryEvent{Type: driver.EventRemoved, Entry: toEntry(key, was)})
		}
	}
	for key, now := range next {
		was, ok := old[key]
		switch {
		case !ok || was.CreateIndex != now.CreateIndex:
			changed = append(changed, driver.EntryEvent{Type: driver.EventInserted, Entry: toEntry(key, now)})
		case was.ModifyIndex != now.ModifyIndex:
			changed = append(changed, driver.EntryEvent{Type: driver.EventUpdated, Entry: toEntry(key, now)})
		}
	}
	// Removals have no index: order them by the version they had, so that
	// the result does not depend on map iteration order.
	slices.SortFunc(removed, func(a, b driver.EntryEvent) int { return cmp.Compare(a.Entry.Version, b.Entry.Version) })
	slices.SortFunc(changed, func(a, b driver.EntryEvent) int { return cmp.Compare(a.Entry.Version, b.Entry.Version) })
	return append(removed, changed...)
}

// mapEntry converts a pair of a Map.
func mapEntry(key string, p *api.KVPair) driver.Entry {
	return driver.Entry{Key: key, Value: p.Value, Version: p.ModifyIndex}
}

// Package resync computes the events that bring a watcher's copy of a
// primitive up to a fresh snapshot: what a driver sends after it lost track
// of changes (a gap in a change feed, a reconnect, a compaction) or, on a
// backend that reports states rather than changes, after every read.
//
// One rule for every driver: removals first, in the order of the version
// the removed entry had (then by key), since the backend no longer says when
// they happened; then insertions and updates in version order, which is
// commit order. Applying the events to the old state gives the new state.
package resync

import (
	"cmp"
	"slices"

	"github.com/atomix/go-client/driver"
)

// Entries returns the events that turn old into next, both keyed by the
// entry's key. An entry whose Index differs between the two (an IndexedMap
// key removed and appended again) yields a removal and an insertion; one
// whose Version differs yields an update. Values are not copied.
func Entries(old, next map[string]driver.Entry) []driver.EntryEvent {
	var removed, written []driver.EntryEvent
	for k, was := range old {
		if now, ok := next[k]; !ok || now.Index != was.Index {
			removed = append(removed, driver.EntryEvent{Type: driver.EventRemoved, Entry: was})
		}
	}
	for k, now := range next {
		was, ok := old[k]
		switch {
		case !ok || was.Index != now.Index:
			written = append(written, driver.EntryEvent{Type: driver.EventInserted, Entry: now})
		case was.Version != now.Version:
			written = append(written, driver.EntryEvent{Type: driver.EventUpdated, Entry: now})
		}
	}
	byVersion := func(a, b driver.EntryEvent) int {
		return cmp.Or(cmp.Compare(a.Entry.Version, b.Entry.Version), cmp.Compare(a.Entry.Key, b.Entry.Key))
	}
	slices.SortFunc(removed, byVersion)
	slices.SortFunc(written, byVersion)
	return append(removed, written...)
}

// Elements returns the events that turn the set old into next. Each maps an
// element to the version of its insertion, or 0 where the backend keeps
// none; insertions come in that order, then by element.
func Elements(old, next map[string]uint64) []driver.ElementEvent {
	type change struct {
		driver.ElementEvent
		version uint64
	}
	var removed, added []change
	for e, v := range old {
		if _, ok := next[e]; !ok {
			removed = append(removed, change{driver.ElementEvent{Type: driver.EventRemoved, Element: e}, v})
		}
	}
	for e, v := range next {
		if _, ok := old[e]; !ok {
			added = append(added, change{driver.ElementEvent{Type: driver.EventInserted, Element: e}, v})
		}
	}
	order := func(a, b change) int {
		return cmp.Or(cmp.Compare(a.version, b.version), cmp.Compare(a.Element, b.Element))
	}
	slices.SortFunc(removed, order)
	slices.SortFunc(added, order)
	events := make([]driver.ElementEvent, 0, len(removed)+len(added))
	for _, c := range removed {
		events = append(events, c.ElementEvent)
	}
	for _, c := range added {
		events = append(events, c.ElementEvent)
	}
	return events
}

// Value returns the event that turns old into next, or none when they have
// the same version. A zero Version means absent; Type is ignored.
func Value(old, next driver.ValueEvent) []driver.ValueEvent {
	switch {
	case old.Version == next.Version:
		return nil
	case next.Version == 0:
		return []driver.ValueEvent{{Type: driver.EventRemoved, Value: old.Value, Version: old.Version}}
	case old.Version == 0:
		return []driver.ValueEvent{{Type: driver.EventInserted, Value: next.Value, Version: next.Version}}
	default:
		return []driver.ValueEvent{{Type: driver.EventUpdated, Value: next.Value, Version: next.Version}}
	}
}

// List returns events that turn the list old into next: past their common
// prefix and suffix, differing items are updated in place, and the surplus
// removed or the shortfall inserted. Each event's index is valid in the
// list as the events before it left it.
func List(old, next [][]byte) []driver.ListEvent {
	p := 0
	for p < len(old) && p < len(next) && string(old[p]) == string(next[p]) {
		p++
	}
	s := 0
	for s < len(old)-p && s < len(next)-p && string(old[len(old)-1-s]) == string(next[len(next)-1-s]) {
		s++
	}
	om, nm := old[p:len(old)-s], next[p:len(next)-s]
	var events []driver.ListEvent
	common := min(len(om), len(nm))
	for i := range common {
		if string(om[i]) != string(nm[i]) {
			events = append(events, driver.ListEvent{Type: driver.EventUpdated, Index: p + i, Value: nm[i]})
		}
	}
	for i := common; i < len(om); i++ {
		events = append(events, driver.ListEvent{Type: driver.EventRemoved, Index: p + common, Value: om[i]})
	}
	for i := common; i < len(nm); i++ {
		events = append(events, driver.ListEvent{Type: driver.EventInserted, Index: p + i, Value: nm[i]})
	}
	return events
}

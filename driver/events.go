package driver

// EventType says what a change did to one key, element or index.
type EventType int

const (
	// EventInserted: a key, element or index that did not exist now does.
	EventInserted EventType = iota + 1
	// EventUpdated: an existing key or index got a new value.
	EventUpdated
	// EventRemoved: a key, element or index no longer exists.
	EventRemoved
)

// String returns "inserted", "updated" or "removed".
func (t EventType) String() string {
	switch t {
	case EventInserted:
		return "inserted"
	case EventUpdated:
		return "updated"
	case EventRemoved:
		return "removed"
	}
	return "unknown"
}

package watch

import "sync"

// Channels is the set of channels that live watchers feed. A hub closes the
// channel of each of its watchers when the watcher ends, so a channel given
// to two live watchers would be closed twice, which panics; a hub refuses a
// channel already in its set. Hubs that share one Channels (those of one
// client) refuse a channel any of them feeds. Hubs of two clients have two
// sets and do not see each other's channels: there is no process-wide set,
// since that would be global state, so a channel given to watches of two
// clients is still closed twice.
//
// A channel stays in the set until its watcher has closed it. The zero value
// is an empty set, ready to use; a Channels must not be copied after first
// use. Its methods are safe for concurrent use.
type Channels struct {
	mu   sync.Mutex
	live map[any]struct{}

	// Failed, if set before the first hub uses the set, is told of every
	// backend event that a hub using the set could not convert (an event
	// the primitive's codec cannot decode), with the conversion's error,
	// when the hub ends the backend watch because of it. It must return
	// quickly.
	Failed func(event any, err error)
}

// claim adds ch to the set and reports whether it was absent.
func (c *Channels) claim(ch any) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.live[ch]; ok {
		return false
	}
	if c.live == nil {
		c.live = make(map[any]struct{})
	}
	c.live[ch] = struct{}{}
	return true
}

// release removes ch from the set.
func (c *Channels) release(ch any) {
	c.mu.Lock()
	delete(c.live, ch)
	c.mu.Unlock()
}

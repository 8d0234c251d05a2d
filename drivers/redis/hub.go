package redis

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
)

// listener is told what the hub hears on a channel. Its methods are called
// by the hub's reader goroutine with the hub locked: they must return at
// once and must not call the hub.
type listener interface {
	// message is one message published on the channel.
	message(payload string)
	// resubscribed says the subscription was made again on a new
	// connection: messages published meanwhile were lost.
	resubscribed()
}

// hub carries the pub/sub channels of every primitive of a driver over one
// pub/sub connection.
//
// go-redis's PubSub reconnects and resubscribes silently after a network
// error; messages published while it was away are lost without a trace.
// The hub does not rely on that: when receiving fails, or the connection
// stops answering pings, it drops the connection, opens a new one,
// subscribes every channel again, and tells the listeners of each channel,
// once the new subscription is confirmed, that they must catch up
// (resubscribed). A subscription made by go-redis behind the hub's back
// (a confirmation the hub did not ask for) is reported the same way.
type hub struct {
	client    goredis.UniversalClient
	pingEvery time.Duration

	// wire is held from counting a SUBSCRIBE or UNSUBSCRIBE to writing it,
	// so that the commands reach the server in the order they were
	// counted. The reader goroutine never takes it.
	wire sync.Mutex

	mu       sync.Mutex
	ps       *goredis.PubSub // the current connection; nil while reconnecting
	channels map[string]*hubChannel
	closed   bool
	started  bool
	quit     chan struct{} // closed by close
	exited   chan struct{} // closed when the reader goroutine returns
}

// hubChannel is the hub's state of one channel on the current connection.
type hubChannel struct {
	listeners map[listener]struct{}
	// active: the channel is, or is being, subscribed on the connection.
	active bool
	// sent and acked count SUBSCRIBE commands sent for the channel on the
	// current connection and their confirmations; replies come in order,
	// so the subscription asked for last is confirmed when acked == sent.
	sent, acked int
	// unsent and unacked do the same for UNSUBSCRIBE.
	unsent, unacked int
	// heard: a subscription was confirmed once; a new connection must then
	// make the listeners catch up.
	heard bool
	// stale: the listeners must catch up when the channel is confirmed.
	stale bool
	// waiters are subscribe calls waiting for the confirmation.
	waiters []chan error
	// idle is set while the channel has no listener and stays subscribed
	// (see hubLingerTime); linger, made once, then unsubscribes it.
	idle   bool
	linger *time.Timer
}

// hubLingerTime is how long a channel stays subscribed once its last
// listener has left, in case another comes: a lock taken and released in
// a loop would otherwise subscribe and unsubscribe its channel every time
// (two requests per acquisition).
const hubLingerTime = time.Second

func newHub(c goredis.UniversalClient) *hub {
	return &hub{
		client:    c,
		pingEvery: 2 * time.Second,
		channels:  map[string]*hubChannel{},
		quit:      make(chan struct{}),
		exited:    make(chan struct{}),
	}
}

var errHubClosed = driver.Errorf(driver.ErrClosed, "the driver was closed")

// subscribe adds l to channel and returns once the server has confirmed
// the subscription: every message published after subscribe returns
// reaches l (or l hears resubscribed if the connection was lost).
func (h *hub) subscribe(ctx context.Context, channel string, l listener) error {
	h.wire.Lock()
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		h.wire.Unlock()
		return errHubClosed
	}
	if !h.started {
		h.started = true
		go h.run()
	}
	hc := h.channels[channel]
	if hc == nil {
		hc = &hubChannel{listeners: map[listener]struct{}{}}
		h.channels[channel] = hc
	}
	hc.listeners[l] = struct{}{}
	if hc.idle {
		hc.linger.Stop()
		hc.idle = false
	}
	send := false
	switch {
	case !hc.active:
		hc.active = true
		if h.ps != nil {
			hc.sent++
			send = true
		} // else the reader subscribes every active channel when it reconnects
	case h.ps != nil && hc.acked == hc.sent:
		h.mu.Unlock()
		h.wire.Unlock()
		return nil // already confirmed
	}
	w := make(chan error, 1)
	hc.waiters = append(hc.waiters, w)
	ps := h.ps
	h.mu.Unlock()
	var err error
	if send {
		err = ps.Subscribe(ctx, channel)
	}
	h.wire.Unlock()
	if err != nil {
		h.unsubscribe(channel, l)
		h.drop(ps)
		return err
	}
	select {
	case err := <-w:
		if err != nil {
			h.unsubscribe(channel, l)
		}
		return err
	case <-ctx.Done():
		h.unsubscribe(channel, l)
		return ctx.Err()
	}
}

// unsubscribe removes l from channel; once the last listener has left,
// the channel is unsubscribed unless a new listener comes within
// hubLingerTime (see leave).
func (h *hub) unsubscribe(channel string, l listener) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hc := h.channels[channel]
	if hc == nil {
		return
	}
	delete(hc.listeners, l)
	if len(hc.listeners) > 0 || hc.idle || h.closed {
		return
	}
	hc.waiters = nil
	hc.idle = true
	if hc.linger == nil {
		hc.linger = time.AfterFunc(hubLingerTime, func() { h.leave(channel, hc) })
	} else {
		hc.linger.Reset(hubLingerTime)
	}
}

// leave unsubscribes channel, whose state is hc, if it is still idle (a
// timer that fired as a listener came and went may end the linger early:
// the next subscribe subscribes again).
func (h *hub) leave(channel string, hc *hubChannel) {
	h.wire.Lock()
	defer h.wire.Unlock()
	h.mu.Lock()
	if h.closed || h.channels[channel] != hc || !hc.idle || len(hc.listeners) > 0 {
		h.mu.Unlock()
		return
	}
	hc.idle = false
	send := false
	if hc.active {
		hc.active = false
		if h.ps != nil && hc.sent > 0 {
			hc.unsent++
			send = true
		}
	}
	h.forget(channel, hc)
	ps := h.ps
	h.mu.Unlock()
	if send {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := ps.Unsubscribe(ctx, channel); err != nil {
			h.drop(ps)
		}
	}
}

// forget deletes hc when nothing refers to it any more. h.mu must be held.
func (h *hub) forget(channel string, hc *hubChannel) {
	if len(hc.listeners) == 0 && !hc.active && hc.acked == hc.sent && hc.unacked == hc.unsent {
		delete(h.channels, channel)
	}
}

// drop abandons ps if it is the current connection: the reader then
// reconnects.
func (h *hub) drop(ps *goredis.PubSub) {
	h.mu.Lock()
	current := h.ps == ps
	h.mu.Unlock()
	if current {
		_ = ps.Close()
	}
}

// close ends the hub: pending subscribe calls fail with ErrClosed and the
// reader goroutine has returned when close returns.
func (h *hub) close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	ps := h.ps
	h.ps = nil
	for _, hc := range h.channels {
		for _, w := range hc.waiters {
			w <- errHubClosed
		}
		hc.waiters = nil
		if hc.linger != nil {
			hc.linger.Stop()
		}
		hc.idle = false
	}
	started := h.started
	h.mu.Unlock()
	close(h.quit)
	if ps != nil {
		_ = ps.Close()
	}
	if started {
		<-h.exited
	}
}

// run is the reader goroutine: it connects, receives until the connection
// fails, and starts again, backing off while the server cannot be reached.
func (h *hub) run() {
	defer close(h.exited)
	failures := 0
	for {
		ps := h.connect(failures)
		if ps == nil {
			return
		}
		if h.receive(ps) {
			failures = 0
		} else {
			failures++
		}
		h.disconnect(ps)
	}
}

// connect opens a new connection and subscribes every active channel on
// it, trying again (after asking a cluster client to reload its map of
// slots if the connection could not be made) until it succeeds. It
// returns nil when the hub is closed.
func (h *hub) connect(failures int) *goredis.PubSub {
	for {
		if failures > 0 {
			delay := 25 * time.Millisecond << min(failures, 7) // up to 3.2s
			select {
			case <-h.quit:
				return nil
			case <-time.After(delay):
			}
		}
		h.wire.Lock()
		h.mu.Lock()
		if h.closed {
			h.mu.Unlock()
			h.wire.Unlock()
			return nil
		}
		ps := h.client.Subscribe(context.Background())
		var names []string
		for name, hc := range h.channels {
			hc.sent, hc.acked, hc.unsent, hc.unacked = 0, 0, 0, 0
			if hc.active {
				hc.sent = 1
				names = append(names, name)
			}
		}
		h.ps = ps
		h.mu.Unlock()
		var err error
		if len(names) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err = ps.Subscribe(ctx, names...)
			cancel()
		}
		h.wire.Unlock()
		if err == nil {
			return ps
		}
		// go-redis dials a cluster's pub/sub connection at the master of
		// the first channel's slot, by a map of slots that it reloads on
		// its own only every minute: after a failover the map must be
		// reloaded, or the hub would dial the dead master until then.
		reloadSlotMap(h.client, err)
		h.disconnect(ps)
		failures++
	}
}

// receive reads ps until it fails and reports whether anything was read.
// A watchdog pings the connection when it is quiet and drops it when the
// pings go unanswered.
func (h *hub) receive(ps *goredis.PubSub) (got bool) {
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	stop := make(chan struct{})
	defer close(stop)
	go h.watchdog(ps, &last, stop)
	for {
		msg, err := ps.Receive(context.Background())
		if err != nil {
			reloadSlotMap(h.client, err) // see connect
			return got
		}
		got = true
		last.Store(time.Now().UnixNano())
		switch m := msg.(type) {
		case *goredis.Subscription:
			h.confirm(ps, m)
		case *goredis.Message:
			h.dispatch(ps, m)
		}
	}
}

// watchdog pings ps when nothing was received for pingEvery and closes it
// when nothing, not even a pong, was received for three times that.
func (h *hub) watchdog(ps *goredis.PubSub, last *atomic.Int64, stop <-chan struct{}) {
	t := time.NewTicker(h.pingEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		idle := time.Since(time.Unix(0, last.Load()))
		if idle >= 3*h.pingEvery {
			_ = ps.Close()
			return
		}
		if idle >= h.pingEvery {
			ctx, cancel := context.WithTimeout(context.Background(), h.pingEvery)
			err := ps.Ping(ctx)
			cancel()
			if err != nil {
				_ = ps.Close()
				return
			}
		}
	}
}

// disconnect forgets ps: the channels that were confirmed on it are marked
// stale, so their listeners catch up once the next connection confirms
// them.
func (h *hub) disconnect(ps *goredis.PubSub) {
	h.mu.Lock()
	if h.ps == ps {
		h.ps = nil
		for name, hc := range h.channels {
			hc.sent, hc.acked, hc.unsent, hc.unacked = 0, 0, 0, 0
			if len(hc.listeners) == 0 {
				delete(h.channels, name)
				continue
			}
			if hc.heard {
				hc.stale = true
			}
		}
	}
	h.mu.Unlock()
	_ = ps.Close()
}

// confirm counts a subscribe or unsubscribe reply.
func (h *hub) confirm(ps *goredis.PubSub, m *goredis.Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ps != ps {
		return
	}
	hc := h.channels[m.Channel]
	if hc == nil {
		return
	}
	switch m.Kind {
	case "subscribe":
		if hc.acked >= hc.sent {
			// Not asked for: go-redis subscribed again after a reconnect
			// of its own. Messages may have been lost.
			if hc.active && hc.heard {
				for l := range hc.listeners {
					l.resubscribed()
				}
			}
			return
		}
		hc.acked++
		if !hc.active || hc.acked != hc.sent {
			h.forget(m.Channel, hc)
			return
		}
		for _, w := range hc.waiters {
			w <- nil
		}
		hc.waiters = nil
		if hc.stale {
			hc.stale = false
			for l := range hc.listeners {
				l.resubscribed()
			}
		}
		hc.heard = true
	case "unsubscribe":
		if hc.unacked < hc.unsent {
			hc.unacked++
		}
		h.forget(m.Channel, hc)
	}
}

// dispatch hands a message to the listeners of its channel.
func (h *hub) dispatch(ps *goredis.PubSub, m *goredis.Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ps != ps {
		return
	}
	hc := h.channels[m.Channel]
	if hc == nil || !hc.active {
		return
	}
	for l := range hc.listeners {
		l.message(m.Payload)
	}
}

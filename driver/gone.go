package driver

import "sync"

// GoneSignal is the end of one hold as a driver reports it: the channel of
// Hold.Gone and the calls of Hold.Notify, so that a driver that closes Gone
// from its own goroutines (a release's reply, a watch, a session's end)
// need keep no goroutine per hold, and neither need the portable layer.
type GoneSignal struct {
	ch chan struct{}

	mu     sync.Mutex
	closed bool
	calls  []*goneCall
}

// goneCall is one call registered with Notify; f is nil once it ran or
// was cancelled.
type goneCall struct{ f func() }

// NewGoneSignal returns an open signal.
func NewGoneSignal() *GoneSignal { return &GoneSignal{ch: make(chan struct{})} }

// Hold returns the hold of version that g ends.
func (g *GoneSignal) Hold(version uint64) Hold {
	return Hold{Version: version, Gone: g.ch, Notify: g.Notify}
}

// Done is closed by Close.
func (g *GoneSignal) Done() <-chan struct{} { return g.ch }

// Close closes the channel and then calls, in the calling goroutine, every
// function registered with Notify and not cancelled. It reports whether
// this call closed it: only the first does.
func (g *GoneSignal) Close() bool {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return false
	}
	g.closed = true
	close(g.ch)
	fs := make([]func(), 0, len(g.calls))
	for _, c := range g.calls {
		if c.f != nil {
			fs = append(fs, c.f)
			c.f = nil
		}
	}
	g.calls = nil
	g.mu.Unlock()
	for _, f := range fs {
		f()
	}
	return true
}

// Notify is Hold.Notify: f runs once g is closed, by the goroutine that
// closes it, or at once if g is closed already.
func (g *GoneSignal) Notify(f func()) (stop func() bool) {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		f()
		return func() bool { return false }
	}
	c := &goneCall{f: f}
	g.calls = append(g.calls, c)
	g.mu.Unlock()
	return func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		cancelled := c.f != nil
		c.f = nil
		return cancelled
	}
}

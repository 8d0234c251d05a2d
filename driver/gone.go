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
	calls  []func()
}

// NewGoneSignal returns an open signal.
func NewGoneSignal() *GoneSignal { return &GoneSignal{ch: make(chan struct{})} }

// Hold returns the hold of version that g ends.
func (g *GoneSignal) Hold(version uint64) Hold {
	return Hold{Version: version, Gone: g.ch, Notify: g.Notify}
}

// Done is closed by Close.
func (g *GoneSignal) Done() <-chan struct{} { return g.ch }

// Close closes the channel and then calls, in the calling goroutine, every
// function registered with Notify. It reports whether this call closed it:
// only the first does.
func (g *GoneSignal) Close() bool {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return false
	}
	g.closed = true
	close(g.ch)
	calls := g.calls
	g.calls = nil
	g.mu.Unlock()
	for _, f := range calls {
		f()
	}
	return true
}

// Notify is Hold.Notify: f runs once g is closed, by the goroutine that
// closes it, or at once if g is closed already.
func (g *GoneSignal) Notify(f func()) {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		f()
		return
	}
	g.calls = append(g.calls, f)
	g.mu.Unlock()
}

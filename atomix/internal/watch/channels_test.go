package watch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/atomix/go-client/driver"
)

// TestSameChannelTwiceIsRefused checks that a channel a live watcher feeds
// is refused by a second Watch (closing it twice would panic), and that the
// first watcher goes on undisturbed.
func TestSameChannelTwiceIsRefused(t *testing.T) {
	b := &backend{}
	h := newHub(b)
	defer h.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch := make(chan int, 10)
	if err := h.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if err := h.Watch(t.Context(), ch); !errors.Is(err, driver.ErrInvalid) {
		t.Fatalf("second Watch with the same channel = %v; want ErrInvalid", err)
	}
	b.feed(t).send(t, 1, 2)
	if got := receive(t, ch, 2); !equal(got, []int{1, 2}) {
		t.Fatalf("got %v, want [1 2]", got)
	}
	cancel()
	waitClosed(t, ch)
}

// TestHubsSharingChannelsRefuseEachOther checks that hubs sharing one
// Channels (the primitives of one client) refuse each other's channels.
func TestHubsSharingChannelsRefuseEachOther(t *testing.T) {
	var chans Channels
	b1, b2 := &backend{}, &backend{}
	h1 := New(b1.Watch, identity, &chans)
	defer h1.Close()
	h2 := New(b2.Watch, identity, &chans)
	defer h2.Close()
	ch := make(chan int, 10)
	if err := h1.Watch(t.Context(), ch); err != nil {
		t.Fatal(err)
	}
	if err := h2.Watch(t.Context(), ch); !errors.Is(err, driver.ErrInvalid) {
		t.Fatalf("Watch on a second hub with the same channel = %v; want ErrInvalid", err)
	}
	if n := b2.startCount(); n != 0 {
		t.Errorf("the refused Watch started %d backend watches", n)
	}
	h1.Close()
	waitClosed(t, ch)
	if err := h2.Watch(t.Context(), make(chan int)); err != nil {
		t.Fatalf("Watch with a fresh channel: %v", err)
	}
}

// TestFailedWatchReleasesChannel checks that a Watch that fails leaves its
// channel free for the next Watch, and that ended watchers leave nothing in
// the set.
func TestFailedWatchReleasesChannel(t *testing.T) {
	b := &backend{err: driver.ErrUnavailable}
	h := newHub(b)
	ch := make(chan int, 1)
	if err := h.Watch(t.Context(), ch); !errors.Is(err, driver.ErrUnavailable) {
		t.Fatalf("Watch = %v; want the backend's error", err)
	}
	b.mu.Lock()
	b.err = nil
	b.mu.Unlock()
	if err := h.Watch(t.Context(), ch); err != nil {
		t.Fatalf("Watch after a failed one with the same channel: %v", err)
	}
	h.Close()
	waitClosed(t, ch)
	h.chans.mu.Lock()
	n := len(h.chans.live)
	h.chans.mu.Unlock()
	if n != 0 {
		t.Errorf("%d channels still held after Close", n)
	}
}

// TestConcurrentWatchesOfOneChannel checks that of many concurrent Watch
// calls with one channel exactly one succeeds.
func TestConcurrentWatchesOfOneChannel(t *testing.T) {
	h := newHub(&backend{})
	ch := make(chan int)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			err := h.Watch(t.Context(), ch)
			switch {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, driver.ErrInvalid):
				t.Errorf("Watch = %v; want nil or ErrInvalid", err)
			}
		})
	}
	wg.Wait()
	if n := ok.Load(); n != 1 {
		t.Errorf("%d Watch calls with one channel succeeded; want 1", n)
	}
	h.Close()
	waitClosed(t, ch)
}

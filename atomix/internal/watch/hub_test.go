package watch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/atomix/go-client/driver"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// backend is a fake driver watch, the only fake in the portable layer's
// tests: it lets a test start, feed and end backend watches by hand.
type backend struct {
	mu      sync.Mutex
	starts  int
	current *feed
	// gate, when set, makes Watch block until it is closed or ctx ends.
	gate chan struct{}
	// err, when set, is returned by Watch.
	err error
}

// feed is one backend watch of the fake.
type feed struct {
	ctx    context.Context
	events chan int      // the test's events; closing it ends the watch for good
	done   chan struct{} // closed once the watch's goroutine exited and closed ch
}

func (b *backend) Watch(ctx context.Context, ch chan<- int) error {
	b.mu.Lock()
	gate, err := b.gate, b.err
	b.starts++
	b.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err != nil {
		return err
	}
	f := &feed{ctx: ctx, events: make(chan int), done: make(chan struct{})}
	b.mu.Lock()
	b.current = f
	b.mu.Unlock()
	go func() {
		defer close(f.done)
		defer close(ch)
		for {
			select {
			case ev, ok := <-f.events:
				if !ok {
					return
				}
				select {
				case ch <- ev:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return nil
}

func (b *backend) feed(t *testing.T) *feed {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.current == nil {
		t.Fatal("no backend watch was started")
	}
	return b.current
}

func (b *backend) startCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.starts
}

// send hands events to the backend watch, as commits would. It may run in
// its own goroutine, so it reports a stuck backend watch with t.Errorf.
func (f *feed) send(t *testing.T, evs ...int) {
	t.Helper()
	for _, ev := range evs {
		select {
		case f.events <- ev:
		case <-time.After(5 * time.Second):
			t.Errorf("backend watch did not take event %d", ev)
			return
		}
	}
}

func identity(v int) (int, error) { return v, nil }

func newHub(b *backend) *Hub[int, int] { return New(b.Watch, identity, nil) }

// receive reads n events from ch, failing on timeout or early close.
func receive(t *testing.T, ch <-chan int, n int) []int {
	t.Helper()
	got := make([]int, 0, n)
	for len(got) < n {
		select {
		case v, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed after %v, want %d events", got, n)
			}
			got = append(got, v)
		case <-time.After(5 * time.Second):
			t.Fatalf("timed out after %v, want %d events", got, n)
		}
	}
	return got
}

func waitClosed(t *testing.T, ch <-chan int) {
	t.Helper()
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-time.After(5 * time.Second):
			t.Fatal("channel not closed")
		}
	}
}

func waitDone(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func seq(from, to int) []int {
	s := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

func equal(a, b []int) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

func TestOneBackendWatchForManyWatchers(t *testing.T) {
	b := &backend{}
	h := newHub(b)
	defer h.Close()
	ctx := t.Context()

	chans := make([]chan int, 5)
	for i := range chans {
		chans[i] = make(chan int)
		if err := h.Watch(ctx, chans[i]); err != nil {
			t.Fatal(err)
		}
	}
	if n := b.startCount(); n != 1 {
		t.Fatalf("backend watch started %d times for 5 watchers, want 1", n)
	}
	f := b.feed(t)
	go f.send(t, seq(0, 100)...)
	for i, ch := range chans {
		if got := receive(t, ch, 100); !equal(got, seq(0, 100)) {
			t.Fatalf("watcher %d got %v, want 0..99 in order", i, got)
		}
	}
}

func TestSlowWatcherStallsNobody(t *testing.T) {
	b := &backend{}
	h := newHub(b)
	defer h.Close()
	ctx := t.Context()

	slow, fast := make(chan int), make(chan int)
	if err := h.Watch(ctx, slow); err != nil {
		t.Fatal(err)
	}
	if err := h.Watch(ctx, fast); err != nil {
		t.Fatal(err)
	}
	// Nobody reads slow while 10000 events flow to fast: the backend watch
	// must never block on slow (send fails the test if it does).
	f := b.feed(t)
	const n = 10000
	go f.send(t, seq(0, n)...)
	if got := receive(t, fast, n); !equal(got, seq(0, n)) {
		t.Fatal("fast watcher did not get every event in order")
	}
	// Then slow gets all of them too: nothing was dropped.
	if got := receive(t, slow, n); !equal(got, seq(0, n)) {
		t.Fatal("slow watcher lost or reordered events")
	}
}

func TestJoinRunningWatchReturnsAtOnce(t *testing.T) {
	b := &backend{}
	h := newHub(b)
	defer h.Close()
	ctx := t.Context()
	if err := h.Watch(ctx, make(chan int, 1)); err != nil {
		t.Fatal(err)
	}
	// Later starts would block forever on the gate.
	b.mu.Lock()
	b.gate = make(chan struct{})
	b.mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- h.Watch(ctx, make(chan int, 1)) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("joining a running backend watch blocked")
	}
}

func TestWatchWaitsUntilEstablished(t *testing.T) {
	gate := make(chan struct{})
	b := &backend{gate: gate}
	h := newHub(b)
	defer h.Close()
	ctx := t.Context()

	results := make(chan error, 3)
	for range 3 {
		go func() { results <- h.Watch(ctx, make(chan int, 10)) }()
	}
	select {
	case err := <-results:
		t.Fatalf("Watch returned (%v) before the backend watch was established", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(gate)
	for range 3 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	if n := b.startCount(); n != 1 {
		t.Fatalf("concurrent first watchers started %d backend watches, want 1", n)
	}
}

func TestContextEndClosesOnlyThatWatcher(t *testing.T) {
	b := &backend{}
	h := newHub(b)
	defer h.Close()

	ctx1, cancel1 := context.WithCancel(t.Context())
	ch1, ch2 := make(chan int), make(chan int)
	if err := h.Watch(ctx1, ch1); err != nil {
		t.Fatal(err)
	}
	if err := h.Watch(t.Context(), ch2); err != nil {
		t.Fatal(err)
	}
	f := b.feed(t)
	cancel1()
	waitClosed(t, ch1)
	go f.send(t, 1, 2, 3)
	if got := receive(t, ch2, 3); !equal(got, []int{1, 2, 3}) {
		t.Fatalf("remaining watcher got %v", got)
	}
	if f.ctx.Err() != nil {
		t.Fatal("backend watch cancelled while a watcher remains")
	}
}

func TestLastWatcherLeavingStopsBackendWatch(t *testing.T) {
	b := &backend{}
	h := newHub(b)
	defer h.Close()

	ctx, cancel := context.WithCancel(t.Context())
	ch := make(chan int)
	if err := h.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	first := b.feed(t)
	cancel()
	waitClosed(t, ch)
	waitDone(t, first.done, "the backend watch to be cancelled")

	// A new watcher starts a new backend watch and sees only its events.
	ch2 := make(chan int)
	if err := h.Watch(t.Context(), ch2); err != nil {
		t.Fatal(err)
	}
	if n := b.startCount(); n != 2 {
		t.Fatalf("backend watch started %d times, want 2", n)
	}
	second := b.feed(t)
	go second.send(t, 7)
	if got := receive(t, ch2, 1); got[0] != 7 {
		t.Fatalf("got %v, want 7", got)
	}
}

func TestBackendEndDeliversQueueThenCloses(t *testing.T) {
	b := &backend{}
	h := newHub(b)
	defer h.Close()

	ch := make(chan int)
	if err := h.Watch(t.Context(), ch); err != nil {
		t.Fatal(err)
	}
	f := b.feed(t)
	f.send(t, 1, 2, 3)
	close(f.events) // the backend watch fails for good
	waitDone(t, f.done, "the backend watch to end")
	if got := receive(t, ch, 3); !equal(got, []int{1, 2, 3}) {
		t.Fatalf("got %v, want the events before the end", got)
	}
	waitClosed(t, ch)

	// The next watcher starts a new backend watch.
	if err := h.Watch(t.Context(), make(chan int)); err != nil {
		t.Fatal(err)
	}
	if n := b.startCount(); n != 2 {
		t.Fatalf("backend watch started %d times, want 2", n)
	}
}

func TestConvertErrorEndsWatchHonestly(t *testing.T) {
	b := &backend{}
	h := New(b.Watch, func(v int) (string, error) {
		if v < 0 {
			return "", errors.New("cannot decode")
		}
		return strconv.Itoa(v), nil
	}, nil)
	defer h.Close()

	ch := make(chan string, 10)
	if err := h.Watch(t.Context(), ch); err != nil {
		t.Fatal(err)
	}
	f := b.feed(t)
	f.send(t, 1, -1)
	waitDone(t, f.done, "the backend watch to be cancelled after a bad event")
	var got []string
	for v := range ch {
		got = append(got, v)
	}
	if fmt.Sprint(got) != "[1]" {
		t.Fatalf("got %v, want the event before the undecodable one, then close", got)
	}
}

func TestCloseClosesEverything(t *testing.T) {
	b := &backend{}
	h := newHub(b)
	chans := []chan int{make(chan int), make(chan int), make(chan int)}
	for _, ch := range chans {
		if err := h.Watch(t.Context(), ch); err != nil {
			t.Fatal(err)
		}
	}
	f := b.feed(t)
	f.send(t, 1, 2) // queued, never read
	h.Close()
	for _, ch := range chans {
		waitClosed(t, ch)
	}
	waitDone(t, f.done, "the backend watch to be cancelled")
	if err := h.Watch(t.Context(), make(chan int)); !errors.Is(err, driver.ErrClosed) {
		t.Fatalf("Watch after Close: %v, want ErrClosed", err)
	}
	h.Close() // idempotent
}

func TestContextEndsWhileEstablishing(t *testing.T) {
	b := &backend{gate: make(chan struct{})}
	h := newHub(b)
	defer h.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	ch := make(chan int)
	err := h.Watch(ctx, ch)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	select {
	case <-ch:
		t.Fatal("ch was closed although Watch failed")
	default:
	}
}

func TestBackendErrorIsReturned(t *testing.T) {
	b := &backend{err: driver.ErrUnavailable}
	h := newHub(b)
	defer h.Close()
	if err := h.Watch(t.Context(), make(chan int)); !errors.Is(err, driver.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
	// The failure is not sticky: the next Watch tries again.
	b.mu.Lock()
	b.err = nil
	b.mu.Unlock()
	if err := h.Watch(t.Context(), make(chan int)); err != nil {
		t.Fatal(err)
	}
}

func TestNilChannel(t *testing.T) {
	h := newHub(&backend{})
	defer h.Close()
	if err := h.Watch(t.Context(), nil); !errors.Is(err, driver.ErrInvalid) {
		t.Fatalf("got %v, want ErrInvalid", err)
	}
}

// TestConcurrentWatchersAndClose stirs joins, leaves and Close together for
// the race detector and goleak.
func TestConcurrentWatchersAndClose(t *testing.T) {
	b := &backend{}
	h := newHub(b)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			ch := make(chan int, 1)
			if err := h.Watch(ctx, ch); err != nil {
				return
			}
			if i%2 == 0 {
				cancel()
			}
			for range ch {
			}
		})
	}
	time.Sleep(10 * time.Millisecond)
	h.Close()
	wg.Wait()
}

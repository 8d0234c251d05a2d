package driver

import "testing"

func TestGoneSignal(t *testing.T) {
	g := NewGoneSignal()
	h := g.Hold(7)
	if h.Version != 7 || h.Gone != g.Done() || h.Notify == nil {
		t.Fatalf("Hold(7) = %+v", h)
	}
	var ran, cancelled int
	h.Notify(func() { ran++ })
	stop := h.Notify(func() { cancelled++ })
	if ran != 0 {
		t.Fatal("a call ran before the signal closed")
	}
	if !stop() {
		t.Fatal("stop of a call not yet made reported false")
	}
	if stop() {
		t.Fatal("a second stop reported true")
	}
	if !g.Close() {
		t.Fatal("the first Close reported false")
	}
	if g.Close() {
		t.Fatal("a second Close reported true")
	}
	select {
	case <-h.Gone:
	default:
		t.Fatal("Gone is open after Close")
	}
	if ran != 1 || cancelled != 0 {
		t.Fatalf("after Close: %d runs of the call, %d of the cancelled one; want 1 and 0", ran, cancelled)
	}
	late := 0
	if stop := h.Notify(func() { late++ }); late != 1 || stop() {
		t.Fatalf("Notify after Close: %d runs, want 1 at once and a stop that reports false", late)
	}
}

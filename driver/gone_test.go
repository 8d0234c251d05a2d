package driver

import "testing"

func TestGoneSignal(t *testing.T) {
	g := NewGoneSignal()
	h := g.Hold(7)
	if h.Version != 7 || h.Gone != g.Done() || h.Notify == nil {
		t.Fatalf("Hold(7) = %+v", h)
	}
	ran := 0
	h.Notify(func() { ran++ })
	h.Notify(func() { ran += 10 })
	if ran != 0 {
		t.Fatal("a call ran before the signal closed")
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
	if ran != 11 {
		t.Fatalf("after Close and a second Close: calls added up to %d, want 11 (each once)", ran)
	}
	late := 0
	if h.Notify(func() { late++ }); late != 1 {
		t.Fatalf("Notify after Close: %d runs, want 1 at once", late)
	}
}

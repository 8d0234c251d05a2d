package memory

import (
	"context"
	"testing"

	"github.com/atomix/go-client/driver"
)

func TestURLConnectsToTheNamedSharedStore(t *testing.T) {
	ctx := context.Background()
	a, err := driver.Open(ctx, "mem://TestURLConnectsToTheNamedSharedStore")
	must(t, "open a", err)
	defer a.Close(ctx)
	b, err := driver.Open(ctx, "mem://TestURLConnectsToTheNamedSharedStore")
	must(t, "open b", err)
	defer b.Close(ctx)
	other, err := driver.Open(ctx, "mem://TestURLConnectsToTheNamedSharedStore-other")
	must(t, "open other", err)
	defer other.Close(ctx)

	ca, _ := a.OpenCounter(ctx, id("c"))
	ca.Set(ctx, 42)
	cb, _ := b.OpenCounter(ctx, id("c"))
	if v, _ := cb.Get(ctx); v != 42 {
		t.Fatalf("a second connection to the same name reads %d, want 42", v)
	}
	co, _ := other.OpenCounter(ctx, id("c"))
	if v, _ := co.Get(ctx); v != 0 {
		t.Fatalf("a store of another name reads %d, want 0", v)
	}
	if a.(*Driver).Store() != SharedStore("TestURLConnectsToTheNamedSharedStore") {
		t.Fatal("the URL did not connect to SharedStore of its name")
	}
}

func TestBadURLs(t *testing.T) {
	for _, u := range []string{"mem://", "mem:///x", "mem://a/b", "mem://a?ttl=1s", "mem://u:p@a", "mem://a#f"} {
		if _, err := driver.Open(context.Background(), u); err == nil {
			t.Errorf("%s: no error", u)
		} else {
			wantErr(t, u, err, driver.ErrInvalid)
		}
	}
}

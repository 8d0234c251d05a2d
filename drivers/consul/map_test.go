package consul

import (
	"bytes"
	"errors"
	"net/http"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

func TestMapValueLimit(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	m, _ := d.OpenMap(ctx, testID("big"))
	max := d.Limits().MaxValueSize
	key := string(bytes.Repeat([]byte{0xff}, d.Limits().MaxKeySize))
	if _, err := m.Put(ctx, key, bytes.Repeat([]byte("x"), max), 0); err != nil {
		t.Fatalf("Put of the largest key and value: %v", err)
	}
	if _, err := m.Update(ctx, key, bytes.Repeat([]byte("y"), max), 0); err != nil {
		t.Fatalf("Update of the largest key and value: %v", err)
	}
	_, err := m.Put(ctx, "k", bytes.Repeat([]byte("x"), 600<<10), 0)
	var se api.StatusError
	if !errors.Is(err, driver.ErrInvalid) || !errors.As(err, &se) || se.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("Put of a value above the agent's limit: %v, want ErrInvalid caused by the agent's 413", err)
	}
}

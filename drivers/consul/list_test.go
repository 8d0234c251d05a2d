package consul

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// httpCounter is an http.RoundTripper that adds up the bytes of the
// request and response bodies it carries, and counts the blocking reads of
// single keys (GET /v1/kv/<key>?index=…, not recursive).
type httpCounter struct {
	mu       sync.Mutex
	bytes    int64
	blocking int
}

func (c *httpCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	q := r.URL.Query()
	c.mu.Lock()
	c.bytes += max(r.ContentLength, 0) + int64(len(body))
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/kv/") && q.Has("index") && !q.Has("recurse") {
		c.blocking++
	}
	c.mu.Unlock()
	return resp, err
}

// take returns the bytes counted since the last call.
func (c *httpCounter) take() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.bytes
	c.bytes = 0
	return n
}

// TestListBoundedRequests: on a list of 5,000 items, Get, Set, Insert and
// Remove in the middle, Append and Len each exchange a few KiB with the
// agent, not a record of every item. (With one header key holding every
// item's ID, each read or rewrote about 13 KiB of header at this length,
// growing with the list.)
func TestListBoundedRequests(t *testing.T) {
	ctx := testContext(t)
	counter := &httpCounter{}
	d, err := New(Config{Address: testbackend.Consul(t), HTTPClient: &http.Client{Transport: counter}, Options: Options{Prefix: testPrefix(t)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(ctx) })
	l, _ := d.OpenList(ctx, testID("l"))
	const n = 5000
	for i := range n {
		if _, err := l.Append(ctx, []byte(fmt.Sprintf("item%04d", i))); err != nil {
			t.Fatal(err)
		}
	}
	// A second instance, so that every operation starts from nothing
	// cached but what the operations before it left.
	l, _ = d.OpenList(ctx, testID("l"))
	const limit = 8 << 10
	for _, op := range []struct {
		name string
		f    func() error
	}{
		{"Len", func() error { _, err := l.Len(ctx); return err }},
		{"Get", func() error { _, err := l.Get(ctx, n/2); return err }},
		{"Set", func() error { _, err := l.Set(ctx, n/2, []byte("set")); return err }},
		{"Insert", func() error { return l.Insert(ctx, n/2, []byte("inserted")) }},
		{"Remove", func() error { _, err := l.Remove(ctx, n/2); return err }},
		{"Append", func() error { _, err := l.Append(ctx, []byte("appended")); return err }},
	} {
		counter.take()
		if err := op.f(); err != nil {
			t.Fatalf("%s: %v", op.name, err)
		}
		if got := counter.take(); got > limit {
			t.Errorf("%s on %d items exchanged %d bytes with the agent, more than %d", op.name, n, got, limit)
		}
	}
}

// TestListChunks: Inserts at the front and items of the largest size
// anywhere, next to small ones, keep the list equal to a model, with every
// chunk within listBounds (or a single item): a transaction that puts the
// largest value into a chunk of small items stays within the agent's
// request limit.
func TestListChunks(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	dl, _ := d.OpenList(ctx, testID("l"))
	l := dl.(*consulList)
	var model [][]byte
	for i := range 300 {
		v := []byte(strconv.Itoa(i))
		if _, err := l.Append(ctx, v); err != nil {
			t.Fatal(err)
		}
		model = append(model, v)
	}
	for range 200 {
		if err := l.Insert(ctx, 0, []byte("x")); err != nil {
			t.Fatalf("Insert at the front of %d items: %v", len(model), err)
		}
		model = slices.Insert(model, 0, []byte("x"))
	}
	big := bytes.Repeat([]byte("b"), d.Limits().MaxValueSize)
	for _, at := range []int{1, 201, 202, len(model)} {
		if err := l.Insert(ctx, at, big); err != nil {
			t.Fatalf("Insert of a %d-byte item at %d: %v", len(big), at, err)
		}
		model = slices.Insert(model, at, big)
	}
	if _, err := l.Set(ctx, 100, big); err != nil {
		t.Fatalf("Set of a %d-byte item in a chunk of small ones: %v", len(big), err)
	}
	model[100] = big
	var got [][]byte
	for it, err := range l.Items(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, it)
	}
	if !slices.EqualFunc(got, model, bytes.Equal) {
		t.Fatalf("Items differ from the model (%d items, want %d)", len(got), len(model))
	}
	if n, err := l.Len(ctx); err != nil || n != len(model) {
		t.Fatalf("Len = %d, %v; want %d", n, err, len(model))
	}
	for i := range model {
		v, err := l.Get(ctx, i)
		if err != nil || !bytes.Equal(v, model[i]) {
			t.Fatalf("Get(%d) = %d bytes, %v; want %d bytes", i, len(v), err, len(model[i]))
		}
	}
	if _, err := l.Get(ctx, len(model)); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("Get past the end = %v, want ErrNotFound", err)
	}
}

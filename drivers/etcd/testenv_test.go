package etcd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// testPrefix returns a key prefix no other test uses, so that tests on the
// shared server never see each other's keys.
func testPrefix(t testing.TB) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "test-" + hex.EncodeToString(b) + "/"
}

// newTestDriver returns a driver on the test server under prefix, closed
// when the test ends.
func newTestDriver(t testing.TB, prefix string) *Driver {
	t.Helper()
	d, err := New(Config{Endpoints: testbackend.Etcd(t), Prefix: prefix})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = d.Close(ctx)
	})
	return d
}

// rawClient returns a plain clientv3 client on the test server.
func rawClient(t testing.TB) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: testbackend.Etcd(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testContext returns a context that ends with the test or after a minute.
func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func newTestSession(t testing.TB, d *Driver, ttl time.Duration) *session {
	t.Helper()
	s, err := d.NewSession(testContext(t), driver.SessionOptions{TTL: ttl})
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	return s.(*session)
}

// txnCounter counts the requests a driver sends through its KV and the
// Gets by key, and records each transaction that reads (see txnRead).
type txnCounter struct {
	clientv3.KV
	n atomic.Int64

	mu    sync.Mutex
	gets  map[string]int
	reads []txnRead
}

// txnRead is a transaction whose Then branch reads, as it was answered.
type txnRead struct {
	serializable bool
	revision     int64 // of the response's header
}

// readsSince returns the records of the reading transactions, in the
// order they committed, less the first from of them.
func (c *txnCounter) readsSince(from int) []txnRead {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.reads[from:])
}

// readCount returns how many reading transactions have committed, for a
// later readsSince.
func (c *txnCounter) readCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.reads)
}

func (c *txnCounter) Txn(ctx context.Context) clientv3.Txn {
	c.n.Add(1)
	return countedTxn{Txn: c.KV.Txn(ctx), c: c}
}

// countedTxn records, in c, a transaction whose Then branch reads (see
// txnRead).
type countedTxn struct {
	clientv3.Txn
	c    *txnCounter
	read *txnRead // set by Then when it reads
}

func (t countedTxn) If(cs ...clientv3.Cmp) clientv3.Txn {
	return countedTxn{Txn: t.Txn.If(cs...), c: t.c, read: t.read}
}

func (t countedTxn) Then(ops ...clientv3.Op) clientv3.Txn {
	return countedTxn{Txn: t.Txn.Then(ops...), c: t.c, read: readOf(ops)}
}

func (t countedTxn) Else(ops ...clientv3.Op) clientv3.Txn {
	return countedTxn{Txn: t.Txn.Else(ops...), c: t.c, read: t.read}
}

func (t countedTxn) Commit() (*clientv3.TxnResponse, error) {
	resp, err := t.Txn.Commit()
	if err == nil && t.read != nil {
		t.c.mu.Lock()
		t.c.reads = append(t.c.reads, txnRead{serializable: t.read.serializable, revision: resp.Header.Revision})
		t.c.mu.Unlock()
	}
	return resp, err
}

// readOf returns the record of a read for Commit if an op of ops reads
// (serializable if any read is), or nil.
func readOf(ops []clientv3.Op) *txnRead {
	var read *txnRead
	for _, op := range ops {
		if op.IsGet() {
			if op.IsSerializable() {
				return &txnRead{serializable: true}
			}
			read = &txnRead{}
		}
	}
	return read
}

func (c *txnCounter) Get(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	c.n.Add(1)
	c.mu.Lock()
	c.gets[key]++
	c.mu.Unlock()
	return c.KV.Get(ctx, key, opts...)
}

func (c *txnCounter) Put(ctx context.Context, key, val string, opts ...clientv3.OpOption) (*clientv3.PutResponse, error) {
	c.n.Add(1)
	return c.KV.Put(ctx, key, val, opts...)
}

func (c *txnCounter) Delete(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.DeleteResponse, error) {
	c.n.Add(1)
	return c.KV.Delete(ctx, key, opts...)
}

// requests returns the number of requests sent so far.
func (c *txnCounter) requests() int64 { return c.n.Load() }

// getsOf returns the number of Gets of key sent so far.
func (c *txnCounter) getsOf(key string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return int64(c.gets[key])
}

// countRequests makes d count its KV requests. Call it before d is used.
func countRequests(d *Driver) *txnCounter {
	c := &txnCounter{KV: d.client.KV, gets: map[string]int{}}
	d.client.KV = c
	return c
}

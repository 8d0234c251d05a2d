package consul

import (
	"errors"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// TestTxnOfNoOperations checks that a transaction of no operations is
// answered, not a panic: txn looks at its last operation to tell a
// get-tree's results apart.
func TestTxnOfNoOperations(t *testing.T) {
	d := testDriverAt(t, testbackend.Consul(t), testPrefix(t))
	res, rb, err := d.txn(testContext(t), nil)
	if err == nil && (rb != nil || len(res) != 0) {
		t.Errorf("txn of no operations = %v, %v, want no results", res, rb)
	}
	t.Logf("txn of no operations: %v, %v, %v", res, rb, err)
}

// TestTxnRefusesAGetTreeBeforeTheLast checks that txn refuses a get-tree
// that is not the transaction's last operation: its keys would come
// among the results of the operations after it, which callers index by
// operation.
func TestTxnRefusesAGetTreeBeforeTheLast(t *testing.T) {
	ctx := testContext(t)
	prefix := testPrefix(t)
	d := testDriverAt(t, testbackend.Consul(t), prefix)
	if _, err := d.apply(ctx, []kvOp{
		{Verb: api.KVSet, Key: prefix + "/tree/a", Value: []byte("a")},
		{Verb: api.KVSet, Key: prefix + "/tree/b", Value: []byte("b")},
		{Verb: api.KVSet, Key: prefix + "/other", Value: []byte("other")},
	}); err != nil {
		t.Fatal(err)
	}
	res, _, err := d.txn(ctx, []kvOp{
		{Verb: api.KVGetTree, Key: prefix + "/tree/"},
		{Verb: api.KVGet, Key: prefix + "/other"},
	})
	if !errors.Is(err, driver.ErrInvalid) {
		t.Fatalf("txn of a get-tree then a get = %d results, %v; want ErrInvalid", len(res), err)
	}
}

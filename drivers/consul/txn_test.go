package consul

import (
	"testing"

	"github.com/atomix/go-client/conformance/testbackend"
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

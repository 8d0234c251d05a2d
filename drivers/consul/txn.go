package consul

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

// kvOp is one KV operation of a /v1/txn request, in the agent's JSON form
// (the API package's KVTxnOp sends every field, even empty ones).
type kvOp struct {
	Verb      api.KVOp
	Key       string
	Value     []byte `json:",omitempty"`
	Flags     uint64 `json:",omitempty"`
	Index     uint64 `json:",omitempty"`
	Session   string `json:",omitempty"`
	Namespace string `json:",omitempty"`
	Partition string `json:",omitempty"`
}

type txnOp struct {
	KV *kvOp
}

type txnResult struct {
	KV *api.KVPair
}

type txnAnswer struct {
	Results []txnResult
	Errors  []api.TxnError
}

// rollback is a transaction that the agent applied to nothing because some
// of its operations failed; failed maps each failed operation's position to
// the agent's reason.
type rollback struct {
	failed map[int]string
}

// has reports whether operation i failed.
func (r *rollback) has(i int) bool {
	_, ok := r.failed[i]
	return ok
}

// reason returns why operation i failed, "" if it did not.
func (r *rollback) reason(i int) string { return r.failed[i] }

// Error lists the failed operations and the agent's reasons.
func (r *rollback) Error() string {
	parts := make([]string, 0, len(r.failed))
	for i, why := range r.failed {
		parts = append(parts, fmt.Sprintf("op %d: %s", i, why))
	}
	return strings.Join(parts, "; ")
}

// txn runs ops as one atomic transaction through /v1/txn. It returns the
// KV results of the operations that produce one (every verb except the
// deletes and check-not-exists), in order; or a rollback when the agent
// refused the transaction because operations failed; or a classified error
// when the request itself failed (ErrAmbiguous if it may have been applied).
func (d *Driver) txn(ctx context.Context, ops []kvOp) ([]*api.KVPair, *rollback, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if err := d.check(); err != nil {
		return nil, nil, err
	}
	body := make([]txnOp, len(ops))
	for i := range ops {
		ops[i].Namespace, ops[i].Partition = d.namespace, d.partition
		body[i].KV = &ops[i]
	}
	var answer txnAnswer
	_, err := d.client.Raw().Write("/v1/txn", body, &answer, (&api.WriteOptions{}).WithContext(ctx))
	if err != nil {
		var se api.StatusError
		if errors.As(err, &se) && se.Code == http.StatusConflict {
			if jerr := json.Unmarshal([]byte(se.Body), &answer); jerr == nil && len(answer.Errors) > 0 {
				rb := &rollback{failed: make(map[int]string, len(answer.Errors))}
				for _, e := range answer.Errors {
					rb.failed[e.OpIndex] = e.What
				}
				return nil, rb, nil
			}
		}
		return nil, nil, classify(ctx, err, writing)
	}
	results := make([]*api.KVPair, 0, len(answer.Results))
	for _, r := range answer.Results {
		if r.KV != nil {
			results = append(results, r.KV)
		}
	}
	return results, nil, nil
}

// unexpected reports a rolled back transaction that the caller has no
// specific explanation for.
func unexpected(rb *rollback) error {
	return driver.Wrap(driver.ErrConflict, rb, "transaction rolled back")
}

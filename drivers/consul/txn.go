package consul

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
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

// hasBefore reports whether an operation before i failed.
func (r *rollback) hasBefore(i int) bool {
	for j := range r.failed {
		if j < i {
			return true
		}
	}
	return false
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

// refusal is a transaction that the agent applied to nothing because the
// token lacks a permission for some of its operations. Its text is the
// agent's reasons; errors.As reaches the api.StatusError of the answer.
type refusal struct {
	status  api.StatusError
	reasons []string
}

func (r *refusal) Error() string { return strings.Join(r.reasons, "; ") }
func (r *refusal) Unwrap() error { return r.status }

// refused returns the refusal that a rolled back transaction's errors
// describe, or nil when none of them is about permissions. The agent checks
// every operation's ACL before it applies any, so a refused transaction
// changed nothing. A reason is a refusal by Consul's own rule
// (acl.IsErrPermissionDenied): it contains "Permission denied"; "ACL not
// found" is a token the agent does not know.
func refused(status api.StatusError, errs []api.TxnError) error {
	var r *refusal
	for _, e := range errs {
		if !strings.Contains(e.What, "Permission denied") && !strings.Contains(e.What, "ACL not found") {
			continue
		}
		if r == nil {
			r = &refusal{status: status}
		}
		if !slices.Contains(r.reasons, e.What) {
			r.reasons = append(r.reasons, e.What)
		}
	}
	if r == nil {
		return nil
	}
	return driver.Wrap(driver.ErrPermission, r, "")
}

// rolledBack returns the rollback that a transaction's errors describe, or
// the refusal (see refused) when they are about permissions.
func rolledBack(status api.StatusError, errs []api.TxnError) (*rollback, error) {
	if err := refused(status, errs); err != nil {
		return nil, err
	}
	rb := &rollback{failed: make(map[int]string, len(errs))}
	for _, e := range errs {
		rb.failed[e.OpIndex] = e.What
	}
	return rb, nil
}

// txn runs ops as one atomic transaction through /v1/txn. It returns the
// KV results of the operations that produce one (every verb except the
// deletes and check-not-exists), in order, followed by the keys of a
// get-tree if that is the last operation (only there can its results be
// told from the others': a get-tree anywhere else is refused with
// ErrInvalid, unsent); or a rollback when the agent
// refused the transaction because operations failed; or a classified error
// when the request itself failed (ErrAmbiguous if it may have been applied)
// or the token lacks a permission for one of ops (ErrPermission, never a
// rollback: retrying cannot help).
func (d *Driver) txn(ctx context.Context, ops []kvOp) ([]*api.KVPair, *rollback, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if err := d.check(); err != nil {
		return nil, nil, err
	}
	for _, op := range ops[:max(len(ops)-1, 0)] {
		if op.Verb == api.KVGetTree {
			// Its keys would come among the other operations' results,
			// which callers index by operation.
			return nil, nil, driver.Errorf(driver.ErrInvalid, "a get-tree must be the last operation of a transaction")
		}
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
				rb, err := rolledBack(se, answer.Errors)
				return nil, rb, err
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
	want, tree := resultCount(ops), len(ops) > 0 && ops[len(ops)-1].Verb == api.KVGetTree
	if len(results) < want || (!tree && len(results) > want) {
		// Callers index the results by their operations: never hand them
		// fewer. The agent applied the transaction but its answer cannot
		// say what it wrote.
		return nil, nil, driver.Errorf(driver.ErrAmbiguous, "the agent answered %d results for %d operations that have one", len(results), want)
	}
	return results, nil, nil
}

// resultCount is how many KV results a committed transaction of ops
// answers, besides a get-tree's: one for every operation that writes or
// reads one key (the agent leaves out the deletes and check-not-exists).
// A get-tree, whose count it cannot know, is only sent last (see txn).
func resultCount(ops []kvOp) int {
	n := 0
	for _, op := range ops {
		switch op.Verb {
		case api.KVDelete, api.KVDeleteCAS, api.KVDeleteTree, api.KVCheckNotExists, api.KVGetTree:
		default:
			n++
		}
	}
	return n
}

// apply runs ops, which carry no precondition, as one transaction: a
// rollback is unexpected (ErrConflict with the agent's reasons).
func (d *Driver) apply(ctx context.Context, ops []kvOp) ([]*api.KVPair, error) {
	res, rb, err := d.txn(ctx, ops)
	if err == nil && rb != nil {
		err = unexpected(rb)
	}
	return res, err
}

// unexpected reports a rolled back transaction that the caller has no
// specific explanation for.
func unexpected(rb *rollback) error {
	return driver.Wrap(driver.ErrConflict, rb, "transaction rolled back")
}

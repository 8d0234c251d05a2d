package consul

import (
	"context"
	"strings"

	"github.com/hashicorp/consul/api"
)

// pageSize is how many keys one batched read asks for: a read-only
// transaction of that many gets. Consul 1.x accepts 64 operations per
// transaction (128 since 1.7), so a page fits every version the driver
// supports, and what Entries holds at once is one page of values, not the
// whole directory.
const pageSize = 64

// readTxn runs ops, which only read or check keys, as one read-only
// transaction in the mode of Options.Consistency (the agent serves it
// without a raft write). It returns the pairs the gets read, in order, or a
// rollback when some operation failed (a check that did not hold, or a get
// of a key that does not exist), or a classified error.
func (d *Driver) readTxn(ctx context.Context, ops []kvOp) ([]*api.KVPair, *rollback, error) {
	txn := make(api.TxnOps, len(ops))
	for i, op := range ops {
		txn[i] = &api.TxnOp{KV: &api.KVTxnOp{Verb: op.Verb, Key: op.Key, Index: op.Index, Namespace: d.namespace, Partition: d.partition}}
	}
	ok, resp, _, err := d.client.Txn().Txn(txn, d.read(ctx))
	if err != nil {
		return nil, nil, classify(ctx, err, reading)
	}
	if !ok {
		errs := make([]api.TxnError, 0, len(resp.Errors))
		for _, e := range resp.Errors {
			errs = append(errs, *e)
		}
		rb, err := rolledBack(api.StatusError{Code: 409, Body: "transaction rolled back"}, errs)
		return nil, rb, err
	}
	pairs := make([]*api.KVPair, 0, len(resp.Results))
	for _, r := range resp.Results {
		if r.KV != nil {
			pairs = append(pairs, r.KV)
		}
	}
	return pairs, nil, nil
}

// getMany reads keys (full paths) in one read-only transaction, in the
// mode of Options.Consistency, and returns the pairs of those that exist,
// in the order of keys. Keys deleted since they were listed are left out:
// Consul rolls a transaction back when one of its gets finds nothing, so
// getMany asks again without them.
func (d *Driver) getMany(ctx context.Context, keys []string) ([]*api.KVPair, error) {
	for len(keys) > 0 {
		ops := make([]kvOp, len(keys))
		for i, k := range keys {
			ops[i] = kvOp{Verb: api.KVGet, Key: k}
		}
		pairs, rb, err := d.readTxn(ctx, ops)
		if err != nil {
			return nil, err
		}
		if rb == nil {
			return pairs, nil
		}
		if len(rb.failed) == 0 {
			return nil, unexpected(rb)
		}
		rest := keys[:0:0]
		for i, k := range keys {
			if !rb.has(i) {
				rest = append(rest, k)
			}
		}
		keys = rest
	}
	return nil, nil
}

// listKeys returns the keys under dir, without their values, in the mode
// of Options.Consistency.
func (d *Driver) listKeys(ctx context.Context, dir string) ([]string, error) {
	keys, _, err := d.kv.Keys(dir, "", d.read(ctx))
	if err != nil {
		return nil, classify(ctx, err, reading)
	}
	return keys, nil
}

// prefetch is how many pages pages reads ahead of the one it yields.
const prefetch = 2

// pages yields the pairs of keys a page at a time (see getMany), in order;
// it stops at the first error, which it yields with a nil page. It reads up
// to prefetch pages ahead, in parallel, so at most prefetch+1 pages are in
// memory.
func (d *Driver) pages(ctx context.Context, keys []string, yield func([]*api.KVPair, error) bool) {
	type page struct {
		pairs []*api.KVPair
		err   error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ahead := make(chan chan page, prefetch)
	go func() {
		defer close(ahead)
		for start := 0; start < len(keys); start += pageSize {
			res := make(chan page, 1)
			select {
			case ahead <- res:
			case <-ctx.Done():
				return
			}
			go func(batch []string) {
				pairs, err := d.getMany(ctx, batch)
				res <- page{pairs, err}
			}(keys[start:min(start+pageSize, len(keys))])
		}
	}()
	for res := range ahead {
		p := <-res
		if !yield(p.pairs, p.err) || p.err != nil {
			return
		}
	}
}

// segmentsOf keeps the keys directly under dir that this driver wrote.
func segmentsOf(dir string, keys []string) []string {
	out := keys[:0]
	for _, k := range keys {
		if _, ok := unsegment(strings.TrimPrefix(k, dir)); ok {
			out = append(out, k)
		}
	}
	return out
}

package etcd

import (
	"context"
	"strconv"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

// counter is a driver.Counter stored as one key holding the value in
// decimal. An absent key reads as 0.
//
// etcd cannot add on the server, so Add is an optimistic compare-and-put:
// each counter remembers the value and mod revision it last saw, and Add
// sends one transaction "if the key's mod revision is still r, put v+delta,
// else return the key". When the guess was right that is one round trip;
// when another client wrote in between, the else branch brings the current
// value along, so each retry costs exactly one more round trip.
type counter struct {
	primitive
	key string

	mu       sync.Mutex
	value    int64 // last value seen
	modRev   int64 // its mod revision, 0 when the key was absent
	observed int64 // the store revision at which it was seen
}

var _ driver.Counter = (*counter)(nil)

func newCounter(d *Driver, id driver.ID) *counter {
	c := &counter{primitive: newPrimitive(d, kindCounter, id)}
	c.key = c.root
	return c
}

// Get returns the current value.
func (c *counter) Get(ctx context.Context) (int64, error) {
	resp, err := c.get(ctx, c.key)
	if err != nil {
		return 0, err
	}
	v, rev, err := c.parse(resp.Kvs)
	if err != nil {
		return 0, err
	}
	c.remember(v, rev, resp.Header.Revision)
	return v, nil
}

// Set stores value unconditionally.
func (c *counter) Set(ctx context.Context, value int64) error {
	resp, err := c.put(ctx, c.key, strconv.AppendInt(nil, value, 10))
	if err != nil {
		return err
	}
	c.remember(value, resp.Header.Revision, resp.Header.Revision)
	return nil
}

// Add adds delta with a compare-and-put from the last known revision,
// retrying with the value the failed attempt returned. A sum that does not
// fit in an int64 is ErrInvalid, decided on a value read from the server:
// when the remembered value would overflow, Add reads the key first.
func (c *counter) Add(ctx context.Context, delta int64) (int64, error) {
	c.mu.Lock()
	value, modRev := c.value, c.modRev
	c.mu.Unlock()
	fresh := false // value was read by this call, not remembered
	var buf [20]byte
	for {
		next, err := driver.CheckedAdd(value, delta)
		if err != nil {
			if fresh {
				return 0, err
			}
			resp, err := c.get(ctx, c.key)
			if err != nil {
				return 0, err
			}
			if value, modRev, err = c.parse(resp.Kvs); err != nil {
				return 0, err
			}
			c.remember(value, modRev, resp.Header.Revision)
			fresh = true
			continue
		}
		resp, err := c.txn(ctx, write,
			[]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(c.key), "=", modRev)},
			[]clientv3.Op{clientv3.OpPut(c.key, string(strconv.AppendInt(buf[:0], next, 10)))},
			[]clientv3.Op{clientv3.OpGet(c.key)})
		if err != nil {
			return 0, err
		}
		if resp.Succeeded {
			c.remember(next, resp.Header.Revision, resp.Header.Revision)
			return next, nil
		}
		value, modRev, err = c.parse(rangeResp(resp, 0))
		if err != nil {
			return 0, err
		}
		c.remember(value, modRev, resp.Header.Revision)
		fresh = true
	}
}

// CompareAndSet stores update if the value is expect, in one transaction
// comparing the stored decimal text. A counter never written reads 0, so
// for expect == 0 the transaction also accepts an absent key.
func (c *counter) CompareAndSet(ctx context.Context, expect, update int64) (bool, error) {
	put := clientv3.OpPut(c.key, strconv.FormatInt(update, 10))
	isExpected := clientv3.Compare(clientv3.Value(c.key), "=", strconv.FormatInt(expect, 10))
	var resp *clientv3.TxnResponse
	var err error
	if expect == 0 {
		resp, err = c.txn(ctx, write,
			[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(c.key), "=", 0)},
			[]clientv3.Op{put},
			[]clientv3.Op{clientv3.OpTxn([]clientv3.Cmp{isExpected}, []clientv3.Op{put}, nil)})
	} else {
		resp, err = c.txn(ctx, write, []clientv3.Cmp{isExpected}, []clientv3.Op{put}, nil)
	}
	if err != nil {
		return false, err
	}
	swapped := resp.Succeeded
	if !swapped && expect == 0 {
		swapped = resp.Responses[0].GetResponseTxn().Succeeded
	}
	if swapped {
		c.remember(update, resp.Header.Revision, resp.Header.Revision)
	}
	return swapped, nil
}

// parse decodes the counter's key from a range result (absent = 0).
func (c *counter) parse(kvs []*mvccKV) (value, modRev int64, err error) {
	if len(kvs) == 0 {
		return 0, 0, nil
	}
	v, err := strconv.ParseInt(string(kvs[0].Value), 10, 64)
	if err != nil {
		return 0, 0, driver.Errorf(driver.ErrInvalid, "the stored value %q is not a decimal integer", kvs[0].Value)
	}
	return v, kvs[0].ModRevision, nil
}

// remember caches a value seen at store revision observed, unless a later
// observation is already cached.
func (c *counter) remember(value, modRev, observed int64) {
	c.mu.Lock()
	if observed >= c.observed {
		c.value, c.modRev, c.observed = value, modRev, observed
	}
	c.mu.Unlock()
}

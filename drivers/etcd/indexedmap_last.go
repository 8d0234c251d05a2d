package etcd

import (
	"context"
	"math"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

// Last and Prev find the highest index below a bound. etcd serves a range
// read with a limit cheaply only in ascending key order: a descending sort,
// even with limit 1, makes the server fetch the whole range first, so a
// plain "last key of the range" costs O(n). Instead the search narrows a
// window of indexes that holds the answer, each round one read transaction:
//
//   - a descending read of the window's top tailWindow indexes (at most that
//     many keys to sort), which ends the search when it finds one;
//   - ascending limit-1 probes ("the first key at or after p, below the
//     window's top"), O(log n) each on the server, at points spread over the
//     rest of the window: in the first round at distances from the top
//     growing by 4 (the answer is usually near the top), in later rounds at
//     probeCount even steps from a key known to exist.
//
// The highest probe that finds a key bounds the answer from below and the
// next probe up from above, so the window shrinks about probeCount-fold per
// round: a search over a gap of g indexes with no entries takes
// 1 + log_probeCount(g / tailWindow) rounds and never reads more than
// tailWindow keys plus one per probe. Facts learned in different rounds
// hold together because index keys are only ever created by Append, which
// writes the counter: every round compares the counter's mod revision with
// the one the search started from, and starts over if it changed.
const (
	tailWindow = 16
	probeCount = 32
)

// lastBelow returns the entry with the highest index below limit.
func (m *etcdIndexedMap) lastBelow(ctx context.Context, limit uint64) (driver.Entry, error) {
	m.mu.Lock()
	n, nRev := m.last, m.lastRev
	if m.observed == 0 {
		nRev = -1 // never read: the first round fails and reads it
	}
	m.mu.Unlock()
restart:
	for {
		if n == math.MaxUint64 {
			return m.lastBelowBySort(ctx, limit)
		}
		hi := min(limit, n+1) // every index of an entry is at most n
		var lo uint64
		known := false // whether an entry at lo is known to exist
		for {
			if hi == 0 {
				return driver.Entry{}, errNotFound
			}
			top := lo
			if hi-lo > tailWindow {
				top = hi - tailWindow
			}
			ops := []clientv3.Op{clientv3.OpGet(m.byIndex(top), clientv3.WithRange(m.byIndex(hi)), clientv3.WithLimit(1),
				clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))}
			points := probePoints(lo, top, known)
			for _, p := range points {
				ops = append(ops, clientv3.OpGet(m.byIndex(p), clientv3.WithRange(m.byIndex(top)), clientv3.WithLimit(1), clientv3.WithKeysOnly()))
			}
			resp, err := m.txn(ctx, read,
				[]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(m.counterKey), "=", nRev)},
				ops, []clientv3.Op{clientv3.OpGet(m.counterKey)})
			if err != nil {
				return driver.Entry{}, err
			}
			if !resp.Succeeded {
				n, nRev = 0, 0
				if kvs := rangeResp(resp, 0); len(kvs) > 0 {
					if n, err = strconv.ParseUint(string(kvs[0].Value), 10, 64); err != nil {
						return driver.Entry{}, driver.Errorf(driver.ErrInvalid, "the index counter holds %q", kvs[0].Value)
					}
					nRev = kvs[0].ModRevision
				}
				m.remember(n, nRev, resp.Header.Revision)
				continue restart
			}
			if kvs := rangeResp(resp, 0); len(kvs) > 0 {
				return m.entryFromIndex(kvs[0])
			}
			// Nothing in [top, hi): narrow [lo, top) with the probes,
			// which are in increasing order.
			newLo, newHi, found := lo, top, false
			for k, p := range points {
				kvs := rangeResp(resp, k+1)
				if len(kvs) == 0 {
					newHi = p // nothing in [p, top)
					break
				}
				i, ok := parseIndexKey(m.idxPrefix, string(kvs[0].Key))
				if !ok {
					return driver.Entry{}, driver.Errorf(driver.ErrInvalid, "a stray key in the index range")
				}
				newLo, found = i, true
			}
			if !found && !known {
				return driver.Entry{}, errNotFound // not even the probe at lo found one
			}
			if !found && top == lo {
				// The entry at lo was removed since a round saw it:
				// the answer is below it.
				lo, hi, known = 0, lo, false
				continue
			}
			lo, hi, known = newLo, newHi, known || found
		}
	}
}

// probePoints returns the probes of one round over [lo, top), increasing.
// When no entry at lo is known (the first round), they are lo itself and
// points below top at distances tailWindow·4^k; otherwise probeCount-1
// points evenly spread above lo.
func probePoints(lo, top uint64, known bool) []uint64 {
	if top <= lo {
		return nil
	}
	span := top - lo
	var points []uint64
	if !known {
		points = append(points, lo)
		var below []uint64
		for d := uint64(tailWindow); d < span; d *= 4 {
			below = append(below, top-d)
			if d > math.MaxUint64/8 {
				break
			}
		}
		for k := len(below) - 1; k >= 0; k-- {
			if below[k] > lo {
				points = append(points, below[k])
			}
		}
		return points
	}
	step := max(span/probeCount, 1)
	for p := lo + step; p < top && len(points) < probeCount-1; p += step {
		points = append(points, p)
	}
	return points
}

// lastBelowBySort is the plain descending read, for the one case the
// search does not cover (an index counter at its maximum).
func (m *etcdIndexedMap) lastBelowBySort(ctx context.Context, limit uint64) (driver.Entry, error) {
	end := m.idxEnd
	if limit != math.MaxUint64 {
		end = m.byIndex(limit)
	}
	return m.one(ctx, m.idxPrefix, clientv3.WithRange(end), clientv3.WithLimit(1),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
}

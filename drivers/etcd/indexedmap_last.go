package etcd

import (
	"context"
	"math"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

// Last and Prev find the highest index below a bound. etcd serves a range
// read with a limit cheaply only in ascending key order, and even then it
// walks its in-memory index over the whole range to count it (values are
// read only for the keys returned); a descending sort, even with limit 1,
// reads every key-value of the range first. So a plain "last key of the
// range" costs O(n) reads of values, and the search here keeps every range
// it asks for small: it narrows a window of indexes that holds the answer,
// each round one read transaction.
//
//   - First, a descending read of the top tailWindow indexes below the
//     bound: at most that many keys read, and the answer when the last
//     entry is near the top (the usual case: one round trip).
//   - Else, going down from there, ascending limit-1 reads of segments that
//     grow by 4 (gallopSegments per round, the next round's 64 times
//     larger), each returning the lowest key in its segment: the highest
//     segment with a key bounds the answer from below and above.
//   - Then, while the window is wider than tailWindow, probeCount
//     ascending limit-1 reads of equal segments of it, which shrink it
//     about probeCount-fold; and a last descending read of what is left.
//
// So a search over a gap of g indexes with no entries walks O(g) index
// entries in O(log g) rounds, whatever the number of entries below; a
// full map whose last entry is near the counter, tailWindow.
//
// Facts learned in different rounds hold together because index keys are
// only ever created by Append, which writes the counter: every round
// compares the counter's mod revision with the one the search started
// from, and starts over if it changed. (A removal can only make a key seen
// earlier disappear, which the search notices.)
const (
	tailWindow     = 16
	probeCount     = 32
	gallopSegments = 3
)

// lastBelow returns the entry with the highest index below limit.
func (m *etcdIndexedMap) lastBelow(ctx context.Context, limit uint64) (driver.Entry, error) {
	n, nRev := m.cachedCounter()
restart:
	for {
		if n == math.MaxUint64 {
			return m.lastBelowBySort(ctx, limit)
		}
		s := lastSearch{hi: min(limit, n+1), first: true, reach: 4 * tailWindow}
		for {
			if s.hi == 0 {
				return driver.Entry{}, errNotFound
			}
			desc, bounds := s.round()
			var ops []clientv3.Op
			if desc {
				ops = append(ops, clientv3.OpGet(m.byIndex(bounds[0]), clientv3.WithRange(m.byIndex(bounds[1])), clientv3.WithLimit(1),
					clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend)))
			} else {
				for k := 0; k+1 < len(bounds); k++ {
					ops = append(ops, clientv3.OpGet(m.byIndex(bounds[k]), clientv3.WithRange(m.byIndex(bounds[k+1])),
						clientv3.WithLimit(1), clientv3.WithKeysOnly()))
				}
			}
			resp, err := m.searchRound(ctx, &n, &nRev, ops)
			if err != nil {
				return driver.Entry{}, err
			}
			if resp == nil {
				continue restart
			}
			if desc {
				if kvs := rangeResp(resp, 0); len(kvs) > 0 {
					return m.entryFromIndex(kvs[0])
				}
				s.emptyTop(bounds[0])
				continue
			}
			// The highest segment with a key.
			found := -1
			var at uint64
			for k := len(bounds) - 2; k >= 0; k-- {
				if kvs := rangeResp(resp, k); len(kvs) > 0 {
					i, ok := parseIndexKey(m.idxPrefix, string(kvs[0].Key))
					if !ok {
						return driver.Entry{}, driver.Errorf(driver.ErrInvalid, "a stray key in the index range")
					}
					found, at = k, i
					break
				}
			}
			s.segments(bounds, found, at)
		}
	}
}

// cachedCounter returns the index counter and its mod revision as this
// instance last saw them; a revision of -1 when it never did, which fails
// the first round's compare so that it reads them.
func (m *etcdIndexedMap) cachedCounter() (uint64, int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.observed == 0 {
		return m.last, -1
	}
	return m.last, m.lastRev
}

// searchRound runs the reads ops of one round of a search, in a
// transaction that compares the counter's mod revision with *nRev. If it
// changed, it stores the new counter in *n and *nRev and returns a nil
// response: the search starts over.
func (m *etcdIndexedMap) searchRound(ctx context.Context, n *uint64, nRev *int64, ops []clientv3.Op) (*clientv3.TxnResponse, error) {
	resp, err := m.txn(ctx, read,
		[]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(m.counterKey), "=", *nRev)},
		ops, []clientv3.Op{clientv3.OpGet(m.counterKey)})
	if err != nil {
		return nil, err
	}
	if !resp.Succeeded {
		*n, *nRev, err = m.counterOf(resp)
		return nil, err
	}
	return resp, nil
}

// firstFrom returns the entry with the lowest index at or above from. An
// ascending limit-1 read returns that entry directly, but etcd walks its
// index over the whole range to count it: so the reads cover segments
// going up from from, growing by 4 (gallopSegments per round, the next
// round's 64 times larger), the first segment with a key holding the
// answer: O(g) index entries walked for a gap of g, in O(log g) rounds,
// whatever the number of entries above; the same counter compare as
// lastBelow keeps the rounds' facts together.
func (m *etcdIndexedMap) firstFrom(ctx context.Context, from uint64) (driver.Entry, error) {
	n, nRev := m.cachedCounter()
restart:
	for {
		if n == math.MaxUint64 {
			return m.one(ctx, m.byIndex(from), clientv3.WithRange(m.idxEnd), clientv3.WithLimit(1))
		}
		lo, size := from, uint64(4*tailWindow)
		for {
			// Segments [bounds[k], bounds[k+1]), up to n; none when lo is
			// past n, and the round then only checks that n is current.
			bounds := []uint64{lo}
			for range gallopSegments {
				last := bounds[len(bounds)-1]
				if last > n {
					break
				}
				b := last + min(size, n+1-last)
				bounds = append(bounds, b)
				if b == n+1 || size > math.MaxUint64/4 {
					break
				}
				size *= 4
			}
			ops := make([]clientv3.Op, 0, len(bounds)-1)
			for k := 0; k+1 < len(bounds); k++ {
				ops = append(ops, clientv3.OpGet(m.byIndex(bounds[k]), clientv3.WithRange(m.byIndex(bounds[k+1])), clientv3.WithLimit(1)))
			}
			resp, err := m.searchRound(ctx, &n, &nRev, ops)
			if err != nil {
				return driver.Entry{}, err
			}
			if resp == nil {
				continue restart
			}
			for k := range ops {
				if kvs := rangeResp(resp, k); len(kvs) > 0 {
					return m.entryFromIndex(kvs[0])
				}
			}
			if lo = bounds[len(bounds)-1]; lo > n {
				return driver.Entry{}, errNotFound
			}
		}
	}
}

// counterOf reads the index counter from the else branch of a round.
func (m *etcdIndexedMap) counterOf(resp *clientv3.TxnResponse) (uint64, int64, error) {
	var n uint64
	var rev int64
	if kvs := rangeResp(resp, 0); len(kvs) > 0 {
		var err error
		if n, err = strconv.ParseUint(string(kvs[0].Value), 10, 64); err != nil {
			return 0, 0, driver.Errorf(driver.ErrInvalid, "the index counter holds %q", kvs[0].Value)
		}
		rev = kvs[0].ModRevision
	}
	m.remember(n, rev, resp.Header.Revision)
	return n, rev, nil
}

// lastSearch is the state of one search: no entry has an index in
// [hi, bound); when known, lo is the index of an entry seen (which a
// removal may have taken since) and the answer is in [lo, hi).
type lastSearch struct {
	lo, hi uint64
	known  bool
	first  bool   // no round yet
	reach  uint64 // the size of the next gallop segment
}

// round returns the next round's reads: desc and the range [b0, b1) to
// read in descending order, or the boundaries of segments to read with
// ascending limit-1 reads, increasing.
func (s *lastSearch) round() (bool, []uint64) {
	switch {
	case s.first:
		s.first = false
		return true, []uint64{s.hi - min(s.hi, tailWindow), s.hi}
	case s.known && s.hi-s.lo <= tailWindow:
		return true, []uint64{s.lo, s.hi}
	case s.known:
		step := max((s.hi-s.lo-1)/probeCount, 1)
		bounds := []uint64{s.lo + 1}
		for b := s.lo + 1 + step; b < s.hi; b += step {
			bounds = append(bounds, b)
		}
		return false, append(bounds, s.hi)
	}
	bounds := []uint64{s.hi}
	size := s.reach
	for range gallopSegments {
		b := bounds[0] - min(bounds[0], size)
		bounds = append([]uint64{b}, bounds...)
		if b == 0 || size > math.MaxUint64/4 {
			break
		}
		size *= 4
	}
	s.reach = size
	return false, bounds
}

// emptyTop records that a descending read of [from, s.hi) found nothing.
func (s *lastSearch) emptyTop(from uint64) {
	if s.known && from == s.lo {
		// The entry at lo was removed since: the answer is below it.
		s.known, s.hi = false, s.lo
		s.lo = 0
		return
	}
	s.hi = from
}

// segments records what the ascending reads of the segments between
// bounds found: the highest segment with a key is found (-1: none), and
// its lowest key at.
func (s *lastSearch) segments(bounds []uint64, found int, at uint64) {
	switch {
	case found >= 0:
		s.lo, s.hi, s.known = at, bounds[found+1], true
	case s.known:
		s.hi = s.lo + 1 // nothing above lo: lo, if it is still there
	default:
		s.hi = bounds[0] // nothing in the segments: go further down
	}
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

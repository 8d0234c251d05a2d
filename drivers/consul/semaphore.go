package consul

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

// kindSemaphore is the semaphore's kind as it appears in paths.
const kindSemaphore = string(driver.KindSemaphore)

// consulSemaphore keeps, under <base>/:
//
//   - c/<token>: one contender key per acquisition attempt, locked (in
//     Consul's KV sense) by the attempt's session, holding the owner and
//     its permits. Its CreateIndex orders the contenders by arrival and is
//     the fencing version of the acquisition if it is granted. The
//     session's "delete" behaviour removes it when the session ends.
//   - h: the holder record, changed only by check-and-set: the limit and
//     the holders, by token, with their owner, permits and version. A
//     holder whose contender key is gone (its session ended) no longer
//     counts, and the next writer drops it.
//
// A contender grants itself: it reads the directory and, if every
// contender that arrived before it is a live holder and its permits fit
// beside theirs, adds itself to h with a check-and-set transaction that
// also checks that its key is still held by its session. So grants follow
// arrival order strictly (a request that does not fit yet stops every
// later one), and versions, the contenders' CreateIndex, increase with
// every grant. A contender that cannot be granted waits with a blocking
// query on the directory, which answers when a key or h changes: a
// release, a contender leaving, a session ending. Every waiter hears every
// change and reads again (there is no per-waiter notification in Consul's
// KV store).
//
// Release removes the holder from h and deletes its key in one
// check-and-set transaction. A hold's Gone follows its contender key.
//
// The limit in h is the one checked: a contender whose limit differs while
// h has a live holder gets ErrConflict; once nothing is held, the next
// grant records its own limit.
type consulSemaphore struct {
	primitive
	limit      int
	dir        string // base + "/"
	recordKey  string // dir + "h"
	contenders string // dir + "c/"
}

var _ driver.Semaphore = (*consulSemaphore)(nil)

// OpenSemaphore opens a semaphore of limit permits. It does not contact the
// agent: a limit that disagrees with the one in use is refused by the first
// Acquire or TryAcquire.
func (d *Driver) OpenSemaphore(ctx context.Context, id driver.ID, limit int) (driver.Semaphore, error) {
	if limit < 1 {
		return nil, driver.Errorf(driver.ErrInvalid, "semaphore limit %d is below 1", limit)
	}
	if err := d.check(); err != nil {
		return nil, err
	}
	s := &consulSemaphore{limit: limit}
	s.init(d, kindSemaphore, id)
	s.dir = s.base + "/"
	s.recordKey, s.contenders = s.dir+"h", s.dir+"c/"
	return s, nil
}

// contender is the value of a contender key.
type contender struct {
	Owner   string
	Permits int
}

// semHolder is one holder in the record.
type semHolder struct {
	Owner   string
	Permits int
	Version uint64
}

// semRecord is the value of h.
type semRecord struct {
	Limit   int
	Holders map[string]semHolder // by token
}

// semState is the directory as one read saw it.
type semState struct {
	index      uint64
	record     *api.KVPair          // h; nil when absent
	holders    map[string]semHolder // the live holders of h
	used       int                  // their permits
	limit      int                  // the recorded limit, 0 when none
	contenders []*api.KVPair        // the contender keys held by a session, by arrival
}

// load reads the directory with q.
func (s *consulSemaphore) load(ctx context.Context, q *api.QueryOptions) (*semState, error) {
	pairs, meta, err := s.d.kv.List(s.dir, q)
	if err != nil {
		return nil, classify(ctx, err, reading)
	}
	st := &semState{index: meta.LastIndex, holders: map[string]semHolder{}}
	live := map[string]bool{}
	for _, p := range pairs {
		switch {
		case p.Key == s.recordKey:
			st.record = p
		case strings.HasPrefix(p.Key, s.contenders) && p.Session != "":
			st.contenders = append(st.contenders, p)
			live[strings.TrimPrefix(p.Key, s.contenders)] = true
		}
	}
	// The agent lists keys by name: order the contenders by arrival.
	sortByCreateIndex(st.contenders)
	if st.record != nil {
		var r semRecord
		if json.Unmarshal(st.record.Value, &r) == nil {
			st.limit = r.Limit
			for token, h := range r.Holders {
				if live[token] {
					st.holders[token] = h
					st.used += h.Permits
				}
			}
		}
	}
	return st, nil
}

// sortByCreateIndex orders pairs by creation, the earliest first.
func sortByCreateIndex(pairs []*api.KVPair) {
	slices.SortFunc(pairs, func(x, y *api.KVPair) int { return cmp.Compare(x.CreateIndex, y.CreateIndex) })
}

// write returns the check-and-set of h to the state's live holders, changed
// by change, recording limit.
func (st *semState) write(key string, limit int, change func(map[string]semHolder)) (kvOp, error) {
	holders := make(map[string]semHolder, len(st.holders)+1)
	for t, h := range st.holders {
		holders[t] = h
	}
	change(holders)
	v, err := json.Marshal(semRecord{Limit: limit, Holders: holders})
	if err != nil {
		return kvOp{}, driver.Wrap(driver.ErrInvalid, err, "semaphore record")
	}
	var index uint64
	if st.record != nil {
		index = st.record.ModifyIndex
	}
	return kvOp{Verb: api.KVCAS, Key: key, Value: v, Index: index}, nil
}

// Acquire waits until owner holds permits permits.
func (s *consulSemaphore) Acquire(ctx context.Context, ds driver.Session, owner string, permits int) (driver.Hold, error) {
	h, _, err := s.acquire(ctx, ds, owner, permits, true)
	return h, err
}

// TryAcquire takes permits permits for owner if they are free and nobody
// waits, without waiting.
func (s *consulSemaphore) TryAcquire(ctx context.Context, ds driver.Session, owner string, permits int) (driver.Hold, bool, error) {
	return s.acquire(ctx, ds, owner, permits, false)
}

func (s *consulSemaphore) acquire(ctx context.Context, ds driver.Session, owner string, permits int, wait bool) (driver.Hold, bool, error) {
	if err := s.check(); err != nil {
		return driver.Hold{}, false, err
	}
	if permits < 1 || permits > s.limit {
		return driver.Hold{}, false, driver.Errorf(driver.ErrInvalid, "%d permits of a semaphore of %d", permits, s.limit)
	}
	sess, err := s.d.sessionOf(ds)
	if err != nil {
		return driver.Hold{}, false, err
	}
	// The attempt also ends with the session, the primitive or the driver.
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(sess.ctx, cancel)()
	defer context.AfterFunc(s.ctx, cancel)()

	a := &semAttempt{s: s, sess: sess, token: newToken(), owner: owner, permits: permits}
	version, err := a.take(actx, wait)
	switch {
	case err == nil:
		key := a.key()
		return driver.Hold{Version: version, Gone: s.watchGone(sess, key, version, func(p *api.KVPair) bool {
			return p != nil && p.CreateIndex == version && p.Session == sess.id
		})}, true, nil
	}
	if a.traces {
		cleanUp(ctx, sess, a.undo)
	}
	if errors.Is(err, errHeld) {
		return driver.Hold{}, false, nil
	}
	switch {
	case errors.Is(err, driver.ErrConflict) || errors.Is(err, driver.ErrPermission):
		return driver.Hold{}, false, err
	case ctx.Err() != nil:
		return driver.Hold{}, false, ctx.Err()
	case s.closed.Load() || s.d.closed.Load():
		return driver.Hold{}, false, errClosed
	case actx.Err() != nil:
		return driver.Hold{}, false, errSessionEnded
	}
	return driver.Hold{}, false, err
}

// semAttempt is one call of Acquire or TryAcquire.
type semAttempt struct {
	s       *consulSemaphore
	sess    *session
	token   string
	owner   string
	permits int
	version uint64 // the CreateIndex of the contender key, once created
	// traces is set once the attempt may have left a contender key or a
	// hold on the backend.
	traces bool
}

func (a *semAttempt) key() string { return a.s.contenders + a.token }

// take registers the contender key and grants it when its turn comes.
// Without wait it returns errHeld when the permits cannot be granted at
// once.
func (a *semAttempt) take(ctx context.Context, wait bool) (uint64, error) {
	if err := a.register(ctx); err != nil {
		return 0, err
	}
	st, err := a.s.load(ctx, readLeader(ctx))
	for {
		if err != nil {
			return 0, err
		}
		mine := -1
		for i, p := range st.contenders {
			if p.Key == a.key() {
				mine = i
				break
			}
		}
		if mine < 0 {
			// Only the session's end deletes the key of an attempt in
			// progress.
			return 0, errSessionEnded
		}
		if h, ok := st.holders[a.token]; ok {
			return h.Version, nil // granted by an attempt whose answer was lost
		}
		if st.limit != 0 && st.limit != a.s.limit && len(st.holders) > 0 {
			return 0, driver.Errorf(driver.ErrConflict, "the semaphore has a limit of %d, not %d", st.limit, a.s.limit)
		}
		if a.turn(st, mine) {
			granted, err := a.grant(ctx, st)
			if err != nil || granted {
				return a.version, err
			}
		} else if !wait {
			return 0, errHeld
		} else {
			// Wait for the directory to change.
			q := (&api.QueryOptions{WaitIndex: max(st.index, 1), WaitTime: a.s.d.opts.WaitTime}).WithContext(ctx)
			next, werr := a.s.load(ctx, q)
			if werr != nil {
				if ctx.Err() != nil {
					return 0, ctx.Err()
				}
				if permanent(werr) {
					return 0, werr
				}
				if !driver.Sleep(ctx, retryMin) {
					return 0, ctx.Err()
				}
				continue // ask again from the same index
			}
			if next.index < st.index {
				next.index = 0 // the store went back: the next read is fresh
			}
			st = next
			continue
		}
		st, err = a.s.load(ctx, readLeader(ctx))
	}
}

// turn reports whether the attempt, the contender at position mine, may be
// granted in st: every earlier contender holds, and its permits fit.
func (a *semAttempt) turn(st *semState, mine int) bool {
	for _, p := range st.contenders[:mine] {
		if _, ok := st.holders[strings.TrimPrefix(p.Key, a.s.contenders)]; !ok {
			return false
		}
	}
	return st.used+a.permits <= a.s.limit
}

// register creates the attempt's contender key, locked by its session.
func (a *semAttempt) register(ctx context.Context) error {
	v, err := json.Marshal(contender{Owner: a.owner, Permits: a.permits})
	if err != nil {
		return driver.Wrap(driver.ErrInvalid, err, "semaphore contender")
	}
	a.traces = true // even if the answer is lost
	res, rb, err := a.s.d.txn(ctx, []kvOp{{Verb: api.KVLock, Key: a.key(), Value: v, Session: a.sess.id}})
	switch {
	case err != nil:
		return err
	case rb != nil && strings.Contains(rb.reason(0), "invalid session"):
		a.sess.end() // Consul no longer knows it
		return errSessionEnded
	case rb != nil:
		return unexpected(rb)
	}
	a.version = res[0].CreateIndex
	return nil
}

// grant adds the attempt to h, if h is still as st saw it and the
// attempt's key is still held by its session. It reports false when h had
// changed (the caller reads again).
func (a *semAttempt) grant(ctx context.Context, st *semState) (bool, error) {
	cas, err := st.write(a.s.recordKey, a.s.limit, func(h map[string]semHolder) {
		h[a.token] = semHolder{Owner: a.owner, Permits: a.permits, Version: a.version}
	})
	if err != nil {
		return false, err
	}
	_, rb, err := a.s.d.txn(ctx, []kvOp{cas, {Verb: api.KVCheckSession, Key: a.key(), Session: a.sess.id}})
	switch {
	case err != nil:
		return false, err
	case rb != nil && rb.has(1):
		return false, errSessionEnded
	case rb != nil:
		return false, nil
	}
	return true, nil
}

// undo removes what the attempt may have left: the holder it may have
// become and its contender key.
func (a *semAttempt) undo(ctx context.Context) error {
	_, err := a.s.remove(ctx, func(token string, _ semHolder) bool { return token == a.token }, a.key())
	return err
}

// remove drops, in one check-and-set transaction with the deletion of key
// (if not empty), the live holders that match selects, trying again while
// h changes under it. It reports whether a live holder was dropped.
func (s *consulSemaphore) remove(ctx context.Context, match func(string, semHolder) bool, key string) (bool, error) {
	for {
		st, err := s.load(ctx, readConsistent(ctx))
		if err != nil {
			return false, err
		}
		var tokens []string
		for t, h := range st.holders {
			if match(t, h) {
				tokens = append(tokens, t)
			}
		}
		var ops []kvOp
		if len(tokens) > 0 {
			cas, err := st.write(s.recordKey, st.limit, func(h map[string]semHolder) {
				for _, t := range tokens {
					delete(h, t)
				}
			})
			if err != nil {
				return false, err
			}
			ops = append(ops, cas)
			if key == "" {
				key = s.contenders + tokens[0]
			}
		}
		if key != "" {
			ops = append(ops, kvOp{Verb: api.KVDelete, Key: key})
		}
		if len(ops) == 0 {
			return false, nil
		}
		_, rb, err := s.d.txn(ctx, ops)
		switch {
		case err != nil:
			return false, err
		case rb == nil:
			return len(tokens) > 0, nil
		case len(tokens) == 0:
			return false, unexpected(rb)
		}
		// h changed: read again.
	}
}

// Release removes owner's hold of version from h and deletes its key.
func (s *consulSemaphore) Release(ctx context.Context, owner string, version uint64) (bool, error) {
	if err := s.check(); err != nil {
		return false, err
	}
	return s.remove(ctx, func(_ string, h semHolder) bool { return h.Owner == owner && h.Version == version }, "")
}

// Available reads the directory in consistent mode and returns the limit
// (the recorded one while something is held) minus the live holders'
// permits.
func (s *consulSemaphore) Available(ctx context.Context) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	st, err := s.load(ctx, readConsistent(ctx))
	if err != nil {
		return 0, err
	}
	limit := s.limit
	if st.limit != 0 && len(st.holders) > 0 {
		limit = st.limit
	}
	return max(limit-st.used, 0), nil
}

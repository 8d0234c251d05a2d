package conformance

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/primitive"
	"github.com/atomix/go-client/atomix/semaphore"
)

// kind is one kind of primitive as the isolation tests see it: a way to
// leave a mark (a small positive tag) in the primitive of a name and to read
// it back.
type kind struct {
	name    string
	feature Feature
	// mark leaves tag in primitive name of c. It fails if the primitive is
	// already marked: its state is shared with another one's.
	mark func(ctx context.Context, c *atomix.Client, name string, tag int) error
	// read returns the tag of primitive name of c, 0 if it is untouched.
	read func(ctx context.Context, c *atomix.Client, name string) (int, error)
	// presenceOnly: the kind cannot carry a tag (a lock is held or not);
	// read returns 1 for any mark.
	presenceOnly bool
}

// errShared reports a mark found where none was made.
var errShared = errors.New("already marked: its state is shared with another primitive's")

// kinds lists every kind, in the order of the Feature constants.
var kinds = []kind{counterKind, lockKind, electionKind, mapKind, setKind, valueKind, listKind, indexedMapKind, semaphoreKind}

var counterKind = kind{
	name: "counter", feature: FeatureCounter,
	mark: func(ctx context.Context, c *atomix.Client, name string, tag int) error {
		cn, err := c.GetCounter(ctx, name)
		if err != nil {
			return err
		}
		if ok, err := cn.CompareAndSet(ctx, 0, int64(tag)); err != nil || !ok {
			return errors.Join(err, errShared)
		}
		return nil
	},
	read: func(ctx context.Context, c *atomix.Client, name string) (int, error) {
		cn, err := c.GetCounter(ctx, name)
		if err != nil {
			return 0, err
		}
		v, err := cn.Get(ctx)
		return int(v), err
	},
}

// semaphoreKind marks a semaphore of isolationPermits permits by holding
// tag of them, until the client is closed.
var semaphoreKind = kind{
	name: "semaphore", feature: FeatureSemaphore,
	mark: func(ctx context.Context, c *atomix.Client, name string, tag int) error {
		s, err := c.GetSemaphore(ctx, name, semaphore.WithLimit(isolationPermits))
		if err != nil {
			return err
		}
		if _, ok, err := s.TryAcquire(ctx, semaphore.Permits(tag)); err != nil || !ok {
			return errors.Join(err, errShared)
		}
		if n, err := s.Available(ctx); err != nil || n != isolationPermits-tag {
			return errors.Join(err, errShared)
		}
		return nil
	},
	read: func(ctx context.Context, c *atomix.Client, name string) (int, error) {
		s, err := c.GetSemaphore(ctx, name, semaphore.WithLimit(isolationPermits))
		if err != nil {
			return 0, err
		}
		defer s.Close(ctx)
		n, err := s.Available(ctx)
		return isolationPermits - n, err
	},
}

// isolationPermits is the limit of the semaphores of the isolation tests:
// above every tag they leave.
const isolationPermits = 16

var lockKind = kind{
	name: "lock", feature: FeatureLock, presenceOnly: true,
	mark: func(ctx context.Context, c *atomix.Client, name string, _ int) error {
		l, err := c.GetLock(ctx, name)
		if err != nil {
			return err
		}
		if _, ok, err := l.TryLock(ctx); err != nil || !ok {
			return errors.Join(err, errShared)
		}
		return nil // held until the client is closed
	},
	read: func(ctx context.Context, c *atomix.Client, name string) (int, error) {
		l, err := c.GetLock(ctx, name)
		if err != nil {
			return 0, err
		}
		defer l.Close(ctx)
		held, err := l.IsLocked(ctx)
		if held {
			return 1, err
		}
		return 0, err
	},
}

var electionKind = kind{
	name: "election", feature: FeatureElection,
	mark: func(ctx context.Context, c *atomix.Client, name string, tag int) error {
		id := "tag-" + strconv.Itoa(tag)
		el, err := c.GetElection(ctx, name, primitive.WithSessionID(id))
		if err != nil {
			return err
		}
		term, err := el.Enter(ctx)
		if err != nil {
			return err
		}
		if term.Leader != id {
			return fmt.Errorf("%w: leader %q", errShared, term.Leader)
		}
		return nil
	},
	read: func(ctx context.Context, c *atomix.Client, name string) (int, error) {
		el, err := c.GetElection(ctx, name)
		if err != nil {
			return 0, err
		}
		defer el.Close(ctx)
		term, err := el.GetTerm(ctx)
		if err != nil || term.Leader == "" {
			return 0, err
		}
		if len(term.Candidates) != 1 {
			return 0, fmt.Errorf("%d candidates %q where one entered", len(term.Candidates), term.Candidates)
		}
		return strconv.Atoi(strings.TrimPrefix(term.Leader, "tag-"))
	},
}

var mapKind = kind{
	name: "map", feature: FeatureMap,
	mark: func(ctx context.Context, c *atomix.Client, name string, tag int) error {
		m, err := atomix.GetMap[string, int](ctx, name, atomix.WithClient(c))
		if err != nil {
			return err
		}
		_, err = m.Insert(ctx, "tag", tag)
		if errors.Is(err, atomix.ErrAlreadyExists) {
			return errShared
		}
		return err
	},
	read: func(ctx context.Context, c *atomix.Client, name string) (int, error) {
		m, err := atomix.GetMap[string, int](ctx, name, atomix.WithClient(c))
		if err != nil {
			return 0, err
		}
		defer m.Close(ctx)
		if err := atMostOne(m.Len(ctx)); err != nil {
			return 0, err
		}
		en, err := m.Get(ctx, "tag")
		if errors.Is(err, atomix.ErrNotFound) {
			return 0, nil
		}
		return en.Value, err
	},
}

var setKind = kind{
	name: "set", feature: FeatureSet,
	mark: func(ctx context.Context, c *atomix.Client, name string, tag int) error {
		s, err := atomix.GetSet[int](ctx, name, atomix.WithClient(c))
		if err != nil {
			return err
		}
		if err := none(s.Len(ctx)); err != nil {
			return err
		}
		_, err = s.Add(ctx, tag)
		return err
	},
	read: func(ctx context.Context, c *atomix.Client, name string) (int, error) {
		s, err := atomix.GetSet[int](ctx, name, atomix.WithClient(c))
		if err != nil {
			return 0, err
		}
		defer s.Close(ctx)
		els, errs, err := drain(s.Elements(ctx))
		switch {
		case errs > 0:
			return 0, err
		case len(els) > 1:
			return 0, fmt.Errorf("%d elements %v where one was added", len(els), els)
		case len(els) == 0:
			return 0, nil
		}
		return els[0], nil
	},
}

var valueKind = kind{
	name: "value", feature: FeatureValue,
	mark: func(ctx context.Context, c *atomix.Client, name string, tag int) error {
		v, err := atomix.GetValue[int](ctx, name, atomix.WithClient(c))
		if err != nil {
			return err
		}
		if _, _, err := v.Get(ctx); !errors.Is(err, atomix.ErrNotFound) {
			return errors.Join(err, errShared)
		}
		_, err = v.Set(ctx, tag)
		return err
	},
	read: func(ctx context.Context, c *atomix.Client, name string) (int, error) {
		v, err := atomix.GetValue[int](ctx, name, atomix.WithClient(c))
		if err != nil {
			return 0, err
		}
		defer v.Close(ctx)
		n, _, err := v.Get(ctx)
		if errors.Is(err, atomix.ErrNotFound) {
			return 0, nil
		}
		return n, err
	},
}

var listKind = kind{
	name: "list", feature: FeatureList,
	mark: func(ctx context.Context, c *atomix.Client, name string, tag int) error {
		l, err := atomix.GetList[int](ctx, name, atomix.WithClient(c))
		if err != nil {
			return err
		}
		if err := none(l.Len(ctx)); err != nil {
			return err
		}
		_, err = l.Append(ctx, tag)
		return err
	},
	read: func(ctx context.Context, c *atomix.Client, name string) (int, error) {
		l, err := atomix.GetList[int](ctx, name, atomix.WithClient(c))
		if err != nil {
			return 0, err
		}
		defer l.Close(ctx)
		n, err := l.Len(ctx)
		if err != nil || n == 0 {
			return 0, err
		}
		if err := atMostOne(n, nil); err != nil {
			return 0, err
		}
		return l.Get(ctx, 0)
	},
}

var indexedMapKind = kind{
	name: "indexedmap", feature: FeatureIndexedMap,
	mark: func(ctx context.Context, c *atomix.Client, name string, tag int) error {
		m, err := atomix.GetIndexedMap[string, int](ctx, name, atomix.WithClient(c))
		if err != nil {
			return err
		}
		_, err = m.Append(ctx, "tag", tag)
		if errors.Is(err, atomix.ErrAlreadyExists) {
			return errShared
		}
		return err
	},
	read: func(ctx context.Context, c *atomix.Client, name string) (int, error) {
		m, err := atomix.GetIndexedMap[string, int](ctx, name, atomix.WithClient(c))
		if err != nil {
			return 0, err
		}
		defer m.Close(ctx)
		if err := atMostOne(m.Len(ctx)); err != nil {
			return 0, err
		}
		en, err := m.Get(ctx, "tag")
		if errors.Is(err, atomix.ErrNotFound) {
			return 0, nil
		}
		return en.Value, err
	},
}

// none fails unless a Len call returned 0.
func none(n int, err error) error {
	if err == nil && n != 0 {
		return fmt.Errorf("%w: %d items", errShared, n)
	}
	return err
}

// atMostOne fails unless a Len call returned 0 or 1.
func atMostOne(n int, err error) error {
	if err == nil && n > 1 {
		return fmt.Errorf("%d items where one was written: state shared with another primitive", n)
	}
	return err
}

package consul

import (
	"context"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/atomix/semaphore"
)

// BenchmarkSemaphoreAcquireRelease: an uncontended Acquire and Release of
// one permit of four, by atomix and by the Consul API's own semaphore
// (api.Semaphore) given a session made beforehand, as atomix has one. Both
// write a session-held contender key, read the directory, check-and-set a
// holder record, and on release check-and-set the record and delete the
// key; api.Semaphore also starts a goroutine that watches the record,
// where atomix watches the contender key.
func BenchmarkSemaphoreAcquireRelease(b *testing.B) {
	ctx := context.Background()
	prefix := testPrefix(b)
	c, raw := benchClients(b, prefix)
	s, err := c.GetSemaphore(ctx, "s", semaphore.WithLimit(4))
	if err != nil {
		b.Fatal(err)
	}
	sid, _, err := raw.Session().Create(&api.SessionEntry{TTL: "10s", Behavior: api.SessionBehaviorDelete}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _, _ = raw.Session().Destroy(sid, nil) })
	apiSem, err := raw.SemaphoreOpts(&api.SemaphoreOptions{Prefix: prefix + "-raw/s", Limit: 4, Session: sid})
	if err != nil {
		b.Fatal(err)
	}
	compare(b, func() error {
		if _, err := s.Acquire(ctx); err != nil {
			return err
		}
		_, err := s.Release(ctx)
		return err
	}, func() error {
		if _, err := apiSem.Acquire(nil); err != nil {
			return err
		}
		return apiSem.Release()
	})
}

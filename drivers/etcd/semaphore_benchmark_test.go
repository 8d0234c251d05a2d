package etcd

import (
	"context"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/atomix/go-client/atomix/semaphore"
)

// BenchmarkSemaphoreAcquireRelease: an uncontended Acquire and Release of
// one permit of four. etcd has no semaphore of its own, so "raw" is the
// least a clientv3 semaphore can do: one Txn that puts a lease-bound key
// and reads the queue, then a Delete (two round trips, as atomix makes).
// BenchmarkLockUnlock has concurrency.Mutex, for scale.
func BenchmarkSemaphoreAcquireRelease(b *testing.B) {
	ctx := context.Background()
	c, raw, prefix := benchSetup(b)
	b.Run("atomix", func(b *testing.B) {
		s, err := c.GetSemaphore(ctx, "s", semaphore.WithLimit(4))
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := s.Acquire(ctx); err != nil {
				b.Fatal(err)
			}
			if _, err := s.Release(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		s, err := concurrency.NewSession(raw, concurrency.WithTTL(10))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		queue := prefix + "raw/semaphore/"
		key := queue + "owner"
		for b.Loop() {
			resp, err := raw.Txn(ctx).
				If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
				Then(clientv3.OpPut(key, "1", clientv3.WithLease(s.Lease())),
					clientv3.OpGet(queue, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))).
				Commit()
			if err != nil || !resp.Succeeded {
				b.Fatal(err)
			}
			if _, err := raw.Delete(ctx, key); err != nil {
				b.Fatal(err)
			}
		}
	})
}

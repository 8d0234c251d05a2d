package etcd

import (
	"errors"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

func TestSessionTTL(t *testing.T) {
	d := newTestDriver(t, testPrefix(t))
	for _, c := range []struct {
		ask, want time.Duration
	}{
		{0, DefaultSessionTTL},         // the driver's default
		{time.Second, 2 * time.Second}, // raised to the server's minimum
		{2500 * time.Millisecond, 3 * time.Second},
		{7 * time.Second, 7 * time.Second},
	} {
		s := newTestSession(t, d, c.ask)
		if s.ttl != c.want {
			t.Errorf("TTL %v: granted %v, want %v", c.ask, s.ttl, c.want)
		}
		resp, err := d.client.TimeToLive(testContext(t), s.lease)
		if err != nil || time.Duration(resp.GrantedTTL)*time.Second != c.want {
			t.Errorf("TTL %v: server says %v, %v; want %v", c.ask, resp.GrantedTTL, err, c.want)
		}
	}
	if _, err := d.NewSession(testContext(t), driver.SessionOptions{TTL: -time.Second}); !errors.Is(err, driver.ErrInvalid) {
		t.Errorf("negative TTL: %v, want ErrInvalid", err)
	}
}

// TestSessionRenewed: a session outlives its TTL while the driver runs.
func TestSessionRenewed(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t, testPrefix(t))
	s := newTestSession(t, d, 2*time.Second)
	select {
	case <-s.Done():
		t.Fatal("session ended while renewed")
	case <-time.After(5 * time.Second):
	}
	if resp, err := d.client.TimeToLive(ctx, s.lease); err != nil || resp.TTL <= 0 {
		t.Errorf("lease after 2.5 TTLs: %+v, %v", resp, err)
	}
}

// TestSessionEnds: Done closes when the lease is revoked behind the
// driver's back, and Close revokes the lease.
func TestSessionEnds(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t, testPrefix(t))
	raw := rawClient(t)

	s := newTestSession(t, d, 2*time.Second)
	if _, err := raw.Revoke(ctx, s.lease); err != nil {
		t.Fatal(err)
	}
	receive(t, s.Done(), "Done after the lease was revoked")

	s = newTestSession(t, d, 0)
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if !closed(s.Done()) {
		t.Error("Done is open after Close")
	}
	if resp, err := raw.TimeToLive(ctx, s.lease); err != nil || resp.TTL != -1 {
		t.Errorf("lease after Close: TTL %d, %v; want revoked", resp.TTL, err)
	}
	if err := s.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestCrashLeavesLeases: crash stops renewing without revoking, so the
// server expires the session after its TTL; Close revokes.
func TestCrashLeavesLeases(t *testing.T) {
	ctx := testContext(t)
	raw := rawClient(t)
	crashed := newTestDriver(t, testPrefix(t))
	s := newTestSession(t, crashed, 2*time.Second)
	crashed.crash()
	receive(t, s.Done(), "Done after the crash")
	if resp, err := raw.TimeToLive(ctx, s.lease); err != nil || resp.TTL <= 0 {
		t.Fatalf("lease right after the crash: TTL %d, %v; want alive", resp.TTL, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := raw.TimeToLive(ctx, s.lease)
		if err != nil {
			t.Fatal(err)
		}
		if resp.TTL == -1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the crashed driver's lease did not expire")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := crashed.NewSession(ctx, driver.SessionOptions{}); !errors.Is(err, driver.ErrClosed) {
		t.Errorf("NewSession after the crash: %v, want ErrClosed", err)
	}

	closing := newTestDriver(t, testPrefix(t))
	s = newTestSession(t, closing, 0)
	if err := closing.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if resp, err := raw.TimeToLive(ctx, s.lease, clientv3.WithAttachedKeys()); err != nil || resp.TTL != -1 {
		t.Errorf("lease after the driver closed: TTL %d, %v; want revoked", resp.TTL, err)
	}
}

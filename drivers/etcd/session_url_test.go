package etcd_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/conformance/testbackend"
	_ "github.com/atomix/go-client/drivers/etcd"
)

// TestURLSessionTTL: session-ttl= in an etcd:// URL is the TTL of the lease
// the client's locks are bound to (it used to be overridden by the
// client's default of 15 s).
func TestURLSessionTTL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hosts := strings.Join(testbackend.Etcd(t), ",")
	hosts = strings.ReplaceAll(strings.ReplaceAll(hosts, "http://", ""), "https://", "")
	prefix := "url-session-ttl-" + strings.ReplaceAll(t.Name(), "/", "-") + "/"
	c, err := atomix.Open(ctx, "etcd://"+hosts+"?session-ttl=3s&prefix="+url.QueryEscape(prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	l, err := c.GetLock(ctx, "l")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	var raw *clientv3.Client
	if !c.As(&raw) {
		t.Fatal("Client.As(*clientv3.Client) = false on an etcd client")
	}
	resp, err := raw.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	var leases int
	for _, kv := range resp.Kvs {
		if kv.Lease == 0 {
			continue
		}
		leases++
		ttl, err := raw.TimeToLive(ctx, clientv3.LeaseID(kv.Lease))
		if err != nil {
			t.Fatal(err)
		}
		if ttl.GrantedTTL != 3 {
			t.Errorf("the lock's lease was granted %d s, want the URL's 3 s", ttl.GrantedTTL)
		}
	}
	if leases == 0 {
		t.Fatal("no key bound to a lease under the client's prefix after Lock")
	}
}

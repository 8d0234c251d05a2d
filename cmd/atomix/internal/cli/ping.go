package cli

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/atomix"
)

func newPingCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "ping",
		Short: "Make one round trip to the backend and print the latency",
		Long: `ping makes one round trip to the backend (Client.Ping) and prints its latency,
the backend's kind and, where the driver can tell, the server's version.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return g.withClient(func(ctx context.Context, c *atomix.Client) error {
				start := time.Now()
				if err := c.Ping(ctx); err != nil {
					return err
				}
				latency := time.Since(start)
				backend := backendName(g.url)
				ver := serverVersion(ctx, c)
				t := g.table("BACKEND", "VERSION", "LATENCY")
				t.row(map[string]any{"backend": backend, "version": ver, "latency_ms": float64(latency.Microseconds()) / 1000},
					backend, orDash(ver), latency.Round(time.Microsecond).String())
				return t.print()
			})
		},
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// backendName names the backend of a URL by its scheme.
func backendName(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "unknown"
	}
	switch u.Scheme {
	case "mem":
		return "memory"
	case "rediss":
		return "redis"
	}
	return u.Scheme
}

// serverVersion asks the backend's own client for the server's version,
// or returns "" when the driver does not expose one.
func serverVersion(ctx context.Context, c *atomix.Client) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var etcd *clientv3.Client
	if c.As(&etcd) {
		for _, ep := range etcd.Endpoints() {
			if st, err := etcd.Status(ctx, ep); err == nil {
				return st.Version
			}
		}
		return ""
	}
	var rc redis.UniversalClient
	if c.As(&rc) {
		info, err := rc.Info(ctx, "server").Result()
		if err != nil {
			return ""
		}
		for _, line := range strings.Split(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
				return v
			}
		}
		return ""
	}
	var consul *api.Client
	if c.As(&consul) {
		self, err := consul.Agent().Self()
		if err != nil {
			return ""
		}
		if v, ok := self["Config"]["Version"].(string); ok {
			return v
		}
	}
	return ""
}

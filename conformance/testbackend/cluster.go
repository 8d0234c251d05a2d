package testbackend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// ClustersEnv names the environment variable that enables the tests on
// multi-node clusters (any non-empty value): each starts several servers,
// so they run in CI (make test-clusters) rather than in every make test.
const ClustersEnv = "ATOMIX_TEST_CLUSTERS"

// RequireClusters skips t unless ClustersEnv is set.
func RequireClusters(t testing.TB) {
	t.Helper()
	if os.Getenv(ClustersEnv) == "" {
		t.Skipf("set %s=1 (or run make test-clusters) to run the tests on multi-node clusters", ClustersEnv)
	}
}

// Cluster is a multi-node backend of one test's own, on loopback: server
// processes started from the same binaries as the single servers, each
// with a data directory of its own, stopped when the test ends.
type Cluster struct {
	t testing.TB
	// Members are the cluster's servers, in the order they were made.
	Members []*Restartable
	// Addrs are the addresses clients connect to: every member's client
	// address (etcd, Redis Cluster), the local agent (Consul), the
	// Sentinels (Redis with Sentinel).
	Addrs []string
	// leader returns the index in Members of the node whose loss matters
	// most now.
	leader func() (int, error)
	// settle, if set, waits until the cluster is whole again after a
	// member was started (a Redis Cluster agrees on its state again).
	settle func(t testing.TB)
}

// Leader returns the index in Members of the node whose loss matters most
// now: the Raft leader of etcd or Consul, the Redis Cluster master that
// holds the most keys, the primary a Sentinel names. It waits up to 30s
// for there to be one and fails the test if there is none.
func (c *Cluster) Leader() int {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		i, err := c.leader()
		if err == nil {
			return i
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("testbackend: no leader within 30s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// StopLeader kills the node Leader names, as a crash would, keeping its
// data, and returns a function that starts it again on that data.
func (c *Cluster) StopLeader(t testing.TB) (restart func()) {
	t.Helper()
	m := c.Members[c.Leader()]
	t.Logf("testbackend: stopping %s at %s", m.name, m.addr)
	m.Crash()
	return func() {
		t.Helper()
		t.Logf("testbackend: starting %s at %s again on its data", m.name, m.addr)
		m.Start()
		if c.settle != nil {
			c.settle(t)
		}
	}
}

// newCluster finds binary (or skips t), registers every member's stop with
// t's cleanup and starts the members at once (each waits for the others to
// be ready: a quorum).
func newCluster(t testing.TB, binary, howTo string, members []*Restartable) []*Restartable {
	t.Helper()
	if !UseProcess() {
		t.Skipf("ATOMIX_TEST_PROVIDER=%s: the clusters are started from local binaries, which only runs without that setting", Provider())
	}
	bin := FindBinary(binary)
	if bin == "" {
		Unavailable(t, members[0].name, "no "+binary+" binary on PATH or in "+BinDir(), howTo)
	}
	for _, m := range members {
		m.t, m.bin = t, bin
		t.Cleanup(m.Stop)
	}
	startAll(t, members)
	return members
}

// startAll starts members at once and fails t if any does not start.
func startAll(t testing.TB, members []*Restartable) {
	t.Helper()
	errs := make([]error, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Go(func() { errs[i] = m.startErr() })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("testbackend: start a cluster: %v", err)
	}
}

// StartEtcdCluster starts a 3-member etcd cluster on loopback ports.
// Clients should be given every member's address (Addrs).
func StartEtcdCluster(t testing.TB) *Cluster {
	t.Helper()
	const n = 3
	clientURLs, peers := make([]string, n), make([]string, n)
	for i := range n {
		clientURLs[i] = "http://127.0.0.1:" + strconv.Itoa(FreePort(t))
		peers[i] = fmt.Sprintf("m%d=http://127.0.0.1:%d", i, FreePort(t))
	}
	initial := strings.Join(peers, ",")
	members := make([]*Restartable, n)
	c := &Cluster{t: t}
	for i := range n {
		clientURL, peerURL := clientURLs[i], strings.SplitN(peers[i], "=", 2)[1]
		members[i] = &Restartable{
			name: fmt.Sprintf("etcd member m%d", i),
			addr: strings.TrimPrefix(clientURL, "http://"),
			args: func(dir string) []string {
				return []string{
					"--name", fmt.Sprintf("m%d", i),
					"--data-dir", filepath.Join(dir, "data"),
					"--listen-client-urls", clientURL,
					"--advertise-client-urls", clientURL,
					"--listen-peer-urls", peerURL,
					"--initial-advertise-peer-urls", peerURL,
					"--initial-cluster", initial,
					"--initial-cluster-state", "new",
					"--log-level", "error",
				}
			},
			ready:   func() bool { return etcdHealthy(clientURL) },
			timeout: time.Minute,
		}
		c.Addrs = append(c.Addrs, members[i].addr)
	}
	c.Members = newCluster(t, "etcd", etcdHowTo, members)
	c.leader = func() (int, error) { return etcdLeader(clientURLs, c.Members) }
	return c
}

// etcdLeader asks the running members who leads and returns its index.
func etcdLeader(clientURLs []string, members []*Restartable) (int, error) {
	client := &http.Client{Timeout: time.Second}
	var lastErr error = errors.New("no member answers")
	for i, u := range clientURLs {
		if !members[i].Running() {
			continue
		}
		resp, err := client.Post(u+"/v3/maintenance/status", "application/json", bytes.NewReader([]byte("{}")))
		if err != nil {
			lastErr = err
			continue
		}
		var st struct {
			Header struct {
				MemberID string `json:"member_id"`
			} `json:"header"`
			Leader string `json:"leader"`
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil {
			lastErr = err
			continue
		}
		if st.Leader != "" && st.Leader != "0" && st.Leader == st.Header.MemberID {
			return i, nil
		}
	}
	return 0, lastErr
}

// StartConsulCluster starts three Consul servers (not -dev: bootstrap-expect
// 3, Raft logs in directories of their own) and a client agent that joins
// them, on loopback ports. Addrs holds the client agent's HTTP address
// only, as an application talks to its local agent; the agent survives the
// loss of any one server.
func StartConsulCluster(t testing.TB) *Cluster {
	t.Helper()
	const n = 3
	type ports struct{ http, server, lan, wan int }
	ps := make([]ports, n+1)
	for i := range ps {
		ps[i] = ports{FreePort(t), FreePort(t), FreePort(t), FreePort(t)}
	}
	var joins []string
	for i := range n {
		joins = append(joins, "-retry-join", "127.0.0.1:"+strconv.Itoa(ps[i].lan))
	}
	portArgs := func(p ports) []string {
		return []string{
			"-http-port", strconv.Itoa(p.http),
			"-server-port", strconv.Itoa(p.server),
			"-serf-lan-port", strconv.Itoa(p.lan),
			"-serf-wan-port", strconv.Itoa(p.wan),
		}
	}
	members := make([]*Restartable, n+1)
	for i := range n + 1 {
		addr := "127.0.0.1:" + strconv.Itoa(ps[i].http)
		node, role := fmt.Sprintf("server%d", i), []string{"-server", "-bootstrap-expect", strconv.Itoa(n)}
		if i == n {
			node, role = "client", nil
		}
		members[i] = &Restartable{
			name: "consul " + node,
			addr: addr,
			args: func(dir string) []string {
				args := append(consulAgentArgs(node, dir), role...)
				args = append(args, portArgs(ps[i])...)
				return append(args, joins...)
			},
			ready:   func() bool { return consulHasLeader(addr) },
			timeout: 2 * time.Minute,
		}
	}
	c := &Cluster{t: t, Addrs: []string{members[n].addr}}
	c.Members = newCluster(t, "consul", consulHowTo, members)
	deadline := time.Now().Add(time.Minute)
	for consulNodes(c.Addrs[0]) < n+1 {
		if time.Now().After(deadline) {
			t.Fatalf("testbackend: the Consul catalog does not list the %d agents within a minute", n+1)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.leader = func() (int, error) {
		client := &http.Client{Timeout: time.Second}
		resp, err := client.Get("http://" + c.Addrs[0] + "/v1/status/leader")
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		var leader string
		if err := json.NewDecoder(resp.Body).Decode(&leader); err != nil {
			return 0, err
		}
		for i := range n {
			if leader == "127.0.0.1:"+strconv.Itoa(ps[i].server) && c.Members[i].Running() {
				return i, nil
			}
		}
		return 0, fmt.Errorf("no running server leads (leader %q)", leader)
	}
	return c
}

// redisArgs is the part of a Redis Cluster node's or replica's
// arguments that every member shares: loopback, persistence with an AOF
// fsynced on every write (so a restarted node has what it acknowledged;
// what replication had not copied is another matter).
func redisArgs(port int, dir string) []string {
	return []string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "yes",
		"--appendfsync", "always",
		"--dir", dir,
		"--loglevel", "warning",
	}
}

// StartRedisCluster starts a Redis Cluster of three masters, each with one
// replica (six redis-server processes, cluster-node-timeout 3s), made with
// redis-cli --cluster create, and waits until every node reports the
// cluster ok. Leader names the running master with the most keys.
func StartRedisCluster(t testing.TB) *Cluster {
	t.Helper()
	const n = 6
	members := make([]*Restartable, n)
	c := &Cluster{t: t}
	for i := range n {
		// The cluster bus port is chosen too: by default it is the
		// client port plus 10000, which nobody checked was free.
		port, busPort := FreePort(t), FreePort(t)
		addr := "127.0.0.1:" + strconv.Itoa(port)
		members[i] = &Restartable{
			name: fmt.Sprintf("redis cluster node %d", i),
			addr: addr,
			args: func(dir string) []string {
				return append(redisArgs(port, dir),
					"--cluster-enabled", "yes",
					"--cluster-port", strconv.Itoa(busPort),
					"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
					"--cluster-node-timeout", redisFailureDetection)
			},
			ready:   func() bool { return redisAnswers(addr) },
			timeout: 30 * time.Second,
		}
		c.Addrs = append(c.Addrs, addr)
	}
	c.Members = newCluster(t, "redis-server", redisHowTo, members)
	cli := FindBinary("redis-cli")
	if cli == "" {
		Unavailable(t, "redis", "no redis-cli binary on PATH", redisHowTo)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("testbackend: redis-cli --cluster create: %v\n%s", err, out)
	}
	// A replica that never synced with its master does not take over from
	// it (its data's age is unknown), so wait for the links too; and after
	// a node comes back, for the cluster to agree on its state again (a
	// node that returns while its replica takes over flaps the cluster
	// through CLUSTERDOWN for a moment).
	var whole func(ctx context.Context) error
	c.settle = func(t testing.TB) {
		// Whole twice, two node timeouts apart: a node marked failing
		// before it came back is reported so a moment later.
		waitRedis(t, "every node reports cluster_state:ok and every replica is in sync", whole)
		time.Sleep(2 * time.Second)
		waitRedis(t, "every node still reports cluster_state:ok and every replica is in sync", whole)
	}
	whole = func(ctx context.Context) error {
		for _, a := range c.Addrs {
			err := redisQuery(a, func(rc *goredis.Client) error {
				info, err := rc.ClusterInfo(ctx).Result()
				if err == nil && !strings.Contains(info, "cluster_state:ok") {
					return fmt.Errorf("%s: cluster not ok", a)
				}
				if err == nil {
					info, err = rc.Info(ctx, "replication").Result()
				}
				if err == nil && strings.Contains(info, "role:slave") && !strings.Contains(info, "master_link_status:up") {
					return fmt.Errorf("%s: replica not in sync", a)
				}
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
	c.settle(t)
	c.leader = func() (int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		best, most := -1, int64(-1)
		for i, m := range c.Members {
			if !m.Running() {
				continue
			}
			_ = redisQuery(m.addr, func(rc *goredis.Client) error {
				role, err := rc.Do(ctx, "ROLE").Slice()
				if err != nil || len(role) == 0 || role[0] != "master" {
					return err
				}
				size, err := rc.DBSize(ctx).Result()
				if err == nil && size > most {
					best, most = i, size
				}
				return err
			})
		}
		if best < 0 {
			return 0, errors.New("no running master answers")
		}
		return best, nil
	}
	return c
}

// redisFailureDetection is how long, in milliseconds, a Redis Cluster node
// or the Sentinel waits for an answer before it takes a master for failed
// and starts a failover. At 1000 a master that was busy for a second under
// the race detector (a fork to resync a replica that came back, say) was
// failed over by mistake, in the middle of a conformance test; 3000 keeps
// the failover scenarios short and rules that out.
const redisFailureDetection = "3000"

// RedisSentinelMaster is the name under which StartRedisSentinel's
// Sentinel monitors the primary.
const RedisSentinelMaster = "atomix"

// StartRedisSentinel starts a Redis primary, one replica and one Sentinel
// (redis-server --sentinel, quorum 1, down-after-milliseconds 3000) that
// monitors the primary as RedisSentinelMaster. Addrs holds the Sentinel's
// address; Leader names the member the Sentinel reports as primary.
func StartRedisSentinel(t testing.TB) *Cluster {
	t.Helper()
	primaryPort, replicaPort, sentinelPort := FreePort(t), FreePort(t), FreePort(t)
	primary := "127.0.0.1:" + strconv.Itoa(primaryPort)
	replica := "127.0.0.1:" + strconv.Itoa(replicaPort)
	sentinel := "127.0.0.1:" + strconv.Itoa(sentinelPort)
	members := []*Restartable{
		{
			name:    "redis primary",
			addr:    primary,
			args:    func(dir string) []string { return redisArgs(primaryPort, dir) },
			ready:   func() bool { return redisAnswers(primary) },
			timeout: 30 * time.Second,
		},
		{
			name: "redis replica",
			addr: replica,
			args: func(dir string) []string {
				return append(redisArgs(replicaPort, dir), "--replicaof", "127.0.0.1", strconv.Itoa(primaryPort))
			},
			ready:   func() bool { return redisAnswers(replica) },
			timeout: 30 * time.Second,
		},
	}
	newCluster(t, "redis-server", redisHowTo, members)
	waitRedis(t, "the replica is in sync with the primary", func(ctx context.Context) error {
		return redisQuery(replica, func(rc *goredis.Client) error {
			info, err := rc.Info(ctx, "replication").Result()
			if err == nil && !strings.Contains(info, "master_link_status:up") {
				err = errors.New("replica link not up")
			}
			return err
		})
	})
	// The Sentinel rewrites its configuration file, so it gets one in its
	// data directory, written once.
	sent := &Restartable{
		name: "redis sentinel",
		addr: sentinel,
		args: func(dir string) []string {
			conf := filepath.Join(dir, "sentinel.conf")
			if _, err := os.Stat(conf); err != nil {
				text := strings.Join([]string{
					"port " + strconv.Itoa(sentinelPort),
					"bind 127.0.0.1",
					"sentinel monitor " + RedisSentinelMaster + " 127.0.0.1 " + strconv.Itoa(primaryPort) + " 1",
					"sentinel down-after-milliseconds " + RedisSentinelMaster + " " + redisFailureDetection,
					"sentinel failover-timeout " + RedisSentinelMaster + " 5000",
					"",
				}, "\n")
				_ = os.WriteFile(conf, []byte(text), 0o600) // a failure shows as the Sentinel not starting
			}
			return []string{conf, "--sentinel", "--loglevel", "warning"}
		},
		ready:   func() bool { return redisAnswers(sentinel) },
		timeout: 30 * time.Second,
	}
	newCluster(t, "redis-server", redisHowTo, []*Restartable{sent})
	waitRedis(t, "the Sentinel knows the replica", func(ctx context.Context) error {
		return redisQuery(sentinel, func(rc *goredis.Client) error {
			rs, err := rc.Do(ctx, "SENTINEL", "REPLICAS", RedisSentinelMaster).Slice()
			if err == nil && len(rs) == 0 {
				err = errors.New("no replica yet")
			}
			return err
		})
	})
	c := &Cluster{t: t, Members: append(members, sent), Addrs: []string{sentinel}}
	c.leader = func() (int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var hp []string
		err := redisQuery(sentinel, func(rc *goredis.Client) (err error) {
			hp, err = rc.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", RedisSentinelMaster).StringSlice()
			return err
		})
		if err != nil {
			return 0, err
		}
		if len(hp) != 2 {
			return 0, fmt.Errorf("sentinel answered %q", hp)
		}
		for i, m := range members {
			if m.addr == hp[0]+":"+hp[1] && m.Running() {
				return i, nil
			}
		}
		return 0, fmt.Errorf("the primary %s:%s is not running", hp[0], hp[1])
	}
	return c
}

// redisQuery runs f with a client of its own connected to addr, for the
// harness's own questions, and closes the client.
func redisQuery(addr string, f func(c *goredis.Client) error) error {
	c := goredis.NewClient(&goredis.Options{Addr: addr, PoolSize: 1, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: time.Second})
	defer c.Close()
	return f(c)
}

// waitRedis polls cond for up to 30s and fails t with what if it never
// returns nil.
func waitRedis(t testing.TB, what string, cond func(ctx context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := cond(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testbackend: not within 30s: %s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

package testbackend

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Restartable is a server process that belongs to one test, which may
// pause it, kill it and start it again on the same address, with its data
// or without: a Redis server whose AOF is lost or a Consul -dev agent after
// a crash, for instance. The test's cleanup stops it.
//
// Unlike the servers of Redis and Consul, a Restartable never comes from
// the environment or a container: a test that restarts a server must own
// it, so without the binary the test is skipped (or fails when
// ATOMIX_REQUIRE_BACKENDS names the backend), and under
// ATOMIX_TEST_PROVIDER=container it is skipped.
type Restartable struct {
	t       testing.TB
	name    string // the backend, for messages
	bin     string
	addr    string
	args    func(dir string) []string // the arguments for a start with data in dir
	ready   func() bool               // reports whether a started server answers
	timeout time.Duration             // how long a start may take

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	dir    string // the data directory, kept by Crash for the next Start
	logs   *processOutput
	paused bool
}

// Addr returns the host:port the server listens on, the same across
// restarts.
func (s *Restartable) Addr() string { return s.addr }

// Restart kills the server, as a crash would, and starts it again, empty,
// on the same address; it returns once the new server answers, and fails
// the test if it does not.
func (s *Restartable) Restart() {
	s.t.Helper()
	s.Stop()
	s.Start()
}

// RestartKeepingData kills the server (SIGKILL, as a crash would) and
// starts it again on the same address and the same data directory; it
// returns once the new server answers. What survives is what the server
// had made durable: everything it acknowledged, for the servers this
// package starts (etcd and Consul sync their logs, Redis runs with an AOF
// fsynced on every write).
func (s *Restartable) RestartKeepingData() {
	s.t.Helper()
	s.Crash()
	s.Start()
}

// Pause stops the server's process (SIGSTOP): its connections stay open and
// nothing answers, as a server in a long GC pause or a frozen VM. Resume
// continues it. A paused server is still stopped by Stop and Crash.
func (s *Restartable) Pause() { s.signal(syscall.SIGSTOP, true) }

// Resume continues a paused server (SIGCONT).
func (s *Restartable) Resume() { s.signal(syscall.SIGCONT, false) }

func (s *Restartable) signal(sig syscall.Signal, paused bool) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		s.t.Fatalf("testbackend: %s at %s is not running", s.name, s.addr)
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("testbackend: %s at %s: %v: %v", s.name, s.addr, sig, err)
	}
	s.paused = paused
}

// Stop kills the server and removes its data; it does nothing if the
// server is not running (but removes data a Crash kept).
func (s *Restartable) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kill()
	if s.dir != "" {
		os.RemoveAll(s.dir)
		s.dir = ""
	}
}

// Crash kills the server (SIGKILL) and keeps its data directory, for the
// next Start; it does nothing if the server is not running.
func (s *Restartable) Crash() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kill()
}

// Running reports whether the server's process is running (paused or not).
func (s *Restartable) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// kill kills the process, if any; s.mu is held.
func (s *Restartable) kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill() // SIGKILL ends a stopped process too
	<-s.exited
	s.cmd, s.exited, s.paused = nil, nil, false
}

// Start starts the server, on the data a Crash kept or empty, if it is not
// running, and returns once it answers; it fails the test if it does not
// within its timeout.
func (s *Restartable) Start() {
	s.t.Helper()
	if err := s.startErr(); err != nil {
		s.t.Fatalf("testbackend: %s: %v", s.name, err)
	}
}

// startErr is Start returning its error, for goroutines that start the
// members of a cluster together.
func (s *Restartable) startErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	return s.start()
}

// start runs the binary and waits until ready; s.mu is held.
func (s *Restartable) start() error {
	if s.dir == "" {
		dir, err := os.MkdirTemp("", "atomix-"+s.name+"-")
		if err != nil {
			return fmt.Errorf("temp dir: %v", err)
		}
		s.dir = dir
	}
	dir := s.dir
	logs := &processOutput{}
	cmd := exec.Command(s.bin, s.args(dir)...)
	cmd.Dir = dir
	cmd.Stdout = logs
	cmd.Stderr = logs
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %v", s.bin, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.cmd, s.exited, s.logs = cmd, exited, logs
	deadline := time.Now().Add(s.timeout)
	for !s.ready() {
		select {
		case <-exited:
			s.cmd, s.exited = nil, nil
			return fmt.Errorf("%s exited before it was ready; its output:\n%s", s.bin, logs)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			s.cmd, s.exited = nil, nil
			return fmt.Errorf("%s was not ready within %v; its output:\n%s", s.bin, s.timeout, logs)
		}
	}
	return nil
}

// newRestartable finds the binary (or skips t), starts the server and has
// t's cleanup stop it. Under ATOMIX_TEST_PROVIDER=container it skips t.
func newRestartable(t testing.TB, s *Restartable, binary, howTo string) *Restartable {
	t.Helper()
	s.t = t
	if !UseProcess() {
		// The container leg runs the suites again on servers in
		// containers; what needs a process of its own already ran.
		t.Skipf("ATOMIX_TEST_PROVIDER=%s: this test starts a %s process of its own, which only runs without that setting", Provider(), s.name)
	}
	if s.bin = FindBinary(binary); s.bin == "" {
		Unavailable(t, s.name, "no "+binary+" binary on PATH or in "+BinDir(), howTo)
	}
	t.Cleanup(s.Stop)
	s.Start()
	return s
}

// StartRedisServer starts a redis-server of t's own on a free loopback port.
// It keeps an append-only file fsynced on every write (no RDB snapshots), so
// RestartKeepingData brings back every acknowledged write, while Restart
// brings it back empty, as a server without persistence comes back after a
// crash.
func StartRedisServer(t testing.TB) *Restartable {
	t.Helper()
	port := FreePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	return newRestartable(t, &Restartable{
		name: "redis",
		addr: addr,
		args: func(dir string) []string {
			return []string{
				"--port", strconv.Itoa(port),
				"--bind", "127.0.0.1",
				"--save", "",
				"--appendonly", "yes",
				"--appendfsync", "always",
				"--dir", dir,
				"--loglevel", "warning",
			}
		},
		ready:   func() bool { return redisAnswers(addr) },
		timeout: 30 * time.Second,
	}, "redis-server", redisHowTo)
}

// StartConsulAgent starts a `consul agent -dev` of t's own on free loopback
// ports; a dev agent keeps its state in memory, so Restart brings it back
// empty, its Raft index starting again near 1, as after the restart of a
// dev agent or the restore of an older snapshot.
func StartConsulAgent(t testing.TB) *Restartable {
	t.Helper()
	addr, ports := consulPorts(t, "-http-port")
	return newRestartable(t, &Restartable{
		name: "consul",
		addr: addr,
		args: func(dir string) []string {
			args := append(consulAgentArgs("atomix-test", dir), "-dev")
			return append(args, ports...)
		},
		ready:   func() bool { return consulHasLeader(addr) },
		timeout: time.Minute,
	}, "consul", consulHowTo)
}

// StartEtcdServer starts a single-member etcd cluster of t's own on free
// loopback ports, its data in a directory of its own, so that
// RestartKeepingData brings it back with its data and revision and Restart
// brings it back empty (revision 1, a new cluster).
func StartEtcdServer(t testing.TB) *Restartable {
	t.Helper()
	clientPort, peerPort := FreePort(t), FreePort(t)
	clientURL := "http://127.0.0.1:" + strconv.Itoa(clientPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	return newRestartable(t, &Restartable{
		name: "etcd",
		addr: "127.0.0.1:" + strconv.Itoa(clientPort),
		args: func(dir string) []string {
			return []string{
				"--name", "atomix-test",
				"--data-dir", filepath.Join(dir, "data"),
				"--listen-client-urls", clientURL,
				"--advertise-client-urls", clientURL,
				"--listen-peer-urls", peerURL,
				"--initial-advertise-peer-urls", peerURL,
				"--initial-cluster", "atomix-test=" + peerURL,
				"--initial-cluster-state", "new",
				"--log-level", "warn",
			}
		},
		ready:   func() bool { return etcdHealthy(clientURL) },
		timeout: 30 * time.Second,
	}, "etcd", etcdHowTo)
}

// StartConsulServer starts a single Consul server of t's own (not -dev: a
// server agent with -bootstrap-expect 1) on free loopback ports, its Raft
// log and snapshots in a directory of its own, so that RestartKeepingData
// brings it back with its KV store and index and Restart brings it back
// empty.
func StartConsulServer(t testing.TB) *Restartable {
	t.Helper()
	addr, ports := consulPorts(t, "-http-port")
	return newRestartable(t, &Restartable{
		name: "consul",
		addr: addr,
		args: func(dir string) []string {
			args := append(consulAgentArgs("atomix-test", dir), "-server", "-bootstrap-expect", "1")
			return append(args, ports...)
		},
		ready:   func() bool { return consulHasLeader(addr) && consulNodes(addr) >= 1 },
		timeout: time.Minute,
	}, "consul", consulHowTo)
}

// consulNodes returns how many nodes the catalog of the agent at addr
// lists: a session can be made only for a node the catalog has (else
// "Missing node registration"), which comes a moment after a leader.
func consulNodes(addr string) int {
	client := &http.Client{Timeout: time.Second}
	resp, err := client.Get("http://" + addr + "/v1/catalog/nodes")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var nodes []struct{ Node string }
	if json.NewDecoder(resp.Body).Decode(&nodes) != nil {
		return 0
	}
	return len(nodes)
}

// consulAgentArgs are the arguments of a Consul agent named node with its
// data in dir, everything on 127.0.0.1, without DNS, gRPC or the update
// check; the caller adds ports, -server and how it bootstraps.
func consulAgentArgs(node, dir string) []string {
	return []string{
		"agent",
		"-node", node,
		"-bind", "127.0.0.1",
		"-client", "127.0.0.1",
		"-data-dir", dir,
		"-dns-port", "-1",
		"-grpc-port", "-1",
		"-grpc-tls-port", "-1",
		"-disable-keyring-file",
		"-log-level", "warn",
		"-hcl", "disable_update_check = true",
		// The quickest Raft timing: a stopped leader is replaced in about a
		// second rather than five (the default multiplier is 5).
		"-hcl", "performance { raft_multiplier = 1 }",
	}
}

// consulPorts picks the free loopback ports of one Consul agent: its HTTP
// API's, flagged with apiFlag ("-http-port" or "-https-port"), whose
// address it returns, and the Raft and Serf ones, with their flags.
func consulPorts(t testing.TB, apiFlag string) (addr string, flags []string) {
	api := FreePort(t)
	flags = []string{
		apiFlag, strconv.Itoa(api),
		"-server-port", strconv.Itoa(FreePort(t)),
		"-serf-lan-port", strconv.Itoa(FreePort(t)),
		"-serf-wan-port", strconv.Itoa(FreePort(t)),
	}
	return "127.0.0.1:" + strconv.Itoa(api), flags
}

// consulHasLeader reports whether the agent whose HTTP API is at addr
// answers and knows a leader.
func consulHasLeader(addr string) bool {
	return consulAnswersWithLeader(&http.Client{Timeout: time.Second}, "http://"+addr)
}

// consulAnswersWithLeader reports whether the agent at base (a URL without
// a path) answers client and knows a leader.
func consulAnswersWithLeader(client *http.Client, base string) bool {
	resp, err := client.Get(base + "/v1/status/leader")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return resp.StatusCode == http.StatusOK && hasLeader(resp.Body)
}

package testbackend

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Restartable is a server process that belongs to one test, which may kill
// it and start it again on the same address with none of its data: a Redis
// server without persistence or a Consul -dev agent after a crash, for
// instance. The test's cleanup stops it.
//
// Unlike the servers of Redis and Consul, a Restartable never comes from
// the environment or a container: a test that restarts a server must own
// it, so without the binary the test is skipped (or fails when
// ATOMIX_REQUIRE_BACKENDS names the backend).
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
	dir    string
	logs   *processOutput
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

// Stop kills the server and removes its data; it does nothing if the
// server is not running.
func (s *Restartable) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.exited
	os.RemoveAll(s.dir)
	s.cmd, s.exited, s.dir = nil, nil, ""
}

// Start starts the server, empty, if it is not running, and returns once it
// answers; it fails the test if it does not within its timeout.
func (s *Restartable) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	if err := s.start(); err != nil {
		s.t.Fatalf("testbackend: %s: %v", s.name, err)
	}
}

// start runs the binary and waits until ready; s.mu is held.
func (s *Restartable) start() error {
	dir, err := os.MkdirTemp("", "atomix-"+s.name+"-")
	if err != nil {
		return fmt.Errorf("temp dir: %v", err)
	}
	logs := &processOutput{}
	cmd := exec.Command(s.bin, s.args(dir)...)
	cmd.Dir = dir
	cmd.Stdout = logs
	cmd.Stderr = logs
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("start %s: %v", s.bin, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.cmd, s.exited, s.dir, s.logs = cmd, exited, dir, logs
	deadline := time.Now().Add(s.timeout)
	for !s.ready() {
		select {
		case <-exited:
			os.RemoveAll(dir)
			s.cmd, s.exited, s.dir = nil, nil, ""
			return fmt.Errorf("%s exited before it was ready; its output:\n%s", s.bin, logs)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			os.RemoveAll(dir)
			s.cmd, s.exited, s.dir = nil, nil, ""
			return fmt.Errorf("%s was not ready within %v; its output:\n%s", s.bin, s.timeout, logs)
		}
	}
	return nil
}

// newRestartable finds the binary (or skips t), starts the server and has
// t's cleanup stop it.
func newRestartable(t testing.TB, s *Restartable, binary, howTo string) *Restartable {
	t.Helper()
	s.t = t
	if s.bin = FindBinary(binary); s.bin == "" {
		Unavailable(t, s.name, "no "+binary+" binary on PATH or in "+BinDir(), howTo)
	}
	t.Cleanup(s.Stop)
	s.Start()
	return s
}

// StartRedisServer starts a redis-server of t's own on a free loopback port,
// without persistence (no RDB snapshots, no AOF), so that Restart brings it
// back empty, as a server without persistence comes back after a crash.
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
				"--appendonly", "no",
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
	httpPort := FreePort(t)
	ports := []string{
		"-http-port", strconv.Itoa(httpPort),
		"-server-port", strconv.Itoa(FreePort(t)),
		"-serf-lan-port", strconv.Itoa(FreePort(t)),
		"-serf-wan-port", strconv.Itoa(FreePort(t)),
	}
	addr := "127.0.0.1:" + strconv.Itoa(httpPort)
	client := &http.Client{Timeout: time.Second}
	return newRestartable(t, &Restartable{
		name: "consul",
		addr: addr,
		args: func(dir string) []string {
			args := []string{
				"agent", "-dev",
				"-node", "atomix-test",
				"-bind", "127.0.0.1",
				"-client", "127.0.0.1",
				"-data-dir", dir,
				"-dns-port", "-1",
				"-grpc-port", "-1",
				"-grpc-tls-port", "-1",
				"-disable-keyring-file",
				"-log-level", "warn",
				"-hcl", "disable_update_check = true",
			}
			return append(args, ports...)
		},
		ready: func() bool {
			resp, err := client.Get("http://" + addr + "/v1/status/leader")
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			return resp.StatusCode == http.StatusOK && hasLeader(resp.Body)
		},
		timeout: time.Minute,
	}, "consul", consulHowTo)
}

package testbackend

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ConsulAddrEnv names the environment variable that points the tests at an
// existing Consul agent (host:port of its HTTP API) instead of starting one.
const ConsulAddrEnv = "ATOMIX_TEST_CONSUL_ADDR"

const consulHowTo = "run .ci/install-backends consul (builds Consul v1.14.11, ~4 min) or set " + ConsulAddrEnv

var consulOnce struct {
	sync.Mutex
	addr string // set once an agent is up
	err  string // set once starting one failed; later callers fail the same way
}

// Consul returns the host:port of a Consul agent's HTTP API: the one named
// by ATOMIX_TEST_CONSUL_ADDR, else a `consul agent -dev` started once per
// test process on free loopback ports (stopped by Shutdown). Without either
// it skips t, or fails it when ATOMIX_REQUIRE_BACKENDS names consul.
func Consul(t testing.TB) string {
	t.Helper()
	if addr := os.Getenv(ConsulAddrEnv); addr != "" {
		return addr
	}
	consulOnce.Lock()
	defer consulOnce.Unlock()
	if consulOnce.addr != "" {
		return consulOnce.addr
	}
	if consulOnce.err != "" {
		Unavailable(t, "consul", consulOnce.err, consulHowTo)
		return ""
	}
	bin := FindBinary("consul")
	if bin == "" {
		consulOnce.err = "no consul binary on PATH or in " + BinDir()
		Unavailable(t, "consul", consulOnce.err, consulHowTo)
		return ""
	}
	addr, err := startConsul(t, bin)
	if err != nil {
		consulOnce.err = err.Error()
		Unavailable(t, "consul", consulOnce.err, consulHowTo)
		return ""
	}
	consulOnce.addr = addr
	return addr
}

// startConsul runs a single-node development agent with everything bound to
// 127.0.0.1 and waits until it has elected itself leader.
func startConsul(t testing.TB, bin string) (string, error) {
	dir, err := os.MkdirTemp("", "atomix-consul-")
	if err != nil {
		return "", fmt.Errorf("temp dir: %v", err)
	}
	httpPort := FreePort(t)
	args := []string{
		"agent", "-dev",
		"-node", "atomix-test",
		"-bind", "127.0.0.1",
		"-client", "127.0.0.1",
		"-data-dir", dir,
		"-http-port", strconv.Itoa(httpPort),
		"-server-port", strconv.Itoa(FreePort(t)),
		"-serf-lan-port", strconv.Itoa(FreePort(t)),
		"-serf-wan-port", strconv.Itoa(FreePort(t)),
		"-dns-port", "-1",
		"-grpc-port", "-1",
		"-grpc-tls-port", "-1",
		"-disable-keyring-file",
		"-log-level", "warn",
		"-hcl", "disable_update_check = true",
	}
	logs := &consulOutput{}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = logs
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		os.RemoveAll(dir)
	}

	addr := "127.0.0.1:" + strconv.Itoa(httpPort)
	if err := waitForConsulLeader(addr, exited, 60*time.Second); err != nil {
		stop()
		return "", fmt.Errorf("%v; agent output:\n%s", err, logs.String())
	}
	OnShutdown(stop)
	return addr, nil
}

// waitForConsulLeader polls the agent's status endpoint until it reports a
// raft leader, the process exits, or the timeout passes.
func waitForConsulLeader(addr string, exited <-chan struct{}, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v1/status/leader", nil)
		if resp, err := client.Do(req); err == nil {
			var body bytes.Buffer
			body.ReadFrom(resp.Body)
			resp.Body.Close()
			leader := strings.Trim(strings.TrimSpace(body.String()), `"`)
			if resp.StatusCode == http.StatusOK && leader != "" {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("consul agent exited before electing a leader")
		case <-ctx.Done():
			return fmt.Errorf("consul agent on %s elected no leader within %v", addr, timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// consulOutput keeps the agent's output (stdout and stderr, written from two
// goroutines) to explain a failed start.
type consulOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *consulOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.buf.Len() > 1<<20 { // a long run at log level warn; keep memory bounded
		o.buf.Reset()
	}
	return o.buf.Write(p)
}

func (o *consulOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

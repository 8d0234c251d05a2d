package testbackend

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go/wait"
)

// ConsulAddrEnv names the environment variable that points the tests at an
// existing Consul agent (host:port of its HTTP API) instead of starting one.
const ConsulAddrEnv = "ATOMIX_TEST_CONSUL_ADDR"

const consulHowTo = "run .ci/install-backends consul (builds Consul v1.14.11, ~4 min) or set " + ConsulAddrEnv

// ConsulImageEnv overrides the image of the Consul container.
const ConsulImageEnv = "ATOMIX_TEST_CONSUL_IMAGE"

var consulBackend = &backend{
	name:    "consul",
	addrEnv: ConsulAddrEnv,
	binary:  "consul",
	howTo:   consulHowTo,
	process: func(t testing.TB, bin string) (string, error) { return startConsul(t, bin, nil) },
	container: func(ctx context.Context) (string, error) {
		return StartContainer(ctx, ContainerSpec{
			Backend:      "consul",
			ImageEnv:     ConsulImageEnv,
			DefaultImage: "hashicorp/consul:1.14",
			Port:         "8500/tcp",
			Entrypoint:   []string{"/bin/consul"},
			Cmd:          []string{"agent", "-dev", "-client", "0.0.0.0", "-log-level", "warn"},
			Wait:         wait.ForHTTP("/v1/status/leader").WithPort("8500/tcp").WithResponseMatcher(hasLeader),
		})
	},
}

// Consul returns the host:port of a Consul agent's HTTP API: the one named
// by ATOMIX_TEST_CONSUL_ADDR, else a `consul agent -dev` started once per
// test process on free loopback ports (stopped by Shutdown), else a
// container when a Docker engine answers (image hashicorp/consul:1.14, or
// ATOMIX_TEST_CONSUL_IMAGE). Without any it skips t, or fails it when
// ATOMIX_REQUIRE_BACKENDS names consul.
func Consul(t testing.TB) string {
	t.Helper()
	return consulBackend.address(t)
}

// startConsul runs a single-node development agent with everything bound to
// 127.0.0.1 and waits until it has elected itself leader and, when ready is
// not nil, until ready reports true for its address as well. extra adds to
// the agent's arguments.
func startConsul(t testing.TB, bin string, extra []string, ready ...func(addr string) bool) (string, error) {
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
	args = append(args, extra...)
	addr := "127.0.0.1:" + strconv.Itoa(httpPort)
	client := &http.Client{Timeout: time.Second}
	up := func() bool {
		resp, err := client.Get("http://" + addr + "/v1/status/leader")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !hasLeader(resp.Body) {
			return false
		}
		for _, f := range ready {
			if !f(addr) {
				return false
			}
		}
		return true
	}
	if err := startProcess(bin, args, dir, time.Minute, up); err != nil {
		return "", err
	}
	return addr, nil
}

// hasLeader reports whether a /v1/status/leader answer names a leader.
func hasLeader(body io.Reader) bool {
	b, err := io.ReadAll(body)
	return err == nil && strings.Trim(strings.TrimSpace(string(b)), `"`) != ""
}

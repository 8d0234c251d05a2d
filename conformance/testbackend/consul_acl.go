package testbackend

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go/wait"
)

// ConsulACLAddrEnv names the environment variable that points the ACL tests
// at an existing Consul agent (host:port of its HTTP API) whose ACL system
// is enabled with default policy deny; ConsulACLTokenEnv then names the
// variable holding a management token of that agent.
const (
	ConsulACLAddrEnv  = "ATOMIX_TEST_CONSUL_ACL_ADDR"
	ConsulACLTokenEnv = "ATOMIX_TEST_CONSUL_ACL_TOKEN"
)

const consulACLHowTo = "run .ci/install-backends consul (builds Consul v1.14.11, ~4 min) or set " +
	ConsulACLAddrEnv + " and " + ConsulACLTokenEnv

// consulACLToken is the management token of the agent ConsulACL starts:
// one random UUID per test process.
var consulACLToken = newUUID()

var consulACLBackend = &backend{
	name:    "consul",
	addrEnv: ConsulACLAddrEnv,
	binary:  "consul",
	howTo:   consulACLHowTo,
	process: func(t testing.TB, bin string) (string, error) {
		return startConsul(t, bin, []string{"-hcl", consulACLConfig(consulACLToken)}, func(addr string) bool {
			return consulTokenWorks(addr, consulACLToken)
		})
	},
	container: func(ctx context.Context) (string, error) {
		return StartContainer(ctx, ContainerSpec{
			Backend:      "consul",
			ImageEnv:     ConsulImageEnv,
			DefaultImage: "hashicorp/consul:1.14",
			Port:         "8500/tcp",
			Entrypoint:   []string{"/bin/consul"},
			Cmd: []string{"agent", "-dev", "-client", "0.0.0.0", "-log-level", "warn",
				"-hcl", consulACLConfig(consulACLToken)},
			Wait: wait.ForHTTP("/v1/acl/token/self").WithPort("8500/tcp").
				WithHeaders(map[string]string{"X-Consul-Token": consulACLToken}).
				WithStatusCodeMatcher(func(status int) bool { return status == http.StatusOK }),
		})
	},
}

// ConsulACL returns the host:port of a Consul agent's HTTP API whose ACL
// system is enabled with default policy "deny", and a management token of
// that agent, which may create policies and tokens. The agent is the one
// named by ATOMIX_TEST_CONSUL_ACL_ADDR (with its token in
// ATOMIX_TEST_CONSUL_ACL_TOKEN), else a `consul agent -dev` with ACLs,
// started on first use once per test process on free loopback ports
// (stopped by Shutdown), else a container when a Docker engine answers.
// It is another agent than Consul's, so that tests without ACLs need no
// token. Without any it skips t, or fails it when ATOMIX_REQUIRE_BACKENDS
// names consul.
func ConsulACL(t testing.TB) (addr, managementToken string) {
	t.Helper()
	addr = consulACLBackend.address(t)
	if os.Getenv(ConsulACLAddrEnv) == "" {
		return addr, consulACLToken
	}
	token := os.Getenv(ConsulACLTokenEnv)
	if token == "" {
		Unavailable(t, "consul", ConsulACLAddrEnv+" is set but "+ConsulACLTokenEnv+" is not", consulACLHowTo)
	}
	return addr, token
}

// consulACLConfig is the HCL that enables ACLs with default policy deny and
// token as the bootstrap (initial management) token, which is also the
// agent's own token, so that the agent may register its node.
func consulACLConfig(token string) string {
	return fmt.Sprintf(`acl {
  enabled = true
  default_policy = "deny"
  enable_token_persistence = false
  tokens {
    initial_management = %q
    agent = %q
  }
}`, token, token)
}

// consulTokenWorks reports whether the agent at addr accepts token, which
// it does only once the ACL system has bootstrapped.
func consulTokenWorks(addr, token string) bool {
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/acl/token/self", nil)
	if err != nil {
		return false
	}
	req.Header.Set("X-Consul-Token", token)
	resp, err := (&http.Client{Timeout: time.Second}).Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// newUUID returns a random (version 4) UUID, the form Consul requires of
// token secrets.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

package testbackend

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go/wait"
)

// EtcdMinVersion is the oldest etcd server the tests accept.
const EtcdMinVersion = "3.6.9"

// EtcdEndpointsEnv names the environment variable that points the tests at
// an existing etcd cluster (comma-separated client URLs or host:port)
// instead of starting a server.
const EtcdEndpointsEnv = "ATOMIX_TEST_ETCD_ENDPOINTS"

// etcdHowTo tells a developer how to get an etcd server for the tests.
const etcdHowTo = "run .ci/install-backends etcd or set " + EtcdEndpointsEnv

// EtcdImageEnv overrides the image of the etcd container.
const EtcdImageEnv = "ATOMIX_TEST_ETCD_IMAGE"

// EtcdVersion is the pinned etcd release: the one .ci/install-backends
// builds and the default container image's tag.
const EtcdVersion = "v3.6.16"

var etcdBackend = &backend{
	name:    "etcd",
	addrEnv: EtcdEndpointsEnv,
	binary:  "etcd",
	howTo:   etcdHowTo,
	process: startEtcd,
	container: func(ctx context.Context) (string, error) {
		addr, err := StartContainer(ctx, ContainerSpec{
			Backend:      "etcd",
			ImageEnv:     EtcdImageEnv,
			DefaultImage: "gcr.io/etcd-development/etcd:" + EtcdVersion,
			Port:         "2379/tcp",
			Entrypoint:   []string{"/usr/local/bin/etcd"},
			Cmd: []string{
				"--data-dir", "/var/lib/etcd/data",
				"--listen-client-urls", "http://0.0.0.0:2379",
				"--advertise-client-urls", "http://127.0.0.1:2379",
				"--log-level", "warn",
			},
			Wait: wait.ForHTTP("/health").WithPort("2379/tcp"),
		})
		if err != nil {
			return "", err
		}
		return addr, requireEtcdVersion("http://" + addr)
	},
}

// Etcd returns the client endpoints of an etcd server for the test: the
// comma-separated endpoints in ATOMIX_TEST_ETCD_ENDPOINTS, else a server
// started from the etcd binary on free loopback ports once per test
// process (data in a temporary directory, stopped by Shutdown), else a
// container when a Docker engine answers (image
// gcr.io/etcd-development/etcd at EtcdVersion, or ATOMIX_TEST_ETCD_IMAGE).
// Without any it skips t, or fails it when ATOMIX_REQUIRE_BACKENDS names
// etcd. A server it starts must report at least EtcdMinVersion.
func Etcd(t testing.TB) []string {
	t.Helper()
	var endpoints []string
	for _, e := range strings.Split(etcdBackend.address(t), ",") {
		if e = strings.TrimSpace(e); e != "" {
			endpoints = append(endpoints, e)
		}
	}
	if len(endpoints) == 0 {
		Unavailable(t, "etcd", EtcdEndpointsEnv+" names no endpoint", etcdHowTo)
	}
	return endpoints
}

// startEtcd starts bin as a single-member cluster on free loopback ports and
// waits until it is healthy.
func startEtcd(t testing.TB, bin string) (string, error) {
	dir, err := os.MkdirTemp("", "atomix-etcd-")
	if err != nil {
		return "", err
	}
	clientPort, peerPort := FreePort(t), FreePort(t)
	for peerPort == clientPort {
		peerPort = FreePort(t)
	}
	clientURL := fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	args := []string{
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
	if err := startProcess(bin, args, dir, 30*time.Second, func() bool { return etcdHealthy(clientURL) }); err != nil {
		return "", err
	}
	return clientURL, requireEtcdVersion(clientURL)
}

// requireEtcdVersion fails for a server older than EtcdMinVersion.
func requireEtcdVersion(endpoint string) error {
	v, err := etcdVersion(endpoint)
	if err != nil {
		return fmt.Errorf("etcd version: %w", err)
	}
	return checkEtcdVersion(v)
}

// etcdHealthy reports whether the server at clientURL says it is healthy.
func etcdHealthy(clientURL string) bool {
	client := &http.Client{Timeout: time.Second}
	resp, err := client.Get(clientURL + "/health")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var h struct {
		Health string `json:"health"`
	}
	return json.NewDecoder(resp.Body).Decode(&h) == nil && h.Health == "true"
}

// etcdVersion reads the server version from the /version endpoint.
func etcdVersion(endpoint string) (string, error) {
	if !strings.Contains(endpoint, "://") {
		endpoint = "http://" + endpoint
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/version", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var v struct {
		Server string `json:"etcdserver"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return "", err
	}
	return v.Server, nil
}

// checkEtcdVersion fails for a version older than EtcdMinVersion.
func checkEtcdVersion(v string) error {
	have, ok1 := parseEtcdVersion(v)
	want, _ := parseEtcdVersion(EtcdMinVersion)
	if !ok1 {
		return fmt.Errorf("etcd: cannot parse version %q", v)
	}
	for i := range want {
		if have[i] != want[i] {
			if have[i] < want[i] {
				return fmt.Errorf("etcd is too old: server is %s, want at least %s", v, EtcdMinVersion)
			}
			return nil
		}
	}
	return nil
}

func parseEtcdVersion(v string) ([3]int, bool) {
	var out [3]int
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) != 3 {
		return out, false
	}
	for i, p := range parts {
		if j := strings.IndexFunc(p, func(r rune) bool { return r < '0' || r > '9' }); j >= 0 {
			p = p[:j]
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return out, false
		}
		out[i] = n
	}
	return out, true
}

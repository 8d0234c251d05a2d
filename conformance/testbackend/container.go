package testbackend

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tcredis "github.com/testcontainers/testcontainers-go/modules/redis"
	"github.com/testcontainers/testcontainers-go/wait"
)

// The ways of getting a server, chosen with ATOMIX_TEST_PROVIDER.
const (
	// ProviderProcess: only a local binary started as a process.
	ProviderProcess = "process"
	// ProviderContainer: only a container started through testcontainers-go.
	ProviderContainer = "container"
)

// Provider returns ATOMIX_TEST_PROVIDER: "process", "container", or ""
// for the default order (address from the environment, local binary,
// container, skip).
func Provider() string { return os.Getenv("ATOMIX_TEST_PROVIDER") }

// UseProcess reports whether a local binary may be used.
func UseProcess() bool { return Provider() != ProviderContainer }

// UseContainer reports whether a container may be used.
func UseContainer() bool { return Provider() != ProviderProcess }

// ContainerSpec describes the container of one backend.
type ContainerSpec struct {
	// Backend names the backend in messages, e.g. "etcd".
	Backend string
	// ImageEnv is the environment variable that overrides DefaultImage.
	ImageEnv     string
	DefaultImage string
	// Port is the container port clients connect to, e.g. "2379/tcp".
	Port string
	// Entrypoint and Cmd, when set, replace the image's.
	Entrypoint []string
	Cmd        []string
	// Wait tells when the server is ready; the port listening is always
	// waited for too.
	Wait wait.Strategy
}

// Image returns the image to run: the environment's override or the default.
func (s ContainerSpec) Image() string {
	if img := os.Getenv(s.ImageEnv); img != "" {
		return img
	}
	return s.DefaultImage
}

var (
	dockerOnce sync.Once
	dockerErr  error
)

// DockerAvailable returns nil when a Docker engine answers, else why not.
func DockerAvailable() error {
	dockerOnce.Do(func() {
		provider, err := testcontainers.NewDockerProvider()
		if err != nil {
			dockerErr = fmt.Errorf("docker: %w", err)
			return
		}
		defer provider.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := provider.Health(ctx); err != nil {
			dockerErr = fmt.Errorf("docker engine does not answer: %w", err)
		}
	})
	return dockerErr
}

// StartContainer starts spec's container, registers its removal with
// OnShutdown, and returns the host:port at which Port is published.
func StartContainer(ctx context.Context, spec ContainerSpec) (string, error) {
	if err := DockerAvailable(); err != nil {
		return "", err
	}
	opts := []testcontainers.ContainerCustomizer{
		testcontainers.WithExposedPorts(spec.Port),
	}
	if len(spec.Entrypoint) > 0 {
		opts = append(opts, testcontainers.WithEntrypoint(spec.Entrypoint...))
	}
	if len(spec.Cmd) > 0 {
		opts = append(opts, testcontainers.WithCmd(spec.Cmd...))
	}
	strategies := []wait.Strategy{wait.ForListeningPort(spec.Port).WithStartupTimeout(time.Minute)}
	if spec.Wait != nil {
		strategies = append(strategies, spec.Wait)
	}
	opts = append(opts, testcontainers.WithWaitStrategyAndDeadline(2*time.Minute, strategies...))
	ctr, err := testcontainers.Run(ctx, spec.Image(), opts...)
	return published(ctx, spec, ctr, err)
}

// StartRedisContainer starts Redis through testcontainers-go's Redis
// module and returns its host:port.
func StartRedisContainer(ctx context.Context, spec ContainerSpec) (string, error) {
	if err := DockerAvailable(); err != nil {
		return "", err
	}
	var opts []testcontainers.ContainerCustomizer
	if len(spec.Cmd) > 0 {
		opts = append(opts, testcontainers.WithCmd(spec.Cmd...))
	}
	ctr, err := tcredis.Run(ctx, spec.Image(), opts...)
	var c testcontainers.Container
	if ctr != nil {
		c = ctr
	}
	return published(ctx, spec, c, err)
}

// published registers ctr's removal and returns the address of spec.Port.
func published(ctx context.Context, spec ContainerSpec, ctr testcontainers.Container, runErr error) (string, error) {
	if ctr != nil {
		OnShutdown(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = ctr.Terminate(ctx, testcontainers.StopTimeout(5*time.Second))
		})
	}
	if runErr != nil {
		return "", fmt.Errorf("start %s container from image %s (build local images with `make images`, or set %s): %w", spec.Backend, spec.Image(), spec.ImageEnv, runErr)
	}
	host, err := ctr.Host(ctx)
	if err != nil {
		return "", err
	}
	port, err := ctr.MappedPort(ctx, spec.Port)
	if err != nil {
		return "", err
	}
	if host == "" || port.Port() == "" {
		return "", errors.New("container has no published port")
	}
	return host + ":" + port.Port(), nil
}

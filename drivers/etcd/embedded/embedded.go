// Package embedded runs a real, single-member etcd server inside the
// current process (go.etcd.io/etcd/server/v3/embed), for programs that want
// an etcd backend with nothing to install, such as the quickstart.
//
// The server listens on free ports of 127.0.0.1 only and logs nothing.
// Its data lives in the directory given to Start; it is durable, so a
// server started again on the same directory finds it.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Server is a running embedded etcd server.
type Server struct {
	etcd      *embed.Etcd
	endpoints []string
}

// Start starts a single-member etcd server with its data in dir, and
// returns once it serves clients, or fails when ctx ends first.
func Start(ctx context.Context, dir string) (*Server, error) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var s *Server
		if s, err = start(ctx, dir); err == nil {
			return s, nil
		}
		if ctx.Err() != nil {
			break
		}
		// A port chosen as free may have been taken meanwhile; try others.
	}
	return nil, err
}

func start(ctx context.Context, dir string) (*Server, error) {
	clientURL, err := freeLoopbackURL()
	if err != nil {
		return nil, err
	}
	peerURL, err := freeLoopbackURL()
	if err != nil {
		return nil, err
	}
	cfg := embed.NewConfig()
	cfg.Name = "atomix-embedded"
	cfg.Dir = dir
	cfg.ListenClientUrls = []url.URL{*clientURL}
	cfg.AdvertiseClientUrls = []url.URL{*clientURL}
	cfg.ListenPeerUrls = []url.URL{*peerURL}
	cfg.AdvertisePeerUrls = []url.URL{*peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd: start: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
		return &Server{etcd: e, endpoints: []string{clientURL.String()}}, nil
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd: %w", err)
	case <-ctx.Done():
		e.Close()
		return nil, fmt.Errorf("embedded etcd: not ready: %w", ctx.Err())
	case <-time.After(time.Minute):
		e.Close()
		return nil, errors.New("embedded etcd: not ready after a minute")
	}
}

// freeLoopbackURL returns an http URL on a port of 127.0.0.1 that was free
// a moment ago.
func freeLoopbackURL() (*url.URL, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("embedded etcd: find a free port: %w", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return nil, err
	}
	return &url.URL{Scheme: "http", Host: addr}, nil
}

// Endpoints returns the server's client URLs, for etcd.Config.Endpoints or
// an etcd:// URL (without the scheme).
func (s *Server) Endpoints() []string {
	return append([]string(nil), s.endpoints...)
}

// Close stops the server and waits until it has stopped. Its data stays in
// the directory given to Start.
func (s *Server) Close() error {
	s.etcd.Close()
	return nil
}

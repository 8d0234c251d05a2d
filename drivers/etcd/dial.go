package etcd

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"time"

	"google.golang.org/grpc/credentials"

	"github.com/atomix/go-client/driver"
)

// serverNameCreds makes gRPC check the servers' certificates against a
// fixed name: gRPC's own TLS credentials replace tls.Config.ServerName with
// the host of the endpoint being dialed.
type serverNameCreds struct {
	credentials.TransportCredentials
	name string
}

func (c serverNameCreds) ClientHandshake(ctx context.Context, _ string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return c.TransportCredentials.ClientHandshake(ctx, c.name, conn)
}

func (c serverNameCreds) Clone() credentials.TransportCredentials {
	return serverNameCreds{TransportCredentials: c.TransportCredentials.Clone(), name: c.name}
}

// http2Preface is what an HTTP/2 client sends first.
const http2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// preflight connects to every endpoint at once, as clientv3 would (TLS for
// https:// endpoints, and for those without a scheme when tlsCfg is set),
// and returns nil as soon as one of them answers as an etcd server would,
// else the most telling failure: ErrPermission for a certificate the
// server refused, ErrInvalid for a server certificate that does not verify
// or a server that does not speak the protocol configured, ErrUnavailable
// for a server that cannot be reached. The failure wraps its cause (an
// x509 error; for a TLS alert, crypto/tls's *net.OpError whose Op is
// "remote error"), which errors.As reaches.
//
// gRPC, which clientv3 uses, retries a failed handshake until the caller's
// deadline and then reports it as a string, so New checks first.
func preflight(ctx context.Context, endpoints []string, tlsCfg *tls.Config) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(endpoints))
	for _, ep := range endpoints {
		go func() { errs <- probe(ctx, ep, tlsCfg) }()
	}
	var worst error
	for i := range endpoints {
		err := <-errs
		if err == nil {
			// Stop the other probes and wait for them: New leaves
			// nothing running.
			cancel()
			for range len(endpoints) - 1 - i {
				<-errs
			}
			return nil
		}
		if worst == nil || errors.Is(worst, driver.ErrUnavailable) {
			worst = err
		}
	}
	return worst
}

// probe checks one endpoint (see preflight).
func probe(ctx context.Context, ep string, tlsCfg *tls.Config) error {
	useTLS := tlsCfg != nil
	addr := ep
	switch {
	case strings.HasPrefix(ep, "http://"):
		useTLS, addr = false, strings.TrimPrefix(ep, "http://")
	case strings.HasPrefix(ep, "https://"):
		useTLS, addr = true, strings.TrimPrefix(ep, "https://")
	case strings.Contains(ep, "://") || strings.HasPrefix(ep, "unix"):
		return nil // unix sockets and other schemes: left to clientv3
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return driver.Wrap(driver.ErrUnavailable, err, "connect to %s", ep)
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if useTLS {
		cfg := tlsCfg.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				host = addr
			}
			cfg.ServerName = host
		}
		cfg.NextProtos = []string{"h2"}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return handshakeError(ep, err)
		}
		conn = tc
	}
	if _, err := conn.Write([]byte(http2Preface)); err != nil {
		return answerError(ep, useTLS, err)
	}
	// An HTTP/2 server's first frame is its SETTINGS; a TLS 1.3 server
	// that refuses the client's certificate sends an alert instead.
	var hdr [9]byte
	if _, err := readFull(conn, hdr[:]); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil // slow, not refused: leave it to the requests
		}
		return answerError(ep, useTLS, err)
	}
	if hdr[3] != 0x4 { // not a SETTINGS frame
		return driver.Errorf(driver.ErrInvalid, "%s does not answer as an HTTP/2 server", ep)
	}
	return nil
}

func readFull(conn net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := conn.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// handshakeError classifies a failed TLS handshake.
func handshakeError(ep string, err error) error {
	if kind := driver.TLSFailure(ep, err); kind != nil {
		return kind
	}
	return driver.Wrap(driver.ErrUnavailable, err, "TLS handshake with %s (a server without TLS ends it so)", ep)
}

// answerError classifies a failure to read the server's first frame.
func answerError(ep string, useTLS bool, err error) error {
	if driver.IsTLSAlert(err) {
		return driver.Wrap(driver.ErrPermission, err, "%s refused the client certificate", ep)
	}
	if !useTLS {
		return driver.Wrap(driver.ErrInvalid, err, "%s ended a plaintext connection (does it require TLS?)", ep)
	}
	return driver.Wrap(driver.ErrUnavailable, err, "no answer from %s", ep)
}

// dialTimeout returns a context bounded by d.
func dialTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

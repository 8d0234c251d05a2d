package redis

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"time"

	"github.com/atomix/go-client/driver"
)

// defaultDialTimeout is go-redis's own default for DialTimeout.
const defaultDialTimeout = 5 * time.Second

// tlsDialer returns the dialer of a driver whose client connects with TLS.
// It completes the handshake within timeout (go-redis's DialTimeout) while
// dialing, as go-redis's own does, but returns its failure classified: a
// certificate that does not verify or a refused handshake as
// driver.TLSFailure says, and a handshake without an answer (a server that
// does not speak TLS waits for more of what it takes for a command) as
// ErrUnavailable naming that likely cause. Nothing was sent in any case, so
// none is ambiguous.
func tlsDialer(cfg *tls.Config, timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if timeout <= 0 {
		timeout = defaultDialTimeout
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{Timeout: timeout, KeepAlive: 5 * time.Minute}
		raw, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		c := cfg
		if c.ServerName == "" {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				host = addr
			}
			c = cfg.Clone()
			c.ServerName = host
		}
		conn := tls.Client(raw, c)
		hctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if err := conn.HandshakeContext(hctx); err != nil {
			raw.Close()
			if tlsErr := driver.TLSFailure(addr, err); tlsErr != nil {
				return nil, tlsErr
			}
			var nerr net.Error
			if ctx.Err() == nil && (errors.As(err, &nerr) && nerr.Timeout() || errors.Is(err, context.DeadlineExceeded)) {
				return nil, driver.Wrap(driver.ErrUnavailable, err, "no TLS answer from %s within %v (does it speak TLS?)", addr, timeout)
			}
			return nil, driver.Wrap(driver.ErrUnavailable, err, "TLS handshake with %s", addr)
		}
		return conn, nil
	}
}

package driver

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
)

// TLSFailure classifies err, from a TLS connection to endpoint, if it is a
// TLS failure, and returns nil otherwise:
//
//   - a server certificate that does not verify (unknown authority, wrong
//     name, expired or otherwise invalid) is ErrInvalid: the client's
//     configuration does not match the server;
//   - a TLS alert the server sent (it refused the client certificate, or
//     wanted one) is ErrPermission;
//   - an answer that is not TLS at all is ErrInvalid: the server does not
//     speak TLS.
//
// The result wraps err, so errors.As still reaches the x509 error or the
// alert. Every driver classifies TLS failures with it, so that one failure
// has one kind whatever the backend.
func TLSFailure(endpoint string, err error) error {
	var (
		verify    *tls.CertificateVerificationError
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		record    tls.RecordHeaderError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &verify), errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid):
		return Wrap(ErrInvalid, err, "the certificate of %s does not verify", endpoint)
	case IsTLSAlert(err):
		return Wrap(ErrPermission, err, "%s refused the TLS connection", endpoint)
	case errors.As(err, &record):
		return Wrap(ErrInvalid, err, "%s does not speak TLS", endpoint)
	}
	return nil
}

// IsTLSAlert reports whether err is a TLS alert the peer sent (crypto/tls
// reports those as a *net.OpError whose Op is "remote error").
func IsTLSAlert(err error) bool {
	var alert tls.AlertError
	var op *net.OpError
	return errors.As(err, &alert) || errors.As(err, &op) && op.Op == "remote error"
}

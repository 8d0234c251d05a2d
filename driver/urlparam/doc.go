// Package urlparam reads the query parameters of a driver URL strictly, for
// the URL openers of the drivers in this module and of third-party drivers.
//
// url.URL.Query silently drops a pair it cannot decode and keeps only what
// the caller asks for, so a misspelt or malformed setting is ignored. A
// [Query] instead reports, as an error wrapping driver.ErrInvalid:
//
//   - a malformed %-escape or a ';' separator (at [Parse]);
//   - a key given twice, unless it is read with [Query.Strings];
//   - a value that does not parse, or is out of the range the getter allows;
//   - a key that no getter read ([Query.Done]).
//
// Errors name the key and never contain a value: a value may be a password
// or a token. (A file that cannot be read is named by its path, from the
// operating system's error; paths are not secrets.)
//
// A driver's URL opener parses the query, reads each parameter once with a
// typed getter, and ends with Done:
//
//	q, err := urlparam.Parse(u.RawQuery)
//	if err != nil {
//		return Config{}, err
//	}
//	cfg.Prefix = q.String("prefix")
//	cfg.DialTimeout = q.Duration("dial-timeout", time.Minute)
//	cfg.TLS = q.TLS(false)
//	if err := q.Done(); err != nil {
//		return Config{}, err
//	}
//
// The addresses of the URL's host part (and of parameters that name
// more hosts) go through [HostPort], which adds the default port and
// refuses a port outside 1-65535: url.Parse does not check the range.
//
// The getters never fail on their own: the first error is kept and returned
// by [Query.Err] and [Query.Done], and a getter returns the zero value for a
// key that is absent or invalid. The result does not depend on the order in
// which keys appear in the URL or are read.
//
// # TLS
//
// Every driver reads the same TLS keys, with [Query.TLS]:
//
//	tls=BOOL                   connect with TLS
//	ca-file=PATH               PEM file of the CAs that sign the server's certificate
//	                           (default: the system's roots)
//	cert-file=PATH             PEM client certificate (with key-file)
//	key-file=PATH              PEM client key (with cert-file)
//	server-name=NAME           name checked in the server's certificate
//	insecure-skip-verify=BOOL  do not verify the server's certificate (tests only)
//
// TLS is on when tls=true, when the scheme asks for it (rediss), or when
// any other of these keys is given. tls=false together with a TLS scheme or
// any other TLS key is a contradiction, reported as ErrInvalid. [TLSFiles]
// is the same settings as plain fields, for a driver's Config, loaded by the
// same code.
package urlparam

package urlparam

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
)

// maxSecretFile bounds the size of a file holding a password or token.
const maxSecretFile = 64 << 10

// SecretFile returns the content of the file whose path key names, for a
// password or token that should not be written into the URL (a mounted
// Kubernetes or Docker secret), or "" when key is absent. One trailing
// newline ("\n" or "\r\n") is removed. An empty path, a file that cannot be
// read, one larger than 64 KiB or an empty one is an error naming key; no
// error ever shows the file's content.
func (q *Query) SecretFile(key string) string {
	path, ok := q.value(key)
	if !ok {
		return ""
	}
	if path == "" {
		q.fail(key, "empty file name")
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		q.failCause(key, pathError(err), "cannot open the file")
		return ""
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	switch {
	case err != nil:
		q.failCause(key, pathError(err), "cannot read the file")
		return ""
	case len(data) > maxSecretFile:
		q.fail(key, "the file is larger than %d bytes", maxSecretFile)
		return ""
	}
	s := string(data)
	if strings.HasSuffix(s, "\n") {
		s = strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
	}
	if s == "" {
		q.fail(key, "the file is empty")
		return ""
	}
	return s
}

// pathError keeps what is safe to show of a file error: the operation, the
// path and the reason (the path is the user's own parameter, not a secret).
func pathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe
	}
	return err
}

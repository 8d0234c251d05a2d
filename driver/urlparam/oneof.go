package urlparam

import "strings"

// OneOf returns the value of key, which must be one of allowed (compared
// exactly), or "" when it is absent. Any other value is an error naming the
// allowed ones (never the value given, which may be a secret mistyped into
// the wrong parameter).
func (q *Query) OneOf(key string, allowed ...string) string {
	v, ok := q.value(key)
	if !ok {
		return ""
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	q.fail(key, "want one of %s", strings.Join(allowed, ", "))
	return ""
}

package urlparam

import (
	"strconv"
	"time"
)

// String returns the value of key, or "" when it is absent. A key given
// twice is an error.
func (q *Query) String(key string) string {
	v, _ := q.value(key)
	return v
}

// Strings returns every value of key in order of appearance, or nil. It is
// the one getter for which a repeated key is not an error.
func (q *Query) Strings(key string) []string {
	q.read[key] = true
	var vs []string
	for _, p := range q.pairs {
		if p.key == key {
			vs = append(vs, p.value)
		}
	}
	return vs
}

// Bool returns the value of key as strconv.ParseBool reads it ("true",
// "false", "1", "0", …), or false when it is absent. Anything else is an
// error.
func (q *Query) Bool(key string) bool {
	v, ok := q.value(key)
	if !ok {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		q.fail(key, "want true or false")
		return false
	}
	return b
}

// Duration returns the value of key as time.ParseDuration reads it ("5s",
// "250ms", "1m30s"), or 0 when it is absent. A negative duration, one above
// max, or a value that is not a duration is an error.
func (q *Query) Duration(key string, max time.Duration) time.Duration {
	v, ok := q.value(key)
	if !ok {
		return 0
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		q.fail(key, "want a duration such as 5s or 250ms, at most %v", max)
	case d < 0:
		q.fail(key, "negative duration")
	case d > max:
		q.fail(key, "duration above %v", max)
	default:
		return d
	}
	return 0
}

// Int returns the value of key as a decimal integer, or 0 when it is
// absent. A value that is not a decimal integer, or one outside
// [min, max], is an error.
func (q *Query) Int(key string, min, max int) int {
	v, ok := q.value(key)
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < int64(min) || n > int64(max) {
		q.fail(key, "want a whole number from %d to %d", min, max)
		return 0
	}
	return int(n)
}

package redis

import (
	"testing"
)

// TestWritesAllocateLittleMoreThanTheRawCommand checks that a map's Put and
// a value's Set through the driver allocate at most two objects more than
// go-redis sending the plain command for the same write (HSET, SET) on
// the same client. What go-redis allocates to send a command and read its
// reply is the same in both and cancels out, and both convert the caller's
// key and value to arguments; the driver's own are the returned entry's
// copy of the value and, at most, one more. The primitive's keys, its
// channel, the script's SHA and the mode are converted to arguments once,
// not per call: each conversion of a string to an interface allocates.
func TestWritesAllocateLittleMoreThanTheRawCommand(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	m, err := d.OpenMap(ctx, testID(t, "m"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := d.OpenValue(ctx, testID(t, "v"))
	if err != nil {
		t.Fatal(err)
	}
	value := []byte("0123456789abcdef")
	raw := "raw-" + randomID()
	for _, c := range []struct {
		name   string
		budget float64 // the driver's own allocations (see above)
		write  func() error
		plain  func() error
	}{
		{"map Put", 2, func() error { return errOf(m.Put(ctx, "k", value, 0)) },
			func() error { return d.client.HSet(ctx, raw+"h", "k", value).Err() }},
		{"value Set", 2, func() error { return errOf(v.Set(ctx, value, 0)) },
			func() error { return d.client.Set(ctx, raw+"v", value, 0).Err() }},
	} {
		var failed error
		run := func(f func() error) func() {
			return func() {
				if err := f(); err != nil && failed == nil {
					failed = err
				}
			}
		}
		write := testing.AllocsPerRun(500, run(c.write))
		plain := testing.AllocsPerRun(500, run(c.plain))
		if failed != nil {
			t.Fatalf("%s: %v", c.name, failed)
		}
		t.Logf("%s: %v allocations, the plain command %v", c.name, write, plain)
		if write > plain+c.budget {
			t.Errorf("%s allocates %v objects, %v more than the plain command's %v; want at most %v more",
				c.name, write, write-plain, plain, c.budget)
		}
	}
}

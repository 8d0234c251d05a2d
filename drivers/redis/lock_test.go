package redis

import (
	"context"
	"errors"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/conformance/faultproxy"
	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// scriptCounter counts the scripts a client runs for what a test does:
// not the sweeps of ephemeral keys that every driver runs in the
// background every EphemeralSweepInterval over every primitive the backend
// registered, other tests' included (see sweepLoop), which a test that
// waits about a second would otherwise count at random.
type scriptCounter struct{ n atomic.Int64 }

func (c *scriptCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (c *scriptCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}
func (c *scriptCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		switch cmd.Name() {
		case "evalsha", "eval", "evalsha_ro", "eval_ro":
			if args := cmd.Args(); len(args) < 2 || (args[1] != ephSweep.sha && args[1] != ephSweep.src) {
				c.n.Add(1)
			}
		}
		return next(ctx, cmd)
	}
}

func newSessionT(t *testing.T, d *Driver) *session {
	t.Helper()
	s, err := d.NewSession(testContext(t), driver.SessionOptions{TTL: testTTL})
	if err != nil {
		t.Fatal(err)
	}
	return s.(*session)
}

func openTestLock(t *testing.T, d *Driver, id driver.ID) driver.Lock {
	t.Helper()
	l, err := d.OpenLock(testContext(t), id)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func closedWithin(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	default:
	}
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

// TestLockExpiresWithCrashedHolder checks that a crashed holder's lock goes
// to a waiter within about a TTL, with a greater version, and that the
// waiter did not poll meanwhile.
func TestLockExpiresWithCrashedHolder(t *testing.T) {
	ctx := testContext(t)
	a, b := newTestDriver(t), newTestDriver(t)
	counter := &scriptCounter{}
	b.client.AddHook(counter)
	id := testID(t, "l")
	ha, err := openTestLock(t, a, id).Acquire(ctx, newSessionT(t, a), "a")
	if err != nil {
		t.Fatal(err)
	}
	lb := openTestLock(t, b, id)
	sb := newSessionT(t, b)
	if _, ok, err := lb.TryAcquire(ctx, sb, "b"); err != nil || ok {
		t.Fatalf("TryAcquire of a held lock = %v, %v", ok, err)
	}
	crashed := time.Now()
	a.Crash()
	hb, err := lb.Acquire(ctx, sb, "b")
	if err != nil {
		t.Fatal(err)
	}
	waited := time.Since(crashed)
	if hb.Version <= ha.Version {
		t.Fatalf("version after expiry %d <= %d", hb.Version, ha.Version)
	}
	if waited > testTTL+time.Second {
		t.Fatalf("the lock was free after %v, want about the TTL %v", waited, testTTL)
	}
	// One failed try, one attempt on entering Acquire, one when the lease
	// would expire, and maybe one more if the release message came first.
	if n := counter.n.Load(); n > 5 {
		t.Fatalf("%d scripts while waiting about a TTL: polling", n)
	}
	if closedWithin(hb.Gone, 0) {
		t.Fatal("Gone closed while holding")
	}
}

// TestLockHandoffIsPrompt checks that a waiter gets a released lock at
// once, woken by the release message.
func TestLockHandoffIsPrompt(t *testing.T) {
	ctx := testContext(t)
	a, b := newTestDriver(t), newTestDriver(t)
	id := testID(t, "l")
	la, lb := openTestLock(t, a, id), openTestLock(t, b, id)
	// The holder's session is long, so a waiter that is not woken by the
	// release message would wait for its expiry: far longer than the bound
	// below, whatever the machine's load.
	long, err := a.NewSession(ctx, driver.SessionOptions{TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer long.Close(ctx)
	sb := newSessionT(t, b)
	ha, err := la.Acquire(ctx, long, "a")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan uint64, 1)
	go func() {
		h, err := lb.Acquire(ctx, sb, "b")
		if err != nil {
			t.Error(err)
		}
		got <- h.Version
	}()
	time.Sleep(200 * time.Millisecond) // b is waiting
	released := time.Now()
	if ok, err := la.Release(ctx, "a", ha.Version); err != nil || !ok {
		t.Fatalf("Release = %v, %v", ok, err)
	}
	select {
	case vb := <-got:
		if vb <= ha.Version {
			t.Fatalf("version %d after %d", vb, ha.Version)
		}
		if d := time.Since(released); d > 20*time.Second {
			t.Fatalf("handoff took %v: the waiter was not woken", d)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("waiter did not get the lock: it was not woken by the release")
	}
}

// TestHoldGoneWhenSessionKeyVanishes checks that a holder whose session key
// is gone (as after a long pause) learns it within a renewal period.
func TestHoldGoneWhenSessionKeyVanishes(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	l := openTestLock(t, d, testID(t, "l"))
	s := newSessionT(t, d)
	h, err := l.Acquire(ctx, s, "a")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.client.Del(ctx, s.key).Err(); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(s.Done(), testTTL) {
		t.Fatal("session not done after its key vanished")
	}
	if !closedWithin(h.Gone, time.Second) {
		t.Fatal("Gone not closed after the session ended")
	}
}

// TestHoldGoneWhenRenewalFails checks that a holder cut off from the
// server sees its hold gone no later than the server can expire it.
func TestHoldGoneWhenRenewalFails(t *testing.T) {
	ctx := testContext(t)
	p, err := faultproxy.Start(testbackend.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	d, err := New(&goredis.UniversalOptions{Addrs: []string{p.Addr()}, ContextTimeoutEnabled: true, MaxRetries: -1}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)
	l := openTestLock(t, d, testID(t, "l"))
	s := newSessionT(t, d)
	h, err := l.Acquire(ctx, s, "a")
	if err != nil {
		t.Fatal(err)
	}
	p.DropReplies(true)
	defer p.DropReplies(false) // before d.Close
	cut := time.Now()
	if !closedWithin(h.Gone, 2*testTTL) {
		t.Fatal("Gone not closed while renewals failed")
	}
	// The lease deadline is the send time of the last successful renewal
	// plus the TTL, before the cut; the server expires the lease no
	// earlier than that renewal's arrival plus the TTL.
	if dl := s.keeper.Deadline(); dl.After(cut.Add(testTTL)) {
		t.Fatalf("session deadline %v after the cut, later than the TTL %v", dl.Sub(cut), testTTL)
	}
	// Never early: Gone closed no sooner than the deadline, since the
	// server may keep the hold until then.
	if dl := s.keeper.Deadline(); time.Now().Before(dl) {
		t.Fatalf("Gone closed %v before the session's deadline", time.Until(dl))
	}
}

// TestHoldGoneAfterLostSubscription removes a hold without a message and
// drops the pub/sub connection: the check after resubscribing must find
// the hold gone.
func TestHoldGoneAfterLostSubscription(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	l := openTestLock(t, d, testID(t, "l"))
	h, err := l.Acquire(ctx, newSessionT(t, d), "a")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.client.Del(ctx, l.(*lock).keys.names[0]).Err(); err != nil { // unpublished
		t.Fatal(err)
	}
	if closedWithin(h.Gone, 200*time.Millisecond) {
		t.Fatal("Gone closed with no message and no resubscription")
	}
	if err := d.client.Do(ctx, "client", "kill", "type", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(h.Gone, 5*time.Second) {
		t.Fatal("Gone not closed after resubscribing found the hold gone")
	}
}

// TestSessionCloseReleasesHold checks that closing a session releases its
// hold at once, tells its Gone, and leaves no lease key behind.
func TestSessionCloseReleasesHold(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	l := openTestLock(t, d, testID(t, "l"))
	s := newSessionT(t, d)
	h, err := l.Acquire(ctx, s, "a")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(h.Gone, 0) {
		t.Fatal("Gone not closed when the session's Close returned")
	}
	if v, held, err := l.Holder(ctx); err != nil || held {
		t.Fatalf("Holder after the session closed = %d, %v, %v", v, held, err)
	}
	lk := l.(*lock)
	if n, err := d.client.Exists(ctx, lk.keys.names[0], lk.keys.names[2]+s.id, s.key).Result(); err != nil || n != 0 {
		t.Fatalf("%d keys of the hold and session left after Close (%v)", n, err)
	}
}

// TestLockFIFO: waiters get the lock in the order they queued, each
// release waking only the next one: a waiter behind another runs no
// script when the lock is released (before the queue, every release woke
// every waiter, which all ran the acquire script, and the fastest won),
// and a waiter that gives up leaves the queue and hands the turn on.
func TestLockFIFO(t *testing.T) {
	ctx := testContext(t)
	id := testID(t, "fifo")
	holderD := newTestDriver(t)
	holder := openTestLock(t, holderD, id)
	hs := newSessionT(t, holderD)
	h, err := holder.Acquire(ctx, hs, "holder")
	if err != nil {
		t.Fatal(err)
	}
	queue := holder.(*lock).keys.names[3]
	const n = 5
	order := make(chan int, n)
	proceed := make(chan struct{})
	var done sync.WaitGroup
	defer done.Wait()
	stop := make(chan struct{})
	defer close(stop) // a test that fails early lets the waiters go
	counters := make([]*scriptCounter, n)
	gaveUp := make(chan error, 1)
	queued := 0
	waitQueued := func(want int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			if c, _ := holderD.client.ZCard(ctx, queue).Result(); int(c) == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the queue did not reach %d waiters", want)
			}
		}
	}
	for i := range n {
		d := newTestDriver(t)
		counters[i] = &scriptCounter{}
		d.client.AddHook(counters[i])
		l := openTestLock(t, d, id)
		s := newSessionT(t, d)
		owner := "w" + itoa(i)
		if i == 1 { // gives up while queued, ahead of the later waiters
			wctx, cancel := context.WithCancel(ctx)
			go func() {
				_, err := l.Acquire(wctx, s, owner)
				gaveUp <- err
			}()
			queued++
			waitQueued(queued)
			cancel()
			if err := <-gaveUp; err == nil {
				t.Fatal("an Acquire whose context ended took the lock")
			}
			queued--
			waitQueued(queued)
			continue
		}
		done.Add(1)
		go func() {
			defer done.Done()
			wh, err := l.Acquire(ctx, s, owner)
			if err != nil {
				t.Error(err)
				return
			}
			order <- i
			select {
			case <-proceed:
			case <-stop:
			}
			if _, err := l.Release(ctx, owner, wh.Version); err != nil {
				t.Error(err)
			}
		}()
		queued++
		waitQueued(queued)
	}
	before := make([]int64, n)
	for i, c := range counters {
		before[i] = c.n.Load()
	}
	if _, err := holder.Release(ctx, "holder", h.Version); err != nil {
		t.Fatal(err)
	}
	for want := 0; want < n; want++ {
		if want == 1 {
			continue
		}
		if got := <-order; got != want {
			t.Fatalf("waiter %d got the lock, want %d", got, want)
		}
		time.Sleep(20 * time.Millisecond) // time for a wrongly woken waiter to try
		for i := want + 1; i < n; i++ {
			if got := counters[i].n.Load() - before[i]; got != 0 {
				t.Errorf("waiter %d ran %d scripts before its turn", i, got)
			}
		}
		proceed <- struct{}{}
	}
}

// holderReads counts the runs of the lock_holder script (the read of a
// hold that its watch makes when it hears the hold removed), and holds
// the reply of every lock_release run for delay, so that the release's
// message reaches the hub before the release returns.
type holderReads struct {
	n     atomic.Int64
	delay time.Duration
	// read and release are the scripts that read a hold and release it:
	// the lock's when nil.
	read, release *script
	// loseReply, while set, makes every release report a lost reply
	// after it ran.
	loseReply atomic.Bool
}

func (c *holderReads) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (c *holderReads) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}
func (c *holderReads) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		args := cmd.Args()
		sha := ""
		if len(args) > 1 {
			sha, _ = args[1].(string)
		}
		read, release := c.read, c.release
		if read == nil {
			read, release = lockHolder, lockRelease
		}
		if sha == read.sha {
			c.n.Add(1)
		}
		err := next(ctx, cmd)
		if sha == release.sha {
			time.Sleep(c.delay)
			if err == nil && c.loseReply.Load() {
				err = io.ErrUnexpectedEOF
				cmd.SetErr(err)
			}
		}
		return err
	}
}

// TestOwnReleaseReadsNoHold: a release through the hold's own instance
// ends the hold's Gone by itself, publishes nothing when nobody waits, and
// makes no read of the hold; a release whose reply is lost still ends it.
func TestOwnReleaseReadsNoHold(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	reads := &holderReads{delay: 200 * time.Millisecond}
	d.client.AddHook(reads)
	l := openTestLock(t, d, testID(t, "l"))
	s := newSessionT(t, d)
	ownReleasesReadNoHold(t, d, reads, l.(*lock).ks.channel(),
		func() (driver.Hold, error) { return l.Acquire(ctx, s, "o") },
		func(v uint64) (bool, error) { return l.Release(ctx, "o", v) })
}

// ownReleasesReadNoHold acquires and releases through one instance three
// times, with reads hooked on its client, and fails t unless every release
// ended its hold's Gone, nothing was published on channel (before: each
// release published its version, which every client subscribed to the
// channel received) and no hold was read. Then it releases once more with
// the reply lost, and fails t unless the hold's Gone still closes (through
// a read of the hold).
func ownReleasesReadNoHold(t *testing.T, d *Driver, reads *holderReads, channel string, acquire func() (driver.Hold, error), release func(version uint64) (bool, error)) {
	t.Helper()
	ctx := testContext(t)
	heard := d.client.Subscribe(ctx, channel)
	defer heard.Close()
	if _, err := heard.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		h, err := acquire()
		if err != nil {
			t.Fatal(err)
		}
		ok, err := release(h.Version)
		if err != nil || !ok {
			t.Fatalf("Release = %v, %v; want true, nil", ok, err)
		}
		if !closedWithin(h.Gone, time.Second) {
			t.Fatal("the released hold's Gone is open")
		}
	}
	if n := reads.n.Load(); n != 0 {
		t.Fatalf("%d reads of the hold after 3 releases through its own instance, want 0", n)
	}
	// Messages reach a subscriber in the order published: all that the
	// releases published come before this one.
	const mark = "test: end of releases"
	if err := d.client.Publish(ctx, channel, mark).Err(); err != nil {
		t.Fatal(err)
	}
	var published []string
	for {
		m, err := heard.ReceiveMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.Payload == mark {
			break
		}
		published = append(published, m.Payload)
	}
	if len(published) != 0 {
		t.Fatalf("3 releases with nobody waiting published %q, want nothing", published)
	}

	h, err := acquire()
	if err != nil {
		t.Fatal(err)
	}
	reads.loseReply.Store(true)
	defer reads.loseReply.Store(false)
	if _, err := release(h.Version); !errors.Is(err, driver.ErrAmbiguous) {
		t.Fatalf("Release with its reply lost: %v, want ErrAmbiguous", err)
	}
	if !closedWithin(h.Gone, 5*time.Second) {
		t.Fatal("a hold whose release ran but lost its reply: Gone still open 5s later")
	}
}

// queuedWaiter is an acquisition queued behind a holder (see
// queueBehindHolder).
type queuedWaiter struct {
	held driver.Hold // the holder's
	hl   driver.Lock // the holder's instance, its owner "holder"
	wl   *lock       // the waiter's instance, its owner "waiter"
	ws   driver.Session
	done chan error // Acquire's error
}

// queueBehindHolder takes lock id through holder with a session of a 30s
// TTL, then starts an Acquire through waiter, with a session of waiterTTL
// and a deadline after wait, and returns once the waiter is queued. The
// sessions are closed when t ends.
func queueBehindHolder(t *testing.T, ctx context.Context, holder, waiter *Driver, id driver.ID, waiterTTL, wait time.Duration) *queuedWaiter {
	t.Helper()
	session := func(d *Driver, ttl time.Duration) driver.Session {
		s, err := d.NewSession(ctx, driver.SessionOptions{TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(context.Background()) })
		return s
	}
	q := &queuedWaiter{hl: openTestLock(t, holder, id), wl: openTestLock(t, waiter, id).(*lock), done: make(chan error, 1)}
	var err error
	if q.held, err = q.hl.Acquire(ctx, session(holder, 30*time.Second), "holder"); err != nil {
		t.Fatal(err)
	}
	q.ws = session(waiter, waiterTTL)
	wctx, cancel := context.WithTimeout(ctx, wait)
	go func() {
		defer cancel()
		_, err := q.wl.Acquire(wctx, q.ws, "waiter")
		q.done <- err
	}()
	for waiter.client.ZCard(ctx, q.wl.keys.names[3]).Val() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	return q
}

// TestLockWaiterMissesItsWakeUp makes a queued waiter deaf (its listener
// taken off the hub, as if the message naming it were lost without the
// connection breaking) before the holder, whose session has a long TTL,
// releases: the waiter must still take the lock, by trying again within a
// renewal interval of its own session (before: only when the holder's
// 30s lease would have expired, past the waiter's deadline).
func TestLockWaiterMissesItsWakeUp(t *testing.T) {
	ctx := testContext(t)
	waiter := newTestDriver(t)
	q := queueBehindHolder(t, ctx, newTestDriver(t), waiter, testID(t, "l"), 3*time.Second, 10*time.Second)
	waiter.hub.mu.Lock()
	clear(waiter.hub.channels[q.wl.ks.channel()].listeners)
	waiter.hub.mu.Unlock()
	if ok, err := q.hl.Release(ctx, "holder", q.held.Version); !ok || err != nil {
		t.Fatalf("Release: %v %v", ok, err)
	}
	if err := <-q.done; err != nil {
		t.Fatalf("a waiter that missed the message naming it: %v", err)
	}
}

// TestHoldsKeepNoGoroutine: a hold keeps no goroutine of its own while it
// lasts (before: one each, started by every Acquire and woken by every
// Release), and each still ends, by a release or with its session.
func TestHoldsKeepNoGoroutine(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	s := newSessionT(t, d)
	const n = 20
	locks := make([]driver.Lock, n+1)
	for i := range locks {
		locks[i] = openTestLock(t, d, testID(t, "l"))
	}
	// The first hold starts the session's one goroutine (session.track).
	first, err := locks[0].Acquire(ctx, s, "o")
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	holds := make([]driver.Hold, n)
	for i, l := range locks[1:] {
		if holds[i], err = l.Acquire(ctx, s, "o"); err != nil {
			t.Fatal(err)
		}
	}
	if added := runtime.NumGoroutine() - before; added >= n/4 {
		t.Fatalf("%d holds added %d goroutines, want none", n, added)
	}
	for i, h := range holds[:n/2] {
		if ok, err := locks[i+1].Release(ctx, "o", h.Version); !ok || err != nil {
			t.Fatalf("Release = %v, %v; want true, nil", ok, err)
		}
		if !closedWithin(h.Gone, time.Second) {
			t.Fatal("a released hold's Gone is open")
		}
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, h := range append(holds[n/2:], first) {
		if !closedWithin(h.Gone, time.Second) {
			t.Fatal("the Gone of a hold of a closed session is open")
		}
	}
}

// TestChannelLingersAfterRelease: a lock's channel stays subscribed for a
// while after its last hold ended, so that a lock taken and released in a
// loop does not subscribe and unsubscribe on every turn (before: the
// release unsubscribed it at once, two more requests per acquisition), and
// is unsubscribed once nobody used it for hubLingerTime.
func TestChannelLingersAfterRelease(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	l := openTestLock(t, d, testID(t, "l"))
	s := newSessionT(t, d)
	channel := l.(*lock).ks.channel()
	subscribers := func() int64 {
		t.Helper()
		n, err := d.client.PubSubNumSub(ctx, channel).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n[channel]
	}
	before := subscribeCalls(t, d)
	for range 3 {
		h, err := l.Acquire(ctx, s, "o")
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := l.Release(ctx, "o", h.Version); !ok || err != nil {
			t.Fatalf("Release = %v, %v; want true, nil", ok, err)
		}
	}
	if n := subscribeCalls(t, d) - before; n != 1 {
		t.Fatalf("3 acquisitions and releases sent %d SUBSCRIBE commands, want 1", n)
	}
	if n := subscribers(); n != 1 {
		t.Fatalf("right after the releases, %d subscribers of the lock's channel, want 1 (still subscribed)", n)
	}
	deadline := time.Now().Add(hubLingerTime + 5*time.Second)
	for subscribers() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the lock's channel is still subscribed %v after its last use", hubLingerTime+5*time.Second)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// subscribeCalls returns how many SUBSCRIBE commands the server has run
// (INFO commandstats).
func subscribeCalls(t *testing.T, d *Driver) int64 {
	t.Helper()
	stats, err := commandStats(testContext(t), d.client)
	if err != nil {
		t.Fatal(err)
	}
	return int64(stats["subscribe"]["calls"])
}

// TestUncontendedHoldsLeaveTheQueueUnread takes and releases a lock and a
// semaphore that nobody waits for. Their scripts must find the queue empty
// with EXISTS and never read its head with ZRANGE, which costs the server
// three times as much and is needed only when someone is queued.
func TestUncontendedHoldsLeaveTheQueueUnread(t *testing.T) {
	ctx := testContext(t)
	d, gate := newWriteGate(t)
	ss, err := d.NewSession(ctx, driver.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := d.OpenLock(ctx, testID(t, "l"))
	if err != nil {
		t.Fatal(err)
	}
	sem, err := d.OpenSemaphore(ctx, testID(t, "s"), 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := gate.admin.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		h, err := l.Acquire(ctx, ss, "o")
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := l.Release(ctx, "o", h.Version); !ok || err != nil {
			t.Fatalf("lock release of version %d: %v, %v", h.Version, ok, err)
		}
		h, err = sem.Acquire(ctx, ss, "o", 1)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := sem.Release(ctx, "o", h.Version); !ok || err != nil {
			t.Fatalf("semaphore release of version %d: %v, %v", h.Version, ok, err)
		}
	}
	stats, err := commandStats(ctx, gate.admin)
	if err != nil {
		t.Fatal(err)
	}
	if n := stats["zrange"]["calls"]; n != 0 {
		t.Errorf("5 uncontended acquisitions and releases of a lock and of a semaphore read a queue's head %v times, want 0 (commands: %v)", n, stats)
	}
	if stats["exists"]["calls"] == 0 {
		t.Errorf("no EXISTS: the queue was not checked at all (commands: %v)", stats)
	}
	if v, held, err := l.Holder(ctx); held || err != nil {
		t.Errorf("lock still held after its releases: version %d, %v", v, err)
	}
}

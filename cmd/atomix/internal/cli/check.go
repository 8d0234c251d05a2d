package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/counter"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/atomix/semaphore"
	"github.com/atomix/go-client/atomix/set"
	"github.com/atomix/go-client/atomix/value"
	"github.com/atomix/go-client/conformance/linearize"
)

// checkTimeout bounds porcupine's work on one history.
const checkTimeout = 30 * time.Second

func newCheckCommand(g *globals) *cobra.Command {
	var clients, ops int
	var out string
	cmd := &cobra.Command{
		Use:   "check [--clients N] [--ops N] [--out FILE]",
		Short: "Certify a backend: exit 0 only if every check holds",
		Long: `check runs, with N independent clients (each its own connection) against the
backend, in a namespace of its own:

  map, counter, value, set   histories of --ops operations, checked for
                             linearizability (porcupine; operations of unknown
                             outcome may or may not have taken effect)
  lock                       exclusion (an unguarded read-modify-write of a
                             shared counter under the lock loses no update; no
                             two holders at once) and fencing order (each
                             holder's version is greater than the previous one's)
  semaphore                  exclusion with limit 2 (the holders, counted
                             unguarded on entry, are never more than 2) and
                             fencing order (each acquisition's version is new
                             and greater than every one granted before it began)
  watch                      completeness: replaying a watcher's events gives
                             the map's final state
  session expiry             a holder that is killed (a subprocess "atomix lock"
                             killed with SIGKILL) loses the lock once its session
                             expires, and another client gets it

A progress bar runs on stderr; then a table gives each check's operations and
verdict, and for a failure the shortest history that shows it. --out writes
porcupine's HTML visualization of the first linearizability check that failed
(of the map check if none did). A check the checker could not finish within
30s (verdict "unknown") does not hold; a check the backend cannot take part
in (session expiry on a backend local to one process) is "skipped" and does.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if clients < 2 {
				return exit(2, "--clients must be at least 2")
			}
			if ops < 1 {
				return exit(2, "--ops must be positive")
			}
			return runCheck(g, clients, ops, out)
		},
	}
	cmd.Flags().IntVar(&clients, "clients", 4, "independent clients")
	cmd.Flags().IntVar(&ops, "ops", 400, "operations per linearizability history")
	cmd.Flags().StringVar(&out, "out", "", "write porcupine's visualization (HTML) to FILE")
	return cmd
}

// checkResult is one row of the report.
type checkResult struct {
	name    string
	ops     int
	verdict string // ok, FAIL, unknown, skipped
	detail  string
	witness string
	lin     *linearize.Result
}

func (r checkResult) holds() bool { return r.verdict == "ok" || r.verdict == "skipped" }

// checker is one run of atomix check.
type checker struct {
	g       *globals
	ns      string
	clients []*atomix.Client
	ops     int
	bar     *progressbar.ProgressBar
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// openIn opens a client of its own for the global URL in namespace ns.
func (g *globals) openIn(ctx context.Context, ns string, ttl time.Duration) (*atomix.Client, error) {
	if g.url == "" {
		return nil, exit(2, "no backend: give --url or set ATOMIX_URL (e.g. etcd://localhost:2379)")
	}
	opts := []atomix.Option{atomix.WithNamespace(ns)}
	if ttl > 0 {
		opts = append(opts, atomix.WithSessionTTL(ttl))
	}
	return atomix.Open(ctx, g.url, opts...)
}

// progress returns a progress bar on stderr.
func (g *globals) progress(total int64, desc string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(g.stderr),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

func runCheck(g *globals, n, ops int, out string) error {
	ctx, stop := interruptible(context.Background())
	defer stop()
	ns := "atomix-check-" + randomSuffix()
	if g.namespace != "" {
		ns = g.namespace + "-" + ns
	}
	ck := &checker{g: g, ns: ns, ops: ops}
	for range n {
		c, err := g.openIn(ctx, ns, g.sessionTTL)
		if err != nil {
			return err
		}
		defer closeClient(c)
		ck.clients = append(ck.clients, c)
	}
	lockRounds := max(3, ops/(10*n))
	watchWrites := ops
	ck.bar = g.progress(int64(4*ops+2*lockRounds*n+watchWrites+1), "checking")

	results := []checkResult{
		ck.linearizable(ctx, "map linearizable", linearize.MapModel(), func(w linearize.Workload) (*linearize.Recorder, error) {
			var maps []_map.Map[string, string]
			for _, c := range ck.clients {
				m, err := atomix.GetMap[string, string](ctx, "check-map", atomix.WithClient(c))
				if err != nil {
					return nil, err
				}
				maps = append(maps, m)
			}
			return linearize.RunMap(ctx, maps, w), nil
		}),
		ck.linearizable(ctx, "counter linearizable", linearize.CounterModel(), func(w linearize.Workload) (*linearize.Recorder, error) {
			var counters []counter.Counter
			for _, c := range ck.clients {
				k, err := c.GetCounter(ctx, "check-counter")
				if err != nil {
					return nil, err
				}
				counters = append(counters, k)
			}
			return linearize.RunCounter(ctx, counters, w), nil
		}),
		ck.linearizable(ctx, "value linearizable", linearize.ValueModel(), func(w linearize.Workload) (*linearize.Recorder, error) {
			var values []value.Value[string]
			for _, c := range ck.clients {
				v, err := atomix.GetValue[string](ctx, "check-value", atomix.WithClient(c))
				if err != nil {
					return nil, err
				}
				values = append(values, v)
			}
			return linearize.RunValue(ctx, values, w), nil
		}),
		ck.linearizable(ctx, "set linearizable", linearize.SetModel(), func(w linearize.Workload) (*linearize.Recorder, error) {
			var sets []set.Set[string]
			for _, c := range ck.clients {
				s, err := atomix.GetSet[string](ctx, "check-set", atomix.WithClient(c))
				if err != nil {
					return nil, err
				}
				sets = append(sets, s)
			}
			return linearize.RunSet(ctx, sets, w), nil
		}),
		ck.lockExclusion(ctx, lockRounds),
		ck.semaphoreExclusion(ctx, lockRounds),
		ck.watchCompleteness(ctx, watchWrites),
		ck.sessionExpiry(ctx),
	}
	_ = ck.bar.Finish()
	if ctx.Err() != nil {
		return exit(1, "check: interrupted")
	}
	if !g.json {
		fmt.Fprintf(g.stdout, "atomix check: %s %s, %d clients, namespace %s\n\n",
			backendName(g.url), orDash(serverVersion(ctx, ck.clients[0])), n, ns)
	}
	if err := g.report(results); err != nil {
		return err
	}
	if out != "" {
		if err := writeVisualization(out, results); err != nil {
			return err
		}
	}
	failed := 0
	for _, r := range results {
		if !r.holds() {
			failed++
		}
	}
	if failed > 0 {
		return exit(1, "check: %d of %d checks did not hold", failed, len(results))
	}
	return nil
}

func (ck *checker) linearizable(ctx context.Context, name string, model porcupine.Model,
	run func(linearize.Workload) (*linearize.Recorder, error)) checkResult {
	rec, err := run(linearize.Workload{Ops: ck.ops, Seed: uint64(time.Now().UnixNano()), Done: func() { _ = ck.bar.Add(1) }})
	if err != nil {
		return checkResult{name: name, verdict: "FAIL", detail: err.Error()}
	}
	hist := rec.Operations()
	r := linearize.Check(model, hist, checkTimeout)
	res := checkResult{name: name, ops: len(hist), lin: &r}
	pending := 0
	for _, op := range hist {
		if op.Return == 1<<63-1 {
			pending++
		}
	}
	switch r.Verdict {
	case porcupine.Ok:
		res.verdict, res.detail = "ok", fmt.Sprintf("%d of unknown outcome", pending)
	case porcupine.Unknown:
		res.verdict, res.detail = "unknown", fmt.Sprintf("the checker ran out of time after %v", checkTimeout)
	default:
		res.verdict = "FAIL"
		res.detail = fmt.Sprintf("not linearizable; shortest failing history: %d operations", len(r.Witness))
		res.witness = linearize.Format(model, r.Witness)
	}
	return res
}

// lockExclusion has every client take the lock rounds times and, while
// holding it, make an unguarded read-modify-write of a shared counter.
func (ck *checker) lockExclusion(ctx context.Context, rounds int) checkResult {
	const name = "lock exclusion + fencing"
	res := checkResult{name: name, ops: rounds * len(ck.clients)}
	shared, err := ck.clients[0].GetCounter(ctx, "check-lock-counter")
	if err != nil {
		res.verdict, res.detail = "FAIL", err.Error()
		return res
	}
	var (
		holder    atomic.Int64 // client+1 holding, 0 none
		mu        sync.Mutex
		last      uint64
		problems  []string
		completed atomic.Int64
		wg        sync.WaitGroup
	)
	problem := func(format string, args ...any) {
		mu.Lock()
		if len(problems) < 5 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
		mu.Unlock()
	}
	for i, c := range ck.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := c.GetLock(ctx, "check-lock")
			if err != nil {
				problem("client %d: %v", i, err)
				return
			}
			k, err := c.GetCounter(ctx, "check-lock-counter")
			if err != nil {
				problem("client %d: %v", i, err)
				return
			}
			for range rounds {
				_ = ck.bar.Add(1)
				lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				v, err := l.Lock(lctx)
				cancel()
				if err != nil {
					problem("client %d: lock: %v", i, err)
					return
				}
				if other := holder.Swap(int64(i + 1)); other != 0 {
					problem("clients %d and %d held the lock at once", other-1, i)
				}
				mu.Lock()
				if v <= last {
					problem("fencing version %d after %d", v, last)
				}
				last = max(last, v)
				mu.Unlock()
				n, err := k.Get(ctx)
				if err == nil {
					time.Sleep(time.Millisecond)
					_, err = k.Set(ctx, n+1)
				}
				if err != nil {
					problem("client %d: counter: %v", i, err)
				} else {
					completed.Add(1)
				}
				holder.CompareAndSwap(int64(i+1), 0)
				if _, err := l.Unlock(ctx); err != nil {
					problem("client %d: unlock: %v", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got, err := shared.Get(ctx); err != nil {
		problem("read the counter: %v", err)
	} else if got != completed.Load() {
		problem("the unguarded counter is %d after %d increments under the lock: updates were lost", got, completed.Load())
	}
	if len(problems) > 0 {
		res.verdict, res.detail = "FAIL", strings.Join(problems, "; ")
	} else {
		res.verdict, res.detail = "ok", fmt.Sprintf("versions increasing up to %d", last)
	}
	return res
}

// semaphoreLimit is the limit of the semaphore check: more than one holder
// at once, so that a limit counted wrongly shows.
const semaphoreLimit = 2

// semaphoreExclusion has every client acquire a semaphore of limit
// semaphoreLimit rounds times and, while holding it, count itself in an
// unguarded counter of holders that must never exceed the limit. Each
// acquisition's version must be one never seen and greater than every
// version granted before the acquisition began (acquisitions that overlap
// may return in any order).
func (ck *checker) semaphoreExclusion(ctx context.Context, rounds int) checkResult {
	const name = "semaphore exclusion + fencing"
	res := checkResult{name: name, ops: rounds * len(ck.clients)}
	var (
		holders  atomic.Int64
		most     atomic.Int64
		mu       sync.Mutex
		granted  = map[uint64]bool{}
		last     uint64 // the greatest version granted so far
		problems []string
		wg       sync.WaitGroup
	)
	problem := func(format string, args ...any) {
		mu.Lock()
		if len(problems) < 5 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
		mu.Unlock()
	}
	for i, c := range ck.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := c.GetSemaphore(ctx, "check-semaphore", semaphore.WithLimit(semaphoreLimit))
			if err != nil {
				problem("client %d: %v", i, err)
				return
			}
			for range rounds {
				_ = ck.bar.Add(1)
				mu.Lock()
				before := last
				mu.Unlock()
				actx, cancel := context.WithTimeout(ctx, 30*time.Second)
				v, err := s.Acquire(actx)
				cancel()
				if err != nil {
					problem("client %d: acquire: %v", i, err)
					return
				}
				n := holders.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				if n > semaphoreLimit {
					problem("%d holders at once, limit %d", n, semaphoreLimit)
				}
				mu.Lock()
				switch {
				case granted[v]:
					problem("fencing version %d granted twice", v)
				case v <= before:
					problem("fencing version %d after %d was granted", v, before)
				}
				granted[v] = true
				last = max(last, v)
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
				holders.Add(-1)
				if _, err := s.Release(ctx); err != nil {
					problem("client %d: release: %v", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(problems) > 0 {
		res.verdict, res.detail = "FAIL", strings.Join(problems, "; ")
	} else {
		res.verdict, res.detail = "ok", fmt.Sprintf("at most %d holders of %d; versions increasing up to %d", most.Load(), semaphoreLimit, last)
	}
	return res
}

// watchCompleteness watches a map from client 0 while the other clients
// write to it, and checks that replaying the events gives the final state.
func (ck *checker) watchCompleteness(ctx context.Context, writes int) checkResult {
	res := checkResult{name: "watch completeness", ops: writes}
	fail := func(err error) checkResult {
		res.verdict, res.detail = "FAIL", err.Error()
		return res
	}
	watcher, err := atomix.GetMap[string, string](ctx, "check-watch", atomix.WithClient(ck.clients[0]))
	if err != nil {
		return fail(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan _map.Event[string, string], 1024)
	if err := watcher.Watch(wctx, ch); err != nil {
		return fail(err)
	}
	replayed := map[string]string{}
	var events atomic.Int64
	var mu sync.Mutex
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		for ev := range ch {
			mu.Lock()
			if ev.Type == _map.EventRemoved {
				delete(replayed, ev.Entry.Key)
			} else {
				replayed[ev.Entry.Key] = ev.Entry.Value
			}
			mu.Unlock()
			events.Add(1)
		}
	}()
	writers := ck.clients[1:]
	w := linearize.Workload{Ops: writes, Keys: 10, Seed: uint64(time.Now().UnixNano()), Done: func() { _ = ck.bar.Add(1) }}
	var maps []_map.Map[string, string]
	for _, c := range writers {
		m, err := atomix.GetMap[string, string](ctx, "check-watch", atomix.WithClient(c))
		if err != nil {
			return fail(err)
		}
		maps = append(maps, m)
	}
	linearize.RunMap(ctx, maps, w)
	final := map[string]string{}
	for e, err := range watcher.Entries(ctx) {
		if err != nil {
			return fail(err)
		}
		final[e.Key] = e.Value
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		diff := mapDiff(replayed, final)
		mu.Unlock()
		if diff == "" {
			res.verdict, res.detail = "ok", fmt.Sprintf("%d events, %d keys at the end", events.Load(), len(final))
			return res
		}
		if time.Now().After(deadline) {
			select {
			case <-watchDone:
				diff += " (the watch ended early)"
			default:
			}
			res.verdict, res.detail = "FAIL", "20s after the last write the replayed events differ from the map: "+diff
			return res
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mapDiff describes how got differs from want, or returns "".
func mapDiff(got, want map[string]string) string {
	var d []string
	for k, v := range want {
		if g, ok := got[k]; !ok {
			d = append(d, fmt.Sprintf("%q missing", k))
		} else if g != v {
			d = append(d, fmt.Sprintf("%q is %q, want %q", k, g, v))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			d = append(d, fmt.Sprintf("%q should be removed", k))
		}
	}
	if len(d) > 3 {
		d = append(d[:3], fmt.Sprintf("and %d more", len(d)-3))
	}
	return strings.Join(d, ", ")
}

// sessionExpiry starts "atomix lock" in a subprocess, kills it with
// SIGKILL while it holds the lock, and waits for another client to get it.
func (ck *checker) sessionExpiry(ctx context.Context) checkResult {
	defer func() { _ = ck.bar.Add(1) }()
	res := checkResult{name: "session expiry releases a hold", ops: 2}
	fail := func(format string, args ...any) checkResult {
		res.verdict, res.detail = "FAIL", fmt.Sprintf(format, args...)
		return res
	}
	self, err := os.Executable()
	if err != nil {
		res.verdict, res.detail = "skipped", "cannot find this program to run a holder: "+err.Error()
		return res
	}
	ttl := ck.g.sessionTTL
	if ttl <= 0 {
		ttl = 2 * time.Second
	}
	holder := exec.Command(self, "--url", ck.g.url, "--namespace", ck.ns, "--session-ttl", ttl.String(),
		"lock", "check-expiry", "--", "sh", "-c", "echo held; exec sleep 600")
	holder.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := holder.StdoutPipe()
	if err != nil {
		return fail("%v", err)
	}
	var stderr strings.Builder
	holder.Stderr = &stderr
	holder.WaitDelay = 5 * time.Second
	if err := holder.Start(); err != nil {
		return fail("start a holder: %v", err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = syscall.Kill(-holder.Process.Pid, syscall.SIGKILL)
		}
		_ = holder.Wait()
	}()
	held := make(chan bool, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		held <- strings.TrimSpace(line) == "held"
	}()
	select {
	case ok := <-held:
		if !ok {
			return fail("the holder did not take the lock: %s", strings.TrimSpace(stderr.String()))
		}
	case <-time.After(30 * time.Second):
		return fail("the holder did not take the lock within 30s")
	case <-ctx.Done():
		return fail("interrupted")
	}
	l, err := ck.clients[0].GetLock(ctx, "check-expiry")
	if err != nil {
		return fail("%v", err)
	}
	if locked, err := l.IsLocked(ctx); err != nil {
		return fail("%v", err)
	} else if !locked {
		res.verdict, res.detail = "skipped", "another process's hold is not visible here: the backend is local to each process"
		return res
	}
	_ = syscall.Kill(-holder.Process.Pid, syscall.SIGKILL)
	killed = true
	start := time.Now()
	wait := 3*ttl + 30*time.Second
	lctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if _, err := l.Lock(lctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fail("the killed holder's lock was not released within %v (session TTL %v)", wait, ttl)
		}
		return fail("%v", err)
	}
	_, _ = l.Unlock(ctx)
	res.verdict = "ok"
	res.detail = fmt.Sprintf("taken %v after the holder was killed (session TTL %v)", time.Since(start).Round(100*time.Millisecond), ttl)
	return res
}

// report prints the results as a table (or JSON lines), then each
// failure's witness.
func (g *globals) report(results []checkResult) error {
	t := g.table("CHECK", "OPS", "VERDICT", "DETAIL")
	for _, r := range results {
		obj := map[string]any{"check": r.name, "ops": r.ops, "verdict": r.verdict, "detail": r.detail}
		if r.witness != "" {
			obj["witness"] = strings.Split(strings.TrimRight(r.witness, "\n"), "\n")
		}
		t.row(obj, r.name, strconv.Itoa(r.ops), r.verdict, r.detail)
	}
	if err := t.print(); err != nil {
		return err
	}
	if g.json {
		return nil
	}
	for _, r := range results {
		if r.witness != "" {
			fmt.Fprintf(g.stdout, "\n%s: the shortest history that shows the failure (times from the start of the check):\n%s",
				r.name, r.witness)
		}
	}
	return nil
}

// writeVisualization writes the visualization of the first failed
// linearizability check, else of the first one.
func writeVisualization(path string, results []checkResult) error {
	var chosen *linearize.Result
	for _, r := range results {
		if r.lin == nil {
			continue
		}
		if chosen == nil {
			chosen = r.lin
		}
		if r.verdict == "FAIL" {
			chosen = r.lin
			break
		}
	}
	if chosen == nil {
		return exit(1, "--out: no linearizability check ran")
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := chosen.Visualize(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

package cli

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/lock"
)

func newBenchCommand(g *globals) *cobra.Command {
	var concurrency int
	var duration time.Duration
	cmd := &cobra.Command{
		Use:   "bench [--concurrency N] [--duration D]",
		Short: "Measure latency percentiles and throughput per operation",
		Long: `bench runs each operation (map put, map get, counter inc, lock+unlock) from N
goroutines sharing one client for D, in a namespace of its own, and prints
per operation the count, the throughput and the p50, p99 and p999 latencies.
Each goroutine takes a lock of its own, so lock+unlock is measured without
contention. A progress bar runs on stderr.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if concurrency < 1 || duration <= 0 {
				return exit(2, "--concurrency and --duration must be positive")
			}
			return runBench(g, concurrency, duration)
		},
	}
	cmd.Flags().IntVar(&concurrency, "concurrency", 4, "goroutines running each operation")
	cmd.Flags().DurationVar(&duration, "duration", 5*time.Second, "how long each operation runs")
	return cmd
}

// benchOp is one measured operation: setup prepares worker i's call.
type benchOp struct {
	name  string
	setup func(ctx context.Context, worker int) (func(ctx context.Context, i int) error, error)
}

// benchResult is one row of the bench report.
type benchResult struct {
	name           string
	ops, errors    int
	elapsed        time.Duration
	p50, p99, p999 time.Duration
}

func runBench(g *globals, concurrency int, duration time.Duration) error {
	ctx, stop := interruptible(context.Background())
	defer stop()
	ns := "atomix-bench-" + randomSuffix()
	if g.namespace != "" {
		ns = g.namespace + "-" + ns
	}
	c, err := g.openIn(ctx, ns, g.sessionTTL)
	if err != nil {
		return err
	}
	defer closeClient(c)
	m, err := atomix.GetMap[string, string](ctx, "bench-map", atomix.WithClient(c))
	if err != nil {
		return err
	}
	for i := range 100 {
		if _, err := m.Put(ctx, "k"+strconv.Itoa(i), "value"); err != nil {
			return err
		}
	}
	k, err := c.GetCounter(ctx, "bench-counter")
	if err != nil {
		return err
	}
	ops := []benchOp{
		{"map put", func(context.Context, int) (func(context.Context, int) error, error) {
			return func(ctx context.Context, i int) error {
				_, err := m.Put(ctx, "k"+strconv.Itoa(i%100), "value")
				return err
			}, nil
		}},
		{"map get", func(context.Context, int) (func(context.Context, int) error, error) {
			return func(ctx context.Context, i int) error {
				_, err := m.Get(ctx, "k"+strconv.Itoa(i%100))
				return err
			}, nil
		}},
		{"counter inc", func(context.Context, int) (func(context.Context, int) error, error) {
			return func(ctx context.Context, _ int) error {
				_, err := k.Increment(ctx, 1)
				return err
			}, nil
		}},
		{"lock+unlock", func(ctx context.Context, w int) (func(context.Context, int) error, error) {
			l, err := c.GetLock(ctx, "bench-lock-"+strconv.Itoa(w))
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, _ int) error { return lockUnlock(ctx, l) }, nil
		}},
	}
	steps := int64(duration / (100 * time.Millisecond))
	bar := g.progress(int64(len(ops))*max(steps, 1), "benchmarking")
	var results []benchResult
	for n, op := range ops {
		bar.Describe(op.name)
		r, err := benchOne(ctx, op, concurrency, duration, func(elapsed time.Duration) {
			_ = bar.Set64(int64(n)*steps + min(steps, int64(elapsed/(100*time.Millisecond))))
		})
		if err != nil {
			return err
		}
		results = append(results, r)
		if ctx.Err() != nil {
			break
		}
	}
	_ = bar.Finish()
	if ctx.Err() != nil {
		return exit(1, "bench: interrupted")
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	t := g.table("OP", "OPS", "ERRORS", "OPS/S", "P50", "P99", "P999")
	for _, r := range results {
		rate := float64(r.ops) / r.elapsed.Seconds()
		t.row(map[string]any{"op": r.name, "ops": r.ops, "errors": r.errors, "ops_per_sec": rate,
			"p50_ms": ms(r.p50), "p99_ms": ms(r.p99), "p999_ms": ms(r.p999), "concurrency": concurrency},
			r.name, strconv.Itoa(r.ops), strconv.Itoa(r.errors), fmt.Sprintf("%.0f", rate),
			r.p50.Round(time.Microsecond).String(), r.p99.Round(time.Microsecond).String(), r.p999.Round(time.Microsecond).String())
	}
	return t.print()
}

func lockUnlock(ctx context.Context, l lock.Lock) error {
	if _, err := l.Lock(ctx); err != nil {
		return err
	}
	_, err := l.Unlock(ctx)
	return err
}

// benchOne runs op from concurrency goroutines for duration.
func benchOne(ctx context.Context, op benchOp, concurrency int, duration time.Duration, tick func(time.Duration)) (benchResult, error) {
	calls := make([]func(context.Context, int) error, concurrency)
	for w := range concurrency {
		f, err := op.setup(ctx, w)
		if err != nil {
			return benchResult{}, err
		}
		calls[w] = f
	}
	runCtx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int
		wg        sync.WaitGroup
	)
	start := time.Now()
	for w := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			failed := 0
			for i := w; runCtx.Err() == nil; i += concurrency {
				t0 := time.Now()
				err := calls[w](ctx, i)
				if err != nil {
					failed++
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, local...)
			errs += failed
			mu.Unlock()
		}()
	}
	ticker := time.NewTicker(100 * time.Millisecond)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
loop:
	for {
		select {
		case <-ticker.C:
			tick(time.Since(start))
		case <-done:
			break loop
		}
	}
	ticker.Stop()
	elapsed := time.Since(start)
	slices.Sort(latencies)
	pct := func(q float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[int(q*float64(len(latencies)-1))]
	}
	return benchResult{name: op.name, ops: len(latencies), errors: errs, elapsed: elapsed,
		p50: pct(0.50), p99: pct(0.99), p999: pct(0.999)}, nil
}

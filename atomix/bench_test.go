package atomix_test

import (
	"context"
	"log/slog"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/drivers/memory"
)

// The benchmarks run Put and Get through the portable layer and straight
// on the driver; the difference is the portable layer's cost.

func BenchmarkMapPut(b *testing.B) {
	ctx := context.Background()
	c := atomix.NewClient(atomix.WithDriver(memory.New()))
	defer c.Close(ctx)
	m, err := atomix.GetMap[string, string](ctx, "m", atomix.WithClient(c))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Put(ctx, "key", "value"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMapGet(b *testing.B) {
	ctx := context.Background()
	c := atomix.NewClient(atomix.WithDriver(memory.New()))
	defer c.Close(ctx)
	m, err := atomix.GetMap[string, string](ctx, "m", atomix.WithClient(c))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Put(ctx, "key", "value"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Get(ctx, "key"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDriverMapPut(b *testing.B) {
	ctx := context.Background()
	d := memory.New()
	defer d.Close(ctx)
	m, err := d.OpenMap(ctx, driver.ID{Name: "m"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Put(ctx, "key", []byte("value"), 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDriverMapGet(b *testing.B) {
	ctx := context.Background()
	d := memory.New()
	defer d.Close(ctx)
	m, err := d.OpenMap(ctx, driver.ID{Name: "m"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Put(ctx, "key", []byte("value"), 0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Get(ctx, "key"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPortableLayerAllocations checks that Map.Put and Map.Get of string
// keys and values allocate at most one object more than the driver call
// they wrap (the decoded string of Get).
func TestPortableLayerAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	ctx := context.Background()
	mem := memory.New()
	c := atomix.NewClient(atomix.WithDriver(mem))
	defer c.Close(ctx)
	m, err := atomix.GetMap[string, string](ctx, "m", atomix.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	d, err := mem.OpenMap(ctx, driver.ID{Name: "m"})
	if err != nil {
		t.Fatal(err)
	}
	value := "value"
	portablePut := testing.AllocsPerRun(1000, func() { _, _ = m.Put(ctx, "key", value) })
	driverPut := testing.AllocsPerRun(1000, func() { _, _ = d.Put(ctx, "key", []byte(value), 0) })
	portableGet := testing.AllocsPerRun(1000, func() { _, _ = m.Get(ctx, "key") })
	driverGet := testing.AllocsPerRun(1000, func() { _, _ = d.Get(ctx, "key") })
	t.Logf("Put: %v allocs (driver %v); Get: %v allocs (driver %v)", portablePut, driverPut, portableGet, driverGet)
	if portablePut > driverPut {
		t.Errorf("Put allocates %v, the driver call alone %v", portablePut, driverPut)
	}
	if portableGet > driverGet+1 {
		t.Errorf("Get allocates %v, the driver call alone %v", portableGet, driverGet)
	}
	if portablePut >= 10 || portableGet >= 10 {
		t.Errorf("over the budget of 10 allocations")
	}
}

// The same with the OpenTelemetry SDK installed (a tracer provider that
// samples every span, with no exporter, and a meter provider with a manual
// reader) and a logger: the cost of observing.

func observedClient(b *testing.B) *atomix.Client {
	tp := sdktrace.NewTracerProvider()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	return atomix.NewClient(atomix.WithDriver(memory.New()), atomix.WithTracerProvider(tp),
		atomix.WithMeterProvider(mp), atomix.WithLogger(slog.New(slog.DiscardHandler)))
}

func BenchmarkMapPutObserved(b *testing.B) {
	ctx := context.Background()
	c := observedClient(b)
	defer c.Close(ctx)
	m, err := atomix.GetMap[string, string](ctx, "m", atomix.WithClient(c))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Put(ctx, "key", "value"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMapGetObserved(b *testing.B) {
	ctx := context.Background()
	c := observedClient(b)
	defer c.Close(ctx)
	m, err := atomix.GetMap[string, string](ctx, "m", atomix.WithClient(c))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Put(ctx, "key", "value"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Get(ctx, "key"); err != nil {
			b.Fatal(err)
		}
	}
}

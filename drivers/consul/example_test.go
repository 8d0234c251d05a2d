package consul_test

import (
	"context"
	"fmt"
	"log"
	"net/url"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/semaphore"
	"github.com/atomix/go-client/drivers/consul"
)

// New takes every setting explicitly; nothing is read from the CONSUL_*
// environment variables unless UseEnvironment is set.
func ExampleNew() {
	ctx := context.Background()
	d, err := consul.New(consul.Config{
		Address:    "consul.internal:8501",
		Token:      "3f1c…",
		Datacenter: "eu-west",
		TLS:        &consul.TLSConfig{CAFile: "/etc/consul/ca.pem"},
		Options:    consul.Options{Prefix: "myapp/atomix"},
	})
	if err != nil {
		log.Fatal(err)
	}
	client := atomix.NewClient(atomix.WithDriver(d), atomix.WithNamespace("orders"))
	defer client.Close(ctx)

	l, err := client.GetLock(ctx, "invoices")
	if err != nil {
		log.Fatal(err)
	}
	version, err := l.Lock(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Unlock(ctx)
	fmt.Println("holding the lock; fencing token", version)
}

// The same settings as a URL, for atomix.Open or ATOMIX_URL.
func ExampleParseURL() {
	u, _ := url.Parse("consul://consul.internal:8501?token=secret&dc=eu-west&ca-file=/etc/consul/ca.pem&prefix=myapp/atomix")
	cfg, err := consul.ParseURL(u)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Address, cfg.Datacenter, cfg.TLS.CAFile, cfg.Prefix)
	// Output: consul.internal:8501 eu-west /etc/consul/ca.pem myapp/atomix
}

// A semaphore over Consul: waiters are granted in arrival order, and the
// version is the Consul index at which the acquisition queued.
func ExampleDriver_OpenSemaphore() {
	ctx := context.Background()
	d, err := consul.New(consul.Config{Address: "consul.internal:8500"})
	if err != nil {
		log.Fatal(err)
	}
	client := atomix.NewClient(atomix.WithDriver(d), atomix.WithNamespace("media"))
	defer client.Close(ctx)

	encoders, err := client.GetSemaphore(ctx, "encoders", semaphore.WithLimit(4))
	if err != nil {
		log.Fatal(err)
	}
	version, err := encoders.Acquire(ctx, semaphore.Permits(2))
	if err != nil {
		log.Fatal(err)
	}
	defer encoders.Release(ctx)
	fmt.Println("holding 2 of 4 permits; fencing token", version)
}

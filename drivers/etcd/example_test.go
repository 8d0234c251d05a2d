package etcd_test

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"time"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/drivers/etcd"
)

// New takes the cluster's endpoints and, optionally, credentials and TLS
// files. It does not contact the cluster (unless credentials must be
// exchanged for a token): the first operation does.
func ExampleNew() {
	ctx := context.Background()
	d, err := etcd.New(etcd.Config{
		Endpoints:   []string{"https://etcd-0.internal:2379", "https://etcd-1.internal:2379"},
		CAFile:      "/etc/etcd/ca.pem",
		DialTimeout: 3 * time.Second,
		Prefix:      "myapp/atomix/",
	})
	if err != nil {
		log.Fatal(err)
	}
	client := atomix.NewClient(atomix.WithDriver(d), atomix.WithNamespace("orders"))
	defer client.Close(ctx) // closes the driver too

	counter, err := client.GetCounter(ctx, "next-order-id")
	if err != nil {
		log.Fatal(err)
	}
	id, err := counter.Increment(ctx, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("order", id)
}

// Settings as a URL, for atomix.Open or ATOMIX_URL. A host without a port
// gets 2379, and tls=true (or any other TLS parameter, such as ca-file)
// makes the endpoints https.
func ExampleParseURL() {
	u, err := url.Parse("etcd://etcd-0.internal,etcd-1.internal:2380?tls=true&dial-timeout=3s&prefix=myapp/atomix/")
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := etcd.ParseURL(u)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Endpoints)
	fmt.Println(cfg.DialTimeout, cfg.Prefix, cfg.TLS != nil)
	// Output:
	// [https://etcd-0.internal:2379 https://etcd-1.internal:2380]
	// 3s myapp/atomix/ true
}

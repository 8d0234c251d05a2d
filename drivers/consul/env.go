package consul

import (
	"net/http"
	"net/url"
	"os"

	"github.com/hashicorp/consul/api"
)

// pinned returns a client that sends exactly the given token, namespace and
// partition, whatever the Consul API package adds.
//
// api.NewClient fills every setting it was not given from the CONSUL_*
// environment variables, and an empty token cannot be told from an unset
// one. When none of those variables is set, client is returned as is. (One
// effect cannot be undone here: if CONSUL_HTTP_TOKEN_FILE names a file that
// cannot be read, api.NewClient fails, and so does New.)
func pinned(client *http.Client, token, namespace, partition string) *http.Client {
	if os.Getenv(api.HTTPTokenEnvName) == "" && os.Getenv(api.HTTPTokenFileEnvName) == "" &&
		os.Getenv(api.HTTPNamespaceEnvName) == "" && os.Getenv(api.HTTPPartitionEnvName) == "" {
		return client
	}
	c := *client
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = &pinnedTransport{next: next, token: token, namespace: namespace, partition: partition}
	return &c
}

// pinnedTransport rewrites the ACL token header and the ns and partition
// query parameters of every request to fixed values.
type pinnedTransport struct {
	next                        http.RoundTripper
	token, namespace, partition string
}

func (p *pinnedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if p.token == "" {
		r.Header.Del("X-Consul-Token")
	} else {
		r.Header.Set("X-Consul-Token", p.token)
	}
	q := r.URL.Query()
	pin(q, "ns", p.namespace)
	pin(q, "partition", p.partition)
	u := *r.URL
	u.RawQuery = q.Encode()
	r.URL = &u
	return p.next.RoundTrip(r)
}

func pin(q url.Values, key, value string) {
	if value == "" {
		q.Del(key)
	} else {
		q.Set(key, value)
	}
}

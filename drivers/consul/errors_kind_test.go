package consul

import (
	"errors"
	"net/http"
	"testing"

	"github.com/atomix/go-client/driver"
)

// TestStatusKindForwarding: a write that a server could not forward to the
// leader (it failed to get a connection, so the RPC was never made) was not
// applied: ErrUnavailable, not ErrAmbiguous. A server error after the
// forwarding call was made stays ambiguous. Before, the first was
// ErrAmbiguous, and during TestCluster/Failover a Map history had about
// half of its writes pending.
func TestStatusKindForwarding(t *testing.T) {
	for _, c := range []struct {
		body string
		want error
	}{
		{"rpc error making call: rpc error getting client: failed to get conn: dial tcp 127.0.0.1:1->127.0.0.1:2: connect: connection refused", driver.ErrUnavailable},
		{"rpc error making call: rpc error getting client: failed to get conn: rpc error: lead thread didn't get connection", driver.ErrUnavailable},
		{"rpc error making call: EOF", driver.ErrAmbiguous},
		{"No cluster leader", driver.ErrUnavailable},
	} {
		if got := statusKind(http.StatusInternalServerError, c.body, writing); !errors.Is(got, c.want) {
			t.Errorf("statusKind(500, %q, writing) = %v, want %v", c.body, got, c.want)
		}
	}
}

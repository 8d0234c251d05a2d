package atomix_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: closing a client,
// a primitive or a watch's context must end every goroutine it started.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

package membership

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test must leave no goroutine behind: memberlist's listeners,
// probers and our dispatcher all stop on Shutdown.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

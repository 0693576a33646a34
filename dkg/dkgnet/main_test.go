package dkgnet_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every relay call, participant node and server stops its goroutines. The
// one exception is memberlist's: after Shutdown, a probe in flight waits
// out its own timer (up to the probe timeout) before it returns.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/hashicorp/memberlist.(*Memberlist).probeNode"))
}

package membership

import (
	"time"

	"github.com/hashicorp/memberlist"
)

// Profile names a set of memberlist timing defaults.
type Profile string

const (
	// ProfileLAN is memberlist.DefaultLANConfig, unchanged: probes every
	// second, 500 ms to answer. In a 4-node cluster a killed node is
	// declared failed after about 6 s (measured on loopback), 24 s at most
	// if no other node confirms the suspicion. We
	// keep these defaults, proven in Consul and Nomad, because a false
	// "failed" costs more on a real network than a slow one does here: the
	// coordinator already skips a participant that misses an attempt
	// deadline, so membership only has to be right, not fast.
	ProfileLAN Profile = "lan"

	// ProfileLocal is memberlist.DefaultLocalConfig, tuned for loopback so
	// that tests and demos see a killed node declared failed within a few
	// seconds (2.2 to 2.9 s in a 4-node cluster under the race detector,
	// 6 s at most):
	//
	//   - ProbeInterval 1 s -> 500 ms: the dead node is probed, and found
	//     silent, twice as soon. ProbeTimeout stays 200 ms, hundreds of
	//     times a loopback round trip even under the race detector.
	//   - RetransmitMult 2 -> 4 (the LAN value): a broadcast is sent at
	//     most RetransmitMult x ceil(log10(n+1)) times, counted per packet,
	//     so with 2, a metadata update or leave in a 4-node cluster reaches
	//     only 2 of the 3 others directly. A node that every re-broadcast
	//     also misses learns the news only at the next full sync (15 s), or
	//     sees a leave as a failure. With 4, the first gossip round (3
	//     nodes) reaches everyone in a small cluster.
	//   - SuspicionMaxTimeoutMult 6 -> 3: how long a suspect may refute
	//     before it is declared dead is SuspicionMult x ProbeInterval
	//     (1.5 s here, below 10 nodes) once another node confirms the
	//     suspicion, and this many times that (4.5 s) if none does. The
	//     multiplier of 6 is sized for thousands of nodes; on loopback a
	//     live suspect hears the suspicion and refutes it within one gossip
	//     interval (100 ms).
	ProfileLocal Profile = "local"
)

func (p Profile) memberlistConfig() *memberlist.Config {
	if p == ProfileLocal {
		c := memberlist.DefaultLocalConfig()
		c.ProbeInterval = 500 * time.Millisecond
		c.RetransmitMult = 4
		c.SuspicionMaxTimeoutMult = 3
		return c
	}
	return memberlist.DefaultLANConfig()
}

func (p Profile) defaultBindAddr() string {
	if p == ProfileLocal {
		return "127.0.0.1"
	}
	return "0.0.0.0"
}

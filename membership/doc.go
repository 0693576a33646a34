// Package membership tells every node of a frostd cluster who else is in
// it, how to reach them, and when one of them dies. It is a thin layer over
// github.com/hashicorp/memberlist (SWIM gossip over UDP and TCP), with the
// gossip encrypted and authenticated by a shared cluster key.
//
// # One node, one call
//
// Each process (participant or coordinator) starts one Node:
//
//	n, err := membership.Start(membership.Config{
//		Name:      "p1",                      // unique in the cluster
//		BindPort:  7946,                      // 0 picks a free port
//		SecretKey: clusterKey,                // 16, 24 or 32 bytes, same on every node
//		Join:      []string{"10.0.0.5:7946"}, // any member already up; empty for the first
//		Meta:      membership.Meta{Role: membership.RoleParticipant, ParticipantID: 1, GRPCAddr: "10.0.0.7:9000"},
//	}, func(ev membership.Event) { ... })
//	defer n.Shutdown()
//
// Start returns once the node listens (and, if Config.Join is set, has
// joined). From then on the events callback hears, in order and on one
// goroutine, every Join, Update, Leave (graceful) and Failed (noticed by
// probing) of every member, this node included. Members returns the live
// ones at any moment; LocalAddr is the address others pass to Join.
//
// To go away cleanly, call Leave and then Shutdown: the others see
// EventLeave within a gossip round or two (one that misses the news sees
// EventFailed later). Shutdown alone looks like a crash: the others notice
// by probing and see EventFailed a few seconds later.
//
// # What a node advertises
//
// Meta is what a node tells the others about itself: its Role, its
// ParticipantID (participants only) and the GRPCAddr where it serves the
// signing protocol. It travels in memberlist's node metadata, at most
// memberlist.MetaMaxSize (512) bytes, in a compact versioned binary form
// (see meta.go). Meta.Name is not encoded: it is memberlist's node name, so
// the two can never disagree. UpdateMeta changes it at run time and the
// others see EventUpdate.
//
// # From events to reachability
//
// The coordinator does not want events, it wants "participant 3 is at
// 10.0.0.9:9000 and alive" and "participant 3 is gone". Reachability turns
// the event stream into exactly those two callbacks. It is a pure function of
// the events it is fed, with no sockets, clocks or goroutines, so it is
// tested event by event; it is meant to be fed from the events callback:
//
//	r := &membership.Reachability{
//		OnAlive: func(id uint16, addr string) { dial(id, addr); svc.SetReachable(id, true) },
//		OnDead:  func(id uint16) { svc.SetReachable(id, false) },
//	}
//	n, err := membership.Start(cfg, r.Observe)
//
// # Security
//
// Config.SecretKey encrypts and authenticates every gossip packet and stream
// (AES-GCM, memberlist's keyring). A node without the key cannot join, and
// cannot be joined: its packets are dropped and its join attempt fails.
// Running without a key needs the explicit Config.InsecureNoEncryption, meant
// for tests. Membership is not authorization: a node holding the cluster key
// can claim any participant id, so the signing protocol must still
// authenticate participants (as the coordinator's share verification does).
//
// # Timing
//
// Config.Profile picks memberlist's defaults: ProfileLAN (the default) keeps
// memberlist's LAN settings, which favour few false alarms; ProfileLocal is
// for loopback clusters (tests, demos) and is tuned so that a killed node is
// declared failed within a few seconds. See profile.go for the numbers and
// why.
package membership

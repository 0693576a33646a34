// Package dkgnet runs the ceremonies of package dkg over the network: the
// Dkg gRPC service each participant serves, and the relay that drives it
// from the operator's machine (frost-dkg).
//
// A participant (Participant, wired by package daemon) serves Dkg to
// coordinator certificates only. It checks every roster certificate
// against the cluster CA and that entry i is participant i's; the DKG
// identity key of participant i is its TLS certificate's Ed25519 key, and
// it signs its own messages with its TLS private key, so a ceremony is
// bound to the mTLS identities. When its ceremony succeeds it installs the
// result (ParticipantConfig.Install saves it, sealed) before it reports
// success; an aborted ceremony saves nothing.
//
// The relay (Keygen, Refresh, Deal) dials every participant, learns their
// ids and certificates with Roster, and carries each participant's signed
// dkg.Messages to the others (To 0: to all others; otherwise to the one
// named) until no message is in flight. It cannot read round-2 shares,
// which are HPKE-encrypted between participants. It returns the group and
// transcript hash only if every participant reports the same; a failure,
// a stall or a timeout is a *CeremonyError naming the culprits or whom the
// participants were still waiting for. Deal is the trusted-dealer path for
// migrating an existing key: the caller holds the whole key and installs
// one share at each participant.
package dkgnet

// Package dkg makes the key shares of a FROST signing group.
//
// For a new identity, the distributed key generation (a Pedersen DKG with
// proofs of knowledge, from github.com/bytemare/dkg) lets n participants
// make shares of a key that no machine ever holds.
//
// For an identity that already exists, Deal splits its Ed25519 seed into
// shares whose group public key is the identity's own public key, so its
// ID52 does not change. DealRandom does the same for a fresh random key,
// for tests.
//
// # Ceremonies
//
// A Ceremony is one participant's side of a key generation (NewKeygen) or
// of a refresh (NewRefresh), as a state machine in the style of etcd's raft:
// it does no I/O, reads no clock and keeps nothing on disk. Call Start once
// and broadcast what it returns; then pass every message received to Step
// and send what Step returns (To 0 to everyone else, otherwise to the one
// participant named), even when Step also returns an error. When Done,
// Result gives the group and this participant's own key share, ready for
// participant.New. A driver that gives up waiting blames Waiting().
//
// Every participant is configured alike: a random ceremony id, the
// threshold, and the roster of every participant's long-term Ed25519
// identity key. Each signs its messages with its identity key, over the
// ceremony id and parameters, round, sender, recipient and payload, so a
// relaying coordinator can carry messages but not forge, alter or redirect
// them. Messages are plain values (Message) that map onto protobuf.
//
// # Rounds
//
//	participant i                                  every other participant j
//	  |                                                        |
//	  |== 1 Commit: commitment C_i, proof of knowledge, =====> | check every point
//	  |     HPKE key for this ceremony (signed broadcast)      | and every proof
//	  |<====================================== Commit from j ==|
//	  |                                                        |
//	  |== 2 Echo: hash of the round-1 set as received =======> | all n equal?
//	  |     one differs -> Reveal: the signed set i received;  |
//	  |     two signed packages of one sender that differ      |
//	  |     convict it of equivocation                         |
//	  |                                                        |
//	  |-- 3 Share: f_i(j), HPKE-sealed to j, ----------------> | Feldman check
//	  |     ceremony, i and j as associated data (to j only)   | against C_i
//	  |                                                        |
//	  |== 4 Confirm: hash of (ceremony, t, n, group key, =====> | all n equal:
//	  |     every public key share, round-1 set hash)          | done
//	  |                                                        |
//	  |== on abort, Complaint: culprit, offence, evidence ===> | judge it alone
//
// Round 1 is bytemare/dkg's: each participant deals a random polynomial,
// commits to it and proves knowledge of its constant term. The echo round
// makes the round-1 broadcast reliable over a relay that only forwards: no
// share leaves before all n participants agree on one round-1 set. Shares
// are sealed with HPKE (RFC 9180, X25519, HKDF-SHA256, ChaCha20-Poly1305)
// to a key each participant makes for the ceremony alone. The confirmation
// round makes sure that everyone who finishes holds the same group.
//
// # Culprits
//
// A bad proof of knowledge, a bad commitment, a share that does not
// decrypt or does not match its sender's commitment, two different signed
// messages for one round, an echo that its sender's own reveal contradicts,
// or a differing confirmation ends the ceremony with a *CulpritError that
// names the participant at fault and holds the messages, signed by it, that
// prove it. The participant that saw the fault broadcasts a Complaint with
// that evidence, and every other participant checks it on its own and
// aborts too, naming the accused if the evidence bears the complaint out
// and the complainer otherwise. For a bad share the complainer reveals its
// HPKE key for the ceremony, so that anyone can decrypt the share and check
// it; that key sealed only this ceremony's shares, and the ceremony is
// over. An aborted ceremony returns no key share, anywhere.
//
// Known limits: a participant that simply stops sending stalls the
// ceremony (the driver's timeout, and Waiting, name it); a participant that
// sends some peers a bad confirmation and others a good one can make some
// honest participants finish and others abort (those that finish agree);
// and, as with every Pedersen DKG, a participant that sees the others'
// round-1 packages before sending its own can bias the group key's
// distribution, which the FROST security proof allows for.
//
// # Refresh
//
// A refresh gives the n holders new shares of the same key: the group key,
// and so its ID52, stays; every share and public key share changes; old and
// new shares do not combine. Each holder deals a sharing of zero and adds
// the shares it receives to its own. All n holders must take part
// (ErrAllMustTakePart): a share left out would no longer fit. bytemare/dkg
// cannot deal zero (it refuses a zero coefficient, and a proof of knowledge
// of a known zero proves nothing), nor can bytemare/secret-sharing's Shard;
// so a refresh builds the polynomial [0, r1, ..., r(t-1)] and uses
// secret-sharing's Polynomial.Evaluate, Commit and Verify on it. The
// commitment to the zero constant, the identity, is never sent, so every
// dealing deals zero by construction.
//
// # In memory
//
// RunLocal, RefreshLocal and Sim run whole ceremonies in one process, with
// faults injected into chosen participants (CorruptShare, BadProof,
// Equivocate, BadEcho, BadConfirm, FalseComplaint, Silent), for tests,
// benchmarks and simulations.
//
// # Concurrency
//
// bytemare/frost hashes through one package-level SHA-512 state, which is
// why signing goes through protocol.Serialize. bytemare/dkg does not: its
// proof-of-knowledge challenge hashes through a fresh state per call
// (bytemare/hash's Hash.New), and bytemare/secret-sharing and ecc keep no
// mutable package state. Ceremonies therefore run concurrently without a
// lock (Sim runs its participants in parallel under the race detector in
// the tests). A single Ceremony is not safe for concurrent use.
package dkg

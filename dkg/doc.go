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
package dkg

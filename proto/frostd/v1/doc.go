// Package frostdv1 is the generated Go code of frostd's gRPC API, version 1
// (frostd.proto beside this file): the Participant service that
// coordinators call and the Coordinator service that clients and
// participants call.
//
// Do not use these types directly to sign: package signer/frost is the
// client, and package transport/grpctransport serves the services and
// converts these messages to and from package protocol, checking every
// length. Regenerate with scripts/gen-proto.sh; do not edit the .pb.go
// files by hand.
package frostdv1

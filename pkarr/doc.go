// Package pkarr signs and verifies pkarr packets: small DNS zones that an
// Ed25519 key publishes about itself, as iroh does to tell peers where an
// endpoint can be reached. Because any [signer.Signer] can sign them, the key
// may live in a file, an HSM or a FROST cluster that never assembles it.
//
// # What a packet is
//
// The key's z-base-32 encoding (52 characters, see [SignedPacket.Origin]) is
// a top-level domain, and the packet holds DNS records under it. iroh
// publishes one TXT record per attribute under _iroh:
//
//	_iroh.<z32-key>.  30  IN  TXT  "relay=https://relay.example/"
//	_iroh.<z32-key>.  30  IN  TXT  "addr=203.0.113.7:4433"
//
// A [Record] names its owner relative to the key, so "_iroh" stands for
// _iroh.<z32-key>. and "@" for the key's own name; [Sign] appends the key
// and [SignedPacket.Records] strips it again. The records travel as the answer
// section of an ordinary DNS response message, with names compressed, and
// that message may be at most 1000 bytes ([MaxDNSSize]).
//
// The DNS message is signed as a BEP 44 mutable item of the BitTorrent
// Mainline DHT, with a timestamp in microseconds since the Unix epoch as
// the sequence number. What the key signs is the bencoding of those two
// fields without the enclosing dictionary:
//
//	3:seqi<timestamp>e1:v<length of dns>:<dns>
//
// # Wire formats
//
// [SignedPacket.Bytes] is the canonical encoding, which caches and pkarr
// libraries exchange; [SignedPacket.RelayBody] is the same without the
// public key, the body of a relay's PUT /<z32-key> request and of its GET
// response, where the key is in the URL:
//
//	packet     = public-key relay-body      ; at most 1104 bytes
//	relay-body = signature timestamp dns    ; at most 1072 bytes
//	public-key = 32 OCTET                   ; Ed25519
//	signature  = 64 OCTET                   ; over the BEP 44 signable above
//	timestamp  =  8 OCTET                   ; big-endian, microseconds
//	dns        =  * OCTET                   ; DNS message, at most 1000 bytes
//
// For a DHT put the fields map one to one onto BEP 44's: k is PublicKey, seq
// is Timestamp, sig is Signature and v is DNS; pkarr uses no salt.
//
// # Publishing
//
//	p, err := pkarr.Sign(ctx, s, []pkarr.Record{
//		{Name: pkarr.IrohName, TXT: []string{"relay=https://relay.example/"}, TTL: 30},
//		{Name: pkarr.IrohName, TXT: []string{"addr=203.0.113.7:4433"}, TTL: 30},
//	}, time.Now())
//	// PUT p.RelayBody() to https://<relay>/<p.Origin()>
//
// Relays and DHT nodes keep only the packet with the highest timestamp, so
// each publication must carry a later timestamp than the one before. Sign
// takes the time as an argument rather than reading the clock; a publisher
// that may sign twice within a microsecond, or whose clock may step back,
// must make its timestamps increase itself.
//
// # Resolving
//
//	p, err := pkarr.ParseRelayBody(pub, body) // or pkarr.Parse(packet)
//	if err != nil {
//		// discard the packet; errors.Is tells why (see below)
//	}
//	records, err := p.Records()
//
// Parse and ParseRelayBody check sizes, then the signature, then that the
// DNS message parses, and return a packet only if all pass. They do not
// compare the timestamp with one seen before: a cache must keep the newer
// packet itself. Records returns the TXT records only; other record types are
// valid pkarr and are skipped.
//
// A SignedPacket assembled by hand, for example from the fields of a DHT
// response, is unverified until its [SignedPacket.Verify] returns nil.
//
// # Errors
//
// Errors wrap a value to test with errors.Is:
//
//   - signer.ErrBadSignature: the signature does not verify; the packet was
//     altered, or signed by another key.
//   - signer.ErrBadKey: a public key is not 32 bytes.
//   - [ErrTooLarge]: over pkarr's size limits.
//   - [ErrMalformed]: too short to hold the header, or the DNS message does
//     not parse.
//   - [ErrInvalidRecord]: Sign was given a record DNS cannot carry.
//
// Errors from the Signer pass through Sign wrapped, so signer.ErrUnavailable
// still means "retry later".
package pkarr

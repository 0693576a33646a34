package pkarr

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/signer"
)

// Size limits of pkarr, in bytes.
const (
	// MaxDNSSize is the largest DNS message a packet may carry.
	MaxDNSSize = 1000

	// MaxPacketSize is the largest canonical packet, as Bytes returns:
	// public key, signature and timestamp (32 + 64 + 8), then the DNS
	// message.
	MaxPacketSize = 1104

	// MaxRelayBodySize is the largest relay body, as RelayBody returns:
	// MaxPacketSize without the public key. A relay answers 413 to a
	// larger one.
	MaxRelayBodySize = 1072
)

const (
	timestampSize = 8
	// relayHeaderSize is the signature and timestamp before the DNS message.
	relayHeaderSize = ed25519.SignatureSize + timestampSize
	// headerSize is the public key, signature and timestamp.
	headerSize = ed25519.PublicKeySize + relayHeaderSize
)

var (
	// ErrTooLarge means a packet, or the DNS message in it, is over pkarr's
	// size limits.
	ErrTooLarge = errors.New("pkarr packet too large")

	// ErrMalformed means bytes are not a pkarr packet: too short for the
	// header, or carrying a DNS message that does not parse.
	ErrMalformed = errors.New("malformed pkarr packet")

	// ErrInvalidRecord means Sign was given a record that DNS cannot carry.
	ErrInvalidRecord = errors.New("invalid DNS record")
)

// SignedPacket is a DNS message signed by an Ed25519 key. Sign, Parse and
// ParseRelayBody return packets that verify; one assembled by hand is
// unverified until Verify returns nil.
type SignedPacket struct {
	// PublicKey is the key that signed, and whose z-base-32 encoding is
	// the zone the records are in.
	PublicKey ed25519.PublicKey

	// Signature is the Ed25519 signature over the BEP 44 encoding of
	// Timestamp and DNS.
	Signature []byte

	// Timestamp is when the packet was signed, in microseconds since the
	// Unix epoch. It is the BEP 44 sequence number: of two packets for a
	// key, relays and the DHT keep the one with the higher Timestamp.
	Timestamp uint64

	// DNS is the DNS message in wire format, at most MaxDNSSize bytes.
	DNS []byte
}

// Sign builds a DNS message of records under the zone of s's public key,
// stamps it with ts, and has s sign it.
//
// Names in records are relative to the key (see Record). ts must not be
// before 1970, and should be later than the timestamp of any packet s
// published before, or relays and the DHT will keep the older one.
//
// Sign returns an error wrapping ErrInvalidRecord if a record cannot be
// encoded, ErrTooLarge if the DNS message would exceed MaxDNSSize, the
// Signer's error (such as signer.ErrUnavailable) if signing fails, and
// signer.ErrBadSignature if the signature it returns does not verify.
func Sign(ctx context.Context, s signer.Signer, records []Record, ts time.Time) (*SignedPacket, error) {
	pub := s.PublicKey()
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("pkarr: the signer's public key is %d bytes, want %d: %w",
			len(pub), ed25519.PublicKeySize, signer.ErrBadKey)
	}
	if ts.IsZero() {
		return nil, errors.New("pkarr: no timestamp (zero time.Time); pass the time of publication, such as time.Now()")
	}
	micros := ts.UnixMicro()
	if micros < 0 {
		return nil, fmt.Errorf("pkarr: timestamp %v is before the Unix epoch; pass the time of publication, such as time.Now()", ts)
	}

	origin := id52.EncodeZBase32(pub)
	dns, err := encodeDNS(origin, records)
	if err != nil {
		return nil, err
	}
	if len(dns) > MaxDNSSize {
		return nil, fmt.Errorf("pkarr: the records encode to a %d-byte DNS message, over the %d-byte limit; publish fewer or shorter records: %w",
			len(dns), MaxDNSSize, ErrTooLarge)
	}

	p := &SignedPacket{
		PublicKey: bytes.Clone(pub),
		Timestamp: uint64(micros),
		DNS:       dns,
	}
	msg := p.signable()
	sig, err := s.Sign(ctx, msg)
	if err != nil {
		return nil, fmt.Errorf("pkarr: signing the packet for %s: %w", origin, err)
	}
	if err := signer.Verify(pub, msg, sig); err != nil {
		return nil, fmt.Errorf("pkarr: the signer's signature does not verify under the key it reports, %s; check its backend: %w", origin, err)
	}
	p.Signature = bytes.Clone(sig)
	return p, nil
}

// Parse decodes and verifies a packet in the canonical encoding,
// public key ‖ signature ‖ timestamp ‖ DNS message, as Bytes returns it.
// The returned packet does not share memory with b.
//
// Errors wrap ErrMalformed when b is shorter than the 104-byte header or its
// DNS message does not parse, ErrTooLarge when b is over MaxPacketSize, and
// signer.ErrBadSignature when the signature does not verify.
func Parse(b []byte) (*SignedPacket, error) {
	if len(b) < headerSize {
		return nil, fmt.Errorf("pkarr: packet is %d bytes, shorter than the %d-byte header (public key, signature, timestamp); it was cut off or is not a pkarr packet: %w",
			len(b), headerSize, ErrMalformed)
	}
	if len(b) > MaxPacketSize {
		return nil, fmt.Errorf("pkarr: packet is %d bytes, over the %d-byte limit (%d-byte header and at most %d bytes of DNS): %w",
			len(b), MaxPacketSize, headerSize, MaxDNSSize, ErrTooLarge)
	}
	p := fromRelayBody(b[:ed25519.PublicKeySize], b[ed25519.PublicKeySize:])
	if err := p.Verify(); err != nil {
		return nil, err
	}
	return p, nil
}

// ParseRelayBody decodes and verifies the body of a relay's response to
// GET /<z32-key>, signature ‖ timestamp ‖ DNS message, for the key pub that
// was asked for. The returned packet does not share memory with body.
//
// Errors wrap signer.ErrBadKey when pub is not 32 bytes, and otherwise as
// for Parse, with a 72-byte header and a MaxRelayBodySize limit.
func ParseRelayBody(pub ed25519.PublicKey, body []byte) (*SignedPacket, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("pkarr: public key is %d bytes, want %d: %w",
			len(pub), ed25519.PublicKeySize, signer.ErrBadKey)
	}
	if len(body) < relayHeaderSize {
		return nil, fmt.Errorf("pkarr: relay body is %d bytes, shorter than the %d-byte header (signature, timestamp); it was cut off or is not a pkarr relay response: %w",
			len(body), relayHeaderSize, ErrMalformed)
	}
	if len(body) > MaxRelayBodySize {
		return nil, fmt.Errorf("pkarr: relay body is %d bytes, over the %d-byte limit (%d-byte header and at most %d bytes of DNS): %w",
			len(body), MaxRelayBodySize, relayHeaderSize, MaxDNSSize, ErrTooLarge)
	}
	p := fromRelayBody(pub, body)
	if err := p.Verify(); err != nil {
		return nil, err
	}
	return p, nil
}

// fromRelayBody splits body, which must hold at least the relay header,
// into a packet with copies of its parts.
func fromRelayBody(pub, body []byte) *SignedPacket {
	return &SignedPacket{
		PublicKey: bytes.Clone(pub),
		Signature: bytes.Clone(body[:ed25519.SignatureSize]),
		Timestamp: binary.BigEndian.Uint64(body[ed25519.SignatureSize:relayHeaderSize]),
		DNS:       bytes.Clone(body[relayHeaderSize:]),
	}
}

// Verify checks the packet as a resolver must before using it: the sizes,
// the signature over Timestamp and DNS, and that DNS parses. It does not
// judge the timestamp.
//
// Errors wrap signer.ErrBadKey, signer.ErrBadSignature, ErrTooLarge or
// ErrMalformed.
func (p *SignedPacket) Verify() error {
	if len(p.PublicKey) != ed25519.PublicKeySize {
		return fmt.Errorf("pkarr: public key is %d bytes, want %d: %w",
			len(p.PublicKey), ed25519.PublicKeySize, signer.ErrBadKey)
	}
	if len(p.DNS) > MaxDNSSize {
		return fmt.Errorf("pkarr: DNS message is %d bytes, over the %d-byte limit: %w",
			len(p.DNS), MaxDNSSize, ErrTooLarge)
	}
	if err := signer.Verify(p.PublicKey, p.signable(), p.Signature); err != nil {
		return fmt.Errorf("pkarr: packet for %s fails verification; it was altered or signed by another key, so discard it: %w",
			p.Origin(), err)
	}
	if _, err := parseDNS(p.DNS); err != nil {
		return fmt.Errorf("pkarr: packet for %s is signed but its DNS message does not parse, so it has nothing to resolve: %w: %w",
			p.Origin(), ErrMalformed, err)
	}
	return nil
}

// Bytes returns the canonical encoding of the packet,
// public key ‖ signature ‖ timestamp ‖ DNS message, which Parse reads.
func (p *SignedPacket) Bytes() []byte {
	b := make([]byte, 0, headerSize+len(p.DNS))
	b = append(b, p.PublicKey...)
	return p.appendRelayBody(b)
}

// RelayBody returns signature ‖ timestamp ‖ DNS message: the body of a PUT
// to a relay's /<z32-key>, where the key is in the URL (see Origin).
// ParseRelayBody reads it.
func (p *SignedPacket) RelayBody() []byte {
	return p.appendRelayBody(make([]byte, 0, relayHeaderSize+len(p.DNS)))
}

func (p *SignedPacket) appendRelayBody(b []byte) []byte {
	b = append(b, p.Signature...)
	b = binary.BigEndian.AppendUint64(b, p.Timestamp)
	return append(b, p.DNS...)
}

// Origin returns the z-base-32 encoding of the public key: the domain the
// records are under, and the path under which relays store the packet. Like
// id52.EncodeZBase32, it panics if PublicKey is not 32 bytes, which no packet
// from Sign, Parse or ParseRelayBody has.
func (p *SignedPacket) Origin() string {
	return id52.EncodeZBase32(p.PublicKey)
}

// Time returns Timestamp as a time.Time.
func (p *SignedPacket) Time() time.Time {
	return time.UnixMicro(int64(p.Timestamp))
}

// signable returns the bytes the key signs.
func (p *SignedPacket) signable() []byte {
	return bep44Signable(nil, p.Timestamp, p.DNS)
}

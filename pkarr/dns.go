package pkarr

import (
	"crypto/ed25519"
	"fmt"
	"strings"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/frostd/frostd/signer"
)

// IrohName is the name, relative to the key, under which iroh publishes its
// TXT records: relay=<url> for its home relay and addr=<ip:port> for each
// direct address, one record each.
const IrohName = "_iroh"

// Record is a DNS TXT record.
type Record struct {
	// Name is the owner name relative to the signer's key: "_iroh" is
	// _iroh.<z32-key>., and "@" (or "") is <z32-key>. itself. A name that
	// already ends in the key is taken as it is; a trailing dot is ignored,
	// as pkarr does. Records returns names in this relative form, except
	// for a name outside the key's zone, which Sign never writes: that one
	// comes back absolute, with a trailing dot.
	Name string

	// TXT holds the record's character-strings, at least one and each at
	// most 255 bytes. iroh puts a single key=value string in each record.
	TXT []string

	// TTL is how long resolvers may cache the record, in seconds.
	TTL uint32
}

// Name limits of RFC 1035, in bytes, in presentation form.
const (
	maxLabelLen = 63
	maxNameLen  = 254 // with the trailing dot: 255 on the wire
	maxTXTLen   = 255
)

// encodeDNS returns the DNS response message carrying records as answers
// under the zone origin, names compressed as pkarr asks. The header is that
// of pkarr's own encoder: ID 0, QR set, nothing else.
func encodeDNS(origin string, records []Record) ([]byte, error) {
	// The message must start at offset 0 of the buffer: compression
	// pointers are offsets from the builder's start.
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{Response: true})
	b.EnableCompression()
	if err := b.StartAnswers(); err != nil {
		return nil, fmt.Errorf("pkarr: starting the DNS answer section: %w", err)
	}
	for i, r := range records {
		fqdn, err := absoluteName(origin, r.Name)
		if err != nil {
			return nil, fmt.Errorf("pkarr: record %d: %w", i, err)
		}
		if len(r.TXT) == 0 {
			return nil, fmt.Errorf("pkarr: record %d (%s) has no TXT strings; give at least one: %w", i, fqdn, ErrInvalidRecord)
		}
		for j, s := range r.TXT {
			if len(s) > maxTXTLen {
				return nil, fmt.Errorf("pkarr: record %d (%s): TXT string %d is %d bytes, over DNS's %d-byte limit; split it into several strings: %w",
					i, fqdn, j, len(s), maxTXTLen, ErrInvalidRecord)
			}
		}
		name, err := dnsmessage.NewName(fqdn)
		if err != nil {
			return nil, fmt.Errorf("pkarr: record %d (%s): %w: %w", i, fqdn, ErrInvalidRecord, err)
		}
		h := dnsmessage.ResourceHeader{Name: name, Class: dnsmessage.ClassINET, TTL: r.TTL}
		if err := b.TXTResource(h, dnsmessage.TXTResource{TXT: r.TXT}); err != nil {
			return nil, fmt.Errorf("pkarr: record %d (%s): %w: %w", i, fqdn, ErrInvalidRecord, err)
		}
	}
	msg, err := b.Finish()
	if err != nil {
		return nil, fmt.Errorf("pkarr: finishing the DNS message: %w", err)
	}
	return msg, nil
}

// absoluteName places name in the zone origin as pkarr does, and returns it
// fully qualified, with the trailing dot.
func absoluteName(origin, name string) (string, error) {
	name = strings.TrimSuffix(name, ".")
	if name == "" || name == "@" {
		return origin + ".", nil
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		switch {
		case l == "":
			return "", fmt.Errorf("name %q has an empty label; remove the doubled or leading dot: %w", name, ErrInvalidRecord)
		case l == "@":
			return "", fmt.Errorf("name %q has \"@\" as a label; use \"@\" alone for the key's own name: %w", name, ErrInvalidRecord)
		case len(l) > maxLabelLen:
			return "", fmt.Errorf("name %q has a %d-byte label, over DNS's %d-byte limit: %w", name, len(l), maxLabelLen, ErrInvalidRecord)
		}
	}
	fqdn := name + "." + origin + "."
	if strings.EqualFold(labels[len(labels)-1], origin) {
		fqdn = name + "."
	}
	if len(fqdn) > maxNameLen {
		return "", fmt.Errorf("name %q is %d bytes once in the key's zone, over DNS's %d-byte limit: %w", name, len(fqdn), maxNameLen, ErrInvalidRecord)
	}
	return fqdn, nil
}

// relativeName is the inverse of absoluteName for a fully qualified name
// from a parsed message: the name without the zone origin, "@" for the
// origin itself, or fqdn unchanged when it is outside the zone.
func relativeName(origin, fqdn string) string {
	n := strings.TrimSuffix(fqdn, ".")
	if strings.EqualFold(n, origin) {
		return "@"
	}
	if cut := len(n) - len(origin) - 1; cut > 0 && n[cut] == '.' && strings.EqualFold(n[cut+1:], origin) {
		return n[:cut]
	}
	return fqdn
}

// parseDNS parses a whole DNS message and returns its answers.
func parseDNS(msg []byte) ([]dnsmessage.Resource, error) {
	var p dnsmessage.Parser
	if _, err := p.Start(msg); err != nil {
		return nil, err
	}
	if err := p.SkipAllQuestions(); err != nil {
		return nil, err
	}
	answers, err := p.AllAnswers()
	if err != nil {
		return nil, err
	}
	if err := p.SkipAllAuthorities(); err != nil {
		return nil, err
	}
	if err := p.SkipAllAdditionals(); err != nil {
		return nil, err
	}
	return answers, nil
}

// Records returns the TXT records among the packet's answers, in order, with
// names relative to the key (see Record). Records of other types are
// skipped.
//
// Records does not check the signature: call it on a packet from Sign, Parse
// or ParseRelayBody, or one whose Verify returned nil.
func (p *SignedPacket) Records() ([]Record, error) {
	if len(p.PublicKey) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("pkarr: public key is %d bytes, want %d: %w",
			len(p.PublicKey), ed25519.PublicKeySize, signer.ErrBadKey)
	}
	answers, err := parseDNS(p.DNS)
	if err != nil {
		return nil, fmt.Errorf("pkarr: parsing the DNS message of %s: %w: %w", p.Origin(), ErrMalformed, err)
	}
	origin := p.Origin()
	var records []Record
	for _, a := range answers {
		txt, ok := a.Body.(*dnsmessage.TXTResource)
		if !ok {
			continue
		}
		records = append(records, Record{
			Name: relativeName(origin, a.Header.Name.String()),
			TXT:  txt.TXT,
			TTL:  a.Header.TTL,
		})
	}
	return records, nil
}

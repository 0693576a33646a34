package pkarr_test

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/internal/testcluster"
	"github.com/frostd/frostd/pkarr"
)

// A 3-of-5 FROST cluster, in which no participant holds the key, signs a
// pkarr packet that resolvers accept: pkarr's own Parse and Verify, and
// plain crypto/ed25519 over the BEP 44 signable rebuilt here by hand from
// the packet's bytes, as a DHT node or a pkarr library in another language
// would check it.
func TestClusterSignedPacket(t *testing.T) {
	c := testcluster.New(t, 3, 5, testcluster.Options{})
	group := c.Group.PublicKey
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	records := []pkarr.Record{
		{Name: pkarr.IrohName, TXT: []string{"relay=https://relay.example/"}, TTL: 30},
		{Name: pkarr.IrohName, TXT: []string{"addr=203.0.113.7:4433"}, TTL: 30},
	}
	ts := time.UnixMicro(1731622400123456)
	p, err := pkarr.Sign(ctx, c.Service, records, ts)
	if err != nil {
		t.Fatalf("pkarr.Sign with the cluster: %v", err)
	}
	packet := p.Bytes()

	got, err := pkarr.Parse(packet)
	if err != nil {
		t.Fatalf("pkarr.Parse of the cluster's packet: %v", err)
	}
	if err := got.Verify(); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !got.PublicKey.Equal(group) || got.Origin() != id52.EncodeZBase32(group) || got.Timestamp != uint64(ts.UnixMicro()) {
		t.Fatalf("packet for %s at %d, want the group key %s at %d", got.Origin(), got.Timestamp, id52.EncodeZBase32(group), ts.UnixMicro())
	}
	gotRecords, err := got.Records()
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(gotRecords) != fmt.Sprint(records) {
		t.Fatalf("records %v, want %v", gotRecords, records)
	}

	// The canonical layout: key, signature, big-endian timestamp, DNS.
	key, sig := packet[:32], packet[32:96]
	seq := binary.BigEndian.Uint64(packet[96:104])
	dns := packet[104:]
	signable := fmt.Appendf(nil, "3:seqi%de1:v%d:%s", seq, len(dns), dns)
	if !ed25519.Verify(group, signable, sig) || !ed25519.PublicKey(key).Equal(group) {
		t.Fatal("crypto/ed25519 rejects the cluster's signature over the BEP 44 signable")
	}
	signable[len("3:seqi")]++ // another sequence number
	if ed25519.Verify(group, signable, sig) {
		t.Fatal("the signature also verifies for another sequence number")
	}

	// A resolver that knows the key gets the same packet from a relay body.
	if _, err := pkarr.ParseRelayBody(group, p.RelayBody()); err != nil {
		t.Fatalf("ParseRelayBody: %v", err)
	}
	other, _, _ := ed25519.GenerateKey(nil)
	if _, err := pkarr.ParseRelayBody(other, p.RelayBody()); err == nil {
		t.Fatal("the relay body verifies under another key")
	}
}

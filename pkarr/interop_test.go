package pkarr

import (
	"bytes"
	"reflect"
	"testing"
)

// A relay body made by the JavaScript reference implementation, npm package
// pkarr 1.3.0 (lib/signed_packet.js, SignedPacket.fromPacket), from the seed
// 32 × 0x01 (testKey(1)), timestamp 1731622400123456 and the two records of
// irohRecords(). pkarr publishes no fixed-byte vector; this one was generated
// for these tests. That implementation does not compress names, so it also
// checks that Parse reads uncompressed messages, as pkarr requires.
//
// In the other direction, the same implementation's SignedPacket.fromBytes
// accepted the relay body of TestGolden's packet, returned both records, and
// rejected it with one byte flipped ("Invalid signature").
const (
	jsPublicKey = "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
	jsRelayBody = "" +
		"c1b99997a0aacad8d032c18f5ea96e7c957100a7404a4cc28b95ce97bd0d0a5e" +
		"dd7c37c7200216d79fb4a639381a1b8d77d567e082c965f06f6c05053aa13d0b" + // signature
		"000626e6c20b6240" + // timestamp
		"000080000000000200000000055f69726f6834746b7271387a6d77623861336d" +
		"396b313563737533713137716d6667716e703964736b62726739757131727964" +
		"7079787037717900001000010000001e001d1c72656c61793d68747470733a2f" +
		"2f72656c61792e6578616d706c652f055f69726f6834746b7271387a6d776238" +
		"61336d396b313563737533713137716d6667716e703964736b62726739757131" +
		"7279647079787037717900001000010000001e001211616464723d312e322e33" +
		"2e343a35363738" // DNS
)

func TestPkarrJSVector(t *testing.T) {
	pub := mustHex(t, jsPublicKey)
	if got := (keySigner{testKey(1)}).PublicKey(); !bytes.Equal(got, pub) {
		t.Fatalf("testKey(1) has public key %x, not the vector's", got)
	}
	p, err := ParseRelayBody(pub, mustHex(t, jsRelayBody))
	if err != nil {
		t.Fatal(err)
	}
	if p.Timestamp != 1731622400123456 {
		t.Errorf("Timestamp = %d", p.Timestamp)
	}
	got, err := p.Records()
	if err != nil {
		t.Fatal(err)
	}
	if want := irohRecords(); !reflect.DeepEqual(got, want) {
		t.Errorf("Records() = %+v, want %+v", got, want)
	}

	// Ours differs only in compressing the second name, 60 bytes of
	// _iroh.<z32-key>., to a 2-byte pointer.
	ours := signTest(t, irohRecords())
	if ours.Timestamp != p.Timestamp {
		t.Fatalf("testTime is %d µs, the vector's timestamp %d", ours.Timestamp, p.Timestamp)
	}
	name := append([]byte{5}, "_iroh"...)
	name = append(append(name, 52), ours.Origin()...)
	name = append(name, 0)
	expanded := bytes.Replace(ours.DNS, []byte{0xc0, 0x0c}, name, 1)
	if !bytes.Equal(expanded, p.DNS) {
		t.Errorf("our DNS with its pointer expanded =\n%x\nthe vector's =\n%x", expanded, p.DNS)
	}
}

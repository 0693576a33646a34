package pkarr

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/signer"
)

// seedPackets adds valid, cut and BEP 44 packets to a fuzz corpus.
func seedPackets(t testing.TB) [][]byte {
	s := keySigner{testKey(1)}
	var seeds [][]byte
	for _, records := range [][]Record{nil, irohRecords(), {{Name: "@", TXT: []string{"a", "b"}, TTL: 1}}} {
		p, err := Sign(t.Context(), s, records, testTime)
		if err != nil {
			t.Fatal(err)
		}
		b := p.Bytes()
		seeds = append(seeds, b, b[:len(b)-1], b[:headerSize], b[:10])
	}
	bep := append(mustHex(t, bep44PublicKey), mustHex(t, bep44Vectors[0].signature)...)
	bep = binary.BigEndian.AppendUint64(bep, 1)
	return append(seeds, append(bep, bep44Value...), nil)
}

// checkParsed asserts what holds of any Parse result: an error is one of the
// documented kinds; a packet re-encodes to its input and yields records.
func checkParsed(t *testing.T, p *SignedPacket, err error, in []byte, encode func(*SignedPacket) []byte) {
	t.Helper()
	if err != nil {
		if p != nil {
			t.Fatalf("got a packet and an error %v", err)
		}
		if !classified(err) {
			t.Fatalf("error %q wraps none of the documented errors", err)
		}
		return
	}
	if got := encode(p); !bytes.Equal(got, in) {
		t.Fatalf("re-encoding gives %x, want the input %x", got, in)
	}
	if err := p.Verify(); err != nil {
		t.Fatalf("parsed packet does not verify: %v", err)
	}
	if _, err := p.Records(); err != nil {
		t.Fatalf("Records of a parsed packet: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, b := range seedPackets(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		checkParsed(t, p, err, b, (*SignedPacket).Bytes)
	})
}

func FuzzParseRelayBody(f *testing.F) {
	pub := keySigner{testKey(1)}.PublicKey()
	for _, b := range seedPackets(f) {
		if len(b) >= ed25519.PublicKeySize {
			f.Add(b[ed25519.PublicKeySize:])
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParseRelayBody(pub, body)
		checkParsed(t, p, err, body, (*SignedPacket).RelayBody)
	})
}

// FuzzParseSignedDNS signs whatever DNS message the fuzzer makes, so that
// Parse gets past the signature and exercises the DNS parser and Records.
func FuzzParseSignedDNS(f *testing.F) {
	for _, b := range seedPackets(f) {
		if len(b) >= headerSize {
			f.Add(uint64(1), b[headerSize:])
		}
	}
	priv := testKey(1)
	f.Fuzz(func(t *testing.T, ts uint64, dns []byte) {
		in := signRaw(priv, ts, dns).Bytes()
		p, err := Parse(in)
		checkParsed(t, p, err, in, (*SignedPacket).Bytes)
		switch {
		case len(dns) > MaxDNSSize:
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%d-byte DNS message: got %v, want ErrTooLarge", len(dns), err)
			}
		case err != nil && !errors.Is(err, ErrMalformed):
			t.Fatalf("validly signed packet refused with %v, want ErrMalformed or success", err)
		case err == nil && p.Timestamp != ts:
			t.Fatalf("Timestamp = %d, want %d", p.Timestamp, ts)
		}
		if errors.Is(err, signer.ErrBadSignature) {
			t.Fatalf("validly signed packet refused for its signature: %v", err)
		}
	})
}

// FuzzSignRoundTrip signs fuzzed records: Sign either refuses them with a
// documented error, or makes a packet that Parse accepts and whose records
// come back as given, names in relative form.
func FuzzSignRoundTrip(f *testing.F) {
	f.Add("_iroh", "relay=https://relay.example/", "", uint32(30), int64(1731622400123456))
	f.Add("@", "a", "b", uint32(0), int64(0))
	f.Add("a..b", "", "", uint32(1), int64(-1))
	f.Add("x.tkrq8zmwb8a3m9k15csu3q17qmfgqnp9dskbrg9uq1rydpyxp7qy.", "v", "w", uint32(1<<31), int64(1))
	s := keySigner{testKey(1)}
	origin := id52.EncodeZBase32(s.PublicKey())
	f.Fuzz(func(t *testing.T, name, txt1, txt2 string, ttl uint32, micros int64) {
		txt := []string{txt1}
		if txt2 != "" {
			txt = append(txt, txt2)
		}
		in := []Record{{Name: name, TXT: txt, TTL: ttl}, {Name: name, TXT: txt, TTL: ttl}}
		p, err := Sign(t.Context(), s, in, time.UnixMicro(micros))
		if err != nil {
			if micros >= 0 && !classified(err) {
				t.Fatalf("Sign error %q wraps none of the documented errors", err)
			}
			return
		}
		if micros < 0 {
			t.Fatalf("Sign accepted a time before 1970: %d µs", micros)
		}
		q, err := Parse(p.Bytes())
		if err != nil {
			t.Fatalf("Parse of a signed packet: %v", err)
		}
		got, err := q.Records()
		if err != nil {
			t.Fatal(err)
		}
		abs, err := absoluteName(origin, name)
		if err != nil {
			t.Fatalf("Sign accepted name %q that absoluteName refuses: %v", name, err)
		}
		want := Record{Name: relativeName(origin, abs), TXT: txt, TTL: ttl}
		if !reflect.DeepEqual(got, []Record{want, want}) {
			t.Fatalf("Records() = %+v, want twice %+v", got, want)
		}
	})
}

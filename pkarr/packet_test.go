package pkarr

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/signer"
)

// testTime is a fixed publication time with sub-microsecond digits, which
// the timestamp must drop.
var testTime = time.Date(2024, 11, 14, 22, 13, 20, 123456789, time.UTC)

func signTest(t *testing.T, records []Record) *SignedPacket {
	t.Helper()
	p, err := Sign(t.Context(), keySigner{testKey(1)}, records, testTime)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSignParseRoundTrip(t *testing.T) {
	s := keySigner{testKey(1)}
	records := irohRecords()
	p := signTest(t, records)

	if !bytes.Equal(p.PublicKey, s.PublicKey()) {
		t.Errorf("PublicKey = %x, want the signer's %x", p.PublicKey, s.PublicKey())
	}
	if want := uint64(testTime.UnixMicro()); p.Timestamp != want {
		t.Errorf("Timestamp = %d, want %d", p.Timestamp, want)
	}
	if want := testTime.Truncate(time.Microsecond); !p.Time().Equal(want) {
		t.Errorf("Time() = %v, want %v", p.Time(), want)
	}
	if !ed25519.Verify(p.PublicKey, []byte("3:seqi1731622400123456e1:v"+strconv.Itoa(len(p.DNS))+":"+string(p.DNS)), p.Signature) {
		t.Error("signature does not verify over the BEP 44 signable spelled out by hand")
	}

	fromBytes, err := Parse(p.Bytes())
	if err != nil {
		t.Fatalf("Parse(Bytes()): %v", err)
	}
	fromBody, err := ParseRelayBody(p.PublicKey, p.RelayBody())
	if err != nil {
		t.Fatalf("ParseRelayBody(RelayBody()): %v", err)
	}
	for name, q := range map[string]*SignedPacket{"Parse": fromBytes, "ParseRelayBody": fromBody} {
		if !reflect.DeepEqual(q, p) {
			t.Errorf("%s returned %+v, want %+v", name, q, p)
		}
		got, err := q.Records()
		if err != nil {
			t.Fatalf("%s: Records: %v", name, err)
		}
		if !reflect.DeepEqual(got, records) {
			t.Errorf("%s: Records() = %+v, want %+v", name, got, records)
		}
	}
}

func TestBytesLayout(t *testing.T) {
	p := signTest(t, irohRecords())
	b := p.Bytes()
	if len(b) != 104+len(p.DNS) {
		t.Fatalf("len(Bytes()) = %d, want 104 + %d", len(b), len(p.DNS))
	}
	if !bytes.Equal(b[:32], p.PublicKey) {
		t.Error("Bytes()[0:32] is not the public key")
	}
	if !bytes.Equal(b[32:96], p.Signature) {
		t.Error("Bytes()[32:96] is not the signature")
	}
	if got := binary.BigEndian.Uint64(b[96:104]); got != p.Timestamp {
		t.Errorf("Bytes()[96:104] = %d big-endian, want the timestamp %d", got, p.Timestamp)
	}
	if !bytes.Equal(b[104:], p.DNS) {
		t.Error("Bytes()[104:] is not the DNS message")
	}
	if !bytes.Equal(p.RelayBody(), b[32:]) {
		t.Error("RelayBody() is not Bytes() without the public key")
	}
}

// TestGolden pins the encoding of a fixed packet. The DNS message is
// assembled here byte by byte from RFC 1035, as pkarr's encoder writes it
// (a response with ID 0, names compressed), independently of dnsmessage;
// the full packet is this package's own output, kept to catch changes.
func TestGolden(t *testing.T) {
	p := signTest(t, irohRecords())
	origin := p.Origin()
	if origin != "tkrq8zmwb8a3m9k15csu3q17qmfgqnp9dskbrg9uq1rydpyxp7qy" {
		t.Fatalf("Origin() = %s", origin)
	}

	label := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	txt := func(s string) []byte {
		rdata := label(s)
		return append([]byte{0, 16, 0, 1, 0, 0, 0, 30, 0, byte(len(rdata))}, rdata...) // TXT IN TTL=30 RDLENGTH
	}
	var want []byte
	want = append(want, 0, 0, 0x80, 0, 0, 0, 0, 2, 0, 0, 0, 0) // ID 0, QR, 2 answers
	want = append(want, label("_iroh")...)
	want = append(want, label(origin)...)
	want = append(want, 0)
	want = append(want, txt("relay=https://relay.example/")...)
	want = append(want, 0xc0, 12) // pointer to the first name, at offset 12
	want = append(want, txt("addr=1.2.3.4:5678")...)
	if !bytes.Equal(p.DNS, want) {
		t.Fatalf("DNS =\n%x\nwant\n%x", p.DNS, want)
	}

	const golden = "" +
		"8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c" + // public key
		"c5f9dfc6089f0649fa45fdb60946b0ad79f6c7038f71fd06ed9ccf940faa72d3" +
		"382361f036292723709fbac3210fc46613841e6048761069aef16f8114682b0f" + // signature
		"000626e6c20b6240" + // timestamp
		"000080000000000200000000055f69726f6834746b7271387a6d77623861336d" +
		"396b313563737533713137716d6667716e703964736b62726739757131727964" +
		"7079787037717900001000010000001e001d1c72656c61793d68747470733a2f" +
		"2f72656c61792e6578616d706c652fc00c001000010000001e00121161646472" +
		"3d312e322e332e343a35363738" // DNS
	if got := hex.EncodeToString(p.Bytes()); got != golden {
		t.Fatalf("Bytes() =\n%s\nwant\n%s", got, golden)
	}
}

func TestTamper(t *testing.T) {
	p := signTest(t, irohRecords())
	b := p.Bytes()
	part := func(i int) string {
		switch {
		case i < 32:
			return "public key"
		case i < 96:
			return "signature"
		case i < 104:
			return "timestamp"
		}
		return "DNS"
	}
	for i := range b {
		bad := bytes.Clone(b)
		bad[i] ^= 0x01
		_, err := Parse(bad)
		if !errors.Is(err, signer.ErrBadSignature) {
			t.Fatalf("Parse with byte %d (%s) flipped: got %v, want an error wrapping signer.ErrBadSignature", i, part(i), err)
		}
		if i >= 32 {
			_, err = ParseRelayBody(p.PublicKey, bad[32:])
			if !errors.Is(err, signer.ErrBadSignature) {
				t.Fatalf("ParseRelayBody with byte %d (%s) flipped: got %v, want an error wrapping signer.ErrBadSignature", i, part(i), err)
			}
		}
	}

	_, err := Parse(b[:len(b)-1])
	wantErr(t, err, signer.ErrBadSignature)
	if !strings.Contains(err.Error(), "altered or signed by another key") {
		t.Errorf("error %q does not say what went wrong", err)
	}

	other := keySigner{testKey(2)}.PublicKey()
	_, err = ParseRelayBody(other, p.RelayBody())
	wantErr(t, err, signer.ErrBadSignature)
}

func TestParseTruncated(t *testing.T) {
	b := signTest(t, irohRecords()).Bytes()
	for n := range 104 {
		_, err := Parse(b[:n])
		wantErr(t, err, ErrMalformed)
		if !strings.Contains(err.Error(), "shorter than the 104-byte header") {
			t.Fatalf("Parse of %d bytes: error %q does not say the packet is short", n, err)
		}
	}
	pub := b[:32]
	for n := range 72 {
		_, err := ParseRelayBody(pub, b[32:32+n])
		wantErr(t, err, ErrMalformed)
	}

	// A header and no DNS message at all is too short for a DNS header.
	priv := testKey(1)
	for _, dns := range [][]byte{nil, signTest(t, irohRecords()).DNS[:20]} {
		p := signRaw(priv, 1, dns)
		_, err := Parse(p.Bytes())
		wantErr(t, err, ErrMalformed)
		if errors.Is(err, signer.ErrBadSignature) {
			t.Fatalf("a validly signed but cut DNS message gave %q, blaming the signature", err)
		}
	}
}

func TestSizeLimits(t *testing.T) {
	priv := testKey(1)
	pub := priv.Public().(ed25519.PublicKey)

	_, err := Parse(make([]byte, MaxPacketSize+1))
	wantErr(t, err, ErrTooLarge)
	if !strings.Contains(err.Error(), "packet is 1105 bytes, over the 1104-byte limit") {
		t.Errorf("error %q does not give the size and the limit", err)
	}
	_, err = ParseRelayBody(pub, make([]byte, MaxRelayBodySize+1))
	wantErr(t, err, ErrTooLarge)
	if !strings.Contains(err.Error(), "relay body is 1073 bytes, over the 1072-byte limit") {
		t.Errorf("error %q does not give the size and the limit", err)
	}

	// A validly signed 1001-byte DNS message, in a packet assembled by hand.
	big := signRaw(priv, 1, padDNS(t, MaxDNSSize+1))
	wantErr(t, big.Verify(), ErrTooLarge)
	_, err = Parse(big.Bytes())
	wantErr(t, err, ErrTooLarge)
	_, err = ParseRelayBody(pub, big.RelayBody())
	wantErr(t, err, ErrTooLarge)

	// Exactly at the limit is fine.
	max := signRaw(priv, 1, padDNS(t, MaxDNSSize))
	if _, err := Parse(max.Bytes()); err != nil {
		t.Fatalf("Parse of a %d-byte packet: %v", len(max.Bytes()), err)
	}
	if len(max.Bytes()) != MaxPacketSize || len(max.RelayBody()) != MaxRelayBodySize {
		t.Fatalf("packet of a %d-byte DNS message is %d bytes, relay body %d; want %d and %d",
			MaxDNSSize, len(max.Bytes()), len(max.RelayBody()), MaxPacketSize, MaxRelayBodySize)
	}
}

// padDNS returns a valid DNS message of exactly n bytes: one TXT record
// whose strings fill the space.
func padDNS(t *testing.T, n int) []byte {
	t.Helper()
	const origin = "tkrq8zmwb8a3m9k15csu3q17qmfgqnp9dskbrg9uq1rydpyxp7qy"
	fill := func(size int) []string {
		var ss []string
		for ; size > 0; size -= 256 {
			ss = append(ss, strings.Repeat("x", min(size, 256)-1))
		}
		return ss
	}
	base, err := encodeDNS(origin, []Record{{Name: "pad", TXT: []string{""}}})
	if err != nil {
		t.Fatal(err)
	}
	// Each string costs one length byte; the base already holds one.
	msg, err := encodeDNS(origin, []Record{{Name: "pad", TXT: fill(n - len(base) + 1)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(msg) != n {
		t.Fatalf("padDNS(%d) made %d bytes", n, len(msg))
	}
	return msg
}

func TestSignSizeLimit(t *testing.T) {
	s := keySigner{testKey(1)}
	origin := id52.EncodeZBase32(s.PublicKey())
	records := func(extra int) []Record {
		base, err := encodeDNS(origin, []Record{{Name: "pad", TXT: []string{""}}})
		if err != nil {
			t.Fatal(err)
		}
		var ss []string
		for n := MaxDNSSize - len(base) + 1 + extra; n > 0; n -= 256 {
			ss = append(ss, strings.Repeat("y", min(n, 256)-1))
		}
		return []Record{{Name: "pad", TXT: ss}}
	}

	p, err := Sign(t.Context(), s, records(0), testTime)
	if err != nil {
		t.Fatalf("Sign of a %d-byte DNS message: %v", MaxDNSSize, err)
	}
	if len(p.DNS) != MaxDNSSize {
		t.Fatalf("DNS message is %d bytes, want exactly %d", len(p.DNS), MaxDNSSize)
	}

	_, err = Sign(t.Context(), s, records(1), testTime)
	wantErr(t, err, ErrTooLarge)
	if !strings.Contains(err.Error(), "1001-byte DNS message, over the 1000-byte limit") {
		t.Errorf("error %q does not give the size and the limit", err)
	}
}

func TestSignInvalidRecords(t *testing.T) {
	s := keySigner{testKey(1)}
	long := strings.Repeat("a", 64)
	tests := []struct {
		name   string
		record Record
		msg    string
	}{
		{"no strings", Record{Name: "_iroh"}, "no TXT strings"},
		{"long string", Record{Name: "_iroh", TXT: []string{"ok", strings.Repeat("s", 256)}}, "TXT string 1 is 256 bytes"},
		{"long label", Record{Name: long, TXT: []string{"v"}}, "64-byte label"},
		{"empty label", Record{Name: "a..b", TXT: []string{"v"}}, "empty label"},
		{"leading dot", Record{Name: ".a", TXT: []string{"v"}}, "empty label"},
		{"@ label", Record{Name: "a.@", TXT: []string{"v"}}, `"@" as a label`},
		{"long name", Record{Name: strings.Repeat("abcdefg.", 26) + "z", TXT: []string{"v"}}, "over DNS's 254-byte limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Sign(t.Context(), s, []Record{{Name: "@", TXT: []string{"fine"}}, tt.record}, testTime)
			wantErr(t, err, ErrInvalidRecord)
			if !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), "record 1") {
				t.Errorf("error %q should name record 1 and contain %q", err, tt.msg)
			}
		})
	}

	// The limits themselves are allowed.
	ok := []Record{
		{Name: strings.Repeat("a", 63), TXT: []string{strings.Repeat("s", 255)}},
		{Name: "@", TXT: []string{""}},
	}
	if _, err := Sign(t.Context(), s, ok, testTime); err != nil {
		t.Fatalf("Sign at DNS's limits: %v", err)
	}
}

// failingSigner returns err from Sign, or sig if err is nil.
type failingSigner struct {
	pub ed25519.PublicKey
	sig []byte
	err error
}

func (s failingSigner) PublicKey() ed25519.PublicKey { return s.pub }

func (s failingSigner) Sign(context.Context, []byte) ([]byte, error) { return s.sig, s.err }

func TestSignErrors(t *testing.T) {
	good := keySigner{testKey(1)}
	records := irohRecords()

	t.Run("signer unavailable", func(t *testing.T) {
		s := failingSigner{pub: good.PublicKey(), err: signer.ErrUnavailable}
		_, err := Sign(t.Context(), s, records, testTime)
		wantErr(t, err, signer.ErrUnavailable)
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := Sign(ctx, good, records, testTime)
		wantErr(t, err, context.Canceled)
	})
	t.Run("wrong signature", func(t *testing.T) {
		sig := ed25519.Sign(testKey(2), []byte("something else"))
		s := failingSigner{pub: good.PublicKey(), sig: sig}
		_, err := Sign(t.Context(), s, records, testTime)
		wantErr(t, err, signer.ErrBadSignature)
	})
	t.Run("short signature", func(t *testing.T) {
		s := failingSigner{pub: good.PublicKey(), sig: make([]byte, 10)}
		_, err := Sign(t.Context(), s, records, testTime)
		wantErr(t, err, signer.ErrBadSignature)
	})
	t.Run("bad key", func(t *testing.T) {
		s := failingSigner{pub: make([]byte, 31)}
		_, err := Sign(t.Context(), s, records, testTime)
		wantErr(t, err, signer.ErrBadKey)
	})
	t.Run("zero time", func(t *testing.T) {
		_, err := Sign(t.Context(), good, records, time.Time{})
		if err == nil || !strings.Contains(err.Error(), "time.Now()") {
			t.Fatalf("got %v, want an error that says to pass a time", err)
		}
	})
	t.Run("before 1970", func(t *testing.T) {
		_, err := Sign(t.Context(), good, records, time.Unix(-1, 0))
		if err == nil || !strings.Contains(err.Error(), "before the Unix epoch") {
			t.Fatalf("got %v, want an error about the epoch", err)
		}
	})
}

func TestVerifyHandAssembled(t *testing.T) {
	p := signTest(t, irohRecords())

	q := *p
	q.PublicKey = q.PublicKey[:31]
	wantErr(t, q.Verify(), signer.ErrBadKey)
	_, err := q.Records()
	wantErr(t, err, signer.ErrBadKey)

	q = *p
	q.Signature = q.Signature[:63]
	wantErr(t, q.Verify(), signer.ErrBadSignature)

	q = *p
	q.Timestamp++
	wantErr(t, q.Verify(), signer.ErrBadSignature)

	_, err = ParseRelayBody(p.PublicKey[:31], p.RelayBody())
	wantErr(t, err, signer.ErrBadKey)
}

func TestParseDoesNotAlias(t *testing.T) {
	p := signTest(t, irohRecords())
	b := p.Bytes()
	q, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 0
	}
	if err := q.Verify(); err != nil {
		t.Fatalf("packet changed when the input buffer was overwritten: %v", err)
	}
}

func TestNames(t *testing.T) {
	const o = "tkrq8zmwb8a3m9k15csu3q17qmfgqnp9dskbrg9uq1rydpyxp7qy"
	upper := strings.ToUpper(o)
	for _, tt := range []struct{ in, abs, rel string }{
		{"_iroh", "_iroh." + o + ".", "_iroh"},
		{"_iroh.", "_iroh." + o + ".", "_iroh"},
		{"@", o + ".", "@"},
		{"", o + ".", "@"},
		{".", o + ".", "@"},
		{o, o + ".", "@"},
		{"a.b", "a.b." + o + ".", "a.b"},
		{"_iroh." + o, "_iroh." + o + ".", "_iroh"},
		{"_iroh." + o + ".", "_iroh." + o + ".", "_iroh"},
		{"_iroh." + upper, "_iroh." + upper + ".", "_iroh"},
		{"x" + o, "x" + o + "." + o + ".", "x" + o},
	} {
		abs, err := absoluteName(o, tt.in)
		if err != nil {
			t.Errorf("absoluteName(%q): %v", tt.in, err)
			continue
		}
		if abs != tt.abs {
			t.Errorf("absoluteName(%q) = %q, want %q", tt.in, abs, tt.abs)
		}
		if rel := relativeName(o, abs); rel != tt.rel {
			t.Errorf("relativeName(%q) = %q, want %q", abs, rel, tt.rel)
		}
	}
	// Names from elsewhere stay absolute.
	for _, n := range []string{"example.com.", ".", "x" + o + "."} {
		if rel := relativeName(o, n); rel != n {
			t.Errorf("relativeName(%q) = %q, want it unchanged", n, rel)
		}
	}
}

// TestParseForeignMessages parses messages pkarr allows but Sign does not
// write: uncompressed names, other record types, names outside the zone.
func TestParseForeignMessages(t *testing.T) {
	priv := testKey(1)
	origin := id52.EncodeZBase32(priv.Public().(ed25519.PublicKey))
	name := func(s string) dnsmessage.Name { return dnsmessage.MustNewName(s) }
	build := func(compress bool) []byte {
		b := dnsmessage.NewBuilder(nil, dnsmessage.Header{Response: true})
		if compress {
			b.EnableCompression()
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(b.StartAnswers())
		must(b.AResource(dnsmessage.ResourceHeader{Name: name(origin + "."), Class: dnsmessage.ClassINET, TTL: 60},
			dnsmessage.AResource{A: [4]byte{192, 0, 2, 1}}))
		must(b.TXTResource(dnsmessage.ResourceHeader{Name: name("_iroh." + origin + "."), Class: dnsmessage.ClassINET, TTL: 30},
			dnsmessage.TXTResource{TXT: []string{"relay=https://relay.example/", "second string"}}))
		must(b.CNAMEResource(dnsmessage.ResourceHeader{Name: name("www." + origin + "."), Class: dnsmessage.ClassINET, TTL: 60},
			dnsmessage.CNAMEResource{CNAME: name(origin + ".")}))
		must(b.TXTResource(dnsmessage.ResourceHeader{Name: name("elsewhere.example."), Class: dnsmessage.ClassINET, TTL: 5},
			dnsmessage.TXTResource{TXT: []string{"v"}}))
		must(b.TXTResource(dnsmessage.ResourceHeader{Name: name(origin + "."), Class: dnsmessage.ClassINET, TTL: 7},
			dnsmessage.TXTResource{TXT: []string{"apex"}}))
		msg, err := b.Finish()
		must(err)
		return msg
	}
	want := []Record{
		{Name: "_iroh", TXT: []string{"relay=https://relay.example/", "second string"}, TTL: 30},
		{Name: "elsewhere.example.", TXT: []string{"v"}, TTL: 5},
		{Name: "@", TXT: []string{"apex"}, TTL: 7},
	}

	compressed, uncompressed := build(true), build(false)
	if len(uncompressed) <= len(compressed) {
		t.Fatalf("uncompressed message (%d bytes) is not larger than compressed (%d)", len(uncompressed), len(compressed))
	}
	for _, dns := range [][]byte{compressed, uncompressed} {
		p, err := Parse(signRaw(priv, 1, dns).Bytes())
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.Records()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Records() = %+v, want %+v", got, want)
		}
	}
}

func TestSignCompresses(t *testing.T) {
	one := signTest(t, irohRecords()[:1])
	two := signTest(t, irohRecords())
	// The second record's owner name must cost a 2-byte pointer, not the
	// 60 bytes of _iroh.<z32-key>.
	second := len(two.DNS) - len(one.DNS)
	if want := 2 + 10 + 1 + len("addr=1.2.3.4:5678"); second != want {
		t.Fatalf("second record takes %d bytes, want %d with a compressed name", second, want)
	}
}

func TestRecordsEmpty(t *testing.T) {
	p := signTest(t, nil)
	got, err := p.Records()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("Records() of an empty packet = %+v", got)
	}
	if _, err := Parse(p.Bytes()); err != nil {
		t.Fatalf("Parse of an empty packet: %v", err)
	}
}

package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/pkarr"
)

func newPkarrCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pkarr",
		Short: "Sign and check pkarr packets: DNS records a key publishes about itself",
		Long: `A pkarr packet is a small set of DNS records under the z-base-32 form of an
Ed25519 key, signed by that key, which relays and the Mainline DHT store and
serve. iroh publishes where an endpoint can be reached this way, one TXT
record per attribute under _iroh:

  _iroh.<z-base-32 key>.  30  IN  TXT  "relay=https://relay.example/"
  _iroh.<z-base-32 key>.  30  IN  TXT  "addr=203.0.113.7:4433"

Files hold the canonical packet: the 32-byte public key, the 64-byte
signature, the 8-byte timestamp (microseconds, big-endian) and the DNS
message, at most 1104 bytes in all.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newPkarrSignCmd(), newPkarrVerifyCmd())
	return cmd
}

func newPkarrSignCmd() *cobra.Command {
	var (
		txt  []string
		name string
		ttl  uint32
		out  string
	)
	cmd := &cobra.Command{
		Use:   "sign --key KEY --txt K=V [--txt K=V ...] [--name _iroh] [--ttl 30] --out FILE",
		Short: "Sign TXT records as a pkarr packet, timestamped now",
		Long: `Sign makes one TXT record under --name for each --txt, signs them with the
key as a pkarr packet timestamped now, and writes the packet to --out ("-"
for standard output). Relays and the DHT keep the packet with the latest
timestamp, so re-sign to publish changes.

--name is relative to the key: "_iroh" is _iroh.<z-base-32 key>., and "@"
is the key's own name. A --txt value is one string of at most 255 bytes,
commas included. The packet's DNS message may be at most 1000 bytes.

To publish, PUT the packet without its first 32 bytes to
https://<relay>/<z-base-32 key>; frostd keys show prints the z-base-32 key.

` + keyHelp,
		Example: `  frostd pkarr sign --key i66fo538 --txt 'relay=https://relay.example/' \
      --txt 'addr=203.0.113.7:4433' --out node.pkarr
  frostd pkarr verify node.pkarr`,
		Args:                  cobra.NoArgs,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(txt) == 0 {
				return fmt.Errorf("--txt is required: give each record as --txt 'relay=https://relay.example/', repeating --txt for more")
			}
			if out == "" {
				return fmt.Errorf("--out is required: the file to write the packet to, or - for standard output")
			}
			s, err := openSigner(cmd)
			if err != nil {
				return err
			}
			records := make([]pkarr.Record, len(txt))
			for i, v := range txt {
				records[i] = pkarr.Record{Name: name, TXT: []string{v}, TTL: ttl}
			}
			p, err := pkarr.Sign(cmd.Context(), s, records, time.Now())
			if err != nil {
				return err
			}
			b := p.Bytes()
			if out == "-" {
				_, err = cmd.OutOrStdout().Write(b)
				return err
			}
			if err := os.WriteFile(out, b, 0o644); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "frostd: wrote a %d-byte packet for %s, timestamp %d, to %s\n", len(b), p.Origin(), p.Timestamp, out)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&txt, "txt", nil, "a TXT record's text, such as relay=URL or addr=IP:PORT (repeat for more records)")
	cmd.Flags().StringVar(&name, "name", pkarr.IrohName, `the records' name, relative to the key ("@" for the key itself)`)
	cmd.Flags().Uint32Var(&ttl, "ttl", 30, "how long resolvers may cache the records, in seconds")
	cmd.Flags().StringVar(&out, "out", "", "write the packet to `FILE` (- for standard output)")
	addSignerFlags(cmd)
	return cmd
}

func newPkarrVerifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify FILE",
		Short: "Check a pkarr packet and print its key and records: exit 0 if valid, 1 if not",
		Long: `Verify reads a canonical pkarr packet from FILE ("-" for standard input),
checks its sizes, its signature and its DNS message, and, when all pass,
prints the signer's key in z-base-32 (the name relays and DNS use) and as
an ID52, the timestamp, and the TXT records in zone-file form:

  z-base-32: <52 characters>
  id52: <52 characters>
  timestamp: 2025-01-02T03:04:05.123456Z (1735787045123456)
  _iroh.<z-base-32>. 30 IN TXT "relay=https://relay.example/"

If the packet is invalid, it prints the reason on standard error and exits
1. It does not judge the timestamp: whether a packet is newer than one seen
before is for the caller to compare.`,
		Example:               `  frostd pkarr verify node.pkarr`,
		DisableFlagsInUseLine: true,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("pkarr verify takes one packet file (or - for standard input), got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := readPacket(cmd, args[0])
			if err != nil {
				return err
			}
			p, err := pkarr.Parse(b)
			if err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "frostd: invalid: %v\n", err)
				return ExitError{Code: 1}
			}
			records, err := p.Records()
			if err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "frostd: invalid: %v\n", err)
				return ExitError{Code: 1}
			}
			var w strings.Builder
			fmt.Fprintf(&w, "z-base-32: %s\nid52: %s\n", p.Origin(), id52.Encode(p.PublicKey))
			fmt.Fprintf(&w, "timestamp: %s (%d)\n", p.Time().UTC().Format(time.RFC3339Nano), p.Timestamp)
			for _, r := range records {
				owner := r.Name
				switch {
				case owner == "@":
					owner = p.Origin() + "."
				case !strings.HasSuffix(owner, "."):
					owner += "." + p.Origin() + "."
				}
				fmt.Fprintf(&w, "%s %d IN TXT", owner, r.TTL)
				for _, s := range r.TXT {
					w.WriteString(" " + strconv.Quote(s))
				}
				w.WriteString("\n")
			}
			_, err = io.WriteString(cmd.OutOrStdout(), w.String())
			return err
		},
	}
}

// readPacket reads a packet file, or standard input for "-", refusing
// anything far larger than a packet.
func readPacket(cmd *cobra.Command, path string) ([]byte, error) {
	r, name := cmd.InOrStdin(), "standard input"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r, name = f, path
	}
	// One byte over the limit is enough for Parse to say it is too large.
	b, err := io.ReadAll(io.LimitReader(r, pkarr.MaxPacketSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the packet from %s: %w", name, err)
	}
	return b, nil
}

package cli

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/frostd/frostd/pki"
)

func newCertsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Make the cluster CA and the certificates of participants, coordinators and clients",
		Long: `Every connection in a frostd cluster is mutual TLS 1.3 between holders of
certificates of one cluster CA, and each certificate says what its holder is:

  participant N   holds key share N; answers coordinators only
  coordinator     gathers shares into signatures; serves clients
  client          may ask the coordinator for signatures

Make the CA once with "certs init", then one certificate per node with
"certs issue". Keep ca.key on the machine that issues certificates (offline,
ideally); nodes need only the directory "certs issue" writes for them.`,
		Example: `  frostd certs init --dir ./ca
  frostd certs issue --dir ./ca --role participant --name p1 --id 1 --host p1.internal
  frostd certs issue --dir ./ca --role coordinator --name coord --host coord.internal
  frostd certs issue --dir ./ca --role client --name billing`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newCertsInitCmd(), newCertsIssueCmd())
	return cmd
}

func newCertsInitCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "init --dir DIR",
		Short: "Make a new cluster CA: DIR/ca.crt and DIR/ca.key",
		Long: `Init makes a new cluster certificate authority with an Ed25519 key, valid for
ten years: DIR/ca.crt, its certificate, which every node gets a copy of,
and DIR/ca.key (mode 0600), which signs certificates and must stay secret.
DIR is created with mode 0700 if needed. Init never overwrites a CA: every
certificate it issued would stop working.

It prints the paths of the two files.`,
		Example:               `  frostd certs init --dir ./ca`,
		Args:                  cobra.NoArgs,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return fmt.Errorf("--dir is required: the directory to keep the cluster CA in")
			}
			ca, err := pki.InitCA(dir)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "frostd: made a cluster CA valid until %s; keep %s secret\n",
				ca.NotAfter.UTC().Format(time.DateOnly), filepath.Join(dir, pki.CAKeyFile))
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n%s\n", filepath.Join(dir, pki.CACertFile), filepath.Join(dir, pki.CAKeyFile))
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory of the cluster CA (created if needed)")
	return cmd
}

func newCertsIssueCmd() *cobra.Command {
	var (
		dir, name, role, out, validFor string
		id                             uint16
		hosts                          []string
	)
	cmd := &cobra.Command{
		Use:   "issue --dir DIR --name NAME --role participant|coordinator|client [--id N] [--host H ...] [--out OUT]",
		Short: "Issue a node certificate signed by the cluster CA",
		Long: `Issue makes an Ed25519 key and a certificate signed by the CA in --dir for the
node called --name, and writes into --out (default DIR/NAME, created with
mode 0700):

  NAME.crt   the certificate
  NAME.key   its private key, mode 0600
  ca.crt     a copy of the cluster CA certificate, if --out has none

which is everything the node needs: copy that directory to it. Issue never
overwrites a file, and refuses to write next to another cluster's ca.crt.

The certificate carries the node's identity as a URI, which servers read to
decide what a peer may do:

  --role participant --id N   frostd://participant/N  (N is its key share's id, 1..65535)
  --role coordinator          frostd://coordinator/NAME
  --role client               frostd://client/NAME

NAME is 1 to 64 letters, digits, '.', '_' or '-'. The certificate is valid
for localhost, 127.0.0.1 and ::1, plus each --host (a DNS name or an IP
address the node is reached at; repeat --host or separate with commas).`,
		Example: `  frostd certs issue --dir ./ca --role participant --name p3 --id 3 --host p3.internal
  frostd certs issue --dir ./ca --role coordinator --name coord --host coord.internal,10.0.0.5
  frostd certs issue --dir ./ca --role client --name billing --valid-for 90d --out ./billing`,
		Args:                  cobra.NoArgs,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case dir == "":
				return fmt.Errorf("--dir is required: the directory of the cluster CA (made by frostd certs init)")
			case name == "":
				return fmt.Errorf("--name is required: what to call the node, such as p3, coord or billing")
			case role == "":
				return fmt.Errorf("--role is required: participant, coordinator or client")
			}
			r, err := pki.ParseRole(role)
			if err != nil {
				return err
			}
			if r == pki.RoleParticipant && !cmd.Flags().Changed("id") {
				return fmt.Errorf("--id is required for a participant: the id of its key share, 1 to 65535")
			}
			if r != pki.RoleParticipant && cmd.Flags().Changed("id") {
				return fmt.Errorf("--id is for participants only; a %s has no id", r)
			}
			validity, err := parseValidity(validFor)
			if err != nil {
				return err
			}
			if out == "" {
				out = filepath.Join(dir, name)
			}
			files, err := pki.Issue(dir, name, r, out, pki.IssueOptions{ParticipantID: id, Hosts: hosts, Validity: validity})
			if err != nil {
				return err
			}
			who, err := files.Identity()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "frostd: issued a certificate for %s (%s); copy %s to the node\n", who, who.URI(), out)
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n%s\n%s\n", files.CA, files.Cert, files.Key)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "directory of the cluster CA")
	f.StringVar(&name, "name", "", "the node's name")
	f.StringVar(&role, "role", "", "participant, coordinator or client")
	f.Uint16Var(&id, "id", 0, "a participant's id in the group, 1 to 65535")
	f.StringSliceVar(&hosts, "host", nil, "a DNS name or IP address the node is reached at (repeatable)")
	f.StringVar(&out, "out", "", "directory to write the node's files to (default DIR/NAME)")
	f.StringVar(&validFor, "valid-for", "365d", "how long the certificate is valid: days such as 90d, or a duration such as 12h")
	return cmd
}

// parseValidity reads a number of days ("90d") or a Go duration ("12h").
func parseValidity(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("--valid-for %q: give a positive number of days such as 90d, or a duration such as 12h", s)
}

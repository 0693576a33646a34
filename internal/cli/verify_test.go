package cli_test

import (
	"strings"
	"testing"
)

func TestVerifyErrors(t *testing.T) {
	isolate(t)
	const id = "0eggffvjpo8bs7bgrkceeiu0j5ju9lhgjeigqnotri3684il66s0"
	sig := strings.Repeat("ab", 64)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no id52", []string{"verify", "--sig", sig}, "--id52 is required"},
		{"no sig", []string{"verify", "--id52", id}, "--sig is required"},
		{"short id52", []string{"verify", "--id52", id[:51], "--sig", sig}, "--id52: ID52"},
		{"bad id52 char", []string{"verify", "--id52", "w" + id[1:], "--sig", sig}, "character 'w' at position 1"},
		{"z-base-32 id52", []string{"verify", "--id52", "yqooxx9u3aemh8mo5wcqq16yufu6jitouq1o4za751dger1igghy", "--sig", sig}, "valid z-base-32"},
		{"short sig", []string{"verify", "--id52", id, "--sig", sig[:126]}, "--sig is 126 characters, want 128"},
		{"non-hex sig", []string{"verify", "--id52", id, "--sig", sig[:5] + "g" + sig[6:]}, "--sig: character 'g' at position 6 is not a hex digit"},
		{"missing --in", []string{"verify", "--id52", id, "--sig", sig, "--in", "/nonexistent/msg"}, "--in: open /nonexistent/msg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectFailure(t, run(t, "m", tt.args...), tt.want)
		})
	}
}

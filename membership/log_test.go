package membership

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestParseMemberlistLine(t *testing.T) {
	for _, tc := range []struct {
		line  string
		level slog.Level
		msg   string
	}{
		{"[DEBUG] memberlist: Stream connection from=127.0.0.1:5\n", slog.LevelDebug, "Stream connection from=127.0.0.1:5"},
		{"[INFO] memberlist: Marking p3 as failed\n", slog.LevelInfo, "Marking p3 as failed"},
		{"[WARN] memberlist: Refuting a suspect message (from: p2)\n", slog.LevelWarn, "Refuting a suspect message (from: p2)"},
		{"[ERR] memberlist: failed to receive: No installed keys could decrypt the message\n", slog.LevelError, "failed to receive: No installed keys could decrypt the message"},
		{"[ERROR] memberlist: x", slog.LevelError, "x"},
		{"[ERR] Failed to shutdown transport: boom", slog.LevelError, "Failed to shutdown transport: boom"},
		{"no level at all\n", slog.LevelInfo, "no level at all"},
		{"[odd] memberlist: kept whole", slog.LevelInfo, "[odd] memberlist: kept whole"},
		{"[unterminated", slog.LevelInfo, "[unterminated"},
	} {
		level, msg := parseMemberlistLine(tc.line)
		if level != tc.level || msg != tc.msg {
			t.Errorf("%q: got %v %q, want %v %q", tc.line, level, msg, tc.level, tc.msg)
		}
	}
}

// memberlist's *log.Logger, as built by memberlistConfig, lands in slog
// with the right level, and below the handler's level is filtered out.
func TestMemberlistLoggerToSlog(t *testing.T) {
	var buf bytes.Buffer
	cfg := Config{Name: "n", Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	ml := cfg.memberlistConfig().Logger
	ml.Printf("[DEBUG] memberlist: hidden")
	ml.Printf("[WARN] memberlist: Binding to public address without encryption!")
	out := buf.String()
	if strings.Contains(out, "hidden") {
		t.Errorf("a [DEBUG] line passed an Info handler: %s", out)
	}
	for _, want := range []string{"level=WARN", `msg="Binding to public address without encryption!"`, "component=memberlist"} {
		if !strings.Contains(out, want) {
			t.Errorf("log output %q lacks %q", out, want)
		}
	}
}

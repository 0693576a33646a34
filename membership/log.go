package membership

import (
	"context"
	"log/slog"
	"strings"
)

// slogWriter turns memberlist's log lines into slog records. memberlist
// logs through a *log.Logger with the level as a prefix,
//
//	[WARN] memberlist: Refuting a suspect message (from: p2)
//
// and log.Logger hands each line to Write in one call, serialised, so one
// Write is one record.
type slogWriter struct {
	log *slog.Logger
}

func (w *slogWriter) Write(p []byte) (int, error) {
	level, msg := parseMemberlistLine(string(p))
	w.log.Log(context.Background(), level, msg)
	return len(p), nil
}

// parseMemberlistLine splits "[LEVEL] memberlist: text\n" into a level and
// "text". A line without a known level is logged at Info, unchanged.
func parseMemberlistLine(line string) (slog.Level, string) {
	line = strings.TrimRight(line, "\r\n")
	level := slog.LevelInfo
	if rest, ok := strings.CutPrefix(line, "["); ok {
		if tag, text, ok := strings.Cut(rest, "]"); ok {
			known := true
			switch tag {
			case "DEBUG", "TRACE":
				level = slog.LevelDebug
			case "INFO":
				level = slog.LevelInfo
			case "WARN":
				level = slog.LevelWarn
			case "ERR", "ERROR":
				level = slog.LevelError
			default:
				known = false
			}
			if known {
				line = strings.TrimPrefix(strings.TrimPrefix(text, " "), "memberlist: ")
			}
		}
	}
	return level, line
}

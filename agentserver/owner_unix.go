//go:build unix

package agentserver

import (
	"io/fs"
	"os"
	"syscall"
)

// ownedByUs reports the owner of fi and whether it is this process's
// effective user.
func ownedByUs(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return -1, false
	}
	return int(st.Uid), int(st.Uid) == os.Geteuid()
}

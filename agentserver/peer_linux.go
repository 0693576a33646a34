package agentserver

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// peerAllowed reports whether the process at the other end of conn may use
// the agent: it must run as our user, or as root, as OpenSSH's ssh-agent
// requires. The socket's directory already keeps others out; this holds
// even if someone loosens its mode.
func peerAllowed(conn net.Conn) (bool, string) {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return true, ""
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return false, fmt.Sprintf("reading the peer's credentials: %v", err)
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return false, fmt.Sprintf("reading the peer's credentials: %v", err)
	}
	if credErr != nil {
		return false, fmt.Sprintf("reading the peer's credentials: %v", credErr)
	}
	if cred.Uid != 0 && int(cred.Uid) != os.Geteuid() {
		return false, fmt.Sprintf("peer runs as user ID %d (process %d), not as us (%d) or root", cred.Uid, cred.Pid, os.Geteuid())
	}
	return true, ""
}

package agentserver

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// maxSocketPath is the longest socket path Listen accepts. sun_path holds
// 108 bytes on Linux and 104 on the BSDs and macOS, with the final NUL.
const maxSocketPath = 103

// listen makes the socket at path as the package comment describes and
// returns its absolute path.
func listen(path string) (string, *net.UnixListener, error) {
	if path == "" {
		return "", nil, errors.New("agentserver: Config.Socket is empty; give the path of the socket to create")
	}
	// Clients find the socket through SSH_AUTH_SOCK from any directory.
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nil, fmt.Errorf("agentserver: socket path %s: %w", path, err)
	}
	if len(abs) > maxSocketPath {
		return "", nil, fmt.Errorf("agentserver: socket path %s is %d bytes, over the %d that Unix sockets allow; choose a shorter path, such as one under $XDG_RUNTIME_DIR or /tmp",
			abs, len(abs), maxSocketPath)
	}
	if err := privateDir(filepath.Dir(abs)); err != nil {
		return "", nil, err
	}
	if err := removeStale(abs); err != nil {
		return "", nil, err
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: abs, Net: "unix"})
	if err != nil {
		return "", nil, fmt.Errorf("agentserver: listening on %s: %w", abs, err)
	}
	// The directory already keeps others out; the mode says so to anyone
	// who looks, as ssh-agent's does.
	if err := os.Chmod(abs, 0o600); err != nil {
		ln.Close()
		return "", nil, fmt.Errorf("agentserver: making %s private: %w", abs, err)
	}
	return abs, ln, nil
}

// privateDir makes sure dir exists, is a directory of ours and is closed to
// group and others: the socket's mode alone does not protect it on every
// system, the directory's does.
func privateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("agentserver: creating the socket directory: %w", err)
		}
		// MkdirAll's mode is filtered by the umask; make it exactly 0700.
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("agentserver: making the socket directory private: %w", err)
		}
		fi, err = os.Lstat(dir)
	}
	if err != nil {
		return fmt.Errorf("agentserver: checking the socket directory: %w", err)
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("agentserver: the socket directory %s is a symbolic link; give the real directory's path", dir)
	case !fi.IsDir():
		return fmt.Errorf("agentserver: the socket directory %s is not a directory", dir)
	case fi.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("agentserver: the socket directory %s has mode %04o, so other users could reach the agent; "+
			"run `chmod 700 %s` or put the socket in a directory of its own", dir, fi.Mode().Perm(), dir)
	}
	if uid, ours := ownedByUs(fi); !ours {
		return fmt.Errorf("agentserver: the socket directory %s belongs to user ID %d, not to us (%d); put the socket in a directory of our own",
			dir, uid, os.Geteuid())
	}
	return nil
}

// removeStale removes a socket that no process listens on, as a crashed
// agent leaves behind. Anything else at path stays, and is an error.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("agentserver: checking %s: %w", path, err)
	}
	if fi.Mode()&fs.ModeSocket == 0 {
		return fmt.Errorf("agentserver: %s exists and is not a socket; not replacing it: remove it or choose another socket path", path)
	}
	conn, err := net.Dial("unix", path)
	if err == nil {
		conn.Close()
		return fmt.Errorf("agentserver: another process is listening on %s (a running agent?); stop it or choose another socket path", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("agentserver: cannot tell whether the socket %s is still in use; remove it if it is stale: %w", path, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("agentserver: removing the stale socket %s: %w", path, err)
	}
	return nil
}

package sealed

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"filippo.io/age"
)

// GenerateIdentityFile writes a new age X25519 identity to path, in the
// format of age-keygen, with mode 0600, and returns its public recipient
// (age1...). It never overwrites: if path exists it fails, since replacing
// an identity makes everything sealed to the old one unreadable.
func GenerateIdentityFile(path string) (recipient string, err error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", fmt.Errorf("sealed: generating an identity: %w", err)
	}
	r := id.Recipient().String()
	content := fmt.Sprintf("# created: %s\n# public key: %s\n%s\n", time.Now().UTC().Format(time.RFC3339), r, id)
	if err := writeAtomic(path, []byte(content), true); err != nil {
		return "", fmt.Errorf("sealed: writing identity file %s: %w", path, err)
	}
	return r, nil
}

// writeAtomic writes data to path so that a crash leaves the old content or
// the new, never a mix: temporary file in the same directory, fsync, rename
// (or link, if noReplace), fsync of the directory. The file has mode 0600.
func writeAtomic(path string, data []byte, noReplace bool) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer func() {
		if tmp != nil {
			tmp.Close()
		}
		os.Remove(tmpName) // a no-op after a successful rename
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		tmp = nil
		return err
	}
	tmp = nil
	if noReplace {
		// link fails if path exists, where rename would replace it.
		if err := os.Link(tmpName, path); err != nil {
			return err
		}
	} else if err := os.Rename(tmpName, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename or a new file in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be fsynced there; NTFS journals renames
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

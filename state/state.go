// Package state reads and writes what a frostd node keeps on disk:
//
//	group.json        the group's public configuration (any node)
//	keyshare.age      a participant's key share, sealed with age
//	nonces.db(.slots) a participant's nonce store (participant/boltstore)
//
// Secrets are sealed as the sealed.Key says; group.json is public.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/frostd/frostd/participant/boltstore"
	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/sealed"
)

// File names inside a state directory.
const (
	GroupFile    = "group.json"
	KeyShareFile = "keyshare.age"
	NoncesFile   = "nonces.db"
)

// ErrNoGroup means the state directory holds no group yet: run a DKG or a
// deal first.
var ErrNoGroup = errors.New("no group in the state directory (run frost-dkg first)")

// Dir is a node's state directory.
type Dir struct {
	Path string
	Key  sealed.Key // seals the key share and the nonce store
}

func (d Dir) file(name string) string { return filepath.Join(d.Path, name) }

// SaveGroup writes group.json.
func (d Dir) SaveGroup(g *protocol.Group) error {
	if err := os.MkdirAll(d.Path, 0o700); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(d.file(GroupFile), append(b, '\n'), 0o644)
}

// LoadGroup reads and validates group.json.
func (d Dir) LoadGroup() (*protocol.Group, error) {
	b, err := os.ReadFile(d.file(GroupFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", d.Path, ErrNoGroup)
	}
	if err != nil {
		return nil, err
	}
	var g protocol.Group
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, fmt.Errorf("%s: %w", d.file(GroupFile), err)
	}
	return &g, nil
}

// SaveKeyShare seals and writes the participant's key share. It refuses to
// overwrite an existing share: replacing a share is a refresh, not a save.
func (d Dir) SaveKeyShare(ks protocol.KeyShare) error {
	if err := os.MkdirAll(d.Path, 0o700); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	if _, err := os.Stat(d.file(KeyShareFile)); err == nil {
		return fmt.Errorf("%s exists; refusing to overwrite a key share (move it away first if you mean to)", d.file(KeyShareFile))
	}
	return d.ReplaceKeyShare(ks)
}

// ReplaceKeyShare seals and writes the key share, replacing any old one
// atomically (after a refresh).
func (d Dir) ReplaceKeyShare(ks protocol.KeyShare) error {
	b, err := json.Marshal(ks)
	if err != nil {
		return err
	}
	defer clear(b)
	return sealed.WriteFile(d.file(KeyShareFile), b, d.Key)
}

// LoadKeyShare unseals the participant's key share and checks it against
// the group.
func (d Dir) LoadKeyShare(g *protocol.Group) (protocol.KeyShare, error) {
	b, err := sealed.ReadFile(d.file(KeyShareFile), d.Key)
	if err != nil {
		return protocol.KeyShare{}, fmt.Errorf("key share: %w", err)
	}
	defer clear(b)
	var ks protocol.KeyShare
	if err := json.Unmarshal(b, &ks); err != nil {
		return protocol.KeyShare{}, fmt.Errorf("%s: %w", d.file(KeyShareFile), err)
	}
	if _, err := ks.Frost(g); err != nil {
		return protocol.KeyShare{}, fmt.Errorf("%s: %w", d.file(KeyShareFile), err)
	}
	return ks, nil
}

// OpenNonceStore opens the participant's durable nonce store.
func (d Dir) OpenNonceStore(opts ...boltstore.Option) (*boltstore.Store, error) {
	if err := os.MkdirAll(d.Path, 0o700); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	return boltstore.Open(d.file(NoncesFile), d.Key, opts...)
}

func writeAtomic(path string, b []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

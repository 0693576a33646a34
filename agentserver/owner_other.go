//go:build !unix

package agentserver

import "io/fs"

// ownedByUs cannot read an owner outside Unix; there the directory's
// access control list is what protects the socket.
func ownedByUs(fs.FileInfo) (int, bool) { return -1, true }

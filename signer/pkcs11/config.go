package pkcs11

// DefaultModule is SoftHSM2's PKCS#11 module on Debian and Ubuntu
// (apt-get install softhsm2).
const DefaultModule = "/usr/lib/softhsm/libsofthsm2.so"

// DefaultSessions is the size of a Signer's session pool unless
// Config.Sessions says otherwise.
const DefaultSessions = 4

// Config says which module, token and key a Signer uses, and where the
// PIN is.
type Config struct {
	// Module is the path of the PKCS#11 library. Empty means
	// DefaultModule.
	Module string

	// TokenLabel selects the token by its label, as softhsm2-util
	// --show-slots and pkcs11-tool --list-slots print it.
	TokenLabel string

	// KeyLabel selects the key pair by its CKA_LABEL.
	KeyLabel string

	// PINFile is a file holding the user PIN. PINEnv names an environment
	// variable holding it. Set one of them.
	PINFile string
	PINEnv  string

	// Sessions is how many sessions the Signer keeps open, and so how many
	// signatures it asks the token for at once. Zero means
	// DefaultSessions.
	Sessions int

	// MaxMessage is the largest message Sign accepts; zero means no limit.
	// Set it to a hardware token's documented limit, so that callers get
	// signer.ErrMessageTooLarge instead of a device error.
	MaxMessage int
}

package pkcs11

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// readPIN returns the user PIN from Config.PINFile or the variable that
// Config.PINEnv names. There is deliberately no way to give the PIN itself.
func readPIN(cfg Config) (string, error) {
	var pin, from string
	switch {
	case cfg.PINFile != "" && cfg.PINEnv != "":
		return "", errors.New("pkcs11: Config sets both PINFile and PINEnv; set one")
	case cfg.PINFile != "":
		b, err := os.ReadFile(cfg.PINFile)
		if err != nil {
			return "", fmt.Errorf("pkcs11: reading the PIN file: %w", err)
		}
		// Editors and echo add a newline; nothing else is trimmed, as a
		// PIN may contain spaces.
		pin = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		from = "PIN file " + cfg.PINFile
	case cfg.PINEnv != "":
		v, ok := os.LookupEnv(cfg.PINEnv)
		if !ok {
			return "", fmt.Errorf("pkcs11: the PIN variable %s is not set (Config.PINEnv names it)", cfg.PINEnv)
		}
		pin, from = v, "variable "+cfg.PINEnv
	default:
		return "", errors.New("pkcs11: no PIN: set Config.PINFile to a file holding the token's user PIN, or Config.PINEnv to the name of a variable holding it")
	}
	if pin == "" {
		return "", fmt.Errorf("pkcs11: the %s is empty", from)
	}
	if strings.ContainsAny(pin, "\n") {
		return "", fmt.Errorf("pkcs11: the %s has more than one line; it must hold the PIN alone", from)
	}
	return pin, nil
}

//go:build cgo

package pkcs11

import (
	"errors"
	"fmt"

	p11 "github.com/miekg/pkcs11"

	"github.com/frostd/frostd/signer"
)

// explain wraps a PKCS#11 error from doing what, with the signer sentinel
// it amounts to and what the operator can do about it.
func explain(err error, what string) error {
	var code p11.Error
	if !errors.As(err, &code) {
		return fmt.Errorf("pkcs11: %s: %w", what, err)
	}
	hint, sentinel := advice(uint(code))
	if sentinel == nil {
		return fmt.Errorf("pkcs11: %s: %w", what, err)
	}
	return fmt.Errorf("pkcs11: %s: %s: %w: %w", what, hint, err, sentinel)
}

func advice(code uint) (string, error) {
	switch code {
	case p11.CKR_PIN_INCORRECT:
		return "wrong PIN (check the file in Config.PINFile or the variable in Config.PINEnv; " +
			"tokens lock the PIN after a few wrong tries)", signer.ErrRefused
	case p11.CKR_PIN_INVALID, p11.CKR_PIN_LEN_RANGE:
		return "the token does not accept a PIN of that length or with those characters " +
			"(check the PIN file for stray spaces or lines)", signer.ErrRefused
	case p11.CKR_PIN_LOCKED:
		return "the user PIN is locked after too many wrong tries; set a new one with the SO PIN " +
			"(pkcs11-tool --init-pin --login --login-type so)", signer.ErrRefused
	case p11.CKR_PIN_EXPIRED:
		return "the user PIN has expired; change it with pkcs11-tool --change-pin", signer.ErrRefused
	case p11.CKR_USER_PIN_NOT_INITIALIZED:
		return "the token has no user PIN yet; set one with the SO PIN " +
			"(pkcs11-tool --init-pin --login --login-type so)", signer.ErrUnavailable
	case p11.CKR_KEY_FUNCTION_NOT_PERMITTED:
		return "the key may not sign (its CKA_SIGN is false); generate a signing key", signer.ErrRefused
	case p11.CKR_TOKEN_WRITE_PROTECTED:
		return "the token is read-only", signer.ErrRefused
	case p11.CKR_MECHANISM_INVALID, p11.CKR_MECHANISM_PARAM_INVALID:
		return "the token does not support Ed25519 (CKM_EDDSA / CKM_EC_EDWARDS_KEY_PAIR_GEN); " +
			"SoftHSM2 2.6 and later do, built with EdDSA support", signer.ErrBadKey
	case p11.CKR_KEY_TYPE_INCONSISTENT, p11.CKR_KEY_HANDLE_INVALID:
		return "the key is not an Ed25519 key the token can sign with", signer.ErrBadKey
	case p11.CKR_CURVE_NOT_SUPPORTED, p11.CKR_DOMAIN_PARAMS_INVALID, p11.CKR_ATTRIBUTE_VALUE_INVALID,
		p11.CKR_TEMPLATE_INCONSISTENT, p11.CKR_TEMPLATE_INCOMPLETE:
		return "the token does not accept an Ed25519 key of this form", signer.ErrBadKey
	case p11.CKR_DATA_LEN_RANGE:
		return "the token does not sign messages this long; set Config.MaxMessage to its limit, " +
			"or sign a digest", signer.ErrMessageTooLarge
	case p11.CKR_TOKEN_NOT_PRESENT, p11.CKR_TOKEN_NOT_RECOGNIZED, p11.CKR_DEVICE_REMOVED,
		p11.CKR_DEVICE_ERROR, p11.CKR_DEVICE_MEMORY, p11.CKR_SESSION_CLOSED,
		p11.CKR_SESSION_HANDLE_INVALID, p11.CKR_SESSION_COUNT, p11.CKR_USER_NOT_LOGGED_IN,
		p11.CKR_GENERAL_ERROR, p11.CKR_FUNCTION_FAILED, p11.CKR_HOST_MEMORY,
		p11.CKR_CRYPTOKI_NOT_INITIALIZED:
		return "the token is not reachable or failed; check that it is connected " +
			"(retrying may help)", signer.ErrUnavailable
	}
	return "", nil
}

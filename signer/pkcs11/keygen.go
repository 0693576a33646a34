//go:build cgo

package pkcs11

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"

	p11 "github.com/miekg/pkcs11"
)

// Ed25519's CKA_EC_PARAMS can be written two ways, and tokens differ in
// which they accept: the DER of the curve OID 1.3.101.112 (id-Ed25519,
// RFC 8410), or the DER PrintableString "edwards25519", which OpenSC's
// pkcs11-tool writes. GenerateKey tries the OID first, then the string;
// SoftHSM2 2.6 takes both, and New reads keys made either way.
var ed25519Params = [][]byte{
	{0x06, 0x03, 0x2b, 0x65, 0x70},
	append([]byte{0x13, 0x0c}, "edwards25519"...),
}

// GenerateKey makes a new Ed25519 key pair inside the token that cfg names,
// labelled label, and returns its public key. The private key is sensitive
// and not extractable: it never leaves the token. cfg.KeyLabel is not used;
// set it to label afterwards to sign with the new key.
//
// GenerateKey never replaces a key: if the token already has an object
// labelled label, it fails with an error wrapping fs.ErrExist.
func GenerateKey(cfg Config, label string) (ed25519.PublicKey, error) {
	if cfg.TokenLabel == "" || label == "" {
		return nil, errors.New("pkcs11: GenerateKey needs Config.TokenLabel and a key label")
	}
	pin, err := readPIN(cfg)
	if err != nil {
		return nil, err
	}
	mod, err := openModule(cfg.Module)
	if err != nil {
		return nil, err
	}
	defer mod.release()
	slot, err := mod.findToken(cfg.TokenLabel)
	if err != nil {
		return nil, err
	}
	c := mod.ctx
	h, err := c.OpenSession(slot, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
	if err != nil {
		return nil, explain(err, fmt.Sprintf("opening a read-write session on token %q", cfg.TokenLabel))
	}
	defer c.CloseSession(h)
	if err := mod.login(h, slot, cfg.TokenLabel, pin); err != nil {
		return nil, err
	}
	defer mod.logout(h, slot)

	existing, err := findObjects(c, h, []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, label)}, 1)
	if err != nil {
		return nil, explain(err, fmt.Sprintf("looking for objects labelled %q on token %q", label, cfg.TokenLabel))
	}
	if len(existing) > 0 {
		return nil, fmt.Errorf("pkcs11: token %q already has an object labelled %q; choose another label (GenerateKey never replaces a key): %w",
			cfg.TokenLabel, label, fs.ErrExist)
	}

	// CKA_ID pairs the two halves for tools that match keys by ID, as
	// OpenSSH and p11-kit do.
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, fmt.Errorf("pkcs11: making a key ID: %w", err)
	}
	public := []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_PUBLIC_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, ckkECEdwards),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, false),
		p11.NewAttribute(p11.CKA_VERIFY, true),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_ID, id),
		nil, // CKA_EC_PARAMS, set below
	}
	private := []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_PRIVATE_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, ckkECEdwards),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_SENSITIVE, true),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, false),
		p11.NewAttribute(p11.CKA_SIGN, true),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_ID, id),
	}
	mech := []*p11.Mechanism{p11.NewMechanism(ckmECEdwardsKeyPairGen, nil)}
	var pubObj p11.ObjectHandle
	for _, params := range ed25519Params {
		public[len(public)-1] = p11.NewAttribute(p11.CKA_EC_PARAMS, params)
		pubObj, _, err = c.GenerateKeyPair(h, mech, public, private)
		if !isCode(err, p11.CKR_ATTRIBUTE_VALUE_INVALID) && !isCode(err, p11.CKR_DOMAIN_PARAMS_INVALID) &&
			!isCode(err, p11.CKR_CURVE_NOT_SUPPORTED) {
			break
		}
	}
	if err != nil {
		return nil, explain(err, fmt.Sprintf("generating Ed25519 key %q on token %q", label, cfg.TokenLabel))
	}
	attrs, err := c.GetAttributeValue(h, pubObj, []*p11.Attribute{p11.NewAttribute(p11.CKA_EC_POINT, nil)})
	if err != nil {
		return nil, explain(err, fmt.Sprintf("reading the new key %q on token %q", label, cfg.TokenLabel))
	}
	pub, err := parseECPoint(attrs[0].Value)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: new key %q on token %q: %w", label, cfg.TokenLabel, err)
	}
	return pub, nil
}

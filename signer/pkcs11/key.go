//go:build cgo

package pkcs11

import (
	"crypto/ed25519"
	"encoding/asn1"
	"fmt"

	p11 "github.com/miekg/pkcs11"

	"github.com/frostd/frostd/signer"
)

// findPrivateKey finds the one Ed25519 private key labelled s.label.
func (s *Signer) findPrivateKey(h p11.SessionHandle) (p11.ObjectHandle, error) {
	keys, err := findObjects(s.mod.ctx, h, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_PRIVATE_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, ckkECEdwards),
		p11.NewAttribute(p11.CKA_LABEL, s.label),
	}, 2)
	if err != nil {
		return 0, explain(err, fmt.Sprintf("looking for key %q on token %q", s.label, s.token))
	}
	switch len(keys) {
	case 1:
		return keys[0], nil
	case 0:
		other, err := findObjects(s.mod.ctx, h, []*p11.Attribute{
			p11.NewAttribute(p11.CKA_CLASS, p11.CKO_PRIVATE_KEY),
			p11.NewAttribute(p11.CKA_LABEL, s.label),
		}, 1)
		if err == nil && len(other) > 0 {
			return 0, fmt.Errorf("pkcs11: the private key labelled %q on token %q is not an Ed25519 (ckkECEdwards) key; "+
				"frostd signs with Ed25519 only, so generate one with GenerateKey under another label: %w", s.label, s.token, signer.ErrBadKey)
		}
		return 0, fmt.Errorf("pkcs11: no Ed25519 private key labelled %q on token %q; fix Config.KeyLabel, or generate the key with GenerateKey "+
			"(or `pkcs11-tool --login --keypairgen --key-type EC:edwards25519 --label %s`): %w", s.label, s.token, s.label, signer.ErrBadKey)
	default:
		return 0, fmt.Errorf("pkcs11: several Ed25519 private keys are labelled %q on token %q; give each its own label: %w",
			s.label, s.token, signer.ErrBadKey)
	}
}

// readPublicKey reads the public key of the key pair whose private key is
// priv: from the public key object with the same label (and CKA_ID, when
// the private key has one), or from the private key itself on tokens that
// give it a CKA_EC_POINT.
func (s *Signer) readPublicKey(h p11.SessionHandle, priv p11.ObjectHandle) (ed25519.PublicKey, error) {
	c := s.mod.ctx
	if attrs, err := c.GetAttributeValue(h, priv, []*p11.Attribute{p11.NewAttribute(p11.CKA_EC_POINT, nil)}); err == nil && len(attrs[0].Value) > 0 {
		return s.parsePoint(attrs[0].Value)
	}
	tmpl := []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_PUBLIC_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, ckkECEdwards),
		p11.NewAttribute(p11.CKA_LABEL, s.label),
	}
	if attrs, err := c.GetAttributeValue(h, priv, []*p11.Attribute{p11.NewAttribute(p11.CKA_ID, nil)}); err == nil && len(attrs[0].Value) > 0 {
		tmpl = append(tmpl, p11.NewAttribute(p11.CKA_ID, attrs[0].Value))
	}
	pubs, err := findObjects(c, h, tmpl, 2)
	if err != nil {
		return nil, explain(err, fmt.Sprintf("looking for the public key of %q on token %q", s.label, s.token))
	}
	switch len(pubs) {
	case 0:
		return nil, fmt.Errorf("pkcs11: token %q has the private key labelled %q but no public key object with that label and CKA_ID to read the public key from; "+
			"regenerate the pair with GenerateKey, or import the public key under the same label: %w", s.token, s.label, signer.ErrBadKey)
	case 2:
		return nil, fmt.Errorf("pkcs11: several Ed25519 public key objects are labelled %q on token %q; give each key pair its own label: %w",
			s.label, s.token, signer.ErrBadKey)
	}
	attrs, err := c.GetAttributeValue(h, pubs[0], []*p11.Attribute{p11.NewAttribute(p11.CKA_EC_POINT, nil)})
	if err != nil {
		return nil, explain(err, fmt.Sprintf("reading the public key of %q on token %q", s.label, s.token))
	}
	return s.parsePoint(attrs[0].Value)
}

func (s *Signer) parsePoint(point []byte) (ed25519.PublicKey, error) {
	pub, err := parseECPoint(point)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: key %q on token %q: %w", s.label, s.token, err)
	}
	return pub, nil
}

// parseECPoint decodes CKA_EC_POINT of an Ed25519 key. PKCS#11 says it is
// the 32-byte key in a DER OCTET STRING, as SoftHSM2 and OpenSC write it;
// some tokens store the bare 32 bytes. Both are accepted. A 32-byte value
// cannot be a DER OCTET STRING of 32 bytes, so the two never clash.
func parseECPoint(point []byte) (ed25519.PublicKey, error) {
	key := point
	if len(point) != ed25519.PublicKeySize {
		var inner []byte
		rest, err := asn1.Unmarshal(point, &inner)
		if err != nil || len(rest) > 0 {
			return nil, fmt.Errorf("CKA_EC_POINT is %d bytes that are neither a raw Ed25519 key nor one in a DER OCTET STRING: %w",
				len(point), signer.ErrBadKey)
		}
		key = inner
	}
	switch len(key) {
	case ed25519.PublicKeySize:
		return append(ed25519.PublicKey(nil), key...), nil
	case 57:
		return nil, fmt.Errorf("CKA_EC_POINT holds a 57-byte Ed448 key; frostd signs with Ed25519 only: %w", signer.ErrBadKey)
	}
	return nil, fmt.Errorf("CKA_EC_POINT holds %d bytes, want a %d-byte Ed25519 key: %w", len(key), ed25519.PublicKeySize, signer.ErrBadKey)
}

// findObjects returns up to max objects that match tmpl.
func findObjects(c *p11.Ctx, h p11.SessionHandle, tmpl []*p11.Attribute, max int) ([]p11.ObjectHandle, error) {
	if err := c.FindObjectsInit(h, tmpl); err != nil {
		return nil, err
	}
	objs, _, err := c.FindObjects(h, max)
	if ferr := c.FindObjectsFinal(h); err == nil {
		err = ferr
	}
	return objs, err
}

#!/usr/bin/env python3
"""Reference values for signer/local's cross-check test (crosscheck_test.go).

They come from Python's `cryptography` package and standard base64 module,
independently of the Go code under test. To regenerate, from signer/local:

    python3 testdata/crosscheck.py

and paste the output into crosscheckOutput in crosscheck_test.go.
TestCrossCheckScript runs this script when python3 and cryptography are
installed and fails if its output and the pasted copy differ.
"""
import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

MESSAGE = b"frostd cross-check message"

SEEDS = [
    ("counting", bytes(range(32))),
    # RFC 8032 section 7.1, TEST 1.
    ("rfc8032-test1", bytes.fromhex(
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")),
    ("ones", b"\xff" * 32),
]

# z-base-32 is standard base32 with another alphabet, symbol for symbol.
Z_BASE_32 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
                          "ybndrfg8ejkmcpqxot1uwisza345h769")


def id52(pub):
    return base64.b32hexencode(pub).decode().lower().rstrip("=")


def zbase32(pub):
    return base64.b32encode(pub).decode().rstrip("=").translate(Z_BASE_32)


print("message", MESSAGE.hex())
for name, seed in SEEDS:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    print("vector", name)
    print("seed", seed.hex())
    print("public", pub.hex())
    print("id52", id52(pub))
    print("zbase32", zbase32(pub))
    print("signature", key.sign(MESSAGE).hex())

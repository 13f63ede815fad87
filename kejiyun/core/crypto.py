"""Personal data at rest (SECURITY.md item 16): AES-256-GCM with versioned keys, and a keyed
hash for exact lookups.

A sealed value is ``"<key version>:<base64(nonce ‖ ciphertext ‖ tag)>"``. The associated
data is the value's purpose (for example ``"talent.id_number"``), so a ciphertext copied
into another column does not open. New values are sealed with the last key listed in
`settings.FIELD_ENCRYPTION_KEYS`; every listed key still opens older values, so a key is
rotated by appending a new one (and re-sealing at leisure).

`lookup_hash` is HMAC-SHA256 under a separate key (`settings.FIELD_LOOKUP_KEY`): equal values
give equal hashes, so "is this ID number already registered?" is one indexed query, while
the hash alone reveals nothing without the key.

Development and tests (DEBUG or KEJIYUN_TESTING without the variables) derive both keys from
SECRET_KEY; production refuses to start without them (kejiyun/settings.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

NONCE_BYTES = 12
DERIVED_VERSION = "dev"


class SealError(ValueError):
    """A sealed value that cannot be opened: unknown key version, tampered or misplaced."""


def _derive(info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        settings.SECRET_KEY.encode()
    )


def parse_keys(raw: str) -> list[tuple[str, bytes]]:
    """`"v1:<base64>,v2:<base64>"` as [(version, key)]; each key must be 32 bytes."""
    keys: list[tuple[str, bytes]] = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        version, sep, encoded = part.partition(":")
        if not sep or not version or ":" in encoded:
            raise ValueError("FIELD_ENCRYPTION_KEYS entries look like v1:<base64 of 32 bytes>")
        key = base64.b64decode(encoded, validate=True)
        if len(key) != 32:
            raise ValueError(f"encryption key {version} must be 32 bytes")
        keys.append((version, key))
    return keys


def _keys() -> list[tuple[str, bytes]]:
    raw = getattr(settings, "FIELD_ENCRYPTION_KEYS", "")
    keys = parse_keys(raw) if raw.strip(" ,") else []
    if keys:
        return keys
    if raw.strip(" ,"):
        raise ValueError("FIELD_ENCRYPTION_KEYS holds no key")
    return [(DERIVED_VERSION, _derive(b"kejiyun field encryption"))]


def _lookup_key() -> bytes:
    raw = getattr(settings, "FIELD_LOOKUP_KEY", "")
    if raw:
        return base64.b64decode(raw, validate=True)
    return _derive(b"kejiyun field lookup")


def seal(value: str, *, purpose: str) -> str:
    """Encrypt `value` for storage; "" stays "" (nothing to protect, nothing to look up)."""
    if value == "":
        return ""
    version, key = _keys()[-1]
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, value.encode(), purpose.encode())
    return f"{version}:{base64.b64encode(nonce + sealed).decode()}"


def unseal(token: str, *, purpose: str) -> str:
    """The plaintext of a value made by `seal` for the same purpose."""
    if token == "":
        return ""
    version, _, encoded = token.partition(":")
    keys = dict(_keys())
    if version not in keys:
        raise SealError(f"no key {version!r} to open this value")
    try:
        blob = base64.b64decode(encoded, validate=True)
        plain = AESGCM(keys[version]).decrypt(
            blob[:NONCE_BYTES], blob[NONCE_BYTES:], purpose.encode()
        )
    except (InvalidTag, ValueError) as exc:
        raise SealError("the value was altered or belongs elsewhere") from exc
    return plain.decode()


def lookup_hash(value: str, *, purpose: str) -> str:
    """Keyed hash for exact lookups (hex, 64 characters); "" for an empty value."""
    if value == "":
        return ""
    message = purpose.encode() + b"\0" + value.encode()
    return hmac.new(_lookup_key(), message, hashlib.sha256).hexdigest()

"""Personal data at rest (docs/requirements/security.md item 16): AES-256-GCM with versioned
keys, and a keyed hash for exact lookups.

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
import functools
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


@functools.lru_cache(maxsize=8)
def _derive(secret: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret.encode())


@functools.lru_cache(maxsize=8)
def parse_keys(raw: str) -> tuple[tuple[str, bytes], ...]:
    """`"v1:<base64>,v2:<base64>"` as ((version, key), …); each key must be 32 bytes and the
    version must not be the development one. Empty entries are skipped."""
    keys: list[tuple[str, bytes]] = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        version, sep, encoded = part.partition(":")
        if not sep or not version or version == DERIVED_VERSION or ":" in encoded:
            raise ValueError("FIELD_ENCRYPTION_KEYS entries look like v1:<base64 of 32 bytes>")
        if len(_b64(encoded)) != 32:
            raise ValueError(f"encryption key {version} must be 32 bytes")
        keys.append((version, _b64(encoded)))
    return tuple(keys)


def parse_lookup_key(raw: str) -> bytes:
    """The base64 lookup key; at least 32 bytes."""
    key = _b64(raw)
    if len(key) < 32:
        raise ValueError("FIELD_LOOKUP_KEY must be the base64 of at least 32 random bytes")
    return key


def _b64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        return b""


def _keys() -> tuple[tuple[str, bytes], ...]:
    """The configured keys (parsed once per value of the setting), or in development and
    tests one derived from SECRET_KEY. Settings refuse an empty list in production."""
    keys = parse_keys(settings.FIELD_ENCRYPTION_KEYS)
    if keys:
        return keys
    return ((DERIVED_VERSION, _derive(settings.SECRET_KEY, b"kejiyun field encryption")),)


def _lookup_key() -> bytes:
    raw = settings.FIELD_LOOKUP_KEY
    if raw:
        return parse_lookup_key(raw)
    return _derive(settings.SECRET_KEY, b"kejiyun field lookup")


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


# Mobile numbers (docs/requirements/security.md item 16): every table that holds one keeps it
# sealed, with this keyed hash beside it for exact lookups. One purpose for all of them, so
# an account, its SMS codes and its outbox messages are found by the same hash.
MOBILE_LOOKUP_PURPOSE = "mobile"


def mobile_lookup(value: str) -> str:
    """The keyed hash a mobile number is looked up by (pass it normalised); "" for ""."""
    return lookup_hash(value, purpose=MOBILE_LOOKUP_PURPOSE)

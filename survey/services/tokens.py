"""Respondent tokens and the encryption of unfinished answers.

A token is shown to one respondent and never stored: the database keeps an HMAC of it (keyed
by a key derived from the installation secret, so a stolen database alone does not allow
guessing short paper codes). Draft answers are encrypted with AES-GCM under a key derived
from the token itself, which only the respondent holds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Paper codes: no 0/O, 1/I/L, so they can be typed from a slip without confusion.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12  # 31**12 ≈ 2**59


def new_link_token() -> str:
    return secrets.token_urlsafe(18)  # 144 bits


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str) -> str:
    """Accept codes typed with spaces, dashes or in lower case."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def _derive(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


@lru_cache(maxsize=4)
def _token_hash_key(secret_key: str) -> bytes:
    """Derived once per installation secret (per process), not once per link opened."""
    return _derive(secret_key.encode(), b"lyhord token hash v1")


def token_hash(secret_key: str, token: str) -> bytes:
    return hmac.new(_token_hash_key(secret_key), token.encode(), hashlib.sha256).digest()


def draft_key(token: str) -> str:
    """The key that encrypts this token's draft, as text for the session cookie."""
    key = _derive(token.encode(), b"lyhord draft v1")
    return base64.urlsafe_b64encode(key).decode()


def seal(key: str, invitation_id: int, payload: dict[str, Any]) -> bytes:
    nonce = os.urandom(12)
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    aad = str(invitation_id).encode()
    return nonce + AESGCM(base64.urlsafe_b64decode(key)).encrypt(nonce, data, aad)


def unseal(key: str, invitation_id: int, blob: bytes) -> dict[str, Any] | None:
    """The draft, or ``None`` when it cannot be opened with this key."""
    try:
        data = AESGCM(base64.urlsafe_b64decode(key)).decrypt(
            blob[:12], blob[12:], str(invitation_id).encode()
        )
    except (InvalidTag, ValueError):
        return None
    payload = json.loads(data)
    return payload if isinstance(payload, dict) else None

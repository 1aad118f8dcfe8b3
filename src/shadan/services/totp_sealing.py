"""TOTP secrets sealed at rest: AES-256-GCM (cryptography) under a key derived from SHADAN_SECRET_KEY.

A copy of the database (a backup, a stolen disk, a DBA's query) must not hand out everyone's second
factor. The key is HKDF-SHA256 of the secret key with its own label, so it is never the key that signs
CSRF tokens. The account id is the associated data: a sealed secret copied onto another account does not
open. A value that does not open (tampered, another key, an unsealed legacy value) counts as no second
factor at all — the login is refused and an administrator re-enrols the account. Changing
SHADAN_SECRET_KEY therefore means re-enrolling TOTP (docs/identity.md).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "v1."
_NONCE_BYTES = 12
_KEY_LABEL = b"shadan/totp-secret/v1"


class TotpSealer:
    def __init__(self, secret_key: bytes) -> None:
        if not secret_key:
            raise ValueError("sealing TOTP secrets needs a secret key")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_LABEL).derive(secret_key)
        self._aead = AESGCM(key)

    def seal(self, account_id: str, secret: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode("ascii"), account_id.encode("utf-8"))
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, account_id: str, sealed: str | None) -> str | None:
        """The secret, or None when there is none or it does not open for this account under this key."""
        if not sealed or not sealed.startswith(PREFIX):
            return None
        try:
            raw = base64.urlsafe_b64decode(sealed[len(PREFIX) :].encode("ascii"))
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], account_id.encode("utf-8"))
        except (InvalidTag, ValueError, binascii.Error):
            return None
        return plain.decode("ascii")

    def holds(self, account_id: str, sealed: str | None, secret: str) -> bool:
        """Whether `sealed` opens to `secret` (compared in constant time)."""
        opened = self.open(account_id, sealed)
        return opened is not None and hmac.compare_digest(opened, secret)

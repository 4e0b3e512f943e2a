"""Network secrets at rest: Fernet-encrypted with a key derived from a setting, never logged."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from jishi.core.conf import setting


def _fernet() -> Fernet:
    # A dedicated key if configured, else SECRET_KEY; hashed so any string makes a valid Fernet key.
    material = setting("REBATE_CREDENTIAL_KEY") or settings.SECRET_KEY
    digest = hashlib.sha256(f"jishi.rebate.credentials:{material}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(token: str) -> str:
    """The plain secret; a token written under another key raises ``ValueError`` (no secret in it)."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("rebate source secret cannot be decrypted with the configured key") from None

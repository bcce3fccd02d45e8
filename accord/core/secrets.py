"""Secrets kept in the database (mailbox passwords, later bot tokens and API keys), sealed
with a key derived from SECRET_KEY: the database, a backup or an export holds only the
sealed text, which nobody reads without the server's key.

Fernet (AES-128-CBC with an HMAC-SHA256) under a key derived by HKDF from SECRET_KEY;
MultiFernet also opens what an earlier key sealed, for each key in SECRET_KEY_FALLBACKS,
so the secret key can be changed without every password being typed again
(`secrets_reseal` seals them anew with the current key).
"""

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PURPOSE = b"accord: secrets stored in the database"


class SecretUnreadable(Exception):
    """Sealed with a key the server no longer has (SECRET_KEY changed, the old one not in
    SECRET_KEY_FALLBACKS), or not sealed text at all."""


def seal(plain: str) -> str:
    """The sealed form of a secret, as text for a database column ("" stays "")."""
    if not plain:
        return ""
    return _keys(_key_material()).encrypt(plain.encode()).decode()


def unseal(sealed: str) -> str:
    """The secret a sealed text holds ("" stays ""); SecretUnreadable when no key opens it."""
    if not sealed:
        return ""
    try:
        return _keys(_key_material()).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "The secret was sealed with another secret key: put the old key in "
            "ACCORD_SECRET_KEY_FALLBACKS, or type the password again."
        ) from None


def reseal(sealed: str) -> str:
    """The same secret sealed with the current key (after SECRET_KEY changed)."""
    if not sealed:
        return ""
    try:
        return _keys(_key_material()).rotate(sealed.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("No secret key the server has opens this secret.") from None


def _key_material() -> tuple[str, ...]:
    return (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ()))


@functools.lru_cache(maxsize=4)
def _keys(material: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_derive(key)) for key in material])


def _derive(secret_key: str) -> bytes:
    """A Fernet key of its own for stored secrets: never the secret key itself, which
    also signs sessions and links."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(derived)

"""Secrets at rest: one MultiFernet built from SECRET_KEYS (newest key first).

With no keys in the environment, a local key file is used (created by `make run` and the
tests, ignored by git). Production must set SECRET_KEYS; rotating means prepending a new
key and re-encrypting with `rotate`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from rxapp.settings import get_settings


class SecretKeysMissing(RuntimeError):
    """No usable encryption key is configured."""


def ensure_key_file(path: Path) -> Path:
    """Create a key file with one fresh Fernet key if none exists (development only)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Fernet.generate_key().decode() + "\n")
        path.chmod(0o600)
    return path


def _load_keys() -> list[str]:
    settings = get_settings()
    raw = settings.secret_keys
    if not raw and not settings.is_production and settings.secret_key_file.exists():
        raw = settings.secret_key_file.read_text()
    keys = [k.strip() for k in raw.replace("\n", ",").split(",") if k.strip()]
    if not keys:
        raise SecretKeysMissing("Set SECRET_KEYS (comma-separated Fernet keys)")
    return keys


@lru_cache
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in _load_keys()])


def encrypt(plaintext: str) -> str:
    """Encrypt a secret for storage; the result is an ASCII token."""
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str, ttl: int | None = None) -> str:
    """Decrypt a stored secret; raises `InvalidToken` when no configured key opens it (or, with
    `ttl`, when it was made more than `ttl` seconds ago)."""
    return _fernet().decrypt(token.encode(), ttl=ttl).decode()


def rotate(token: str) -> str:
    """Re-encrypt a stored secret with the newest key."""
    return _fernet().rotate(token.encode()).decode()


def reset_cache() -> None:
    """Forget the loaded keys (tests, or after changing SECRET_KEYS)."""
    _fernet.cache_clear()


__all__ = ["InvalidToken", "SecretKeysMissing", "decrypt", "encrypt", "ensure_key_file", "reset_cache", "rotate"]

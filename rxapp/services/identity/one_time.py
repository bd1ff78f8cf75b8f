"""Single-use secrets (sign-in tickets, invite and reset links, join links, OAuth attempts): claimed once.

The database keeps only a SHA-256 of each secret. A claim is one conditional UPDATE that marks
the row used only while it is unused (and unexpired): under any concurrency exactly one caller
gets the row's id back, on SQLite and PostgreSQL alike. Make the claim the first statement of
its transaction (SQLite cannot upgrade a reader to a writer once another writer has committed),
and raise after it to give the secret back: the rollback undoes the claim.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session

from rxapp.clock import now


def new_secret(nbytes: int = 32) -> str:
    """A random URL-safe secret for a link or a ticket."""
    return secrets.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    """What the database stores in place of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def claim(session: Session, hash_column: InstrumentedAttribute[Any], secret: str, *conditions: Any,
          at: datetime | None = None) -> int | None:
    """Mark the row whose `hash_column` holds `secret`'s digest used, if it is still usable.

    Usable means unused, not expired (for tables with `expires_at`) and matching the extra
    SQL `conditions`. Returns the row id to exactly one caller; None to every other one.
    """
    if not secret:
        return None
    model = hash_column.class_
    at = at or now()
    statement = update(model).where(hash_column == digest(secret), model.used_at.is_(None), *conditions)
    if hasattr(model, "expires_at"):
        statement = statement.where(model.expires_at > at)
    statement = statement.values(used_at=at).returning(model.id).execution_options(synchronize_session=False)
    return session.execute(statement).scalar_one_or_none()

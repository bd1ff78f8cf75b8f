"""Folding text for search: what a person types finds a name whatever its case and accents.

A neutral module (no model or service imports), like the clock: the models keep a client's folded
search key with every save, and the services fold what is typed the same way."""

from __future__ import annotations

import unicodedata

# Letters that carry no separable accent in Unicode (NFKD leaves them whole); people type them plain.
_PLAIN = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "\u0131": "i"})


def fold(text: str) -> str:
    """`text` casefolded, its accents removed (NFKD): "Élodie Müller" -> "elodie muller", "Zoë" -> "zoe"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_PLAIN)


def spreadsheet_safe(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: one that would start a formula (=, +, -, @, a tab or a
    carriage return) gets a leading apostrophe (OWASP "CSV injection")."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value

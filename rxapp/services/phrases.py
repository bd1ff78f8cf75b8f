"""Words for numbers shown to people: "1 meeting", "2 meetings"."""

from __future__ import annotations


def count(n: int, singular: str, plural: str | None = None) -> str:
    """`n` and the noun in the form that number takes, e.g. count(1, "meeting") == "1 meeting"."""
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"

"""How many SMS segments a body takes, and in which encoding (pure: stdlib only).

A body whose every character is in the GSM 03.38 default alphabet is sent as GSM-7: 160
septets in one message, 153 per part when it is split (the user data header takes 7). A
character of the extension table (e.g. `€`, `[`, `{`) takes two septets (escape + code), and a
part never ends in the middle of such a pair. Anything else (accents outside the table, emoji,
CJK) makes the whole body UCS-2: 70 UTF-16 code units, 67 per part; a character outside the
Basic Multilingual Plane (most emoji) is a surrogate pair, two units that are never split.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


class Encoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True)
class SegmentCount:
    encoding: Encoding
    segments: int
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)


def _is_gsm7(body: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in body)


def _pack(widths: list[int], single: int, part: int) -> int:
    """Segments for characters of the given widths: one if all fit `single`, else greedy parts of
    `part` units where a character's units are never split across two parts."""
    if sum(widths) <= single:
        return 1
    segments, used = 1, 0
    for width in widths:
        if used + width > part:
            segments, used = segments + 1, 0
        used += width
    return segments


def count_segments(body: str) -> SegmentCount:
    """The encoding and segment count of `body` (an empty body is one empty segment)."""
    if _is_gsm7(body):
        widths = [2 if c in GSM7_EXTENSION else 1 for c in body]
        return SegmentCount(Encoding.GSM7, _pack(widths, 160, 153), sum(widths))
    widths = [2 if ord(c) > 0xFFFF else 1 for c in body]
    return SegmentCount(Encoding.UCS2, _pack(widths, 70, 67), sum(widths))


def credits_for(body: str, *, telehealth: bool) -> int:
    """What an SMS costs: 1 credit per segment, 2 per segment for a telehealth SMS."""
    return count_segments(body).segments * (2 if telehealth else 1)

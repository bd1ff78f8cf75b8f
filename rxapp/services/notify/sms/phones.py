"""Phone numbers: parsed with `phonenumbers`, stored in E.164 (+14155552671).

A number typed without a country code belongs to the practice's country, found from the
practice's timezone (the tz database's zone.tab: America/Chicago is US, Europe/London GB);
PHONE_REGION (US) when the timezone names no single country.
"""

from __future__ import annotations

import importlib.resources
import re
from functools import lru_cache

import phonenumbers

from rxapp.settings import get_settings

INVALID = ("Enter a valid mobile number, like +1 415 555 2671 (the country code can be left out for "
           "numbers of the practice's country).")


# Digits and what people type between them; letters (vanity numbers), extensions and a doubled
# "+" are refused rather than guessed at: a text message needs the number itself.
_TYPED = re.compile(r"^\+?[\d\s\-().]+$")


def default_region() -> str:
    """The region of numbers without a country code when nothing better is known (PHONE_REGION)."""
    return get_settings().phone_region.upper()


@lru_cache
def _zone_countries() -> dict[str, str]:
    try:
        text = importlib.resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return {}
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return {row[2]: row[0] for row in rows if len(row) >= 3}


def region_for_timezone(timezone: str) -> str:
    """The country of a timezone ("America/Chicago" -> "US"), else `default_region()`."""
    return _zone_countries().get(timezone) or default_region()


def parse_phone(raw: str, region: str | None = None) -> tuple[str, str]:
    """(E.164, "") for a valid number, ("", why not) otherwise; an empty input is ("", "")."""
    text = raw.strip()
    if not text:
        return "", ""
    if not _TYPED.match(text):
        return "", INVALID
    try:
        number = phonenumbers.parse(text, region or default_region())
    except phonenumbers.NumberParseException:
        return "", INVALID
    if not phonenumbers.is_valid_number(number):
        return "", INVALID
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), ""


def to_e164(raw: str, region: str | None = None) -> str:
    """The E.164 form of a valid number, else ""."""
    return parse_phone(raw, region)[0]

"""Phone numbers: parsed with `phonenumbers`, stored in E.164 (+15551234567)."""

from __future__ import annotations

import phonenumbers

from rxapp.settings import get_settings

INVALID = "Enter a valid phone number, e.g. (212) 555-0134 or +44 20 7946 0958."


def default_region() -> str:
    """The region a number without a country code belongs to (PHONE_REGION, US by default)."""
    return get_settings().phone_region.upper()


def parse_phone(raw: str, region: str | None = None) -> tuple[str, str]:
    """(E.164, "") for a valid number, ("", why not) otherwise; an empty input is ("", "")."""
    text = raw.strip()
    if not text:
        return "", ""
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

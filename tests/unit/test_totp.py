"""TOTP as RFC 6238 specifies it (Appendix B test vectors, SHA-1, 8 digits) over RFC 4226's HOTP
(Appendix D), and the User-Agent / address descriptions of My profile's sessions."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from rxapp.services.identity import mfa, sessions

RFC_SECRET = b"12345678901234567890"


@pytest.mark.parametrize(("unix_time", "expected"), [
    (59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"), (1234567890, "89005924"),
    (2000000000, "69279037"), (20000000000, "65353130")])
def test_rfc_6238_test_vectors(unix_time: int, expected: str) -> None:
    step = mfa.step_at(datetime.fromtimestamp(unix_time, UTC))
    assert mfa.hotp(RFC_SECRET, step, digits=8) == expected


def test_rfc_4226_test_vectors() -> None:
    expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]
    assert [mfa.hotp(RFC_SECRET, counter) for counter in range(10)] == expected


def test_a_new_secret_is_160_bits_of_base32_and_its_uri_is_what_apps_read() -> None:
    secret = mfa.new_secret()
    assert len(base64.b32decode(secret + "=" * (-len(secret) % 8))) == 20
    uri = mfa.provisioning_uri(secret, "dr.lee@demo.clinic", "Demo Practice")
    assert uri.startswith("otpauth://totp/Demo%20Practice%3Adr.lee%40demo.clinic?secret=")
    assert "issuer=Demo+Practice" in uri and "digits=6" in uri and "period=30" in uri


def test_a_code_of_the_neighbouring_step_counts_but_not_further() -> None:
    secret, at = mfa.new_secret(), datetime(2026, 12, 6, 12, 0, 15, tzinfo=UTC)
    step = mfa.step_at(at)
    for delta, accepted in ((-2, False), (-1, True), (0, True), (1, True), (2, False)):
        code = mfa.hotp(base64.b32decode(secret + "=" * (-len(secret) % 8)), step + delta)
        assert (mfa._matching_step(secret, code, at) is not None) is accepted, delta


@pytest.mark.parametrize(("agent", "expected"), [
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile "
     "Safari/537.36", ("Chrome", "Android")),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
     "Safari/605.1.15", ("Safari", "Mac")),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", ("Firefox", "Linux")),
    ("", ("Unknown browser", "unknown device"))])
def test_a_user_agent_reads_as_a_browser_and_a_device(agent: str, expected: tuple[str, str]) -> None:
    assert sessions.describe_agent(agent) == expected


def test_an_address_is_described_without_saying_exactly_where() -> None:
    assert sessions.approximate_place("127.0.0.1") == "This computer"
    assert sessions.approximate_place("192.168.1.20") == "Local network"
    assert sessions.approximate_place("81.2.69.142") == "Internet 81.2.69.x"
    assert sessions.approximate_place("2a00:1450:4009:80b::200e") == "Internet 2a00:1450:4009:…"
    assert sessions.approximate_place("") == "Unknown"

"""SMS segment counting (GSM-7 160/153, UCS-2 70/67) and what an SMS costs."""

import pytest

from rxapp.services.notify.sms.segments import Encoding, count_segments, credits_for


@pytest.mark.parametrize(("body", "encoding", "segments", "units"), [
    ("", Encoding.GSM7, 1, 0),
    ("a" * 160, Encoding.GSM7, 1, 160),
    ("a" * 161, Encoding.GSM7, 2, 161),
    ("a" * 306, Encoding.GSM7, 2, 306),
    ("a" * 307, Encoding.GSM7, 3, 307),
    ("€" * 80, Encoding.GSM7, 1, 160),  # extension table: 2 septets each
    ("€" + "a" * 159, Encoding.GSM7, 2, 161),
    ("[]{}~^|\\", Encoding.GSM7, 1, 16),
    ("Café at 10:00 \u2013 see you", Encoding.UCS2, 1, 23),  # the en dash is not GSM-7
    ("é" * 160, Encoding.GSM7, 1, 160),  # é is in the basic set
    ("ç" * 70, Encoding.UCS2, 1, 70),  # lower-case ç is not (only Ç is)
    ("ç" * 71, Encoding.UCS2, 2, 71),
    ("ç" * 134, Encoding.UCS2, 2, 134),
    ("ç" * 135, Encoding.UCS2, 3, 135),
    ("🙂" * 35, Encoding.UCS2, 1, 70),  # a surrogate pair is 2 UTF-16 units
    ("🙂" * 36, Encoding.UCS2, 2, 72),
    ("Hi 🙂", Encoding.UCS2, 1, 5),
])
def test_segments_and_encoding(body: str, encoding: Encoding, segments: int, units: int) -> None:
    count = count_segments(body)
    assert (count.encoding, count.segments, count.units) == (encoding, segments, units)


def test_an_escape_pair_is_never_split_across_parts() -> None:
    # 152 plain characters and one "€" (2 septets) do not fit the first 153-septet part together.
    assert count_segments("a" * 152 + "€" + "a" * 10).segments == 2
    assert count_segments("a" * 152 + "€" + "a" * 152).segments == 3


def test_a_surrogate_pair_is_never_split_across_parts() -> None:
    assert count_segments("a" * 66 + "🙂" + "a" * 66).segments == 3  # 66 | 2+65 | 1


def test_a_standard_sms_costs_one_credit_per_segment_and_telehealth_two() -> None:
    assert credits_for("a" * 160, telehealth=False) == 1
    assert credits_for("a" * 161, telehealth=False) == 2
    assert credits_for("a" * 161, telehealth=True) == 4
    assert credits_for("🙂" * 36, telehealth=True) == 4


def test_choosing_twilio_without_its_credentials_is_refused_in_production() -> None:
    from rxapp.settings import Settings, production_problems

    base = {"app_env": "production", "secret_keys": "k", "zoom_client_id": "id", "zoom_client_secret": "s",
            "zoom_webhook_secret_token": "w", "cookie_secure": True, "app_url": "https://clinic.example"}
    assert production_problems(Settings(**base)) == []
    assert any("TWILIO" in p for p in production_problems(Settings(**base, sms_provider="twilio")))
    assert production_problems(Settings(**base, sms_provider="twilio", twilio_account_sid="AC1",
                                        twilio_auth_token="t", twilio_from="+12025550199")) == []

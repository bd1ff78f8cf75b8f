"""What the Add client / Edit form accepts: names, email, E.164 mobile numbers, dates, notes."""

from __future__ import annotations

from datetime import date

import pytest

from rxapp.services.clients.records import (
    NOTES_LIMIT,
    PHONE_PROBLEM,
    ClientForm,
    ClientInvalid,
    check_form,
    email_problem,
    normalize_phone,
)

TODAY = date(2026, 12, 2)


def _form(**changes: str) -> ClientForm:
    values = {"first_name": "Casey", "last_name": "Brook", "timezone": "America/New_York"} | changes
    return ClientForm(**values)


def _errors(**changes: str) -> dict[str, str]:
    with pytest.raises(ClientInvalid) as refused:
        check_form(_form(**changes), TODAY)
    return refused.value.errors


@pytest.mark.parametrize(("typed", "stored"), [
    ("+14155552671", "+14155552671"),
    ("+1 (415) 555-2671", "+14155552671"),
    (" +44 20 7946 0958 ", "+442079460958"),
    ("+61.2.9876.5432", "+61298765432"),
    ("4155552671", "+14155552671"),  # no country code: the practice's country (US here)
    ("(415) 555-2671", "+14155552671"),
    ("", ""),
    ("   ", ""),
])
def test_common_typing_of_a_mobile_number_is_stored_in_e164(typed: str, stored: str) -> None:
    assert normalize_phone(typed) == stored


@pytest.mark.parametrize("typed", [
    "+1 555 555 0101",  # 555 is no US area code: phonenumbers knows the numbering plan
    "555-0101",
    "+0 415 555 2671",  # country codes never start with 0
    "+1 415",  # too short
    "+1234567890123456",  # 16 digits: longer than E.164 allows
    "+1 415 555 CALL",
    "++14155552671",
])
def test_an_invalid_mobile_number_is_refused_clearly(typed: str) -> None:
    with pytest.raises(ValueError, match="valid mobile number"):
        normalize_phone(typed)
    assert _errors(phone=typed) == {"phone": PHONE_PROBLEM}


@pytest.mark.parametrize("email", ["casey", "casey@", "@example.org", "casey@example", "ca sey@example.org",
                                   "a@b.c" + "x" * 320])
def test_an_email_that_cannot_be_one_is_refused(email: str) -> None:
    assert email_problem(email)
    assert set(_errors(email=email)) == {"email"}


def test_first_and_last_name_are_required_and_trimmed() -> None:
    assert set(_errors(first_name="  ", last_name="")) == {"first_name", "last_name"}
    clean = check_form(_form(first_name="  Mary   Ann ", last_name=" Smith "), TODAY)
    assert (clean.first_name, clean.last_name, clean.full_name) == ("Mary Ann", "Smith", "Mary Ann Smith")


def test_the_display_name_uses_the_preferred_name() -> None:
    clean = check_form(_form(first_name="Robert", last_name="Jones", preferred_name="Bob"), TODAY)
    assert clean.full_name == "Bob Jones"


def test_names_have_a_length_limit() -> None:
    assert set(_errors(last_name="x" * 101, preferred_name="y" * 101)) == {"last_name", "preferred_name"}


def test_email_is_stored_lower_case_and_empty_fields_as_none() -> None:
    clean = check_form(_form(email=" Casey@Example.ORG ", phone="+1 415 555 2671"), TODAY)
    assert (clean.email, clean.phone) == ("casey@example.org", "+14155552671")
    empty = check_form(_form(), TODAY)
    assert (empty.email, empty.phone, empty.date_of_birth) == (None, None, None)


def test_date_of_birth_is_optional_but_never_in_the_future() -> None:
    assert check_form(_form(date_of_birth="1990-04-23"), TODAY).date_of_birth == date(1990, 4, 23)
    assert check_form(_form(date_of_birth=TODAY.isoformat()), TODAY).date_of_birth == TODAY
    assert _errors(date_of_birth="2026-12-03") == {"date_of_birth": "The date of birth cannot be in the future."}
    assert set(_errors(date_of_birth="23/04/1990")) == {"date_of_birth"}
    assert set(_errors(date_of_birth="1850-01-01")) == {"date_of_birth"}


def test_the_timezone_must_be_one_of_the_list() -> None:
    assert set(_errors(timezone="Mars/Olympus")) == {"timezone"}
    assert set(_errors(timezone="")) == {"timezone"}


def test_notes_are_length_limited() -> None:
    assert check_form(_form(notes="n" * NOTES_LIMIT), TODAY).notes == "n" * NOTES_LIMIT
    assert set(_errors(notes="n" * (NOTES_LIMIT + 1))) == {"notes"}


def test_every_problem_is_reported_at_once() -> None:
    assert set(_errors(first_name="", phone="555", email="nope", date_of_birth="2999-01-01")) == {
        "first_name", "phone", "email", "date_of_birth"}


def test_a_number_without_a_country_code_belongs_to_the_given_region() -> None:
    assert normalize_phone("020 7946 0958", "GB") == "+442079460958"
    assert normalize_phone("+1 415 555 2671", "GB") == "+14155552671"
    with pytest.raises(ValueError):
        normalize_phone("+1 415 555 CALL")  # letters are not guessed at

"""Counts shown to people take the right form of the noun."""

from __future__ import annotations

import pytest

from rxapp.services.phrases import count


@pytest.mark.parametrize(("n", "expected"), [(0, "0 meetings"), (1, "1 meeting"), (2, "2 meetings"),
                                             (1200, "1,200 meetings")])
def test_one_meeting_many_meetings(n: int, expected: str) -> None:
    assert count(n, "meeting") == expected


def test_irregular_plurals_can_be_given() -> None:
    assert count(3, "person", "people") == "3 people" and count(1, "person", "people") == "1 person"


def test_a_deactivated_practitioners_appointments_are_told_in_words_that_agree_with_the_number() -> None:
    from rxapp.state.team import _visits_kept

    assert _visits_kept(1).startswith("Their 1 future appointment stays booked and is listed here")
    assert _visits_kept(2).startswith("Their 2 future appointments stay booked and are listed here")
    assert _visits_kept(0) == "They have no future appointments."

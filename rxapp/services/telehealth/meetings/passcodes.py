"""Zoom passcodes that satisfy the account's rules (`meeting_password_requirement`)."""

from __future__ import annotations

import itertools
import secrets
import string

from rxapp.services.telehealth.zoom.client import PasscodeRules

MAX_LENGTH = 10  # Zoom's limit for meeting passcodes
_SPECIAL = "@-_*"


def _has_run(code: str, run: int) -> bool:
    """A run of `run` characters that repeat or count up or down ('aaaa', '1234', 'dcba', and
    mixes such as 'aabc'): read strictly, as accounts' rules may be, so Zoom never refuses ours."""
    if run <= 1 or len(code) < run:
        return False
    for i in range(len(code) - run + 1):
        steps = {b - a for a, b in itertools.pairwise(ord(c) for c in code[i:i + run])}
        if steps <= {0, 1} or steps <= {0, -1}:
            return True
    return False


def satisfies(code: str, rules: PasscodeRules) -> bool:
    if not (max(1, min(rules.length, MAX_LENGTH)) <= len(code) <= MAX_LENGTH):
        return False
    if rules.only_allow_numeric and not code.isdigit():
        return False
    if rules.have_letter and not any(c.isalpha() for c in code):
        return False
    if rules.have_number and not any(c.isdigit() for c in code):
        return False
    if rules.have_special_character and not any(c in _SPECIAL for c in code):
        return False
    if rules.have_upper_and_lower_characters and not (any(c.isupper() for c in code)
                                                       and any(c.islower() for c in code)):
        return False
    return not _has_run(code, rules.consecutive_characters_length)


class RulesUnsatisfiable(ValueError):
    """The account's rules contradict each other (e.g. numeric only, yet a letter required)."""


def generate(rules: PasscodeRules, attempts: int = 10_000) -> str:
    """A random passcode meeting `rules` (the longest Zoom allows, which also meets minimums).
    Raises `RulesUnsatisfiable` when no attempt fits (the caller then lets Zoom choose)."""
    if rules.only_allow_numeric:
        alphabet = string.digits
    else:
        alphabet = string.ascii_letters + string.digits + (_SPECIAL if rules.have_special_character else "")
    for _ in range(attempts):
        code = "".join(secrets.choice(alphabet) for _ in range(MAX_LENGTH))
        if satisfies(code, rules):
            return code
    raise RulesUnsatisfiable("no passcode satisfies the account's rules")

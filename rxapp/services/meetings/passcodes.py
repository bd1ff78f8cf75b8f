"""Zoom passcodes that satisfy the account's rules (`meeting_password_requirement`)."""

from __future__ import annotations

import itertools
import secrets
import string

from rxapp.services.zoom.client import PasscodeRules

MAX_LENGTH = 10  # Zoom's limit for meeting passcodes
_SPECIAL = "@-_*"


def _has_run(code: str, run: int) -> bool:
    """A run of `run` equal or consecutive characters (e.g. 'aaaa', '1234', 'abcd')."""
    if run <= 1 or len(code) < run:
        return False
    for i in range(len(code) - run + 1):
        chunk = [ord(c) for c in code[i:i + run]]
        steps = {b - a for a, b in itertools.pairwise(chunk)}
        if steps in ({0}, {1}, {-1}):
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


def generate(rules: PasscodeRules) -> str:
    """A random passcode meeting `rules` (the longest Zoom allows, which also meets minimums)."""
    if rules.only_allow_numeric:
        alphabet = string.digits
    else:
        alphabet = string.ascii_letters + string.digits + (_SPECIAL if rules.have_special_character else "")
    while True:
        code = "".join(secrets.choice(alphabet) for _ in range(MAX_LENGTH))
        if satisfies(code, rules):
            return code

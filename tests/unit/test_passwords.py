"""Passwords are hashed with argon2id at a cost that makes guessing expensive (the test suite hashes at
the lowest cost to save time: tests/conftest.py keeps the app's own hasher as APP_PASSWORD_HASHER)."""

from __future__ import annotations

from argon2 import Type

from rxapp.services.identity import passwords
from tests.conftest import APP_PASSWORD_HASHER


def test_the_app_hashes_with_argon2id_at_rfc_9106s_recommended_cost() -> None:
    # RFC 9106 section 4, second recommended option: t=3, m=64 MiB, p=4.
    assert APP_PASSWORD_HASHER.type is Type.ID
    assert APP_PASSWORD_HASHER.time_cost >= 3
    assert APP_PASSWORD_HASHER.memory_cost >= 64 * 1024
    assert APP_PASSWORD_HASHER.parallelism >= 1
    assert APP_PASSWORD_HASHER.hash("correct horse battery").startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_a_hash_made_at_the_apps_cost_verifies_whatever_cost_the_checker_hashes_at() -> None:
    stored = APP_PASSWORD_HASHER.hash("correct horse battery")
    assert passwords.verify_password(stored, "correct horse battery")
    assert not passwords.verify_password(stored, "correct horse battery!")
    assert not passwords.verify_password(None, "correct horse battery")
    assert not passwords.verify_password("not a hash", "correct horse battery")


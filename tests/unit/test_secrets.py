import pytest
from cryptography.fernet import Fernet

from rxapp.services import crypto
from rxapp.services.identity.passwords import hash_password, password_problem, verify_password
from rxapp.settings import get_settings


def test_a_password_hash_verifies_only_its_password() -> None:
    h = hash_password("correct horse battery")
    assert h.startswith("$argon2id$")
    assert verify_password(h, "correct horse battery")
    assert not verify_password(h, "wrong")


def test_a_missing_hash_never_verifies() -> None:
    assert not verify_password(None, "not-a-real-password")


def test_short_passwords_are_refused_with_a_reason() -> None:
    assert password_problem("short") is not None
    assert password_problem("long enough password") is None


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch):
    def use(*ks: bytes) -> None:
        monkeypatch.setenv("SECRET_KEYS", ",".join(k.decode() for k in ks))
        get_settings.cache_clear()
        crypto.reset_cache()
    yield use
    get_settings.cache_clear()
    crypto.reset_cache()


def test_encrypted_secrets_round_trip_and_hide_the_plaintext(keys) -> None:
    keys(Fernet.generate_key())
    token = crypto.encrypt("zoom-refresh-token")
    assert "zoom-refresh-token" not in token
    assert crypto.decrypt(token) == "zoom-refresh-token"


def test_rotating_keys_keeps_old_secrets_readable(keys) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    keys(old)
    token = crypto.encrypt("secret")
    keys(new, old)
    assert crypto.decrypt(token) == "secret"
    rotated = crypto.rotate(token)
    keys(new)
    assert crypto.decrypt(rotated) == "secret"
    with pytest.raises(crypto.InvalidToken):
        crypto.decrypt(token)


def test_no_key_is_a_clear_error_in_production(keys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEYS", "")
    monkeypatch.setenv("APP_ENV", "production")
    get_settings.cache_clear()
    crypto.reset_cache()
    with pytest.raises(crypto.SecretKeysMissing):
        crypto.encrypt("x")


def test_production_refuses_the_embedded_development_defaults() -> None:
    from rxapp.settings import Settings, production_problems

    assert production_problems(Settings(app_env="development")) == []
    problems = production_problems(Settings(app_env="production", secret_keys=""))
    assert len(problems) == 4
    safe = Settings(app_env="production", secret_keys="k", zoom_client_id="id", zoom_client_secret="s",
                    zoom_webhook_secret_token="w", cookie_secure=True, app_url="https://clinic.example")
    assert production_problems(safe) == []

"""Every setting of the app, read from environment variables with embedded defaults.

The defaults describe the embedded configuration that `make run` starts: a SQLite file,
the Zoom sandbox on loopback, a local SMTP catcher. The README has the same table.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    app_env: Literal["development", "production", "test"] = "development"
    app_url: str = Field("http://localhost:3000", description="Public origin of the app")
    app_port: int = 3000
    # Loopback by default: the development setup (demo passwords, caught mail) must not be
    # reachable from the network unless someone opens it up on purpose (APP_HOST=0.0.0.0).
    app_host: str = "127.0.0.1"
    database_url: str = f"sqlite:///{ROOT / 'var' / 'telehealth.db'}"
    redis_url: str = ""

    secret_keys: str = Field("", description="Comma-separated Fernet keys, newest first")
    secret_key_file: Path = ROOT / "var" / "secret.keys"

    # `open`: anyone may create a practice at /signup (several practices on one installation); `closed`:
    # only the first run's /setup and `manage create-practice` make practices.
    practice_signup: Literal["closed", "open"] = "closed"

    session_cookie_name: str = "th_session"
    session_idle_minutes: int = 60
    session_absolute_hours: int = 12
    cookie_secure: bool = False
    login_max_failures: int = 5
    login_window_minutes: int = 15
    login_lock_minutes: int = 15

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "Demo Practice <no-reply@telehealth.local>"
    mail_catcher_port: int = 1025
    mail_catcher_dir: Path = ROOT / "var" / "mail"
    outbox_poll_seconds: float = 2.0

    # SMS: the embedded catcher (files in `sms_catcher_dir`, shown on /dev/sms) or Twilio's REST API.
    sms_provider: Literal["catcher", "twilio"] = "catcher"
    sms_catcher_dir: Path = ROOT / "var" / "sms"
    twilio_account_sid: str = ""
    twilio_auth_token: str = Field("", repr=False)  # a secret: never logged, never sent to a browser
    twilio_from: str = ""
    twilio_base_url: str = "https://api.twilio.com"
    twilio_timeout_seconds: float = 10.0
    phone_region: str = Field("US", description="Region of phone numbers entered without a country code")

    zoom_oauth_base_url: str = "http://127.0.0.1:8765"
    zoom_api_base_url: str = "http://127.0.0.1:8765/v2"
    zoom_client_id: str = "sandbox-client-id"
    zoom_client_secret: str = "sandbox-client-secret"
    zoom_redirect_uri: str = ""
    zoom_webhook_secret_token: str = "sandbox-webhook-secret"
    zoom_sandbox_port: int = 8765
    zoom_http_timeout_seconds: float = 10.0
    webhook_retention_days: int = 30
    # Development plugins: comma-separated modules whose `install(app, http)` adds to the app (the
    # benchmarks' push probe, `benchmarks.push_probe`). Refused in production.
    dev_plugins: str = ""

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def dev_plugin_modules(self) -> list[str]:
        return [name.strip() for name in self.dev_plugins.split(",") if name.strip()]

    @property
    def portal_url(self) -> str:
        """The client portal (My sessions), as emails and texts link to it."""
        return f"{self.app_url.rstrip('/')}/portal"

    @property
    def zoom_callback_url(self) -> str:
        """Where Zoom sends the browser back after consent (an HTTP route of ours)."""
        return self.zoom_redirect_uri or f"{self.app_url.rstrip('/')}/auth/zoom/callback"


def production_problems(settings: Settings) -> list[str]:
    """What would make a production deployment unsafe (the embedded defaults are for development)."""
    if not settings.is_production:
        return []
    problems = []
    if not settings.secret_keys:
        problems.append("SECRET_KEYS must be set (Fernet keys; the local key file is for development only)")
    if settings.zoom_client_secret == "sandbox-client-secret" or settings.zoom_client_id == "sandbox-client-id":
        problems.append("ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET must be your Zoom app's credentials")
    if settings.zoom_webhook_secret_token == "sandbox-webhook-secret":
        problems.append("ZOOM_WEBHOOK_SECRET_TOKEN must be your Zoom app's secret token")
    if settings.sms_provider == "twilio" and not (settings.twilio_account_sid and settings.twilio_auth_token
                                                  and settings.twilio_from):
        problems.append("SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM")
    if settings.dev_plugin_modules:
        problems.append("DEV_PLUGINS is for development and benchmarks only")
    if not settings.cookie_secure or not settings.app_url.startswith("https://"):
        problems.append("APP_URL must be https:// and COOKIE_SECURE=true")
    return problems


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests call `get_settings.cache_clear()` after changing env."""
    return Settings()

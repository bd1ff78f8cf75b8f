"""Every setting of the sandbox in one dataclass, read from flags or environment.

The defaults match the app's embedded development configuration so that
`make run` works without any variable set; tests override what they need.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

DEFAULT_SCOPES: tuple[str, ...] = (
    "user:read:user",
    "user:read:settings",
    "meeting:read:meeting",
    "meeting:write:meeting",
    "meeting:update:meeting",
    "meeting:delete:meeting",
    "meeting:update:status",
    "meeting:read:list_meetings",
)


def _floats(text: str) -> tuple[float, ...]:
    """Parse "5,20,60" into (5.0, 20.0, 60.0); blank items are ignored."""
    return tuple(float(part) for part in text.split(",") if part.strip())


def _truthy(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SandboxConfig:
    """Settings of one sandbox instance (immutable: a change means a new app)."""

    host: str = "127.0.0.1"
    port: int = 8765
    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"
    # One URI, a comma-separated list, or "*" (sandbox-only: accept any).
    redirect_uri: str = "http://localhost:3000/auth/zoom/callback"
    webhook_url: str = "http://localhost:3000/api/zoom/webhook"
    webhook_secret: str = "sandbox-webhook-secret"
    enable_control: bool = False
    state_file: str = ""
    access_token_ttl: int = 3599
    # Zoom: a refresh token lives about 90 days ("changeable"); each refresh issues a new one.
    refresh_token_ttl: int = 90 * 86400
    start_url_ttl: int = 7200
    # Zoom retries a failed delivery 5, 20 and 60 minutes after the previous attempt.
    webhook_retry_delays: tuple[float, ...] = (300.0, 1200.0, 3600.0)
    webhook_timeout: float = 3.0
    qps: int = 30
    daily_limit: int = 100
    public_url: str = ""
    default_scopes: tuple[str, ...] = field(default=DEFAULT_SCOPES)

    @property
    def base_url(self) -> str:
        """Root URL printed in start_url/join_url and returned as api_url."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    @property
    def redirect_uris(self) -> tuple[str, ...]:
        return tuple(u.strip() for u in self.redirect_uri.split(",") if u.strip())

    def redirect_allowed(self, uri: str) -> bool:
        """Zoom compares redirect URIs exactly against the app's allow list."""
        if not uri:
            return False
        allowed = self.redirect_uris
        return "*" in allowed or uri in allowed

    def with_port(self, port: int) -> SandboxConfig:
        return replace(self, port=port)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SandboxConfig:
        """Build a config from ZOOM_* / ZOOM_SANDBOX_* variables (unset = default)."""
        env = os.environ if environ is None else environ
        d = cls()

        def get(name: str, default: str) -> str:
            value = env.get(name)
            return default if value is None else value

        return cls(
            host=get("ZOOM_SANDBOX_HOST", d.host),
            port=int(get("ZOOM_SANDBOX_PORT", str(d.port))),
            client_id=get("ZOOM_CLIENT_ID", d.client_id),
            client_secret=get("ZOOM_CLIENT_SECRET", d.client_secret),
            redirect_uri=get("ZOOM_REDIRECT_URI", d.redirect_uri),
            webhook_url=get("ZOOM_WEBHOOK_URL", d.webhook_url),
            webhook_secret=get("ZOOM_WEBHOOK_SECRET_TOKEN", d.webhook_secret),
            enable_control=_truthy(get("ZOOM_SANDBOX_CONTROL", "0")),
            state_file=get("ZOOM_SANDBOX_STATE_FILE", d.state_file),
            access_token_ttl=int(get("ZOOM_SANDBOX_ACCESS_TOKEN_TTL", str(d.access_token_ttl))),
            refresh_token_ttl=int(get("ZOOM_SANDBOX_REFRESH_TOKEN_TTL", str(d.refresh_token_ttl))),
            start_url_ttl=int(get("ZOOM_SANDBOX_START_URL_TTL", str(d.start_url_ttl))),
            webhook_retry_delays=_floats(get("ZOOM_SANDBOX_WEBHOOK_RETRY_DELAYS", "300,1200,3600")),
            webhook_timeout=float(get("ZOOM_SANDBOX_WEBHOOK_TIMEOUT", str(d.webhook_timeout))),
            qps=int(get("ZOOM_SANDBOX_QPS", str(d.qps))),
            daily_limit=int(get("ZOOM_SANDBOX_DAILY_LIMIT", str(d.daily_limit))),
            public_url=get("ZOOM_SANDBOX_PUBLIC_URL", d.public_url),
        )

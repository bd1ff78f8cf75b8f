"""Reflex configuration: everything comes from the environment (see rxapp/settings.py)."""

import reflex as rx

from rxapp import heartbeat
from rxapp.settings import get_settings

_settings = get_settings()

heartbeat.configure_environment()  # pings every 40 s, a silent page given up 30 s later (rxapp/heartbeat.py)

config = rx.Config(
    app_name="rxapp",
    telemetry_enabled=False,
    db_url=_settings.database_url,
    redis_url=_settings.redis_url or None,
    # Only the app's own origin may call the backend (Reflex's default is "*").
    cors_allowed_origins=[_settings.app_url.rstrip("/")],
    frontend_port=_settings.app_port,
    backend_host=_settings.app_host,
    backend_port=_settings.app_port,
    plugins=[rx.plugins.RadixThemesPlugin()],
    disable_plugins=[rx.plugins.SitemapPlugin],
    show_built_with_reflex=False,
)

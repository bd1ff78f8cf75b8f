"""Reflex configuration: everything comes from the environment (see rxapp/settings.py)."""

import os

import reflex as rx

from rxapp.settings import get_settings

_settings = get_settings()

# The websocket's heartbeat. Reflex's defaults are a ping every 25 s and a client given up 120 s
# after a ping that got no answer. Here the server pings every 40 s: still under the 55-60 s after
# which common proxies and load balancers cut a silent connection. This costs 40% less CPU per
# open waiting room (at 1,000 rooms the pings are most of the idle load; `make bench`). A phone
# whose connection died silently, for example on a switch from Wi-Fi to mobile data, notices after
# 70 s (40 + 30) instead of 145 s; it then reconnects and re-reads its room. Both settings can be
# overridden in the environment.
os.environ.setdefault("REFLEX_SOCKET_INTERVAL", "40s")
os.environ.setdefault("REFLEX_SOCKET_TIMEOUT", "30s")

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

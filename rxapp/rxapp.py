"""The Reflex app: pages, HTTP routes and background jobs."""

from __future__ import annotations

import asyncio
import importlib
import logging

import reflex as rx

from rxapp import api, heartbeat, jobs, live, redaction, state_store
from rxapp.pages import (  # noqa: F401  (registers pages)
    accounts,
    attention,
    audit,
    availability,
    calendar,
    client_record,
    clients,
    dashboard,
    dev_mail,
    dev_sms,
    index,
    login,
    meetings,
    portal,
    portal_book,
    portal_trust,
    practice_settings,
    profile,
    team,
    waitlist,
    welcome,
)
from rxapp.services.practice import setup
from rxapp.settings import get_settings, production_problems
from rxapp.state.auth import BrowserOwnerCheck, on_backend_error

redaction.install()  # before the app runs: no cookie, token or password in any log line

_problems = production_problems(get_settings())
if _problems:
    raise RuntimeError("Refusing to start in production: " + "; ".join(_problems))

http = api.build()
app = rx.App(
    api_transformer=http,
    theme=rx.theme(accent_color="indigo", radius="medium"),
    backend_exception_handler=on_backend_error,
    # assets/: the shared layout rules (phones), the favicon, keyboard help (skip link, focus return) and
    # the calendar's drag to move or resize (desktop; the dialog stays the keyboard and phone way).
    stylesheets=["/app.css", "/calendar.css", "/portal_booking.css"],
    head_components=[rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml"),
                     rx.el.link(rel="alternate icon", href="/favicon.ico", sizes="32x32"),
                     rx.script(src="/a11y.js"), rx.script(src="/calendar_drag.js")],
)
app.add_middleware(BrowserOwnerCheck())
for _plugin in get_settings().dev_plugin_modules:  # development and benchmarks only (refused in production)
    importlib.import_module(_plugin).install(app, http)
app.register_lifespan_task(jobs.scheduler_lifespan)
app.register_lifespan_task(live.push_lifespan)
app.register_lifespan_task(state_store.state_store_lifespan)
app.register_lifespan_task(heartbeat.heartbeat_lifespan)


async def announce_setup() -> None:
    """The first run: with no practice yet, log once where to set it up and a fresh setup code."""
    code = await asyncio.to_thread(setup.new_setup_code) if await asyncio.to_thread(setup.needs_setup) else None
    if code is not None:
        logging.getLogger("rxapp.setup").warning(
            "No practice yet: open %s/setup and enter this one-time setup code: %s", get_settings().app_url, code)


app.register_lifespan_task(announce_setup)

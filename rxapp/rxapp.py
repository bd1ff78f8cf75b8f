"""The Reflex app: pages, HTTP routes and background jobs."""

from __future__ import annotations

import reflex as rx

from rxapp import api, jobs, live
from rxapp.pages import (  # noqa: F401  (registers pages)
    accounts,
    audit,
    clients,
    dev_mail,
    index,
    login,
    meetings,
    placeholders,
    portal,
    portal_trust,
    practice_settings,
    profile,
)
from rxapp.settings import get_settings, production_problems

_problems = production_problems(get_settings())
if _problems:
    raise RuntimeError("Refusing to start in production: " + "; ".join(_problems))

app = rx.App(
    api_transformer=api.build(),
    theme=rx.theme(accent_color="indigo", radius="medium"),
)
app.register_lifespan_task(jobs.scheduler_lifespan)
app.register_lifespan_task(live.push_lifespan)

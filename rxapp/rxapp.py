"""The Reflex app: pages, HTTP routes and background jobs."""

from __future__ import annotations

import reflex as rx

from rxapp import api, jobs
from rxapp.pages import clients, dev_mail, index, login, placeholders  # noqa: F401  (registers pages)

app = rx.App(
    api_transformer=api.build(),
    theme=rx.theme(accent_color="teal", radius="medium"),
)
app.register_lifespan_task(jobs.scheduler_lifespan)

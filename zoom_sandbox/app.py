"""Assembles the sandbox's Starlette application from its route modules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from zoom_sandbox import admin, api, control, oauth, pages
from zoom_sandbox.config import SandboxConfig
from zoom_sandbox.core import Sandbox


async def _not_found(request: Request, exc: Exception) -> Response:
    """Unknown /v2 paths answer like Zoom's API; other paths plain JSON."""
    if request.url.path.startswith("/v2/"):
        return JSONResponse({"code": 404, "message": "Not Found"}, status_code=404)
    return JSONResponse({"error": "not found"}, status_code=404)


def create_app(config: SandboxConfig) -> Starlette:
    """One sandbox instance: its own store, webhook dispatcher and fault plan."""
    sandbox = Sandbox(config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await sandbox.webhooks.close()
        sandbox.store.save()

    routes = [
        *pages.routes(),
        Route("/oauth/token", oauth.token, methods=["POST"]),
        Route("/oauth/revoke", oauth.revoke, methods=["POST"]),
        *api.routes(),
        *admin.routes(),
        *control.routes(),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: _not_found})
    app.state.sandbox = sandbox
    app.state.tickets = {}
    return app

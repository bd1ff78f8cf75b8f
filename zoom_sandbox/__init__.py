"""Zoom sandbox: a local imitation of Zoom's OAuth, Meetings REST API and webhooks.

The telehealth app never imports this package; it reaches the sandbox only through
its configured base URLs, so the same build talks to the real Zoom in production.
See README.md beside this file for the CLI, the demo users and the control API.
"""

from zoom_sandbox.config import SandboxConfig

__all__ = ["SandboxConfig", "create_app"]


def create_app(config: SandboxConfig):  # type: ignore[no-untyped-def]  # lazy: avoid importing Starlette eagerly
    """Build the sandbox's Starlette application (see zoom_sandbox.app)."""
    from zoom_sandbox.app import create_app as _create

    return _create(config)

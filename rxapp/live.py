"""Server push: when a meeting changes, the browsers watching it update at once.

Pages register the browser's Reflex client token under a topic (`meeting:<id>`,
`practitioner:<id>`, `client:<id>`) when they load. Services announce changes through
`services.changes`; this module pushes them with `app.modify_state`, which with Redis reaches
a browser connected to any worker. The registry lives in memory with one worker and in Redis
when REDIS_URL is set. While its socket is up a page sends nothing on its own but a rare keep-alive;
it polls slowly only while push is unavailable (see state/portal.py).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import reflex as rx

from rxapp.services import changes
from rxapp.settings import get_settings
from rxapp.state.auth import NotSignedIn

log = logging.getLogger(__name__)

WATCH_SECONDS = 3600


class _MemoryRegistry:
    def __init__(self) -> None:
        self._topics: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    async def watch(self, topic: str, token: str) -> None:
        with self._lock:
            self._topics.setdefault(topic, {})[token] = time.time() + WATCH_SECONDS

    async def watchers(self, topic: str) -> list[str]:
        with self._lock:
            entries = self._topics.get(topic, {})
            alive = {t: exp for t, exp in entries.items() if exp > time.time()}
            self._topics[topic] = alive
            return list(alive)


class _RedisRegistry:
    """A sorted set per topic: member = client token, score = when the watch expires."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url)

    async def watch(self, topic: str, token: str) -> None:
        key = f"telehealth:live:{topic}"
        await self._redis.zadd(key, {token: time.time() + WATCH_SECONDS})
        await self._redis.expire(key, WATCH_SECONDS)

    async def watchers(self, topic: str) -> list[str]:
        key = f"telehealth:live:{topic}"
        await self._redis.zremrangebyscore(key, "-inf", time.time())
        return [m.decode() for m in await self._redis.zrange(key, 0, -1)]


_registry: _MemoryRegistry | _RedisRegistry | None = None
_loop: asyncio.AbstractEventLoop | None = None
_app: Any = None
Apply = Callable[[Any, changes.AppointmentChanged], Awaitable[None]]
# topic prefix -> every page state listening to it (state class -> how it applies a change), so the
# calendar, the meeting list and the waiting room can all react to one change
_handlers: dict[str, dict[type[rx.State], Apply]] = {}
_tasks: set[Any] = set()


def registry() -> _MemoryRegistry | _RedisRegistry:
    global _registry
    if _registry is None:
        url = get_settings().redis_url
        _registry = _RedisRegistry(url) if url else _MemoryRegistry()
    return _registry


async def watch(topic: str, client_token: str) -> None:
    """Push changes of `topic` to this browser (the token comes from the server's own router data)."""
    if client_token:
        await registry().watch(topic, client_token)


async def connected(topic: str) -> bool:
    """Whether a browser watching `topic` has its socket up now (as this worker knows it): e.g. a
    client's waiting room is open. Unknown counts as no, so a caller falls back to SMS or email."""
    namespace = getattr(_app, "event_namespace", None) if _app is not None else None
    if namespace is None:
        return False
    try:
        sids = namespace.token_to_sid
        return any(token in sids for token in await registry().watchers(topic))
    except Exception:
        log.exception("could not tell whether %s is open", topic)
        return False


def on_change(prefix: str, state_cls: type[rx.State], apply: Apply) -> None:
    """Register how a page applies a change of a `prefix` topic to its state (`apply(state, change)`).

    Several states may listen to one prefix; each is pushed to the browsers watching the topic.
    Registering the same state class again replaces its listener (modules may be imported twice)."""
    _handlers.setdefault(prefix, {})[state_cls] = apply


def _topics(change: changes.AppointmentChanged) -> dict[str, str]:
    return {"meeting": f"meeting:{change.appointment_id}", "practitioner": f"practitioner:{change.practitioner_id}",
            "client": f"client:{change.client_id}", "practice": f"practice:{change.practice_id}"}


async def _push(change: changes.AppointmentChanged) -> None:
    if _app is None:
        return
    for prefix, topic in _topics(change).items():
        listeners = list(_handlers.get(prefix, {}).items())
        if not listeners:
            continue
        for token in await registry().watchers(topic):
            for state_cls, apply in listeners:
                try:
                    async with _app.modify_state(rx.BaseStateToken(ident=token, cls=state_cls)) as root:
                        await apply(await root.get_state(state_cls), change)
                except NotSignedIn:
                    pass  # that browser signed out: its own next event takes it to sign-in
                except Exception:  # one failing page never stops the others
                    log.exception("push to a browser failed")


def _announce(change: changes.AppointmentChanged) -> None:
    """Listener of `services.changes`; may be called from a worker thread."""
    loop = _loop
    if loop is None or loop.is_closed():
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    # Keep a reference until each push is done (the loop itself holds tasks only weakly).
    pending = loop.create_task(_push(change)) if running is loop else \
        asyncio.run_coroutine_threadsafe(_push(change), loop)
    _tasks.add(pending)
    pending.add_done_callback(_tasks.discard)


@asynccontextmanager
async def push_lifespan(app: Any) -> AsyncIterator[None]:
    """Started once per backend worker: remember the app and its loop, listen for changes."""
    global _loop, _app
    _loop, _app = asyncio.get_running_loop(), app
    changes.subscribe(_announce)
    yield

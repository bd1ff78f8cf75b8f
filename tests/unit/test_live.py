"""Server push: several pages (states) may listen to one topic and each gets every change."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from rxapp import live
from rxapp.services import changes


class _Root:
    def __init__(self, token: str, states: dict[tuple[str, type], Any]) -> None:
        self._token, self._states = token, states

    async def get_state(self, cls: type) -> Any:
        return self._states.setdefault((self._token, cls), cls())


class _App:
    """What live.py needs of the Reflex app: `modify_state` yielding the browser's state tree."""

    def __init__(self) -> None:
        self.states: dict[tuple[str, type], Any] = {}

    @asynccontextmanager
    async def modify_state(self, token: Any) -> AsyncIterator[_Root]:
        yield _Root(token.ident, self.states)


class CalendarPage:
    def __init__(self) -> None:
        self.seen: list[int] = []


class MeetingListPage(CalendarPage):
    pass


class WaitingRoomPage(CalendarPage):
    pass


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> _App:
    fake = _App()
    monkeypatch.setattr(live, "_app", fake)
    monkeypatch.setattr(live, "_registry", live._MemoryRegistry())
    monkeypatch.setattr(live, "_handlers", {})
    return fake


async def _record(state: CalendarPage, change: changes.AppointmentChanged) -> None:
    state.seen.append(change.appointment_id)


async def _fail(state: CalendarPage, change: changes.AppointmentChanged) -> None:
    raise RuntimeError("this page broke")


def test_every_page_listening_to_a_topic_reacts_to_one_change(app: _App) -> None:
    live.on_change("practitioner", CalendarPage, _record)
    live.on_change("practitioner", MeetingListPage, _record)
    live.on_change("meeting", WaitingRoomPage, _record)

    async def scenario() -> None:
        await live.watch("practitioner:5", "lee-browser")
        await live.watch("meeting:9", "alex-browser")
        await live._push(changes.AppointmentChanged(practice_id=1, appointment_id=9, practitioner_id=5, client_id=3))

    asyncio.run(scenario())
    assert app.states[("lee-browser", CalendarPage)].seen == [9]
    assert app.states[("lee-browser", MeetingListPage)].seen == [9]
    assert app.states[("alex-browser", WaitingRoomPage)].seen == [9]


def test_registering_a_page_again_replaces_only_its_own_listener(app: _App) -> None:
    live.on_change("practitioner", CalendarPage, _fail)
    live.on_change("practitioner", MeetingListPage, _record)
    live.on_change("practitioner", CalendarPage, _record)  # the module was imported again

    async def scenario() -> None:
        await live.watch("practitioner:5", "lee-browser")
        await live._push(changes.AppointmentChanged(practice_id=1, appointment_id=1, practitioner_id=5, client_id=3))

    asyncio.run(scenario())
    assert app.states[("lee-browser", CalendarPage)].seen == [1]
    assert app.states[("lee-browser", MeetingListPage)].seen == [1]


def test_a_failing_page_does_not_stop_the_other_listeners(app: _App) -> None:
    live.on_change("practitioner", CalendarPage, _fail)
    live.on_change("practitioner", MeetingListPage, _record)

    async def scenario() -> None:
        await live.watch("practitioner:5", "lee-browser")
        await live._push(changes.AppointmentChanged(practice_id=1, appointment_id=4, practitioner_id=5, client_id=3))

    asyncio.run(scenario())
    assert app.states[("lee-browser", MeetingListPage)].seen == [4]

"""Issue 25.4: the owner downloads the practice's data as one streamed ZIP (CSV per table, an .ics per
practitioner), audited, never with a secret; nobody else can, and a link without the page's token
exports nothing."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator

import pytest
from icalendar import Calendar
from sqlmodel import select
from starlette.testclient import TestClient

from rxapp.db import unit_of_work
from rxapp.dev.demo_data import load_demo_data, load_demo_week
from rxapp.models import AuditEvent, Client, Meeting, User
from rxapp.services import crypto
from rxapp.services.identity import auth
from rxapp.services.permissions import NotAllowed
from rxapp.services.practice import export
from rxapp.settings import get_settings
from tests.integration.zoom_helpers import principal_of, sign_in

APP = "http://localhost:3000"


@pytest.fixture
def client(database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from rxapp import api

    monkeypatch.setenv("APP_URL", APP)
    get_settings.cache_clear()
    load_demo_data()
    load_demo_week()
    yield TestClient(api.build(), base_url=APP, follow_redirects=False)
    get_settings.cache_clear()


def _download(client: TestClient, email: str) -> tuple[int, bytes]:
    token = sign_in(email).token
    client.cookies.set(get_settings().session_cookie_name, token)
    answer = client.get(f"/export.zip?t={auth.request_token(token, 'export')}")
    return answer.status_code, answer.content


def test_the_owner_downloads_every_table_and_each_practitioners_calendar_without_secrets(client: TestClient) -> None:
    with unit_of_work() as s:  # a formula in a name is text in a spreadsheet; a Zoom link must never leave
        s.exec(select(Client).where(Client.email == "sam@demo.client")).one().notes = "=HYPERLINK(\"x\")"
        meeting = s.exec(select(Meeting)).first()
        assert meeting is not None
        meeting.join_url_encrypted = crypto.encrypt("https://zoom.us/j/999?pwd=very-secret")
    status, body = _download(client, "owner@demo.clinic")
    assert status == 200
    archive = zipfile.ZipFile(io.BytesIO(body))
    names = set(archive.namelist())
    assert {"clients.csv", "appointments.csv", "availability.csv", "reminders.csv", "sms_ledger.csv", "team.csv",
            "audit.csv"} <= names
    calendars = sorted(n for n in names if n.startswith("calendars/"))
    assert len(calendars) == 2 and all(n.endswith(".ics") for n in calendars)
    clients = list(csv.DictReader(io.StringIO(archive.read("clients.csv").decode())))
    assert sorted(c["full_name"] for c in clients) == ["Alex Rivera", "Jo Kim", "Sam Taylor"]
    assert next(c for c in clients if c["full_name"] == "Sam Taylor")["notes"] == "'=HYPERLINK(\"x\")"
    appointments = list(csv.DictReader(io.StringIO(archive.read("appointments.csv").decode())))
    with unit_of_work() as s:
        from rxapp.models import Appointment
        assert len(appointments) == len(s.exec(select(Appointment)).all()) > 0
        hashes = [u.password_hash or "" for u in s.exec(select(User))]
    assert {a["mode"] for a in appointments} == {"telehealth", "in person"} and appointments[0]["practitioner"]
    for name in calendars:
        assert Calendar.from_ical(archive.read(name)).walk("VEVENT")
    everything = b"".join(archive.read(n) for n in names)
    for secret in ("very-secret", "zoom.us/j", *[h for h in hashes if h]):
        assert secret.encode() not in everything
    with unit_of_work() as s:
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "practice.exported")).first() is not None


def test_only_the_owner_exports_and_only_from_the_page(client: TestClient) -> None:
    for email in ("manager@demo.clinic", "frontdesk@demo.clinic", "dr.lee@demo.clinic"):
        assert _download(client, email)[0] == 403
    with pytest.raises(NotAllowed):
        export.export_archive(principal_of("manager@demo.clinic"))
    client.cookies.set(get_settings().session_cookie_name, sign_in("owner@demo.clinic").token)
    assert client.get("/export.zip?t=forged").status_code == 403
    assert client.get("/export.zip").status_code == 403
    with unit_of_work() as s:
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "practice.exported")).first() is None

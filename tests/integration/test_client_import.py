"""Issue 25.3: importing clients from a CSV (services.clients.importing): encodings, separators,
headers the common systems export, each row's problems, a dry run, one transaction, re-import changes
nothing, and files that are not a client list refused with a message."""

from __future__ import annotations

import pytest
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.models import AuditEvent, Client
from rxapp.services.clients import importing
from rxapp.services.clients.directory import list_clients
from rxapp.services.permissions import NotAllowed
from tests.integration.zoom_helpers import principal_of

DESK = "frontdesk@demo.clinic"
CSV = ("Legal first name;Legal last name;What name do they go by?;Email;Mobile Phone;DOB;Time Zone;Notes\r\n"
       "Élodie;Durand;;elodie@new.client;(312) 555-0142;1990-04-23;America/Chicago;Prefers mornings\r\n"
       "Zoë;Müller;Zo;zoe@new.client;+49 30 901820;04/23/1985;Europe/Berlin;\r\n"
       "Alex;Rivera;;ALEX@demo.client;+1 312 555 0101;;;Existing client\r\n"
       "Bad;Email;;not-an-email;;;;\r\n"
       "Bad;Phone;;bad.phone@new.client;12;;;\r\n"
       "Bad;Date;;bad.date@new.client;;02/30/2001;;\r\n"
       "Bad;Zone;;bad.zone@new.client;;;Mars/Olympus;\r\n"
       "Élodie;Durand again;;elodie@new.client;;;;\r\n")


def _names() -> list[str]:
    return sorted(r.name for r in list_clients(principal_of(DESK)).rows)


def _file(text: str = CSV, encoding: str = "utf-8-sig") -> bytes:
    return text.encode(encoding)


def test_a_semicolon_csv_with_a_bom_and_accents_is_checked_then_imported_once(demo) -> None:
    data = _file()
    sheet = importing.read_sheet(data)
    assert sheet.delimiter == ";" and sheet.encoding == "UTF-8 (with BOM)" and sheet.headers[0] == "Legal first name"
    mapping = importing.guess_mapping(sheet.headers)
    assert mapping == {"first_name": 0, "last_name": 1, "preferred_name": 2, "email": 3, "phone": 4,
                       "date_of_birth": 5, "timezone": 6, "notes": 7}
    before = _names()
    dry = importing.import_clients(principal_of(DESK), data, mapping)
    assert (dry.added, dry.updated, dry.skipped, dry.errors) == (2, 0, 1, 5)
    problems = {r.line: " ".join(r.problems) for r in dry.rows if r.problems}
    assert "not an email address" in problems[5] and "not a valid number" in problems[6]
    assert "not a possible date" in problems[7] and "Mars/Olympus" in problems[8]
    assert "earlier row" in problems[9]
    assert _names() == before  # a dry run writes nothing
    done = importing.import_clients(principal_of(DESK), data, mapping, dry_run=False)
    assert (done.added, done.skipped, done.errors) == (2, 1, 5)
    assert _names() == sorted([*before, "Élodie Durand", "Zo Müller"])
    with unit_of_work() as s:
        zoe = s.exec(select(Client).where(Client.email == "zoe@new.client")).one()
        elodie = s.exec(select(Client).where(Client.email == "elodie@new.client")).one()
        assert (zoe.phone, zoe.date_of_birth.isoformat(), zoe.timezone) == ("+4930901820", "1985-04-23",  # type: ignore[union-attr]
                                                                            "Europe/Berlin")
        assert (elodie.phone, elodie.notes, elodie.timezone) == ("+13125550142", "Prefers mornings", "America/Chicago")
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "clients.imported")).first() is not None
    # Found by a folded search, like any client.
    assert [r.name for r in list_clients(principal_of(DESK), "elodie").rows] == ["Élodie Durand"]
    # The same file again changes nothing.
    again = importing.import_clients(principal_of(DESK), data, mapping, dry_run=False)
    assert (again.added, again.updated) == (0, 0) and _names() == sorted([*before, "Élodie Durand", "Zo Müller"])
    # Updating existing clients: Alex's notes come from the file (the two imported ones are as the file
    # says already); a second time, nothing is left to change.
    updated = importing.import_clients(principal_of(DESK), data, mapping, update_existing=True, dry_run=False)
    assert (updated.updated, updated.unchanged, updated.added) == (1, 2, 0)
    with unit_of_work() as s:
        assert s.exec(select(Client).where(Client.email == "alex@demo.client")).one().notes == "Existing client"
    assert importing.import_clients(principal_of(DESK), data, mapping, update_existing=True).updated == 0


def test_windows_1252_commas_and_tabs_and_a_full_name_column_are_read(demo) -> None:
    for text, delimiter in (("Client,Email\r\nRenée Dupré,renee@new.client\r\n", ","),
                            ("Client\tEmail\r\nRenée Dupré\trenee@new.client\r\n", "\t")):
        sheet = importing.read_sheet(text.encode("cp1252"))
        assert (sheet.delimiter, sheet.encoding, sheet.rows[0][0]) == (delimiter, "Windows-1252", "Renée Dupré")
        assert importing.guess_mapping(sheet.headers) == {"full_name": 0, "email": 1}
    outcome = importing.import_clients(principal_of(DESK), "Client,Email\r\nRenée Dupré,renee@new.client\r\n"
                                       .encode("cp1252"), {"full_name": 0, "email": 1}, dry_run=False)
    assert outcome.added == 1 and "Renée Dupré" in _names()


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"), (b"First name,Email\r\n", "no clients"), (b"PK\x03\x04\x00\x00binary", "not a CSV"),
    (b"x" * (20 * 1024 * 1024 + 1), "over 20 MB"),
    (b"First name\n" + b"A\n" * 50_001, "at most 50,000")])
def test_what_is_not_a_client_list_gets_a_clear_message(demo, data: bytes, message: str) -> None:
    with pytest.raises(importing.ImportRefused, match=message):
        importing.import_clients(principal_of(DESK), data, {"first_name": 0})


def test_only_those_who_manage_client_records_import(demo) -> None:
    with pytest.raises(NotAllowed):
        importing.import_clients(principal_of("dr.lee@demo.clinic"), _file(), {"first_name": 0})
    with pytest.raises(importing.ImportRefused, match="names"):
        importing.import_clients(principal_of(DESK), _file(), {"email": 3})

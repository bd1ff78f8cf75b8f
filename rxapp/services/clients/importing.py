"""Importing a practice's clients from a CSV file (SimplePractice, Jane, Cliniko, a spreadsheet…).

The file: UTF-8 with or without a BOM, or Windows-1252; comma, semicolon or tab separated; at most 20 MB
and 50,000 rows. Its columns are mapped to our fields, guessed from the headers (the names the common
practice systems export, folded: "Legal first name" and "First Name" both map to first name), and the
person can change the mapping. Each row is checked like the Add client form (email, mobile normalised
to E.164 with the practice's country, a possible date of birth, a known timezone), duplicates within the
file are flagged, and a row whose email is already a client's is skipped or updated, as chosen. A dry
run says what would happen; the import itself runs in ONE transaction (nothing half-imported) and is
audited. Importing the same file again changes nothing.

Header names come from the systems' own pages: SimplePractice ("Legal first name", "Legal last name",
"What name do they go by?": support.simplepractice.com, Editing a client's information), a Client
Details Report as PracticeRunner reads it ("First Name", "Firstname", "Given Name", "Surname", "Family
Name", "DOB", "Client", "Full Name": practicerunner.com/help/contact-import-export); Jane and Cliniko
export "Preferred Name", "Mobile Phone" / "Mobile", "Date of Birth".
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Client, Practice
from rxapp.services.audit import trail
from rxapp.services.clients.records import email_problem, normalize_phone, practice_region
from rxapp.services.permissions import Action, Principal, require
from rxapp.services.timezones import is_valid
from rxapp.text import fold

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
PREVIEW_ROWS = 20
FIELDS = ("first_name", "last_name", "preferred_name", "full_name", "email", "phone", "date_of_birth",
          "timezone", "notes")
FIELD_LABELS = {"first_name": "First name", "last_name": "Last name", "preferred_name": "Preferred name",
                "full_name": "Full name (split into first and last)", "email": "Email", "phone": "Mobile phone",
                "date_of_birth": "Date of birth", "timezone": "Timezone", "notes": "Notes"}
_SYNONYMS = {
    "first_name": ("first name", "firstname", "given name", "legal first name", "first"),
    "last_name": ("last name", "lastname", "surname", "family name", "legal last name", "last"),
    "preferred_name": ("preferred name", "preferred first name", "what name do they go by?", "nickname",
                       "goes by", "known as"),
    "full_name": ("client", "name", "full name", "client name", "patient", "patient name"),
    "email": ("email", "e-mail", "email address", "primary email", "client email"),
    "phone": ("mobile", "mobile phone", "cell", "cell phone", "mobile number", "phone", "phone number",
              "phone (mobile)", "phone number (mobile)", "sms"),
    "date_of_birth": ("date of birth", "dob", "birth date", "birthdate", "birthday"),
    "timezone": ("timezone", "time zone", "tz"),
    "notes": ("notes", "note", "comments", "remarks"),
}


class ImportRefused(Exception):
    """The file cannot be read as a client list; the message says why."""


@dataclass(frozen=True)
class Sheet:
    headers: list[str]
    rows: list[list[str]]
    delimiter: str
    encoding: str


@dataclass
class RowResult:
    line: int  # the file's line number (the header is line 1)
    values: dict[str, str]
    problems: list[str] = field(default_factory=list)
    action: str = "add"  # add | update | skip | unchanged | error


@dataclass(frozen=True)
class Outcome:
    added: int
    updated: int
    unchanged: int
    skipped: int
    errors: int
    rows: list[RowResult]  # the first PREVIEW_ROWS, for the page


def read_sheet(data: bytes) -> Sheet:
    """Decode and split a CSV file; raises `ImportRefused` for what is not a usable client list."""
    if not data:
        raise ImportRefused("The file is empty.")
    if len(data) > MAX_BYTES:
        raise ImportRefused("The file is over 20 MB. Split it into smaller files.")
    if b"\x00" in data[:65536]:
        raise ImportRefused("This is not a CSV file (it looks like a spreadsheet or another binary file: save it "
                            "as CSV first).")
    if data.startswith(b"\xef\xbb\xbf"):
        text, encoding = data[3:].decode("utf-8", errors="replace"), "UTF-8 (with BOM)"
    else:
        try:
            text, encoding = data.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            text, encoding = data.decode("cp1252", errors="replace"), "Windows-1252"
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", "\t", ","), key=lambda d: (first_line.count(d), d == ","))
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise ImportRefused("The file is empty.")
    if len(rows) - 1 > MAX_ROWS:
        raise ImportRefused(f"The file has {len(rows) - 1:,} rows; at most {MAX_ROWS:,} can be imported at once.")
    if len(rows) < 2:
        raise ImportRefused("The file has a header but no clients.")
    headers = [h.strip() for h in rows[0]]
    return Sheet(headers=headers, rows=[r + [""] * (len(headers) - len(r)) for r in rows[1:]], delimiter=delimiter,
                 encoding=encoding)


def guess_mapping(headers: list[str]) -> dict[str, int]:
    """Our field -> the column it comes from, from the headers' names (folded); unmapped fields absent."""
    folded = [fold(h).strip() for h in headers]
    mapping: dict[str, int] = {}
    for name, synonyms in _SYNONYMS.items():
        for synonym in synonyms:
            if synonym in folded and folded.index(synonym) not in mapping.values():
                mapping[name] = folded.index(synonym)
                break
    if "first_name" in mapping or "last_name" in mapping:
        mapping.pop("full_name", None)
    return mapping


def _date(text: str, region: str) -> date | None:
    """ISO (1990-04-23), or the region's order with slashes or dots: 04/23/1990 in the US, 23/04/1990
    elsewhere."""
    text = text.strip()
    formats = ["%Y-%m-%d", "%Y/%m/%d"] + (["%m/%d/%Y", "%m-%d-%Y"] if region in ("US", "CA", "PH") else
                                           ["%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y"])
    for form in formats:
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    return None


def _check(sheet: Sheet, mapping: dict[str, int], region: str, practice_tz: str,
           existing: dict[str, Client]) -> list[tuple[RowResult, dict[str, object]]]:
    checked, seen_emails, seen_people = [], set(), set()
    for n, raw in enumerate(sheet.rows, start=2):
        values = {name: raw[i].strip() if i < len(raw) else "" for name, i in mapping.items()}
        result, clean = RowResult(line=n, values=values), {}
        first, last = values.get("first_name", ""), values.get("last_name", "")
        if not first and not last and values.get("full_name"):
            parts = values["full_name"].split()
            first, last = " ".join(parts[:-1]) or parts[0], parts[-1] if len(parts) > 1 else ""
        if not first and not last:
            result.problems.append("No name.")
        email = values.get("email", "").lower()
        if email and email_problem(email):
            result.problems.append(f"Email “{values['email']}” is not an email address.")
        phone = ""
        if values.get("phone"):
            try:
                phone = normalize_phone(values["phone"], region)
            except ValueError:
                result.problems.append(f"Mobile “{values['phone']}” is not a valid number for {region}.")
        born = None
        if values.get("date_of_birth"):
            born = _date(values["date_of_birth"], region)
            if born is None or born > now().date() or born.year < 1900:
                result.problems.append(f"Date of birth “{values['date_of_birth']}” is not a possible date.")
        zone = values.get("timezone") or practice_tz
        if not is_valid(zone):
            result.problems.append(f"Timezone “{zone}” is unknown.")
        person = (fold(f"{first} {last}"), born)
        if email and email in seen_emails:
            result.problems.append("The same email is on an earlier row of this file.")
        elif not email and person in seen_people:
            result.problems.append("The same person (name and date of birth) is on an earlier row of this file.")
        seen_emails.add(email)
        seen_people.add(person)
        clean = {"first_name": first, "last_name": last, "preferred_name": values.get("preferred_name", ""),
                 "email": email or None, "phone": phone or None, "date_of_birth": born, "timezone": zone,
                 "notes": values.get("notes", "")}
        if result.problems:
            result.action = "error"
        elif email and email in existing:
            result.action = "update"
        checked.append((result, clean))
    return checked


def _apply_row(client: Client, clean: dict[str, object]) -> bool:
    """Copy the row onto the client; True when anything changed."""
    changed = False
    for name in ("first_name", "last_name", "preferred_name", "phone", "date_of_birth", "timezone", "notes"):
        value = clean[name]
        if name in ("phone", "notes", "preferred_name", "date_of_birth") and not value:
            continue  # an empty cell never erases what the practice has
        if getattr(client, name) != value:
            setattr(client, name, value)
            changed = True
    full = f"{client.preferred_name or client.first_name} {client.last_name}".strip()
    if changed and client.full_name != full:
        client.full_name = full
    return changed


def import_clients(principal: Principal, data: bytes, mapping: dict[str, int], *, update_existing: bool = False,
                   dry_run: bool = True) -> Outcome:
    """Check (dry run) or import the file's clients. Rows with problems are never imported; a row whose
    email is already a client's is updated (`update_existing`) or skipped. The import is one
    transaction. Raises `ImportRefused`, `NotAllowed` (needs MANAGE_CLIENTS)."""
    require(principal, Action.MANAGE_CLIENTS)
    sheet = read_sheet(data)
    if not {"first_name", "last_name", "full_name"} & mapping.keys():
        raise ImportRefused("Choose the column with the clients' names.")
    if any(not 0 <= i < len(sheet.headers) for i in mapping.values()):
        raise ImportRefused("Choose columns of this file.")
    region = practice_region(principal.practice_id)
    with unit_of_work() as session:
        practice = session.get(Practice, principal.practice_id)
        assert practice is not None
        existing = _existing(session, principal.practice_id)
        checked = _check(sheet, mapping, region, practice.timezone, existing)
        counts = {"add": 0, "update": 0, "unchanged": 0, "skip": 0, "error": 0}
        for result, clean in checked:
            if result.action == "update":
                client = existing[str(clean["email"])]
                if not update_existing:
                    result.action = "skip"
                elif not _would_change(client, clean):
                    result.action = "unchanged"
                elif not dry_run:
                    _apply_row(client, clean)
            elif result.action == "add" and not dry_run:
                client = Client(practice_id=principal.practice_id, full_name="", **clean)  # type: ignore[arg-type]
                client.full_name = f"{client.preferred_name or client.first_name} {client.last_name}".strip()
                session.add(client)
            counts[result.action] += 1
        if dry_run:
            session.rollback()
        else:
            trail.record(session, practice_id=principal.practice_id, actor_user_id=principal.user_id,
                         action="clients.imported", subject_type="practice", subject_id=principal.practice_id,
                         added=counts["add"], updated=counts["update"], skipped=counts["skip"] + counts["unchanged"],
                         errors=counts["error"])
    return Outcome(added=counts["add"], updated=counts["update"], unchanged=counts["unchanged"],
                   skipped=counts["skip"], errors=counts["error"], rows=[r for r, _ in checked[:PREVIEW_ROWS]])


def _existing(session: Session, practice_id: int) -> dict[str, Client]:
    return {c.email.lower(): c for c in session.exec(select(Client).where(
        Client.practice_id == practice_id, col(Client.email).is_not(None))).all() if c.email}


def _would_change(client: Client, clean: dict[str, object]) -> bool:
    return any(clean[n] and getattr(client, n) != clean[n] for n in
               ("first_name", "last_name", "preferred_name", "phone", "date_of_birth", "timezone", "notes"))

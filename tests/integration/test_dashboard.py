"""Issue 28, item 2: the owner's dashboard. Its figures are checked against counts computed here in plain
Python over the rows the tests write (never the dashboard's SQL), on SQLite and PostgreSQL: weeks and
months in the viewer's timezone (an appointment late on a Sunday or on the last evening of a month,
a clock change), late against early cancellations, self-booked against booked by the front desk,
published hours from weekly blocks and date overrides in each practitioner's own zone, a practitioner
filter, and a second practice whose rows must never count."""

from __future__ import annotations

import base64
import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityBlock,
    AvailabilityOverride,
    Client,
    CreditKind,
    Practice,
    PractitionerProfile,
    Role,
    SmsCreditEntry,
    User,
)
from rxapp.services.permissions import NotAllowed, Principal
from rxapp.services.practice import dashboard
from rxapp.services.practice.dashboard import InvalidDashboardFilter, Period, period_of
from rxapp.state.dashboard import DashboardState
from tests.integration.page_states import page_state, run
from tests.integration.zoom_helpers import principal_of, user_id

NEW_YORK, LONDON = ZoneInfo("America/New_York"), ZoneInfo("Europe/London")
# Across New York's clock change (9 March 2025), London's (30 March) and the end of March.
PERIOD = Period(date(2025, 2, 15), date(2025, 4, 20))
VIEWER = "America/New_York"  # the demo owner has no practitioner profile: the practice's zone


def _at(day: str, hh_mm: str, zone: ZoneInfo = NEW_YORK) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(hh_mm), zone).astimezone(UTC)


def _client(session, email: str) -> Client:
    return session.exec(select(Client).where(Client.email == email)).one()


def _visit(session, practitioner: str, client: str, start: datetime, *, minutes: int = 50, telehealth: bool = False,
           status: AppointmentStatus = AppointmentStatus.COMPLETED, by: str = "frontdesk@demo.clinic",
           cancelled_at: datetime | None = None) -> None:
    patient = _client(session, client)
    creator = session.exec(select(User).where(User.email == by)).one()
    session.add(Appointment(
        practice_id=patient.practice_id, practitioner_id=user_id(practitioner), client_id=patient.id or 0,
        start_at=start, duration_minutes=minutes, telehealth=telehealth, status=status,
        cancel_reason="Changed plans" if status == AppointmentStatus.CANCELLED else "",
        created_by_user_id=creator.id, created_at=start - timedelta(days=10), updated_at=cancelled_at or start))


def _hours(session, practitioner: str, weekdays: Iterable[int], start: str, end: str) -> None:
    pid = user_id(practitioner)
    begin, finish = time.fromisoformat(start), time.fromisoformat(end)
    for weekday in weekdays:
        session.add(AvailabilityBlock(practice_id=_practice_of(session, pid), practitioner_id=pid, weekday=weekday,
                                      start_minute=begin.hour * 60 + begin.minute,
                                      end_minute=1440 if end == "24:00" else finish.hour * 60 + finish.minute,
                                      mode="both"))


def _practice_of(session, user: int) -> int:
    return session.get(User, user).practice_id


@pytest.fixture
def practice(demo: None) -> int:
    """The demo practice with a season of visits, published hours, new clients and texts (the rows
    the expected figures are computed from), and a second practice with rows of its own."""
    lee, patel, alex, sam, jo = ("dr.lee@demo.clinic", "dr.patel@demo.clinic", "alex@demo.client",
                                 "sam@demo.client", "jo@demo.client")
    with unit_of_work() as s:
        practice = s.exec(select(Practice)).one()
        practice.cancellation_window_hours = 24
        for client in s.exec(select(Client)).all():
            client.created_at = _at("2025-01-10", "12:00")  # before the period
        _visit(s, lee, alex, _at("2025-03-03", "10:00"), telehealth=True)
        _visit(s, lee, sam, _at("2025-03-04", "09:00"), minutes=60, status=AppointmentStatus.NO_SHOW)
        _visit(s, lee, alex, _at("2025-03-05", "11:00"), telehealth=True, status=AppointmentStatus.BOOKED, by=alex)
        # Cancelled two hours before (late, by the client) and three days before (early, by the front desk).
        _visit(s, lee, sam, _at("2025-03-06", "15:00"), status=AppointmentStatus.CANCELLED, by=sam,
               cancelled_at=_at("2025-03-06", "13:00"))
        _visit(s, lee, jo, _at("2025-03-07", "09:30"), minutes=30, status=AppointmentStatus.CANCELLED,
               cancelled_at=_at("2025-03-04", "09:30"))
        # Cancelled after it started: late too.
        _visit(s, patel, alex, _at("2025-04-08", "10:00"), status=AppointmentStatus.CANCELLED,
               cancelled_at=_at("2025-04-08", "10:20"))
        _visit(s, lee, alex, _at("2025-03-10", "10:00"), telehealth=True)  # after New York's clock change
        _visit(s, lee, alex, _at("2025-04-02", "09:00"), status=AppointmentStatus.IN_PROGRESS, telehealth=True)
        # Late in the evening in New York, already the next day (and week, and month) in UTC.
        _visit(s, patel, jo, _at("2025-03-31", "23:30"), minutes=60, by=jo)  # Monday: March, week of 31 March
        _visit(s, patel, jo, _at("2025-03-30", "23:30"), telehealth=True)  # Sunday: week of 24 March
        _visit(s, patel, alex, _at("2025-02-28", "20:00"), status=AppointmentStatus.NO_SHOW)  # February
        # The period's edges: its last evening (already 21 April in UTC) and first minutes count, the
        # evening before it (already 15 February in UTC) does not.
        _visit(s, lee, alex, _at("2025-04-20", "23:30"))
        _visit(s, lee, alex, _at("2025-02-15", "00:30"), minutes=45)
        _visit(s, lee, alex, _at("2025-02-14", "23:30"))
        # Published hours: Dr. Lee weekdays in New York, a day off and other hours on two dates; Dr. Patel
        # in London: Monday just after midnight (still Sunday evening in New York) and Tuesdays, and on
        # Sundays across London's clock change.
        _hours(s, lee, range(5), "09:00", "12:00")
        pid = user_id(lee)
        s.add(AvailabilityOverride(practice_id=practice.id or 0, practitioner_id=pid, on_date=date(2025, 3, 5),
                                   day_off=True))
        s.add(AvailabilityOverride(practice_id=practice.id or 0, practitioner_id=pid, on_date=date(2025, 3, 6),
                                   start_minute=13 * 60, end_minute=15 * 60, mode="in_person"))
        _hours(s, patel, [0], "00:00", "02:00")
        _hours(s, patel, [1], "10:00", "16:00")
        _hours(s, patel, [6], "00:30", "03:00")
        # New clients either side of the end of March in New York.
        s.add(Client(practice_id=practice.id or 0, full_name="March Client", created_at=_at("2025-03-31", "23:00")))
        s.add(Client(practice_id=practice.id or 0, full_name="April Client", created_at=_at("2025-04-01", "00:30")))
        s.add(Client(practice_id=practice.id or 0, full_name="Later Client", created_at=_at("2025-06-01", "10:00")))
        # Texts: charges, a refund in the next month, and credits bought (not spent).
        for amount, kind, at in ((-2, CreditKind.CHARGE, _at("2025-03-15", "10:00")),
                                 (-1, CreditKind.CHARGE, _at("2025-03-31", "23:59")),
                                 (1, CreditKind.REFUND, _at("2025-04-01", "00:10")),
                                 (-3, CreditKind.CHARGE, _at("2025-02-20", "08:00")),
                                 (500, CreditKind.GRANT, _at("2025-03-02", "08:00"))):
            s.add(SmsCreditEntry(practice_id=practice.id or 0, kind=kind, amount=amount, created_at=at))
        _other_practice(s)
        return practice.id or 0


def _other_practice(s) -> None:
    other = Practice(name="Other Practice", timezone=VIEWER)
    s.add(other)
    s.flush()
    doctor = User(practice_id=other.id or 0, email="dr@other.clinic", full_name="Dr. Other", role=Role.PRACTITIONER)
    portal = User(practice_id=other.id or 0, email="pat@other.client", full_name="Pat Other", role=Role.CLIENT)
    s.add_all([doctor, portal])
    s.flush()
    s.add(PractitionerProfile(user_id=doctor.id or 0, practice_id=other.id or 0, timezone=VIEWER))
    s.add(AvailabilityBlock(practice_id=other.id or 0, practitioner_id=doctor.id or 0, weekday=2, start_minute=0,
                            end_minute=1440, mode="both"))
    patient = Client(practice_id=other.id or 0, full_name="Pat Other", user_id=portal.id,
                     created_at=_at("2025-03-12", "12:00"))
    s.add(patient)
    s.flush()
    for n, status in enumerate(AppointmentStatus):
        start = _at("2025-03-12", "09:00") + timedelta(days=n)
        s.add(Appointment(practice_id=other.id or 0, practitioner_id=doctor.id or 0, client_id=patient.id or 0,
                          start_at=start, status=status, telehealth=n % 2 == 0, created_by_user_id=portal.id,
                          updated_at=start - timedelta(minutes=5)))
    s.add(SmsCreditEntry(practice_id=other.id or 0, kind=CreditKind.CHARGE, amount=-7,
                         created_at=_at("2025-03-12", "12:00")))


# --- the figures, computed independently from the rows ----------------------------------------------------


def expected(practice_id: int, period: Period, viewer: str, only: set[int] | None = None) -> dict[str, dict]:
    zone = ZoneInfo(viewer)
    with unit_of_work() as s:
        visits = s.exec(select(Appointment).where(Appointment.practice_id == practice_id)).all()
        clients = {c.id: c for c in s.exec(select(Client).where(Client.practice_id == practice_id)).all()}
        texts = s.exec(select(SmsCreditEntry).where(SmsCreditEntry.practice_id == practice_id)).all()
        window = s.get(Practice, practice_id).cancellation_window_hours
        profiles = {p.user_id: p.timezone for p in s.exec(
            select(PractitionerProfile).where(PractitionerProfile.practice_id == practice_id)).all()}
        blocks = s.exec(select(AvailabilityBlock).where(AvailabilityBlock.practice_id == practice_id)).all()
        overrides = s.exec(select(AvailabilityOverride).where(AvailabilityOverride.practice_id == practice_id)).all()
    chosen = set(profiles) if only is None else only

    def local_day(moment: datetime) -> date | None:
        day = moment.astimezone(zone).date()
        return day if period.first_day <= day <= period.last_day else None

    def monday(day: date) -> date:
        return day - timedelta(days=day.weekday())

    booked: Counter = Counter()
    modes: Counter = Counter()
    monthly: Counter = Counter()
    for a in visits:
        day = local_day(a.start_at)
        if day is None or a.practitioner_id not in chosen:
            continue
        week, month = monday(day), day.replace(day=1)
        if a.status != AppointmentStatus.CANCELLED:
            booked[(week, a.practitioner_id)] += a.duration_minutes
        if a.status in ("booked", "in_progress", "completed"):
            modes[(week, "telehealth" if a.telehealth else "in_person")] += 1
        if a.status == AppointmentStatus.NO_SHOW:
            monthly[(month, "no_show")] += 1
        if a.status == AppointmentStatus.CANCELLED and a.start_at - a.updated_at < timedelta(hours=window):
            monthly[(month, "late")] += 1
        client_user = clients[a.client_id].user_id
        monthly[(month, "self" if client_user is not None and a.created_by_user_id == client_user else "staff")] += 1
    for c in clients.values():
        if (day := local_day(c.created_at)) is not None:
            monthly[(day.replace(day=1), "new")] += 1
    for t in texts:
        if t.kind in (CreditKind.CHARGE, CreditKind.REFUND) and (day := local_day(t.created_at)) is not None:
            monthly[(day.replace(day=1), "sms")] -= t.amount

    # Published hours: every window of every date, in the practitioner's zone, against each week's span.
    weeks = sorted({monday(period.first_day + timedelta(days=n))
                    for n in range((period.last_day - period.first_day).days + 1)})
    spans = {w: (datetime.combine(max(w, period.first_day), time(), zone),
                 datetime.combine(min(w + timedelta(days=7), period.last_day + timedelta(days=1)), time(), zone))
             for w in weeks}
    published: Counter = Counter()
    for pid in chosen:
        pzone = ZoneInfo(profiles[pid])
        day = period.first_day - timedelta(days=3)
        while day <= period.last_day + timedelta(days=3):
            dated = [o for o in overrides if o.practitioner_id == pid and o.on_date == day]
            weekly = [b for b in blocks if b.practitioner_id == pid and b.weekday == day.weekday()]
            windows = [(w.start_minute, w.end_minute) for w in (dated or weekly) if not getattr(w, "day_off", False)]
            for begin, end in windows:
                start = (datetime.combine(day, time()) + timedelta(minutes=begin)).replace(tzinfo=pzone)
                finish = (datetime.combine(day, time()) + timedelta(minutes=end)).replace(tzinfo=pzone)
                for week, (low, high) in spans.items():
                    overlap = min(finish, high).timestamp() - max(start, low).timestamp()
                    published[(week, pid)] += max(0, int(overlap))
            day += timedelta(days=1)
    months = sorted({(period.first_day + timedelta(days=n)).replace(day=1)
                     for n in range((period.last_day - period.first_day).days + 1)})
    return {
        "utilisation": {(w, pid): (booked[(w, pid)], published[(w, pid)] // 60) for w in weeks for pid in chosen},
        "modes": {w: (modes[(w, "telehealth")], modes[(w, "in_person")]) for w in weeks},
        "attendance": {m: (monthly[(m, "no_show")], monthly[(m, "late")]) for m in months},
        "new_clients": {m: monthly[(m, "new")] for m in months},
        "booked_by": {m: (monthly[(m, "self")], monthly[(m, "staff")]) for m in months},
        "sms": {m: monthly[(m, "sms")] for m in months},
    }


def shown(figures: dashboard.Dashboard) -> dict[str, dict]:
    return {
        "utilisation": {(u.week, u.practitioner_id): (u.booked_minutes, u.published_minutes)
                        for u in figures.utilisation},
        "modes": {w.week: (w.telehealth, w.in_person) for w in figures.weeks},
        "attendance": {m.month: (m.no_shows, m.late_cancellations) for m in figures.months},
        "new_clients": {m.month: m.new_clients for m in figures.months},
        "booked_by": {m.month: (m.self_booked, m.by_practice) for m in figures.months},
        "sms": {m.month: m.credits_spent for m in figures.months},
    }


# --- the tests ---------------------------------------------------------------------------------------------------


def test_the_figures_match_counts_computed_from_the_rows(practice: int) -> None:
    figures = dashboard.dashboard(principal_of("owner@demo.clinic"), PERIOD, None, VIEWER)
    assert shown(figures) == expected(practice, PERIOD, VIEWER)
    assert [p.name for p in figures.practitioners] == ["Dr. Dana Lee", "Dr. Priya Patel"]
    # What the rows were written to show, said plainly.
    march, april, february = date(2025, 3, 1), date(2025, 4, 1), date(2025, 2, 1)
    found = shown(figures)
    assert found["attendance"][march] == (1, 1)  # the no-show; the cancellation 2 h before (not the 3 days one)
    assert found["attendance"][april] == (0, 1)  # cancelled after it started
    assert found["attendance"][february] == (1, 0)  # 20:00 on 28 February in New York is March in UTC
    assert found["booked_by"][march] == (3, 5)  # Alex, Sam and Jo booked one each
    assert found["booked_by"][february] == (0, 2) and found["booked_by"][april] == (0, 3)
    assert found["new_clients"] == {february: 0, march: 1, april: 1}
    assert found["sms"] == {february: 3, march: 3, april: -1}
    assert found["modes"][date(2025, 3, 24)] == (1, 0) and found["modes"][date(2025, 3, 31)] == (1, 1)
    lee, patel = user_id("dr.lee@demo.clinic"), user_id("dr.patel@demo.clinic")
    utilisation = {(u.week, u.practitioner_id): u for u in figures.utilisation}
    # Dr. Lee 3 h a weekday; that week a day off and other hours (2 h) on Thursday: 3 + 3 + 0 + 2 + 3.
    assert utilisation[(date(2025, 3, 3), lee)].published_minutes == 11 * 60
    assert utilisation[(date(2025, 3, 3), lee)].booked_minutes == 50 + 60 + 50  # not the cancelled ones
    # The period starts on a Saturday: its first week is cut to the weekend (Dr. Patel's Sunday 00:30-03:00
    # London is Saturday evening in New York; her Monday 00:00-02:00 is Sunday evening: 2.5 h + 2 h).
    assert utilisation[(date(2025, 2, 10), patel)].published_minutes == 150 + 120
    # London's clock change (30 March, 01:00 -> 02:00): that Sunday's 00:30-03:00 is 1.5 hours long.
    assert utilisation[(date(2025, 3, 24), patel)].published_minutes == 90 + 6 * 60 + 120
    assert utilisation[(date(2025, 3, 3), lee)].percent == round(100 * 160 / 660, 1)


def test_a_practitioner_filter_keeps_only_their_figures_and_practice_wide_ones(practice: int) -> None:
    lee = user_id("dr.lee@demo.clinic")
    figures = dashboard.dashboard(principal_of("manager@demo.clinic"), PERIOD, [lee], VIEWER)
    assert shown(figures) == expected(practice, PERIOD, VIEWER, only={lee})
    assert {u.practitioner for u in figures.utilisation} == {"Dr. Dana Lee"}
    assert shown(figures)["booked_by"][date(2025, 3, 1)] == (2, 4)  # Jo's own booking was with Dr. Patel
    assert shown(figures)["new_clients"][date(2025, 3, 1)] == 1  # clients and texts are the whole practice's


def test_another_practices_practitioner_is_refused_like_an_unknown_one(practice: int) -> None:
    owner = principal_of("owner@demo.clinic")
    other = user_id("dr@other.clinic")
    refusals = []
    for ids in ([other], [10**9], [user_id("dr.lee@demo.clinic"), other], [user_id("frontdesk@demo.clinic")], []):
        with pytest.raises(InvalidDashboardFilter) as refused:
            dashboard.dashboard(owner, PERIOD, ids, VIEWER)
        refusals.append(str(refused.value))
    assert set(refusals) == {"Choose practitioners from the list."}
    assert other not in {p.id for p in dashboard.practitioners(owner)}


def test_the_other_practice_sees_only_its_own_rows(practice: int) -> None:
    with unit_of_work() as s:
        doctor = s.exec(select(User).where(User.email == "dr@other.clinic")).one()
        other_owner = User(practice_id=doctor.practice_id, email="owner@other.clinic", full_name="Olive Other",
                           role=Role.OWNER)
        s.add(other_owner)
        s.flush()
        principal = Principal(other_owner.id or 0, doctor.practice_id, Role.OWNER, other_owner.email, "Olive Other")
    figures = dashboard.dashboard(principal, PERIOD, None, VIEWER)
    assert shown(figures) == expected(doctor.practice_id, PERIOD, VIEWER)
    assert sum(w.telehealth + w.in_person for w in figures.weeks) == 3 and figures.months[1].credits_spent == 7


def test_only_owners_and_managers_see_the_dashboard(practice: int) -> None:
    for email in ("dr.lee@demo.clinic", "frontdesk@demo.clinic", "alex@demo.client"):
        with pytest.raises(NotAllowed):
            dashboard.dashboard(principal_of(email), PERIOD, None, VIEWER)
        with pytest.raises(NotAllowed):
            dashboard.practitioners(principal_of(email))
    assert dashboard.practitioners(principal_of("manager@demo.clinic"))


def test_a_new_practice_with_nothing_yet_gets_zeros_not_errors(database: str) -> None:
    with unit_of_work() as s:
        practice = Practice(name="Brand New", timezone="Asia/Kolkata")
        s.add(practice)
        s.flush()
        owner = User(practice_id=practice.id or 0, email="owner@new.clinic", full_name="Nia New", role=Role.OWNER)
        s.add(owner)
        s.flush()
        principal = Principal(owner.id or 0, practice.id or 0, Role.OWNER, owner.email, owner.full_name)
    figures = dashboard.dashboard(principal, period_of("last_12_months", date(2025, 6, 15)), None, "Asia/Kolkata")
    assert figures.practitioners == [] and figures.utilisation == []
    assert len(figures.weeks) == 53 and not any(w.telehealth or w.in_person for w in figures.weeks)
    assert [m.month for m in figures.months][::11] == [date(2024, 7, 1), date(2025, 6, 1)]
    assert all(set(row[1:]) == {"0"} for table in dashboard.tables(figures).values() for row in table.rows)


@pytest.mark.parametrize(("preset", "first", "last"), [
    ("this_month", date(2025, 3, 1), date(2025, 3, 31)),
    ("last_3_months", date(2025, 1, 1), date(2025, 3, 31)),
    ("last_12_months", date(2024, 4, 1), date(2025, 3, 31)),
])
def test_presets_are_whole_months_up_to_the_end_of_this_one(preset: str, first: date, last: date) -> None:
    assert period_of(preset, date(2025, 3, 17)) == Period(first, last)


@pytest.mark.parametrize(("date_from", "date_to", "message"), [
    ("", "2025-03-01", "Enter both dates: the first and the last day of the period."),
    ("2025-03-01", "", "Enter both dates: the first and the last day of the period."),
    ("2025-02-30", "2025-03-01", "The first day is not a date (use the date picker)."),
    ("2025-03-01", "soon", "The last day is not a date (use the date picker)."),
    ("2025-03-02", "2025-03-01", "The first day is after the last day."),
    ("2024-01-01", "2025-01-01", "Choose a period of at most a year (366 days)."),
])
def test_custom_dates_say_what_is_wrong(date_from: str, date_to: str, message: str) -> None:
    with pytest.raises(InvalidDashboardFilter, match=message.replace("(", r"\(").replace(")", r"\)")):
        period_of("custom", date(2025, 3, 17), date_from, date_to)
    assert period_of("custom", date(2025, 3, 17), "2024-01-01", "2024-12-31") == Period(date(2024, 1, 1),
                                                                                       date(2024, 12, 31))


def test_a_csv_cell_a_spreadsheet_would_run_is_quoted_and_numbers_are_not() -> None:
    table = dashboard.Table(["week", "practitioner", "credits"], [["2025-03-03", "=HYPERLINK(1)", "-2"]])
    assert dashboard.csv_text(table) == "week,practitioner,credits\r\n2025-03-03,'=HYPERLINK(1),-2\r\n"


# --- the page's state, as the browser drives it --------------------------------------------------------------


def _download(events) -> tuple[str, str]:
    """(file name, text) of the rx.download a handler returned."""
    args = {name._js_expr: value for name, value in events.args}
    url, filename = str(args["url"]._var_value), str(args["filename"]._var_value)
    head, _, body = url.partition(",")
    return filename, base64.b64decode(body).decode() if head.endswith(";base64") else unquote(body)


def test_the_page_shows_the_figures_and_downloads_each_charts_numbers(practice: int) -> None:
    state = page_state(DashboardState, "/dashboard", "owner@demo.clinic")
    run(state.load())
    assert state.loaded and state.error == "" and state.timezone == VIEWER
    assert [p["label"] for p in state.practitioners] == ["Dr. Dana Lee", "Dr. Priya Patel"]
    run(state.set_preset("custom"))
    run(state.set_date_from("2025-02-15"))
    run(state.set_date_to("2025-04-20"))
    assert state.period_text == "15 Feb 2025 to 20 Apr 2025"
    assert state.summaries["attendance"].startswith("2 no-shows and 2 late cancellations (less than 24 hours")
    assert state.summaries["modes"] == "8 sessions: 5 by telehealth, 3 in person."
    filename, text = _download(run(state.download_csv("attendance")))
    assert filename == "dashboard-attendance-2025-02-15-to-2025-04-20.csv"
    assert list(csv.reader(io.StringIO(text))) == [["month", "no-shows", "late cancellations"],
                                                   ["2025-02", "1", "0"], ["2025-03", "1", "1"], ["2025-04", "0", "1"]]
    lee = str(user_id("dr.lee@demo.clinic"))
    run(state.choose(lee, True))
    assert state.chosen == [lee] and {r[1] for r in state.rows["utilisation"]} == {"Dr. Dana Lee"}
    run(state.choose(str(user_id("dr@other.clinic")), True))  # not offered: ignored
    assert state.chosen == [lee]
    run(state.choose(lee, False))
    assert state.all_chosen and {r[1] for r in state.rows["utilisation"]} == {"Dr. Dana Lee", "Dr. Priya Patel"}
    run(state.set_date_to("2025-02-01"))
    assert state.error == "The first day is after the last day." and not state.loaded and state.rows == {}


def test_a_practitioner_gets_no_figures_from_the_page(practice: int) -> None:
    state = page_state(DashboardState, "/dashboard", "dr.lee@demo.clinic")
    run(state.load())
    assert not state.loaded and state.practitioners == [] and state.rows == {}
    assert run(state.download_csv("modes")) is None


def test_the_demo_practices_own_figures_show_on_the_page(database: str) -> None:
    """`make run`'s demo week, as the owner opens the dashboard on this month."""
    from rxapp.dev import demo_data

    demo_data.load_demo_data()
    demo_data.load_demo_week()
    demo_data.load_demo_availability()
    state = page_state(DashboardState, "/dashboard", "owner@demo.clinic")
    run(state.load())
    period = Period(date.fromisoformat(state.period_from), date.fromisoformat(state.period_to))
    with unit_of_work() as s:
        practice_id = s.exec(select(Practice)).one().id or 0
    want = expected(practice_id, period, VIEWER)
    figures = defaultdict(int)
    for (telehealth, in_person) in want["modes"].values():
        figures["sessions"] += telehealth + in_person
        figures["telehealth"] += telehealth
    assert state.summaries["modes"].startswith(f"{figures['sessions']} session")
    assert f"{figures['telehealth']} by telehealth" in state.summaries["modes"]
    assert [[r[0], r[1], r[2]] for r in state.rows["modes"]] == [
        [w.isoformat(), str(t), str(p)] for w, (t, p) in sorted(want["modes"].items())]

"""Dashboard page: the practice's figures for a period and practitioners (owners and managers), each
chart with its numbers as a table and a CSV download."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import reflex as rx

from rxapp.clock import now
from rxapp.services.permissions import NotAllowed, Principal
from rxapp.services.practice import dashboard, profiles
from rxapp.services.practice.dashboard import COLUMNS as COLUMNS  # re-exported for the page
from rxapp.services.practice.dashboard import PRESETS as PRESETS
from rxapp.services.timezones import is_valid
from rxapp.state.auth import AuthState

# One colour per practitioner's line, in turn: Radix's step 9 of distinct hues (indigo, orange, teal, crimson,
# amber, purple, grass, brown, cyan, pink), as SVG takes them.
LINE_COLOURS = ("#3e63dd", "#f76b15", "#12a594", "#e93d82", "#ffc53d", "#8e4ec6", "#46a758", "#ad7f58", "#00a2c7",
                "#d6409f")


def _day(first: date, with_year: bool = False) -> str:
    return f"{first.day} {first.strftime('%b')}" + (f" {first.year}" if with_year else "")


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


class DashboardState(AuthState):
    preset: str = "this_month"
    date_from: str = ""
    date_to: str = ""
    practitioners: list[dict[str, str]] = []  # value (id), label
    chosen: list[str] = []  # practitioner ids ticked; empty: all of them
    timezone: str = "UTC"
    period_text: str = ""
    period_from: str = ""  # the period shown, ISO dates
    period_to: str = ""
    error: str = ""
    loaded: bool = False  # figures are shown for the current choice
    # Per chart (keys of COLUMNS): the plot's points, the numbers behind it, a sentence saying what it shows.
    points: dict[str, list[dict[str, Any]]] = {}
    rows: dict[str, list[list[str]]] = {}
    summaries: dict[str, str] = {}
    has_data: dict[str, bool] = {}
    lines: list[dict[str, str]] = []  # utilisation: one line per practitioner (key, name, colour)

    @rx.var
    def custom(self) -> bool:
        return self.preset == "custom"

    @rx.var
    def all_chosen(self) -> bool:
        return not self.chosen

    @rx.event
    async def load(self):
        """on_load: the practitioners to choose from, then the figures of the period chosen (this month at
        first)."""
        try:
            principal = await self._require(dashboard.VIEW_DASHBOARD)
        except NotAllowed:
            self._clear()
            self.practitioners = []
            return
        timezone, people = await asyncio.gather(asyncio.to_thread(profiles.viewer_timezone, principal),
                                                asyncio.to_thread(dashboard.practitioners, principal))
        self.timezone = timezone if is_valid(timezone) else "UTC"
        self.practitioners = [{"value": str(p.id), "label": p.name} for p in people]
        known = {p["value"] for p in self.practitioners}
        self.chosen = [i for i in self.chosen if i in known]
        await self._reload(principal)

    async def _reload(self, principal: Principal | None = None) -> None:
        try:
            principal = principal or await self._require(dashboard.VIEW_DASHBOARD)
        except NotAllowed:
            self._clear()
            return
        today = now().astimezone(ZoneInfo(self.timezone)).date()
        chosen = [int(i) for i in self.chosen if i.isdigit()] if self.chosen else None
        try:
            period = dashboard.period_of(self.preset, today, self.date_from, self.date_to)
            figures = await asyncio.to_thread(dashboard.dashboard, principal, period, chosen, self.timezone)
        except dashboard.InvalidDashboardFilter as exc:
            self._clear()
            self.error = str(exc)
            return
        self.error = ""
        self._show(figures)

    def _clear(self) -> None:
        self.loaded, self.points, self.rows, self.summaries, self.has_data, self.lines = False, {}, {}, {}, {}, []

    def _show(self, figures: dashboard.Dashboard) -> None:
        period = figures.period
        self.period_text = f"{_day(period.first_day, True)} to {_day(period.last_day, True)}"
        self.period_from, self.period_to = period.first_day.isoformat(), period.last_day.isoformat()
        self.rows = {chart: table.rows for chart, table in dashboard.tables(figures).items()}
        keys = {p.id: f"p{p.id}" for p in figures.practitioners}
        self.lines = [{"key": keys[p.id], "name": p.name, "colour": LINE_COLOURS[n % len(LINE_COLOURS)]}
                      for n, p in enumerate(figures.practitioners)]
        weeks: dict[date, dict[str, Any]] = {}
        for u in figures.utilisation:
            weeks.setdefault(u.week, {"week": _day(u.week)})[keys[u.practitioner_id]] = u.percent
        months = [(m.month.strftime("%b %Y"), m) for m in figures.months]
        self.points = {
            "utilisation": list(weeks.values()),
            "modes": [{"week": _day(w.week), "Telehealth": w.telehealth, "In person": w.in_person}
                      for w in figures.weeks],
            "attendance": [{"month": name, "No-shows": m.no_shows, "Late cancellations": m.late_cancellations}
                           for name, m in months],
            "new_clients": [{"month": name, "New clients": m.new_clients} for name, m in months],
            "booked_by": [{"month": name, "Self-booked": m.self_booked, "Booked by the practice": m.by_practice}
                          for name, m in months],
            "sms": [{"month": name, "Credits spent": m.credits_spent} for name, m in months],
        }
        self.summaries, self.has_data = _summaries(figures)
        self.loaded = True

    @rx.event
    async def set_preset(self, value: str):
        self.preset = value if value in PRESETS else "this_month"
        if self.preset == "custom" and not (self.date_from or self.date_to):
            # Start from the period shown, so changing one date is enough.
            self.date_from, self.date_to = self.period_from, self.period_to
        await self._reload()

    @rx.event
    async def set_date_from(self, value: str):
        self.date_from, self.preset = value[:10], "custom"
        await self._reload()

    @rx.event
    async def set_date_to(self, value: str):
        self.date_to, self.preset = value[:10], "custom"
        await self._reload()

    @rx.event
    async def choose_all(self, checked: bool):
        if checked:
            self.chosen = []
            await self._reload()

    @rx.event
    async def choose(self, practitioner_id: str, checked: bool):
        """Tick or untick one practitioner; unticking the last one shows everyone again."""
        chosen = [i for i in self.chosen if i != practitioner_id]
        if checked and any(p["value"] == practitioner_id for p in self.practitioners):
            chosen.append(practitioner_id)
        self.chosen = [p["value"] for p in self.practitioners if p["value"] in chosen]
        await self._reload()

    @rx.event
    async def download_csv(self, chart: str):
        """The numbers behind one chart, as shown, as a CSV file."""
        try:
            await self._require(dashboard.VIEW_DASHBOARD)
        except NotAllowed:
            return None
        if chart not in COLUMNS or not self.loaded:
            return None
        table = dashboard.Table(COLUMNS[chart], self.rows.get(chart, []))
        name = f"dashboard-{chart.replace('_', '-')}-{self.period_from}-to-{self.period_to}.csv"
        return rx.download(data=dashboard.csv_text(table), filename=name, mime_type="text/csv")


def _summaries(figures: dashboard.Dashboard) -> tuple[dict[str, str], dict[str, bool]]:
    """What each chart shows in one sentence (its text alternative, with the table), and whether it has
    anything to plot."""
    per_person: dict[int, list[int]] = {}
    for u in figures.utilisation:
        booked, published = per_person.setdefault(u.practitioner_id, [0, 0])
        per_person[u.practitioner_id] = [booked + u.booked_minutes, published + u.published_minutes]
    parts = []
    for p in figures.practitioners:
        booked, published = per_person.get(p.id, [0, 0])
        parts.append(f"{p.name} {100 * booked / published:.0f}% of {published / 60:,.0f} published hours"
                     if published else f"{p.name} no published hours ({booked / 60:,.1f} hours booked)")
    telehealth = sum(w.telehealth for w in figures.weeks)
    in_person = sum(w.in_person for w in figures.weeks)
    no_shows = sum(m.no_shows for m in figures.months)
    late = sum(m.late_cancellations for m in figures.months)
    new = sum(m.new_clients for m in figures.months)
    own = sum(m.self_booked for m in figures.months)
    staff = sum(m.by_practice for m in figures.months)
    spent = sum(m.credits_spent for m in figures.months)
    window = _count(figures.cancellation_window_hours, "hour", "hours")
    summaries = {
        "utilisation": ("Booked hours over published hours for the period: " + "; ".join(parts) + ".")
        if parts else "The practice has no practitioners yet.",
        "modes": f"{_count(telehealth + in_person, 'session', 'sessions')}: {telehealth:,} by telehealth, "
                 f"{in_person:,} in person.",
        "attendance": f"{_count(no_shows, 'no-show', 'no-shows')} and "
                      f"{_count(late, 'late cancellation', 'late cancellations')} (less than {window} before the "
                      "start, the practice's cancellation window).",
        "new_clients": f"{_count(new, 'new client', 'new clients')} in the whole practice.",
        "booked_by": f"{_count(own + staff, 'appointment', 'appointments')}: {own:,} self-booked by clients, "
                     f"{staff:,} booked by the practice.",
        "sms": f"{_count(spent, 'SMS credit', 'SMS credits')} spent by the whole practice.",
    }
    has_data = {"utilisation": any(published for _, published in per_person.values()),
                "modes": telehealth + in_person > 0, "attendance": no_shows + late > 0, "new_clients": new > 0,
                "booked_by": own + staff > 0, "sms": spent != 0}
    return summaries, has_data

"""Dashboard: the practice's figures for a period and practitioners (owners and managers). Each chart
sits in a card with a sentence saying what it shows, the numbers behind it as a table (the text
alternative) and a CSV download; the cards stack in one column on a phone."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from rxapp.components.card_table import card_table, cell
from rxapp.components.shell import app_shell
from rxapp.state.auth import AuthState
from rxapp.state.dashboard import COLUMNS, PRESETS, DashboardState

D = DashboardState
_CONTROL = {"padding": "0.4em", "border_radius": "6px", "max_width": "100%"}
# Radix step-9 colours (SVG fills take colours, not CSS variables).
TELEHEALTH, IN_PERSON, WARN, ALERT, ACCENT = "#0090ff", "#f76b15", "#ffc53d", "#e5484d", "#3e63dd"
CHART_HEIGHT = 260
# The drawing is hidden from screen readers (the sentence and the table say what it shows), so it must not
# take keyboard focus either: Recharts' keyboard layer is off.
_DRAWING = {"width": "100%", "height": CHART_HEIGHT, "custom_attrs": {"accessibilityLayer": False}}


def _labelled(label: str, control_id: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.el.label(label, html_for=control_id, style={"font_weight": "500"}), control, spacing="1",
                     align="start", max_width="100%")


def _practitioner(option: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.checkbox(option["label"], checked=D.chosen.contains(option["value"]),
                       on_change=lambda checked: D.choose(option["value"], checked))


def _filters() -> rx.Component:
    return rx.flex(
        _labelled("Period", "dashboard-preset", rx.el.select(
            *[rx.el.option(label, value=key) for key, label in PRESETS.items()],
            id="dashboard-preset", value=D.preset, on_change=D.set_preset, style=_CONTROL)),
        rx.cond(D.custom, rx.flex(
            _labelled("First day", "dashboard-from", rx.input(id="dashboard-from", type="date", value=D.date_from,
                                                              on_change=D.set_date_from)),
            _labelled("Last day", "dashboard-to", rx.input(id="dashboard-to", type="date", value=D.date_to,
                                                           on_change=D.set_date_to)),
            gap="1em", wrap="wrap")),
        rx.el.fieldset(
            rx.el.legend("Practitioners", style={"font_weight": "500", "margin_bottom": "0.4em"}),
            rx.flex(rx.checkbox("All practitioners", checked=D.all_chosen, on_change=D.choose_all),
                    rx.foreach(D.practitioners, _practitioner), gap="0.5em 1.25em", wrap="wrap"),
            style={"border": "none", "padding": "0", "margin": "0"}, id="dashboard-practitioners"),
        gap="1em", align="end", wrap="wrap", width="100%",
    )


def _axes(x_key: str, unit: str = "") -> list[rx.Component]:
    return [rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
            rx.recharts.x_axis(data_key=x_key), rx.recharts.y_axis(allow_decimals=False, unit=unit, width=48),
            rx.recharts.graphing_tooltip(), rx.recharts.legend()]


def _bars(chart: str, x_key: str, *series: tuple[str, str], stacked: bool = False) -> rx.Component:
    return rx.recharts.bar_chart(
        *_axes(x_key),
        *[rx.recharts.bar(data_key=key, fill=colour, stack_id="all" if stacked else None, is_animation_active=False)
          for key, colour in series],
        data=D.points[chart], **_DRAWING)


def _utilisation_plot() -> rx.Component:
    return rx.recharts.line_chart(
        *_axes("week", "%"),
        rx.foreach(D.lines, lambda line: rx.recharts.line(data_key=line["key"], name=line["name"],
                                                          stroke=line["colour"], is_animation_active=False)),
        data=D.points["utilisation"], **_DRAWING)


def _numbers(chart: str) -> rx.Component:
    columns = COLUMNS[chart]

    def row(values: rx.Var[list[str]]) -> rx.Component:
        return rx.table.row(*[cell(label.capitalize(), values[n], row_header=n == 0)
                              for n, label in enumerate(columns)])

    return rx.el.details(
        rx.el.summary("The numbers", style={"cursor": "pointer", "font_weight": "500"}),
        card_table([c.capitalize() for c in columns], D.rows[chart], row, size="1", id=f"dashboard-table-{chart}"),
        style={"width": "100%"})


def _chart_card(chart: str, title: str, plot: Callable[[], rx.Component]) -> rx.Component:
    heading = f"dashboard-{chart}-heading"
    return rx.card(
        rx.el.figure(
            rx.vstack(
                rx.heading(title, size="4", as_="h2", id=heading),
                rx.el.figcaption(rx.text(D.summaries[chart], size="2"), id=f"dashboard-summary-{chart}"),
                rx.cond(D.has_data[chart],
                        # The sentence above and the table below say what the plot shows.
                        rx.box(plot(), width="100%", aria_hidden="true"),
                        rx.text("Nothing to plot for this period.", color_scheme="gray", size="2",
                                class_name="dashboard-empty")),
                _numbers(chart),
                rx.button(rx.icon("download", size=14, aria_hidden="true"), "Download CSV", variant="soft",
                          on_click=D.download_csv(chart), aria_label=f"Download CSV of {title.lower()}",
                          id=f"dashboard-csv-{chart}"),
                spacing="3", width="100%", align="start"),
            style={"margin": "0"}, aria_labelledby=heading),
        min_width="0", class_name="dashboard-chart", id=f"dashboard-{chart}")


def _charts() -> rx.Component:
    return rx.box(
        _chart_card("utilisation", "Utilisation per practitioner per week", _utilisation_plot),
        _chart_card("modes", "Sessions by mode per week",
                    lambda: _bars("modes", "week", ("Telehealth", TELEHEALTH), ("In person", IN_PERSON), stacked=True)),
        _chart_card("attendance", "No-shows and late cancellations per month",
                    lambda: _bars("attendance", "month", ("No-shows", ALERT), ("Late cancellations", WARN))),
        _chart_card("new_clients", "New clients per month",
                    lambda: _bars("new_clients", "month", ("New clients", ACCENT))),
        _chart_card("booked_by", "Self-booked and booked by the practice per month",
                    lambda: _bars("booked_by", "month", ("Self-booked", TELEHEALTH),
                                  ("Booked by the practice", IN_PERSON), stacked=True)),
        _chart_card("sms", "SMS credits spent per month", lambda: _bars("sms", "month", ("Credits spent", ACCENT))),
        # One column on a phone, two side by side from about 1000 px.
        style={"display": "grid", "grid_template_columns": "repeat(auto-fit, minmax(min(100%, 30em), 1fr))",
               "gap": "1em", "width": "100%"},
        id="dashboard-charts")


@rx.page(route="/dashboard", title="Dashboard · Telehealth", on_load=[AuthState.guard, D.load])
def dashboard_page() -> rx.Component:
    return app_shell(
        "/dashboard", "Dashboard",
        rx.text("How the practice is doing, for a period and the practitioners you choose. Weeks start on Monday; "
                "weeks and months are in ", D.timezone, ".", color_scheme="gray"),
        _filters(),
        rx.cond(D.error != "", rx.callout(D.error, icon="triangle-alert", color_scheme="red", role="alert",
                                          id="dashboard-error")),
        rx.cond(D.loaded, rx.fragment(
            rx.text("Showing ", rx.el.strong(D.period_text), ".", id="dashboard-period", role="status"),
            _charts())),
    )

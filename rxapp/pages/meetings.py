"""Meetings: the practitioner's telehealth meetings (the practice's for owners and managers)."""

from __future__ import annotations

import reflex as rx

from rxapp.components.card_table import card_table, cell
from rxapp.components.dialogs import reconnect_banner
from rxapp.components.new_meeting import new_meeting_dialog
from rxapp.components.shell import app_shell, empty_state
from rxapp.state.auth import AuthState
from rxapp.state.meetings import CLIENT_STATES, DISPLAY_STATUSES, PERIODS, SEARCH_MAX, MeetingsState
from rxapp.state.new_meeting import NewMeetingState

M, N = MeetingsState, NewMeetingState
_SELECT = {"padding": "0.4em", "border_radius": "6px", "min_width": "12em"}
_STATUS_COLORS = {"scheduled": "blue", "pending_sync": "amber", "in_progress": "green", "ended": "gray",
                  "cancelled": "red", "needs_attention": "orange"}


def _labelled(label: str, control_id: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.el.label(label, html_for=control_id, style={"font_weight": "500"}), control, spacing="1",
                     align="start")


def _filters() -> rx.Component:
    return rx.hstack(
        _labelled("Search", "meeting-search", rx.input(
            id="meeting-search", placeholder="Topic, description or patient", default_value=M.search,
            on_change=M.set_search.debounce(300), width="18em", max_length=SEARCH_MAX)),
        _labelled("Patient", "patient-filter", rx.el.select(
            rx.el.option("All patients", value="all"),
            rx.foreach(M.patient_options, lambda o: rx.el.option(o["label"], value=o["value"])),
            id="patient-filter", value=rx.cond(M.patient == "", "all", M.patient), on_change=M.set_patient,
            style=_SELECT)),
        _labelled("Status", "status-filter", rx.el.select(
            rx.el.option("All statuses", value="all"),
            *[rx.el.option(label, value=key) for key, label in DISPLAY_STATUSES.items()],
            id="status-filter", value=rx.cond(M.status == "", "all", M.status), on_change=M.set_status,
            style=_SELECT)),
        _labelled("Dates", "period-filter", rx.el.select(
            *[rx.el.option(label, value=key) for key, label in PERIODS.items()],
            id="period-filter", value=M.period, on_change=M.set_period, style=_SELECT)),
        rx.cond(M.sees_practice, _labelled("Practitioner", "practitioner-filter", rx.el.select(
            rx.el.option("All practitioners", value="all"),
            rx.foreach(M.practitioner_options, lambda o: rx.el.option(o["label"], value=o["value"])),
            id="practitioner-filter", value=rx.cond(M.practitioner == "", "all", M.practitioner),
            on_change=M.set_practitioner, style=_SELECT))),
        rx.button(rx.cond(M.newest_first, "Newest first", "Oldest first"), rx.icon("arrow-up-down", size=14),
                  variant="soft", on_click=M.toggle_sort, title="Change the sort order"),
        spacing="4", align="end", wrap="wrap",
    )


def _actions(row: rx.Var[dict[str, str]]) -> rx.Component:
    # Each button carries its row's meeting id: a live push may reorder the rows before the click lands.
    return rx.hstack(
        rx.cond(row["start_href"] != "", rx.link("Start meeting", href=row["start_href"], is_external=True,
                                                 on_click=M.refresh_soon, weight="medium")),
        rx.cond(row["can_retry"] == "1", rx.button("Retry", rx.icon("refresh-cw", size=12), size="1",
                                                   variant="soft", color_scheme="orange",
                                                   title="Try Zoom again for this meeting",
                                                   on_click=M.retry_meeting(row["id"]))),
        rx.cond(row["can_end"] == "1", rx.button("End meeting", size="1", variant="soft",
                                                 on_click=M.ask_end(row["id"]))),
        rx.cond(row["can_run_late"] == "1", rx.button("Running late", size="1", variant="soft", color_scheme="amber",
                                                      high_contrast=True,
                                                      on_click=M.open_late(row["id"]), class_name="run-late")),
        rx.cond(row["can_cancel"] == "1", rx.button("Cancel meeting", size="1", variant="soft", color_scheme="red",
                                                    on_click=M.open_cancel(row["id"]))),
        rx.cond(row["can_delete"] == "1", rx.button("Delete meeting", size="1", variant="soft", color_scheme="gray",
                                                    on_click=M.ask_delete(row["id"]))),
        _outcome_offer(row),
        spacing="2", align="center", wrap="wrap",
    )


def _outcome_offer(row: rx.Var[dict[str, str]]) -> rx.Component:
    """After the session ended: the outcome its attendance suggests first, the other beside it."""
    completed = rx.button("Record completed", size="1", on_click=M.record_outcome(row["id"], "completed"),
                          variant=rx.cond(row["offer"] == "completed", "solid", "outline"),
                          class_name="offer-completed")
    no_show = rx.button("Record no-show", size="1", on_click=M.record_outcome(row["id"], "no_show"),
                        variant=rx.cond(row["offer"] == "no_show", "solid", "outline"), color_scheme="orange",
                        high_contrast=True, class_name="offer-no-show")
    return rx.cond(row["offer"] != "", rx.hstack(rx.cond(row["offer"] == "completed", completed, no_show),
                                                 rx.cond(row["offer"] == "completed", no_show, completed),
                                                 spacing="2", wrap="wrap", class_name="outcome-offer"))


def _row(row: rx.Var[dict[str, str]]) -> rx.Component:
    color = rx.match(row["status_key"], *_STATUS_COLORS.items(), "gray")
    return rx.table.row(
        cell("Date and time", row["when"]),
        cell("Patient", rx.vstack(rx.text(row["patient"]),
                                rx.cond(row["waiting"] == "1", rx.badge("Client waiting", color_scheme="green",
                                                                        variant="solid", class_name="client-waiting")),
                                rx.cond(row["confirmed"] == "1", rx.badge("Confirmed", color_scheme="blue",
                                                                          class_name="client-confirmed")),
                                rx.cond(row["client_state"] != "", rx.text(
                                    rx.match(row["client_state"], *CLIENT_STATES.items(), ""), size="1",
                                    weight="medium", class_name="client-state",
                                    data_state=row["client_state"])),
                                spacing="1", align="start")),
        rx.cond(M.sees_practice, cell("Practitioner", row["practitioner"])),
        cell("Topic", rx.vstack(rx.text(row["topic"], weight="medium"),
                                rx.cond(row["description"] != "",
                                        rx.text(row["description"], size="1", color_scheme="gray")),
                                spacing="0"), row_header=True),
        cell("Status", rx.vstack(rx.badge(row["status"], color_scheme=color, high_contrast=True,
                                          class_name="meeting-status"),
                                 rx.cond(row["outcome"] != "", rx.badge(row["outcome"], color_scheme="green",
                                                                        class_name="meeting-outcome")),
                                 rx.cond(row["detail"] != "", rx.text(row["detail"], size="1", color_scheme="gray")),
                                 rx.cond(row["attended"] != "", rx.text(row["attended"], size="1",
                                                                        class_name="meeting-attended")),
                                 spacing="1", align="start")),
        cell("Actions", _actions(row)),
        class_name="meeting-row",
    )


def _table() -> rx.Component:
    return rx.cond(
        M.rows.length() > 0,
        rx.vstack(
            card_table(("Date and time", "Patient", ("Practitioner", M.sees_practice), "Topic", "Status", "Actions"),
                       M.rows, _row, id="meetings-table"),
            rx.hstack(
                # Keyset pages: Previous and Next, no total (counting a large practice costs more than the page).
                rx.button("Previous", variant="soft", on_click=M.previous_page, disabled=~M.has_previous),
                rx.text("Page ", M.page, id="meeting-pages"),
                rx.button("Next", variant="soft", on_click=M.next_page, disabled=~M.has_next),
                align="center", spacing="3"),
            width="100%", spacing="3"),
        rx.cond((M.search != "") | (M.patient != "") | (M.status != "") | (M.period != "upcoming"),
                empty_state("No meetings match", "Change the search or the filters to see more.", icon="search"),
                empty_state("No meetings yet", "Press New meeting to schedule a telehealth session with one of "
                                               "your patients.", icon="video")),
    )


def _cancel_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Cancel meeting"),
            rx.dialog.description(rx.text(M.cancel_subject, weight="medium", id="cancel-subject"),
                                  "The Zoom meeting is deleted and the patient is emailed this reason."),
            rx.el.label("Reason (sent to the patient)", html_for="cancel-reason", style={"font_weight": "500"}),
            rx.text_area(id="cancel-reason", value=M.cancel_reason, on_change=M.set_cancel_reason, rows="3",
                         width="100%", aria_describedby="cancel-reason-count"),
            rx.text(M.cancel_reason_count, size="1", color_scheme="gray", id="cancel-reason-count"),
            rx.cond(M.cancel_error != "", rx.text(M.cancel_error, color_scheme="red", role="alert")),
            rx.flex(rx.button("Keep meeting", variant="soft", color_scheme="gray", on_click=M.close_cancel),
                    rx.button("Cancel meeting", color_scheme="red", on_click=M.confirm_cancel),
                    spacing="3", justify="end", margin_top="1em"),
        ),
        open=M.cancel_id > 0,
        on_open_change=lambda open_: rx.cond(open_, rx.noop(), M.close_cancel()),
    )


def _late_dialog() -> rx.Component:
    """Running late: 5, 10 or 15 minutes (or any number) and an optional message to the client."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Running late"),
            rx.dialog.description(rx.text(M.late_subject, weight="medium", id="late-subject"),
                                  "A client in the waiting room sees it at once; otherwise they get an SMS (if they "
                                  "take SMS) or an email."),
            rx.el.fieldset(
                rx.el.legend("How late", style={"font_weight": "500"}),
                rx.radio_group.root(
                    rx.hstack(*[rx.radio_group.item(f"{m} min", value=str(m)) for m in (5, 10, 15)],
                              spacing="4", wrap="wrap"),
                    value=M.late_minutes, on_change=M.set_late_minutes, id="late-choice"),
                style={"border": "none", "padding": "0", "margin": "0.75em 0"}),
            rx.el.label("Or minutes", html_for="late-minutes", style={"font_weight": "500"}),
            rx.input(id="late-minutes", value=M.late_minutes, on_change=M.set_late_minutes, input_mode="numeric",
                     width="8em"),
            rx.el.label("Message to the client (optional)", html_for="late-note",
                        style={"font_weight": "500", "display": "block", "margin_top": "0.75em"}),
            rx.text_area(id="late-note", value=M.late_note, on_change=M.set_late_note, rows="2", width="100%"),
            rx.cond(M.late_error != "", rx.text(M.late_error, color_scheme="red", role="alert", id="late-error")),
            rx.flex(rx.button("Close", variant="soft", color_scheme="gray", on_click=M.close_late),
                    rx.button("Tell the client", on_click=M.confirm_late, id="late-confirm"),
                    spacing="3", justify="end", margin_top="1em", wrap="wrap"),
        ),
        open=M.late_id > 0,
        on_open_change=lambda open_: rx.cond(open_, rx.noop(), M.close_late()),
    )


def _confirm_dialog() -> rx.Component:
    """End meeting and Delete meeting cannot be undone: they ask first."""
    ending = M.confirm_action == "end"
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(rx.cond(ending, "End meeting?", "Delete meeting?")),
            rx.alert_dialog.description(
                rx.text(M.confirm_subject, weight="medium", id="confirm-subject"),
                rx.cond(ending, "The session ends for everyone, its join link stops working and the patient is "
                                "emailed that it has ended.",
                        "The meeting is removed from the list; an entry stays in the audit log."),
            ),
            # Plain buttons, not Radix's action/cancel: the handlers close the dialog themselves.
            rx.flex(rx.button(rx.cond(ending, "Keep it running", "Keep meeting"), variant="soft", color_scheme="gray",
                              on_click=M.close_confirm),
                    rx.button(rx.cond(ending, "End meeting", "Delete meeting"), color_scheme="red",
                              on_click=M.confirm),
                    spacing="3", justify="end", margin_top="1em"),
        ),
        open=M.confirm_action != "",
        on_open_change=lambda open_: rx.cond(open_, rx.noop(), M.close_confirm()),
    )


def _launch_prompt() -> rx.Component:
    return rx.cond(M.launch_prompt != "", rx.callout.root(
        rx.callout.icon(rx.icon("video")),
        rx.hstack(rx.text(M.launch_prompt), rx.link("Launch telehealth session", href=M.launch_href,
                                                    is_external=True, on_click=M.refresh_soon, weight="bold",
                                                    high_contrast=True),
                  spacing="3", align="center", wrap="wrap"),
        color_scheme="green", high_contrast=True, role="status", id="launch-prompt"))


def _dialogs() -> rx.Fragment:
    return rx.fragment(_cancel_dialog(), _late_dialog(), _confirm_dialog())


@rx.page(route="/today", title="Today · Telehealth", on_load=[AuthState.guard, M.load_today])
def today_page() -> rx.Component:
    """The practitioner's day: today's telehealth sessions with where each client is, pushed as it
    changes; the launch prompt, Start, Running late, and the outcome once a session ends."""
    return app_shell(
        "/today", "Today",
        reconnect_banner(M.needs_reconnect, "New Zoom meetings cannot be created until you reconnect.", M.reconnect),
        _launch_prompt(),
        rx.cond(M.rows.length() > 0,
                card_table(("Date and time", "Patient", ("Practitioner", M.sees_practice), "Topic", "Status",
                            "Actions"), M.rows, _row, id="today-table"),
                empty_state("No telehealth sessions today", "Sessions booked for today appear here, with where "
                            "each client is.", icon="sun")),
        _dialogs(),
        # Changes are pushed (live.py); this follows the clock for the launch prompt and the client's state.
        rx.moment(interval=60000, on_change=M.refresh, display="none"),
    )


@rx.page(route="/meetings", title="Meetings · Telehealth", on_load=[AuthState.guard, M.load])
def meetings_page() -> rx.Component:
    return app_shell(
        "/meetings", "Meetings",
        reconnect_banner(M.needs_reconnect, "New Zoom meetings cannot be created until you reconnect.", M.reconnect),
        rx.cond((M.zoom_problem != "") & ~M.needs_reconnect,
                rx.callout(M.zoom_problem, icon="info", role="status", id="zoom-problem")),
        _launch_prompt(),
        rx.hstack(_filters(), rx.spacer(),
                  rx.cond(M.can_schedule & (M.zoom_problem == ""),
                          rx.button("New meeting", rx.icon("plus", size=14), on_click=N.open_form)),
                  # Owners and managers book for a practitioner: the calendar's form asks for whom.
                  rx.cond(~M.can_schedule,
                          rx.button("New appointment", rx.icon("plus", size=14), id="new-appointment",
                                    on_click=rx.redirect("/calendar?new=1"))),
                  width="100%", align="end", wrap="wrap"),
        _table(),
        _dialogs(),
        new_meeting_dialog(),
        # Changes are pushed (live.py); this only follows the clock, for the launch prompt.
        rx.cond(M.has_live_rows, rx.moment(interval=60000, on_change=M.refresh, display="none")),
    )

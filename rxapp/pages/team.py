"""Team (owner/manager): the practice's people, invites, roles, deactivation, practitioner profiles."""

from __future__ import annotations

import reflex as rx

from rxapp.components.card_table import card_table, cell
from rxapp.components.profile_fields import profile_fields
from rxapp.components.shell import app_shell, empty_state
from rxapp.state.auth import AuthState
from rxapp.state.team import TeamState

S = TeamState


def _invite_form() -> rx.Component:
    return rx.card(rx.form(
        rx.vstack(
            rx.heading("Invite a person", size="4", as_="h2"),
            rx.text("They get an email with a link to choose their password (it works once, for 48 hours).",
                    color_scheme="gray", size="2"),
            rx.hstack(
                rx.vstack(rx.el.label("Full name", html_for="invite-name", style={"font_weight": "500"}),
                          rx.input(id="invite-name", name="full_name", required=True, max_length=200, width="16em"),
                          spacing="1"),
                rx.vstack(rx.el.label("Email", html_for="invite-email", style={"font_weight": "500"}),
                          rx.input(id="invite-email", name="email", type="email", required=True, max_length=320,
                                   width="18em"),
                          spacing="1"),
                rx.vstack(rx.el.label("Role", html_for="invite-role", style={"font_weight": "500"}),
                          rx.el.select(rx.foreach(S.role_options, lambda r: rx.el.option(r.capitalize(), value=r)),
                                       id="invite-role", name="role", default_value="practitioner",
                                       style={"padding": "0.4em", "border_radius": "6px"}),
                          spacing="1"),
                rx.button("Send invite", type="submit", loading=S.inviting),
                spacing="3", align="end", wrap="wrap",
            ),
            rx.cond(S.invite_error != "", rx.text(S.invite_error, color_scheme="red", size="2", role="alert",
                                                  id="invite-error")),
            spacing="3", align="start", width="100%",
        ),
        on_submit=S.invite, reset_on_submit=False,
    ), width="100%")


def _role_cell(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.cond(
        (row["changeable"] == "yes") & (row["status"] != "deactivated"),
        rx.el.select(rx.foreach(S.role_options, lambda r: rx.el.option(r.capitalize(), value=r)),
                     value=row["role"], aria_label="Role of " + row["name"],
                     on_change=lambda v: S.change_role(row["id"].to(int), v),
                     style={"padding": "0.3em", "border_radius": "6px"}),
        rx.text(row["role_label"]),
    )


def _actions(row: rx.Var[dict[str, str]]) -> rx.Component:
    user_id = row["id"].to(int)
    return rx.hstack(
        rx.cond(row["has_profile"] == "yes",
                rx.fragment(
                    rx.button("Edit profile", size="1", variant="soft", on_click=S.open_edit(user_id),
                              aria_label="Edit profile of " + row["name"]),
                    rx.link("Availability", href="/availability?p=" + row["id"], size="2",
                            aria_label="Availability of " + row["name"]))),
        rx.cond(row["can_reset_two_step"] == "yes",
                rx.button("Reset two-step sign-in", size="1", variant="soft", color_scheme="orange",
                          on_click=S.reset_two_step(user_id), aria_label="Reset two-step sign-in of " + row["name"])),
        rx.cond(row["changeable"] == "yes", rx.match(
            row["status"],
            ("deactivated", rx.button("Reactivate", size="1", variant="soft", on_click=S.reactivate(user_id),
                                      aria_label="Reactivate " + row["name"])),
            rx.fragment(
                rx.cond(row["status"] == "invited",
                        rx.button("Resend invite", size="1", variant="soft", on_click=S.resend_invite(user_id),
                                  aria_label="Resend invite to " + row["name"])),
                rx.button("Deactivate", size="1", variant="soft", color_scheme="red",
                          loading=S.busy_id == user_id, on_click=S.ask_deactivate(user_id),
                          aria_label="Deactivate " + row["name"])),
        )),
        spacing="2", wrap="wrap",
    )


def _row(row: rx.Var[dict[str, str]]) -> rx.Component:
    color = rx.match(row["status"], ("active", "green"), ("invited", "amber"), "gray")
    return rx.table.row(
        cell("Name", row["name"], row_header=True),
        cell("Email", row["email"]),
        cell("Role", _role_cell(row)),
        cell("Status", rx.badge(row["status_label"], color_scheme=color, high_contrast=True)),
        cell("Telehealth", row["telehealth"]),
        cell("Zoom", row["zoom"]),
        cell("Two-step sign-in", row["two_step"]),
        cell("Actions", _actions(row)),
    )


def _waiting(person: rx.Var[dict[str, str]]) -> rx.Component:
    def visit(v: rx.Var[dict[str, str]]) -> rx.Component:
        return rx.cond(v["user_id"] == person["id"], rx.el.li(
            rx.link(v["when"], " · ", v["client"], " · ", v["mode"], href=v["link"])))

    return rx.callout.root(
        rx.callout.icon(rx.icon("calendar-clock")),
        rx.vstack(
            rx.text(rx.text.strong(person["name"]), " (deactivated): ", person["message"], "."),
            rx.el.ul(rx.foreach(S.waiting_visits, visit), style={"padding_left": "1.25em"}),
            spacing="1", align="start"),
        color_scheme="amber", width="100%", class_name="needs-reassignment",
    )


def _confirm_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Deactivate ", S.confirm_name, "?"),
            rx.alert_dialog.description("This is what happens:"),
            rx.el.ul(rx.foreach(S.confirm_lines, lambda line: rx.el.li(line)),
                     style={"padding_left": "1.25em", "margin_top": "0.5em"}, id="deactivate-consequences"),
            rx.text("You can reactivate them later; that restores sign-in, not Zoom.", size="2",
                    color_scheme="gray"),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                 on_click=S.close_confirm)),
                rx.alert_dialog.action(rx.button("Deactivate", color_scheme="red",
                                                 on_click=S.deactivate(S.confirm_id))),
                spacing="3", justify="end", margin_top="1em",
            ),
        ),
        open=S.confirm_open, on_open_change=lambda _: S.close_confirm(),
    )


def _edit_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Profile of ", S.edit_name),
            rx.dialog.description("Owners and managers can edit any practitioner's profile.", size="2"),
            rx.box(profile_fields(S), padding_y="0.75em"),
            rx.flex(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", on_click=S.close_edit)),
                rx.button("Save profile", on_click=S.save_edit(S.edit_id)),
                spacing="3", justify="end",
            ),
        ),
        open=S.edit_open, on_open_change=lambda _: S.close_edit(),
    )


@rx.page(route="/team", title="Team · Telehealth", on_load=[AuthState.guard, TeamState.load])
def team_page() -> rx.Component:
    return app_shell(
        "/team", "Team",
        rx.foreach(S.waiting, _waiting),
        rx.cond(S.is_owner, rx.el.label(
            rx.switch(checked=S.two_step_required, on_change=S.set_require_two_step, id="require-two-step"),
            " Require two-step sign-in (an authenticator app) for everyone on the team; people without it set it "
            "up at their next sign-in. Clients are never asked.",
            style={"display": "flex", "gap": "0.5em", "align_items": "center"})),
        _invite_form(),
        rx.cond(
            S.rows.length() > 0,
            rx.box(card_table(("Name", "Email", "Role", "Status", "Telehealth", "Zoom", "Two-step sign-in", "Actions"),
                              S.rows, _row, id="team-table"), width="100%", overflow_x="auto"),
            empty_state("No one on the team yet", "Invite practitioners and staff above."),
        ),
        _confirm_dialog(),
        _edit_dialog(),
    )

"""The Add client / Edit dialog, shared by the Clients page and a client's page."""

from __future__ import annotations

import reflex as rx

from rxapp.state.client_form import NAME_LIMIT, NOTES_LIMIT, ClientFormState, all_timezones

F = ClientFormState


def _error(name: str) -> rx.Component:
    return rx.cond(F.errors.contains(name),
                   rx.text(F.errors[name], color_scheme="red", size="2", role="alert", id=f"client-{name}-error"))


def _field(label: str, name: str, control: rx.Component, hint: str = "") -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=f"client-{name}", style={"font_weight": "500"}),
        control,
        rx.text(hint, size="1", color_scheme="gray") if hint else rx.fragment(),
        _error(name), spacing="1", align="start", width="100%")


def _text(label: str, name: str, value: rx.Var[str], max_length: int = NAME_LIMIT, type_: str = "text",
          hint: str = "", autocomplete: str = "off") -> rx.Component:
    return _field(label, name, rx.input(
        id=f"client-{name}", value=value, type=type_, max_length=max_length, width="100%",
        auto_complete=autocomplete, on_change=lambda v: F.set_field(name, v),
        aria_invalid=rx.cond(F.errors.contains(name), "true", "false")), hint)


def client_form_dialog() -> rx.Component:
    """Controlled by `ClientFormState.open`; open it with `open_add` or `open_edit(client_id)`."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(F.editing, "Edit client", "Add client")),
            rx.dialog.description("First and last name are required; everything else can be added later.",
                                  size="2", color_scheme="gray"),
            rx.vstack(
                rx.flex(_text("First name", "first_name", F.first_name, autocomplete="off"),
                        _text("Last name", "last_name", F.last_name),
                        spacing="3", width="100%", direction={"initial": "column", "sm": "row"}),
                _text("Preferred name", "preferred_name", F.preferred_name,
                      hint="Shown instead of the first name wherever the client is named."),
                _text("Email", "email", F.email, max_length=320, type_="email"),
                _text("Mobile phone", "phone", F.phone, max_length=32, type_="tel",
                      hint="Like (415) 555-2671; numbers of another country with their code, like +44 20 7946 0958."),
                _field("Timezone", "timezone", rx.el.select(
                    *[rx.el.option(z, value=z) for z in all_timezones()], id="client-timezone", value=F.timezone,
                    on_change=lambda v: F.set_field("timezone", v),
                    style={"padding": "0.4em", "border_radius": "6px", "max_width": "100%"})),
                _text("Date of birth (optional)", "date_of_birth", F.date_of_birth, max_length=10, type_="date"),
                _field("Notes", "notes", rx.text_area(
                    id="client-notes", value=F.notes, max_length=NOTES_LIMIT, rows="4", width="100%",
                    on_change=lambda v: F.set_field("notes", v))),
                rx.text(F.notes_count, size="1", color_scheme="gray"),
                rx.flex(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Save", on_click=F.save, loading=F.saving, variant="soft", id="client-save"),
                    rx.button("Save and invite", on_click=F.save_and_invite, loading=F.saving,
                              id="client-save-and-invite"),
                    spacing="3", justify="end", wrap="wrap", width="100%", margin_top="0.5em"),
                spacing="3", width="100%", margin_top="0.75em"),
            max_height="90vh", overflow_y="auto",
        ),
        open=F.open, on_open_change=F.set_open,
    )


def client_notice() -> rx.Component:
    """What the last save (and invite) did, until the next one."""
    return rx.cond(F.notice != "", rx.callout(F.notice, icon="circle-check", color_scheme="green", role="status",
                                              id="client-notice", width="100%"))

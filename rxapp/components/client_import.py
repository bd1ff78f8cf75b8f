"""The Clients page's Import clients dialog: choose a CSV, map its columns, check, import."""

from __future__ import annotations

import reflex as rx

from rxapp.components.card_table import card_table, cell
from rxapp.state.client_import import FIELD_LABELS, FIELDS, NONE, ClientImportState

M = ClientImportState
UPLOAD_ID = "client-import-file"


def _column(field: str) -> rx.Component:
    return rx.vstack(
        rx.el.label(FIELD_LABELS[field], html_for=f"map-{field}", style={"font_weight": "500", "font_size": "0.9em"}),
        rx.el.select(rx.el.option("(not imported)", value=NONE),
                     rx.foreach(M.headers, lambda h: rx.el.option(h["label"], value=h["value"])),
                     id=f"map-{field}", value=M.mapping[field], on_change=lambda v: M.set_column(field, v),
                     style={"padding": "0.35em", "border_radius": "6px", "max_width": "100%"}),
        spacing="1", width="13em", max_width="100%")


def _preview_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        cell("Line", row["line"], row_header=True), cell("Name", row["name"]), cell("Email", row["email"]),
        cell("Result", rx.badge(row["action"], color_scheme=rx.match(row["action"], ("add", "green"),
                                                                       ("update", "blue"), ("error", "red"), "gray"))),
        cell("Problems", row["problems"]))


def client_import_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Import clients"),
            rx.dialog.description("A CSV file from your previous system or a spreadsheet (UTF-8 or Windows-1252; "
                                  "commas, semicolons or tabs; at most 20 MB and 50,000 rows). Nothing is imported "
                                  "until you press Import."),
            rx.vstack(
                rx.upload(rx.vstack(rx.button("Choose a CSV file", type="button", variant="soft"),
                                    rx.text("or drop it here", size="2", color_scheme="gray"), align="center"),
                          id=UPLOAD_ID, max_files=1, multiple=False, border="1px dashed var(--gray-a7)",
                          padding="1em", width="100%",
                          accept={"text/csv": [".csv"], "text/plain": [".txt"],
                                  "text/tab-separated-values": [".tsv"]},
                          on_drop=M.upload(rx.upload_files(upload_id=UPLOAD_ID))),
                rx.cond(M.file_name != "", rx.text(rx.el.strong(M.file_name), " · ", M.summary, id="import-summary")),
                rx.cond(M.headers.length() > 0, rx.vstack(
                    rx.text("Which column holds what (guessed from the headers):", weight="medium"),
                    rx.flex(*[_column(f) for f in FIELDS], wrap="wrap", spacing="3"),
                    rx.el.label(rx.checkbox(checked=M.update_existing, on_change=M.set_update_existing,
                                            id="import-update-existing"),
                                " Update clients who are already in the practice (same email); otherwise skip them",
                                style={"display": "flex", "gap": "0.4em", "align_items": "center"}),
                    spacing="3", width="100%")),
                rx.cond(M.problem != "", rx.callout(M.problem, icon="triangle-alert", color_scheme="red", role="alert",
                                                    id="import-problem", width="100%")),
                rx.cond(M.busy, rx.progress(width="100%", aria_label="Working on the file")),
                rx.cond(M.result != "", rx.callout(M.result, icon="list-checks", role="status", id="import-result",
                                                   width="100%")),
                rx.cond(M.preview.length() > 0, rx.box(card_table(("Line", "Name", "Email", "Result", "Problems"),
                                                                  M.preview, _preview_row), width="100%",
                                                       overflow_x="auto")),
                rx.flex(
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", type="button")),
                    rx.button("Check the file", on_click=M.check, disabled=(M.headers.length() == 0) | M.busy,
                              variant="soft", id="import-check"),
                    rx.button("Import", on_click=M.run_import, disabled=~M.checked | M.busy, id="import-run"),
                    spacing="3", justify="end", wrap="wrap", width="100%"),
                spacing="4", width="100%"),
            max_width="56em"),
        open=M.open, on_open_change=M.set_open)

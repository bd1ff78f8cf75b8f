"""Tables that become one card per row on a phone (below 600 px, assets/app.css `.card-table`).

One DOM for both: each cell carries its column's name (`data-label`), which the phone layout shows
above the value, so every row's actions stay inside the screen without sideways scrolling and no
word is broken to squeeze a column.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import reflex as rx

Column = str | tuple[str, rx.Var[bool]]  # a heading, or a heading shown only while the condition holds


def cell(label: str, *children: Any, row_header: bool = False, **props: Any) -> rx.Component:
    """One cell of a card table, named `label` on a phone (the row's header cell names the card)."""
    make = rx.table.row_header_cell if row_header else rx.table.cell
    return make(*children, custom_attrs={"data-label": label}, **props)


def card_table(columns: Sequence[Column], rows: rx.Var[list[Any]], row: Callable[[rx.Var[Any]], rx.Component],
               **props: Any) -> rx.Component:
    """A table of `rows` drawn by `row` (whose cells come from `cell`), cards on a phone."""
    headings = [rx.cond(c[1], rx.table.column_header_cell(c[0])) if isinstance(c, tuple)
                else rx.table.column_header_cell(c) for c in columns]
    class_name = " ".join(filter(None, ["card-table", props.pop("class_name", "")]))
    return rx.table.root(rx.table.header(rx.table.row(*headings)), rx.table.body(rx.foreach(rows, row)),
                         width="100%", class_name=class_name, **props)

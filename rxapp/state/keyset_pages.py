"""Previous / Next through a list paged by keyset cursors (no total is counted), for any page state.

The page's URL carries `page`, `after` and `before`, so a page of a list is bookmarkable; a state
mixes this in and says how it re-reads its list (`_apply_page`).
"""

from __future__ import annotations

from typing import Any

import reflex as rx


class KeysetPages(rx.State, mixin=True):
    # The cursor of the page shown (page 1 has none).
    page: int = 1
    has_previous: bool = False
    has_next: bool = False
    _after: str = ""
    _before: str = ""
    _next_cursor: str = ""
    _previous_cursor: str = ""

    def _read_page(self, params: dict[str, str]) -> None:
        """The page and its cursor from the URL's query."""
        page = params.get("page", "")
        self.page = max(1, int(page)) if page.isdigit() else 1
        self._after, self._before = params.get("after", "")[:40], params.get("before", "")[:40]

    def _cursor(self) -> dict[str, str]:
        """What the URL and the query need for the page shown (nothing on page 1)."""
        if self.page <= 1:
            return {}
        return {k: v for k, v in {"page": str(self.page), "after": self._after, "before": self._before}.items() if v}

    def _show_page(self, has_previous: bool, has_next: bool, previous_cursor: str, next_cursor: str) -> None:
        """What the list query found; a list with nothing before it is page 1 again."""
        self.has_previous, self.has_next = has_previous, has_next
        self._previous_cursor, self._next_cursor = previous_cursor, next_cursor
        if not has_previous:
            self.page, self._after, self._before = 1, "", ""

    async def _apply_page(self) -> Any:
        """Re-read the list for the page now chosen (and put it in the URL)."""
        raise NotImplementedError

    @rx.event
    async def next_page(self):
        if self.has_next and self._next_cursor:
            self.page, self._after, self._before = self.page + 1, self._next_cursor, ""
        return await self._apply_page()

    @rx.event
    async def previous_page(self):
        if self.has_previous and self._previous_cursor:
            self.page, self._after, self._before = max(1, self.page - 1), "", self._previous_cursor
        return await self._apply_page()

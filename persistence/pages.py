"""Offset windows for Relay pagination, computed in SQL (per parent with ROW_NUMBER())."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, or_


@dataclass(frozen=True, slots=True)
class Window:
    """Which rows of an ordered list a page wants: 0-based `after`/`before` indexes and a `first` or `last` count."""

    first: int | None = None
    after: int | None = None
    last: int | None = None
    before: int | None = None

    @property
    def low(self) -> int:
        return self.after + 1 if self.after is not None else 0

    def bounds(self, total: int) -> tuple[int, int]:
        """The half-open range [low, high) of 0-based indexes in a list of `total` rows."""
        upper = min(self.before, total) if self.before is not None else total
        low, high = self.low, upper
        if self.first is not None:
            high = min(high, low + self.first)
        if self.last is not None:
            low = max(low, upper - self.last)
        return low, max(low, high)

    def sql(self, rn: ColumnElement, total: ColumnElement) -> ColumnElement:
        """Rows of the window by 1-based row number, plus row 1 of every parent so its total is always known."""
        parts = [rn > self.low]
        if self.before is not None:
            parts.append(rn <= self.before)
        if self.first is not None:
            parts.append(rn <= self.low + self.first)
        if self.last is not None:
            upper = total if self.before is None else case((total < self.before, total), else_=self.before)
            parts.append(rn > upper - self.last)
        return or_(and_(*parts), rn == 1)


@dataclass(slots=True)
class PageRows:
    """The rows of one page with what a connection needs to describe it."""

    rows: list
    start: int  # 0-based index of rows[0] in the whole ordered list
    total: int | None  # None when nobody asked and it was not needed
    has_next: bool
    has_previous: bool
    fields: tuple[str, ...] | None = None  # the rows' column names, shared by all pages of a batch

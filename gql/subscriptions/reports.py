"""The sales reports as a kind of live board: the scoreboard's topics (gql/subscriptions/scoreboards.py)
read a report shape (period, scope, currency) once per coalesced event for every viewer, and cut each
viewer's reports from that read (`persistence.reports.cut_reports`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.reports import moves_reports
from gql.schema.reports import SalesReports, client_error
from gql.subscriptions.hub import Event
from gql.subscriptions.scoreboards import BoardKind
from persistence.reports import cut_reports, load_report_source
from persistence.visibility import Viewer


class ReportsKind(BoardKind):
    name = "reports"
    figures_identify = False  # (not shown to cover everything a report renders: each viewer's own object)

    def moves(self, event: Event) -> bool:
        return moves_reports(event["type"], event.get("data"))

    async def load(self, conn: Any, request: Any, now: datetime) -> Any:
        return await load_report_source(conn, request, now)

    def cut(self, source: Any, viewer: Viewer) -> tuple[tuple, Any, datetime | None]:
        rows = cut_reports(source, viewer)
        return rows.reports.figures(), lambda: SalesReports.from_rows(rows, source.now), source.changes_at

    def client_error(self, error: BaseException, request: Any) -> BaseException:
        if isinstance(error, Exception):
            try:
                return client_error(error)
            except Exception as unknown:  # noqa: BLE001 - not a user error: as it is
                return unknown
        return error


REPORTS = ReportsKind()

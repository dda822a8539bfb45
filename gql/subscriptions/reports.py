"""The sales reports and the opportunity board as kinds of live board: the scoreboard's topics
(gql/subscriptions/scoreboards.py) read a report shape (period, scope, currency) or a board shape (scope,
currency, limit) once per coalesced event for every viewer, and cut each viewer's reports or board from
that read (`persistence.reports.cut_reports`, `cut_board`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.reports import moves_opportunity_board, moves_reports
from gql.schema.reports import OpportunityBoard, SalesReports, client_error
from gql.subscriptions.hub import Event
from gql.subscriptions.scoreboards import BoardKind
from persistence.reports import board_figures, cut_board, cut_reports, load_board_source, load_report_source
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
        return _client_error(error)


def _client_error(error: BaseException) -> BaseException:
    if isinstance(error, Exception):
        try:
            return client_error(error)
        except Exception as unknown:  # noqa: BLE001 - not a user error: as it is
            return unknown
    return error


REPORTS = ReportsKind()


class OpportunityBoardKind(BoardKind):
    """The opportunity board (`opportunityBoard`): its columns' figures from every slice of the open deals'
    buckets and the candidates of every viewer's first page, read once per shape; each viewer's columns cut
    by the scoreboard's rules in Python. Time alone never moves it."""

    name = "opportunityBoard"

    def moves(self, event: Event) -> bool:
        return moves_opportunity_board(event["type"], event.get("data"))

    async def load(self, conn: Any, request: Any, now: datetime) -> Any:
        return await load_board_source(conn, request, now)

    def cut(self, source: Any, viewer: Viewer) -> tuple[tuple, Any, datetime | None]:
        columns = cut_board(source, viewer)
        return board_figures(columns), lambda: OpportunityBoard.of(columns, source.now, source.event_id), None

    def client_error(self, error: BaseException, request: Any) -> BaseException:
        return _client_error(error)


BOARD = OpportunityBoardKind()

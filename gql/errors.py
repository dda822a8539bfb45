from __future__ import annotations

from graphql import GraphQLError


class ClientError(GraphQLError):
    """A request the client can correct (bad id, bad page size …): shown as it is, with a code."""

    def __init__(self, message: str, code: str = "BAD_USER_INPUT", **extensions: object) -> None:
        super().__init__(message, extensions={"code": code, **extensions})


class Refused(Exception):
    """An operation refused before (or stopped during) execution, with one error: HTTP answers with
    `status` and `headers`, a WebSocket with an `error` message whose extensions are `extensions`."""

    def __init__(self, status: int, message: str, code: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}
        # (type, name) of the operation refused, once the pipeline knows it: for its metrics and log line.
        self.operation: tuple[str, str | None] | None = None

    @property
    def extensions(self) -> dict[str, object]:
        """The code, and the seconds to wait as `retryAfter` when HTTP would send Retry-After."""
        retry = self.headers.get("Retry-After")
        return {"code": self.code, **({"retryAfter": int(retry)} if retry else {})}


def database_unavailable() -> Refused:
    """The answer while the database cannot be reached (a restart, a failover): retry shortly. A mutation
    whose connection broke while it committed may have been written: its events say so."""
    return Refused(
        503,
        "the database cannot be reached right now (restarting?); nothing was written unless a mutation had "
        "already committed; retry in a moment",
        "DATABASE_UNAVAILABLE",
        {"Retry-After": "1"},
    )


def database_busy() -> Refused:
    """The answer when every database connection of the process stayed in use for the pool's timeout."""
    return Refused(
        503,
        "every database connection of this server is in use (a burst of work); nothing was written unless a "
        "mutation had already committed; retry in a moment",
        "DATABASE_BUSY",
        {"Retry-After": "1"},
    )


def database_refusal(error: BaseException | None) -> Refused | None:
    """The typed, retryable answer for a failure of the database itself (unreachable, or the pool
    exhausted), or None for any other failure (an internal error)."""
    from persistence.db import pool_exhausted, unreachable

    if unreachable(error):
        return database_unavailable()
    if pool_exhausted(error):
        return database_busy()
    return None

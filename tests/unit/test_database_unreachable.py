"""Which failures mean "the database cannot be reached" (answered 503 DATABASE_UNAVAILABLE, retry) and
which are faults of their own (an internal error): the exceptions asyncpg and SQLAlchemy raise."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, PendingRollbackError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from gql.errors import database_refusal
from persistence.db import unreachable


def wrapped(inner: Exception, invalidated: bool = False) -> DBAPIError:
    """As SQLAlchemy raises a driver's error: a DBAPIError caused by it."""
    outer = DBAPIError("SELECT 1", {}, inner, connection_invalidated=invalidated)
    outer.__cause__ = inner
    return outer


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        ConnectionResetError(104, "Connection reset by peer"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        wrapped(asyncpg.exceptions.AdminShutdownError("terminating connection")),
        wrapped(ValueError("anything"), invalidated=True),
        PendingRollbackError("Can't reconnect until invalid transaction is rolled back."),
    ],
)
def test_a_database_that_went_away_is_unreachable(error):
    assert unreachable(error)


@pytest.mark.parametrize(
    "error",
    [
        None,
        ValueError("a bug"),
        TimeoutError(),
        FileNotFoundError("template.docx"),
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        IntegrityError("INSERT", {}, asyncpg.exceptions.UniqueViolationError("duplicate key")),
        PendingRollbackError("This Session's transaction has been rolled back due to a previous exception"),
    ],
)
def test_other_failures_are_not(error):
    assert not unreachable(error)


def test_a_pool_that_stayed_full_is_busy_not_unreachable():
    full = PoolTimeout("QueuePool limit of size 10 overflow 30 reached, connection timed out, timeout 30.00")
    assert not unreachable(full)
    assert database_refusal(full).code == "DATABASE_BUSY"
    assert database_refusal(ConnectionRefusedError(111, "refused")).code == "DATABASE_UNAVAILABLE"
    assert database_refusal(ValueError("a bug")) is None

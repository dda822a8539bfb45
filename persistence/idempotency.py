"""Idempotency keys: the first response to a key is stored with the change it made, in the same
transaction, and handed back for a repeat of that key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from persistence import tables as t
from persistence.uow import SqlUnitOfWork


@dataclass(frozen=True)
class Remembered:
    request_hash: str
    response: dict[str, Any]


class KeyTaken(Exception):
    """Another transaction stored the same key first (it committed while this one ran)."""


async def recall(uow: SqlUnitOfWork, owner: str, key: str) -> Remembered | None:
    keys = t.idempotency_keys
    found = (
        await uow.execute(select(keys.c.request_hash, keys.c.response).where(keys.c.owner == owner, keys.c.key == key))
    ).first()
    return None if found is None else Remembered(found.request_hash, found.response)


async def remember(uow: SqlUnitOfWork, owner: str, key: str, request_hash: str, response: dict[str, Any]) -> None:
    try:
        await uow.execute(
            insert(t.idempotency_keys).values(
                owner=owner, key=key, request_hash=request_hash, response=response, created_at=uow.now
            )
        )
    except IntegrityError:
        raise KeyTaken() from None

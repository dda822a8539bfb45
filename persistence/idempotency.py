"""The idempotency store of the lead processor on the `idempotency_keys` table: a key's outcome is
inserted with the change it made, in the same transaction, and read back for a repeat of that key."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from domain.enums import LeadStatus
from domain.errors import Conflict
from domain.workflows.ingestion import Remembered, Routed
from persistence import tables
from persistence.uow import SqlUnitOfWork

# The first half of the two-number advisory locks taken per key (a space of its own: the single-number
# locks of the outbox and the indicators never meet these).
_LOCK_SPACE = 0x5A1E51D


class SqlIdempotencyStore:
    """`domain.workflows.ingestion.IdempotencyStore` in the unit of work's transaction."""

    async def recall(self, uow: SqlUnitOfWork, owner: str, key: str) -> Remembered | None:
        if uow.engine.dialect.name == "postgresql":
            # Requests with one key queue here until the first one commits (or rolls back); READ COMMITTED
            # lets the select below see what it stored. On SQLite the unit of work's write lock queues them.
            await uow.execute(
                text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), CAST(:key AS integer))"),
                {"space": _LOCK_SPACE, "key": _lock_key(owner, key)},
            )
        keys = tables.idempotency_keys
        found = (
            await uow.execute(
                select(keys.c.request_hash, keys.c.response).where(keys.c.owner == owner, keys.c.key == key)
            )
        ).first()
        if found is None:
            return None
        remembered = Remembered(found.request_hash, _leads(found.response))
        for lead in remembered.leads:
            # The key is this caller's, so are the leads its first request wrote: a replay shows them
            # as that request did, even a lead routed out of the caller's sight.
            uow.own(tables.leads, lead.lead_id)
        return remembered

    async def remember(self, uow: SqlUnitOfWork, owner: str, key: str, remembered: Remembered) -> None:
        try:
            await uow.execute(
                insert(tables.idempotency_keys).values(
                    owner=owner,
                    key=key,
                    request_hash=remembered.fingerprint,
                    response={"leads": [_row(lead) for lead in remembered.leads]},
                    created_at=uow.now,
                )
            )
        except IntegrityError:
            # Only where the lock above does not reach (SQLite written by several processes).
            raise Conflict(
                f"the idempotency key {key!r} is being used by another request at the same time; send the request again"
            ) from None


def _lock_key(owner: str, key: str) -> int:
    """A stable 32-bit number for (owner, key); two keys sharing one only wait for each other."""
    return int.from_bytes(hashlib.sha256(f"{owner}\n{key}".encode()).digest()[:4], "big", signed=True)


def _row(lead: Routed) -> dict[str, Any]:
    return {
        "id": lead.lead_id,
        "status": lead.status.value,
        "priority": lead.priority,
        "assignedUserId": lead.assigned_user_id,
        "assignedPartnerId": lead.assigned_partner_id,
        "routingRuleId": lead.routing_rule_id,
        "splitterId": lead.splitter_id,
    }


def _leads(response: dict[str, Any]) -> tuple[Routed, ...]:
    rows = response["leads"] if "leads" in response else [response["lead"]]
    return tuple(
        Routed(
            lead_id=_pk(row["id"]),
            status=LeadStatus(row["status"]),
            priority=row["priority"],
            assigned_user_id=_pk(row["assignedUserId"]),
            assigned_partner_id=_pk(row["assignedPartnerId"]),
            routing_rule_id=_pk(row["routingRuleId"]),
            splitter_id=_pk(row["splitterId"]),
        )
        for row in rows
    )


def _pk(value: int | str | None) -> int | None:
    """Keys stored before the outcome was kept as primary keys hold the HTTP response itself: its ids are
    global ids (base64url of `Type:pk`), and a single lead is `{"lead": …}`. Those replay as they were."""
    if value is None or isinstance(value, int):
        return value
    padded = value + "=" * (-len(value) % 4)
    return int(base64.urlsafe_b64decode(padded).decode().rpartition(":")[2])


class SqlOutcomeStore:
    """`domain.workflows.conversations.OutcomeStore` on the same table and locks: any outcome JSON holds.
    `owns`: the table whose row an outcome's `conversationId` … names (`<table name singular>Id`), counted
    as written by a replay, which answers with the first request's row as that request did."""

    def __init__(self, owns: Any = None, key_field: str | None = None) -> None:
        self.owns, self.key_field = owns, key_field

    async def recall(self, uow: SqlUnitOfWork, owner: str, key: str) -> tuple[str, dict[str, Any]] | None:
        if uow.engine.dialect.name == "postgresql":
            await uow.execute(
                text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), CAST(:key AS integer))"),
                {"space": _LOCK_SPACE, "key": _lock_key(owner, key)},
            )
        keys = tables.idempotency_keys
        found = (
            await uow.execute(
                select(keys.c.request_hash, keys.c.response).where(keys.c.owner == owner, keys.c.key == key)
            )
        ).first()
        if found is None:
            return None
        if self.owns is not None and self.key_field in found.response:
            uow.own(self.owns, found.response[self.key_field])
        return found.request_hash, found.response

    async def remember(
        self, uow: SqlUnitOfWork, owner: str, key: str, fingerprint: str, outcome: dict[str, Any]
    ) -> None:
        try:
            await uow.execute(
                insert(tables.idempotency_keys).values(
                    owner=owner, key=key, request_hash=fingerprint, response=outcome, created_at=uow.now
                )
            )
        except IntegrityError:
            raise Conflict(
                f"the idempotency key {key!r} is being used by another request at the same time; send the request again"
            ) from None

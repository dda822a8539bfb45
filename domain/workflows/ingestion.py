"""Idempotent ingestion: the lead processor runs at most once per caller and idempotency key.

Both ways in, `POST /ingest/leads` and the `ingestLead` mutation, call `ingest_idempotently`. With a key,
what the processor did is stored through an `IdempotencyStore` in the same transaction as the leads (never
a lead without its key nor a key without its leads); the same request again gets that first outcome back and
writes nothing, another request under the key is refused."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Protocol

from domain.enums import LeadStatus
from domain.errors import Conflict, ValidationError, raises
from domain.uow import Actor, UnitOfWork
from domain.workflows.lead_processor import Ingested, IngestLeads, ingest_leads
from domain.workflows.leads import NewLead

MAX_KEY_LENGTH = 200  # the column's width


@dataclass(frozen=True)
class Routed:
    """What the processor did with one lead, as it answered then: a replay answers the same even when the
    lead was worked on since."""

    lead_id: int
    status: LeadStatus
    priority: int
    assigned_user_id: int | None = None
    assigned_partner_id: int | None = None
    routing_rule_id: int | None = None
    splitter_id: int | None = None

    @classmethod
    def of(cls, ingested: Ingested) -> Routed:
        lead = ingested.lead
        return cls(
            lead_id=lead.id,
            status=lead.status,
            priority=lead.priority,
            assigned_user_id=lead.assigned_user_id,
            assigned_partner_id=lead.assigned_partner_id,
            routing_rule_id=ingested.rule_id,
            splitter_id=ingested.splitter_id,
        )


@dataclass(frozen=True)
class Remembered:
    """A key's first request, as its fingerprint, and what the processor did with its leads, in order."""

    fingerprint: str
    leads: tuple[Routed, ...]


class IdempotencyStore(Protocol):
    """Where keyed ingestions are kept, per owner (the caller) and key, in the unit of work's transaction."""

    async def recall(self, uow: UnitOfWork, owner: str, key: str) -> Remembered | None:
        """What was stored under the key. A transaction storing the same key meanwhile is waited for, so
        concurrent requests with one key see each other's outcome instead of both running."""
        ...

    @raises(Conflict)
    async def remember(self, uow: UnitOfWork, owner: str, key: str, remembered: Remembered) -> None:
        """Store the outcome with the unit of work's changes; Conflict when another transaction stored
        the key first (one the store could not make wait)."""
        ...


@dataclass(kw_only=True)
class IngestIdempotently:
    request: IngestLeads
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Ingestion:
    leads: tuple[Routed, ...]
    replayed: bool  # the key's first outcome, handed back: nothing was written


def owner_of(actor: Actor) -> str:
    """Keys belong to their caller: two marketing tools never see each other's outcomes."""
    return f"user:{actor.user_id}" if actor.user_id is not None else f"partner:{actor.partner_id}"


def fingerprint(request: IngestLeads) -> str:
    """The request as the processor understood it: a key reused for the same leads is a replay, whatever
    the JSON's spacing or key order. (The bytes hashed are compact JSON with sorted keys, as the keys
    stored so far were made: changing them would refuse every replay of an older key.)"""
    plain = {"batch": request.batch, "leads": [dataclasses.asdict(lead) for lead in request.leads]}
    text = json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def checked_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationError("idempotencyKey", f"an idempotency key is 1 to {MAX_KEY_LENGTH} printable characters")
    return key


async def ingest_idempotently(cmd: IngestIdempotently, uow: UnitOfWork, store: IdempotencyStore) -> Ingestion:
    """Run the lead processor once per key: the first request stores its leads and its outcome together;
    the same request again gets that outcome back; other leads under the key are refused."""
    key = checked_key(cmd.idempotency_key)
    owner, digest = owner_of(uow.actor), fingerprint(cmd.request)
    if key is not None:
        found = await store.recall(uow, owner, key)
        if found is not None:
            if found.fingerprint != digest:
                raise ValidationError(
                    "idempotencyKey",
                    f"the key {key!r} was already used for a different request; use a new key for new leads",
                )
            await uow.commit()  # nothing to write: this ends the transaction (and what it waited for)
            return Ingestion(found.leads, replayed=True)
    routed: list[Routed] = []

    async def remember(results: list[Ingested]) -> None:
        routed.extend(Routed.of(r) for r in results)
        if key is not None:
            await store.remember(uow, owner, key, Remembered(digest, tuple(routed)))

    await ingest_leads(cmd.request, uow, remember)
    return Ingestion(tuple(routed), replayed=False)


# --- one lead, as the ingestLead mutation sends it ---


@dataclass(kw_only=True)
class IngestLead(NewLead):
    idempotency_key: str | None = None


@dataclass(frozen=True)
class LeadIngested:
    lead_id: int
    routing_rule_id: int | None
    replayed: bool


async def ingest_lead(cmd: IngestLead, uow: UnitOfWork, store: IdempotencyStore) -> LeadIngested:
    """Send a lead through the lead processor (as POST /ingest/leads does): store it, route it by the routing rules to a
    user, a partner or a splitter's next seller, and set its priority. Idempotent with an idempotencyKey."""
    lead = NewLead(**{f.name: getattr(cmd, f.name) for f in dataclasses.fields(NewLead)})
    done = await ingest_idempotently(
        IngestIdempotently(request=IngestLeads(leads=[lead]), idempotency_key=cmd.idempotency_key), uow, store
    )
    [first] = done.leads
    return LeadIngested(first.lead_id, first.routing_rule_id, done.replayed)

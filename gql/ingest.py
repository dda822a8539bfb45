"""The lead processor over HTTP: `POST /ingest/leads` for marketing-automation tools, and the
idempotent runner it shares with the `ingestLead` mutation.

The body is one lead (`{"lastName": "Berg", "email": …}`) or a batch (`{"leads": [{…}, …]}`),
authenticated like /graphql with `Authorization: Bearer <token>`. With an `Idempotency-Key` header a
repeated request from the same caller gets the first response back and creates nothing; the key is
stored in the same transaction as the leads, so a lead is never created without its key nor a key
without its leads."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from domain import errors as d
from domain.access import Principal
from domain.base import utcnow
from domain.scopes import Scope
from domain.uow import Actor
from domain.workflows import lead_processor
from domain.workflows.leads import NewLead
from gql import ids
from gql.auth import principal_for
from gql.scopes import InsufficientScope, require
from persistence import idempotency
from persistence.uow import SqlUnitOfWork

log = logging.getLogger("salesgraph.ingest")

MAX_BODY_BYTES = 1 << 20
MAX_KEY_LENGTH = 200
# Concurrent ingestions through one splitter queue on its lock (see Router.load) and never need
# running again. Two concurrent requests with the same new key both miss it on reading; the second
# insert of the key then fails once the first commits. That request is run a second time, which
# finds the key and replays the first response: two attempts are always enough.
ATTEMPTS = 2

TEXT, NUMBER, CAMPAIGN = "text", "number", "campaign"
FIELDS: dict[str, tuple[str, str]] = {
    "firstName": ("first_name", TEXT),
    "lastName": ("last_name", TEXT),
    "company": ("company", TEXT),
    "email": ("email", TEXT),
    "phone": ("phone", TEXT),
    "country": ("country", TEXT),
    "companySize": ("company_size", NUMBER),
    "campaignId": ("campaign_id", CAMPAIGN),
    "utmSource": ("utm_source", TEXT),
    "utmMedium": ("utm_medium", TEXT),
    "utmCampaign": ("utm_campaign", TEXT),
    "priority": ("priority", NUMBER),
}


class IngestError(Exception):
    """A request the processor refuses, with its HTTP status; nothing was written."""

    def __init__(self, status: int, code: str, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extensions = status, code, message, extensions

    def body(self) -> dict[str, Any]:
        return {"errors": [{"message": self.message, "extensions": {"code": self.code, **self.extensions}}]}


@dataclass
class Processed:
    """What an ingestion answered: the response body (as stored for the key) and whether it is a replay."""

    response: dict[str, Any]
    replayed: bool


def owner_of(actor: Actor) -> str:
    return f"user:{actor.user_id}" if actor.user_id is not None else f"partner:{actor.partner_id}"


def fingerprint(cmd: lead_processor.IngestLeads) -> str:
    """The request as the processor understood it: a key reused for the same leads is a replay,
    whatever the JSON's spacing or key order."""
    plain = {"batch": cmd.batch, "leads": [dataclasses.asdict(lead) for lead in cmd.leads]}
    return hashlib.sha256(orjson.dumps(plain, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _gid(type_name: str, pk: int | None) -> str | None:
    return None if pk is None else ids.encode(type_name, pk)


def rendered(results: list[lead_processor.Ingested], batch: bool) -> dict[str, Any]:
    leads = [
        {
            "id": ids.encode("Lead", r.lead.id),
            "status": r.lead.status.value,
            "priority": r.lead.priority,
            "assignedUserId": _gid("User", r.lead.assigned_user_id),
            "assignedPartnerId": _gid("Partner", r.lead.assigned_partner_id),
            "routingRuleId": _gid("LeadRoutingRule", r.rule_id),
            "splitterId": _gid("LeadSplitter", r.splitter_id),
        }
        for r in results
    ]
    return {"leads": leads} if batch else {"lead": leads[0]}


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise d.ValidationError("idempotencyKey", f"an idempotency key is 1 to {MAX_KEY_LENGTH} printable characters")
    return key


async def process(
    engine: AsyncEngine,
    actor: Actor,
    cmd: lead_processor.IngestLeads,
    key: str | None = None,
    clock: Callable[[], datetime] = utcnow,
    on_commit: Callable[[], None] | None = None,
) -> Processed:
    """Run the lead processor once per idempotency key: the first request stores its leads and its
    response together; a repeat with the same leads gets that response back; a repeat with other
    leads is refused. Raises a DomainError for what the client can fix."""
    key = check_key(key)
    owner, digest = owner_of(actor), fingerprint(cmd)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with SqlUnitOfWork(engine, actor, clock=clock, on_commit=on_commit) as uow:
                if key is not None:
                    found = await idempotency.recall(uow, owner, key)
                    if found is not None:
                        if found.request_hash != digest:
                            raise d.ValidationError(
                                "idempotencyKey",
                                f"the key {key!r} was already used for a "
                                "different request; use a new key for new leads",
                            )
                        return Processed(found.response, replayed=True)
                response: dict[str, Any] = {}

                async def remember(results: list[lead_processor.Ingested]) -> None:
                    response.update(rendered(results, cmd.batch))
                    if key is not None:
                        await idempotency.remember(uow, owner, key, digest, response)

                await lead_processor.ingest_leads(cmd, uow, remember)
                return Processed(response, replayed=False)
        except idempotency.KeyTaken:
            log.info("idempotency key %r was stored by a concurrent request (attempt %d); reading it", key, attempt)
    raise d.Conflict(
        f"the idempotency key {key!r} is being used by another request at the same time; send the request again"
    )


# --- the HTTP endpoint ---


def new_lead(data: Any, where: str) -> NewLead:
    """A lead from its JSON object, every value checked for its type; `where` prefixes the field names
    in errors (`leads[2].`)."""
    if not isinstance(data, dict):
        raise IngestError(400, "BAD_REQUEST", f"{where.rstrip('.') or 'the body'} must be a JSON object (a lead)")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise d.ValidationError(f"{where}{unknown[0]}", f"is not a lead field; the fields are {', '.join(FIELDS)}")
    values: dict[str, Any] = {}
    for name, value in data.items():
        attr, kind = FIELDS[name]
        if value is None:
            values[attr] = None
        elif kind == TEXT:
            if not isinstance(value, str):
                raise d.ValidationError(f"{where}{name}", "must be a string")
            values[attr] = value
        elif kind == NUMBER:
            if isinstance(value, bool) or not isinstance(value, int):
                raise d.ValidationError(f"{where}{name}", "must be a whole number")
            if abs(value) > 2**31 - 1:
                raise d.ValidationError(f"{where}{name}", "is too large")
            values[attr] = value
        else:
            try:
                values[attr] = ids.decode_as(str(value), "Campaign") if isinstance(value, str) else None
            except GraphQLError as error:
                raise d.ValidationError(f"{where}{name}", error.message) from None
            if values[attr] is None:
                raise d.ValidationError(f"{where}{name}", "must be a Campaign id (a string from the API)")
    return NewLead(**values)


def command_from_body(body: Any) -> lead_processor.IngestLeads:
    if isinstance(body, dict) and "leads" in body:
        extra = sorted(set(body) - {"leads"})
        if extra:
            raise IngestError(
                400, "BAD_REQUEST", f'a batch is {{"leads": [...]}} and nothing else; remove {extra[0]!r}'
            )
        if not isinstance(body["leads"], list):
            raise IngestError(400, "BAD_REQUEST", "`leads` must be a JSON array of lead objects")
        return lead_processor.IngestLeads(
            batch=True, leads=[new_lead(item, f"leads[{n}].") for n, item in enumerate(body["leads"])]
        )
    return lead_processor.IngestLeads(batch=False, leads=[new_lead(body, "")])


STATUS = {d.ValidationError: 422, d.NotFound: 422, d.PermissionDenied: 403, d.Conflict: 409, d.Locked: 409}


def _error_of(error: d.DomainError) -> IngestError:
    extensions: dict[str, Any] = {}
    code = error.code
    if isinstance(error, d.ValidationError):
        extensions["field"] = error.field
        if error.field == "idempotencyKey":
            code = "IDEMPOTENCY_KEY_REUSED" if "already used" in error.reason else code
    if isinstance(error, d.NotFound):
        extensions["entityType"] = error.entity
    status = next((s for kind, s in STATUS.items() if isinstance(error, kind)), 422)
    return IngestError(status, code, ids.message_of(error), **extensions)


def _json(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def ingest_endpoint(
    engine: AsyncEngine, events_committed: Callable[[], None] | None = None, clock: Callable[[], datetime] = utcnow
) -> Callable[[Request], Any]:
    """The `POST /ingest/leads` handler on `engine`."""

    async def ingest(request: Request) -> Response:
        try:
            principal = await _principal(engine, request)
            cmd = command_from_body(await _body(request))
            actor = Actor(user_id=principal.user_id, partner_id=principal.partner_id, role=principal.role)
            done = await process(engine, actor, cmd, request.headers.get("idempotency-key"), clock, events_committed)
        except IngestError as error:
            headers = {"WWW-Authenticate": 'Bearer realm="salesgraph"'} if error.status == 401 else None
            return _json(error.body(), error.status, headers)
        except d.DomainError as error:
            failure = _error_of(error)
            return _json(failure.body(), failure.status)
        except Exception:
            log.exception("unexpected error while ingesting leads")
            return _json(
                IngestError(500, "INTERNAL_SERVER_ERROR", "the leads could not be stored; nothing was written").body(),
                500,
            )
        return _json(done.response, 201, {"Idempotent-Replayed": "true"} if done.replayed else None)

    return ingest


async def _principal(engine: AsyncEngine, request: Request) -> Principal:
    principal = await principal_for(engine, request.headers.get("authorization"))
    if principal is None:
        raise IngestError(401, "UNAUTHENTICATED", "a valid token is required: send `Authorization: Bearer <token>`")
    try:
        require(principal, Scope.LEADS_INGEST, "POST /ingest/leads")
    except InsufficientScope as error:
        raise IngestError(error.status, error.code, error.message) from None
    return principal


async def _body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise IngestError(415, "UNSUPPORTED_MEDIA_TYPE", "send the leads as application/json")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise IngestError(
            413,
            "PAYLOAD_TOO_LARGE",
            f"the body is larger than {MAX_BODY_BYTES} bytes; send smaller batches (at most {lead_processor.MAX_BATCH} leads)",
        )
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise IngestError(400, "BAD_REQUEST", "the body is not valid JSON") from None

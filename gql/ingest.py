"""The lead processor over HTTP: `POST /ingest/leads` for marketing-automation tools.

The body is one lead (`{"lastName": "Berg", "email": …}`) or a batch (`{"leads": [{…}, …]}`),
authenticated like /graphql with `Authorization: Bearer <token>`. With an `Idempotency-Key` header a
repeated request from the same caller gets the first response back and creates nothing. This module
only speaks HTTP (body, token, scope, JSON, status codes): the ingestion itself, keys included, is
`domain.workflows.ingestion.ingest_idempotently`, which the `ingestLead` mutation runs too."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from graphql import GraphQLError
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from domain import errors
from domain.access import Principal
from domain.base import utcnow
from domain.scopes import Scope
from domain.workflows import lead_processor
from domain.workflows.ingestion import IngestIdempotently, Ingestion, Routed, ingest_idempotently
from domain.workflows.leads import NewLead
from gql import ids
from gql.auth import principal_for
from gql.context import actor_of
from gql.scopes import InsufficientScope, require
from persistence import reads, tables
from persistence.idempotency import SqlIdempotencyStore
from persistence.uow import SqlUnitOfWork
from persistence.visibility import Viewer

log = logging.getLogger("salesgraph.ingest")

MAX_BODY_BYTES = 1 << 20
STORE = SqlIdempotencyStore()

TEXT, NUMBER, CAMPAIGN, CUSTOM = "text", "number", "campaign", "custom"
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
    "customFields": ("custom_fields", CUSTOM),  # {key: value}, checked against the lead custom fields
}


class IngestError(Exception):
    """A request the processor refuses, with its HTTP status; nothing was written."""

    def __init__(self, status: int, code: str, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extensions = status, code, message, extensions

    def body(self) -> dict[str, Any]:
        return {"errors": [{"message": self.message, "extensions": {"code": self.code, **self.extensions}}]}


# What an answer names besides the leads themselves: each id's node type and table.
NAMED = {
    "assigned_user_id": ("User", tables.users),
    "assigned_partner_id": ("Partner", tables.partners),
    "routing_rule_id": ("LeadRoutingRule", tables.lead_routing_rules),
    "splitter_id": ("LeadSplitter", tables.lead_splitters),
}


async def shown(engine: AsyncEngine, viewer: Viewer, done: Ingestion) -> set[tuple[str, int]]:
    """Which rows the answer names that the caller may read, as (node type, key). The leads are the rows
    the caller wrote (or, replayed, its first request wrote) and always shown; who they were routed to and
    by what rule or splitter is named only where the caller's rules let it read that row, so a partner's
    tool never learns another partner's id nor the company's routing."""
    found: set[tuple[str, int]] = set()
    checked: list[tuple[str, Table, list[int]]] = []
    for attribute, (type_name, table) in NAMED.items():
        keys = sorted({pk for r in done.leads if (pk := getattr(r, attribute)) is not None})
        if viewer.rule(table) is None:
            found.update((type_name, pk) for pk in keys)  # the caller reads the whole table
        elif keys:
            checked.append((type_name, table, keys))
    if checked:
        async with engine.connect() as conn:
            for type_name, table, keys in checked:
                rows = await reads.rows_by_ids(conn, table, keys, columns=("id",), viewer=viewer)
                found.update((type_name, row.id) for row in rows if row is not None)
    return found


def rendered(done: Ingestion, batch: bool, visible: set[tuple[str, int]]) -> dict[str, Any]:
    """The answer: global ids only, and null for a row the caller may not read (`shown`)."""

    def named(attribute: str, routed: Routed) -> str | None:
        type_name = NAMED[attribute][0]
        pk = getattr(routed, attribute)
        return ids.encode(type_name, pk) if pk is not None and (type_name, pk) in visible else None

    leads = [
        {
            "id": ids.encode("Lead", r.lead_id),
            "status": r.status.value,
            "priority": r.priority,
            "assignedUserId": named("assigned_user_id", r),
            "assignedPartnerId": named("assigned_partner_id", r),
            "routingRuleId": named("routing_rule_id", r),
            "splitterId": named("splitter_id", r),
        }
        for r in done.leads
    ]
    return {"leads": leads} if batch else {"lead": leads[0]}


# --- the HTTP endpoint ---


def new_lead(data: Any, where: str) -> NewLead:
    """A lead from its JSON object, every value checked for its type; `where` prefixes the field names
    in errors (`leads[2].`)."""
    if not isinstance(data, dict):
        raise IngestError(400, "BAD_REQUEST", f"{where.rstrip('.') or 'the body'} must be a JSON object (a lead)")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise errors.ValidationError(f"{where}{unknown[0]}", f"is not a lead field; the fields are {', '.join(FIELDS)}")
    values: dict[str, Any] = {}
    for name, value in data.items():
        attr, kind = FIELDS[name]
        if value is None:
            values[attr] = {} if kind == CUSTOM else None
        elif kind == CUSTOM:
            if not isinstance(value, dict):
                raise errors.ValidationError(f"{where}{name}", "must be an object of custom field keys and values")
            values[attr] = value
        elif kind == TEXT:
            if not isinstance(value, str):
                raise errors.ValidationError(f"{where}{name}", "must be a string")
            values[attr] = value
        elif kind == NUMBER:
            if isinstance(value, bool) or not isinstance(value, int):
                raise errors.ValidationError(f"{where}{name}", "must be a whole number")
            if abs(value) > 2**31 - 1:
                raise errors.ValidationError(f"{where}{name}", "is too large")
            values[attr] = value
        else:
            try:
                values[attr] = ids.decode_as(str(value), "Campaign") if isinstance(value, str) else None
            except GraphQLError as error:
                raise errors.ValidationError(f"{where}{name}", error.message) from None
            if values[attr] is None:
                raise errors.ValidationError(f"{where}{name}", "must be a Campaign id (a string from the API)")
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


STATUS = {
    errors.ValidationError: 422,
    errors.NotFound: 422,
    errors.PermissionDenied: 403,
    errors.Conflict: 409,
    errors.Locked: 409,
}


def _error_of(error: errors.DomainError) -> IngestError:
    extensions: dict[str, Any] = {}
    code = error.code
    if isinstance(error, errors.ValidationError):
        extensions["field"] = error.field
        if error.field == "idempotencyKey":
            code = "IDEMPOTENCY_KEY_REUSED" if "already used" in error.reason else code
    if isinstance(error, errors.NotFound):
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
            cmd = IngestIdempotently(
                request=command_from_body(await _body(request)), idempotency_key=request.headers.get("idempotency-key")
            )
            async with SqlUnitOfWork(engine, actor_of(principal), clock=clock, on_commit=events_committed) as uow:
                done = await ingest_idempotently(cmd, uow, STORE)
            visible = await shown(engine, Viewer.of(principal), done)
        except IngestError as error:
            headers = {"WWW-Authenticate": 'Bearer realm="salesgraph"'} if error.status == 401 else None
            return _json(error.body(), error.status, headers)
        except errors.DomainError as error:
            failure = _error_of(error)
            return _json(failure.body(), failure.status)
        except Exception:
            log.exception("unexpected error while ingesting leads")
            return _json(
                IngestError(500, "INTERNAL_SERVER_ERROR", "the leads could not be stored; nothing was written").body(),
                500,
            )
        return _json(
            rendered(done, cmd.request.batch, visible), 201, {"Idempotent-Replayed": "true"} if done.replayed else None
        )

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

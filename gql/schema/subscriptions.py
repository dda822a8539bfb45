"""The Subscription root: live opportunity events, task events, contract events, status indicator changes
and scoreboards, each resumable after the last event a client saw (`since`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from domain.monitors import MonitoredEntity as DomainMonitoredEntity
from gql import ids
from gql.schema import enums
from gql.schema.accounts import Account, Contact
from gql.schema.attachments import ON_KEYS, AttachmentEvent, attachment_events_filter
from gql.schema.base import Money, money
from gql.schema.contracts import ContractEvent, ContractEventKind, contract_events_filter
from gql.schema.events import LoggedEvent
from gql.schema.insights import USER as INSIGHTS_USER
from gql.schema.insights import ConversationInsights, insights_request
from gql.schema.leads import Lead
from gql.schema.monitors import MonitoredEntity, StatusMonitor
from gql.schema.opportunities import Opportunity
from gql.schema.people import Partner, User
from gql.schema.quotes import Quote
from gql.schema.reports import LIMIT, SCOPE, OpportunityBoard, SalesReports, board_request, report_request
from gql.schema.scoreboard import CURRENCY, PERIOD, TEAM, Scoreboard, scoreboard_request
from gql.schema.tasks import ATTACHED_KEYS, TaskEvent, task_events_filter
from gql.subscriptions.hub import Event
from gql.subscriptions.reports import BOARD, REPORTS
from gql.subscriptions.streams import Realtime, check_resume, events, parse_since
from persistence import tables

SINCE = (
    "The `eventId` of the last event this client received: the events after it are sent first (from the "
    "event log, kept for SALESGRAPH_EVENT_RETENTION_HOURS, default 24 h), then live ones, with no gap and no "
    "duplicate. An id older than the log gets the error SINCE_OUT_OF_RANGE: query the current state again "
    "and subscribe without `since`."
)


@strawberry.enum(description="What happened to an opportunity.")
class OpportunityEventKind(Enum):
    CREATED = strawberry.enum_value("OpportunityCreated", description="It was created.")
    CHANGED = strawberry.enum_value("OpportunityChanged", description="Its data changed (`fields` says which).")
    STAGE_CHANGED = strawberry.enum_value(
        "OpportunityStageChanged", description="It moved between open stages (`fromStage`, `toStage`)."
    )
    WON = strawberry.enum_value("OpportunityWon", description="It was sold (`actualRevenue`).")
    LOST = strawberry.enum_value("OpportunityLost", description="It was lost (`reason`).")
    UNLOCKED = strawberry.enum_value("OpportunityUnlocked", description="A sale was undone for edits.")
    DELETED = strawberry.enum_value("OpportunityDeleted", description="It was deleted (`opportunity` is null).")
    QUOTE_ACTIVATED = strawberry.enum_value("QuoteActivated", description="A quote became its active quote (`quote`).")
    QUOTE_CHANGED = strawberry.enum_value(
        "QuoteChanged", description="A quote of it or the quote's items changed (`quote`)."
    )


OPPORTUNITY_EVENT_TYPES = frozenset(kind.value for kind in OpportunityEventKind)


def _at(event: Event) -> datetime:
    return datetime.fromisoformat(event["at"])


def _stage(value: Any) -> Any:
    return value or None


@strawberry.type(description="Something that happened to an opportunity, as it happened.")
class OpportunityEvent(LoggedEvent):
    @strawberry.field(description="What happened.")
    def kind(self) -> OpportunityEventKind:
        return OpportunityEventKind(self.event["type"])

    @strawberry.field(description="The opportunity's id (also when it has been deleted since).")
    def opportunity_id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("Opportunity", self.event["entityId"]))

    @strawberry.field(description="The opportunity as it is now; null when it no longer exists.")
    async def opportunity(self, info: Info) -> Opportunity | None:
        return Opportunity.from_row(await info.context.by_id(tables.opportunities).load(self.event["entityId"]))

    @strawberry.field(description="STAGE_CHANGED: the stage it left.")
    def from_stage(self) -> enums.Stage | None:  # type: ignore[valid-type]
        return _stage(self.event["data"].get("from")) if self.event["type"] == "OpportunityStageChanged" else None

    @strawberry.field(description="STAGE_CHANGED: the stage it entered.")
    def to_stage(self) -> enums.Stage | None:  # type: ignore[valid-type]
        return _stage(self.event["data"].get("to")) if self.event["type"] == "OpportunityStageChanged" else None

    @strawberry.field(description="WON: the actual revenue of the sale.")
    def actual_revenue(self) -> Money | None:
        data = self.event["data"]
        if self.event["type"] != "OpportunityWon" or data.get("actualRevenue") is None:
            return None
        return money(Decimal(str(data["actualRevenue"])), data.get("currency"))

    @strawberry.field(description="LOST: why it was lost.")
    def reason(self) -> str | None:
        return self.event["data"].get("reason") if self.event["type"] == "OpportunityLost" else None

    @strawberry.field(description="CHANGED: the names of the fields that changed.")
    def fields(self) -> list[str] | None:
        found = self.event["data"].get("fields")
        return list(found) if isinstance(found, (list, tuple, dict)) else None

    @strawberry.field(description="QUOTE_ACTIVATED, QUOTE_CHANGED: the quote as it is now (null when deleted).")
    async def quote(self, info: Info) -> Quote | None:
        quote_id = self.event["data"].get("quoteId")
        if quote_id is None:
            return None
        return Quote.from_row(await info.context.by_id(tables.quotes).load(quote_id))

    @strawberry.field(description="The user who made the change (null for a partner or the system).")
    async def actor_user(self, info: Info) -> User | None:
        user_id = self.event.get("actorUserId")
        return User.from_row(await info.context.by_id(tables.users).load(user_id)) if user_id else None

    @strawberry.field(description="The partner who made the change, when a partner did.")
    async def actor_partner(self, info: Info) -> Partner | None:
        partner_id = self.event.get("actorPartnerId")
        return Partner.from_row(await info.context.by_id(tables.partners).load(partner_id)) if partner_id else None


@strawberry.enum(description="Whether an indicator appeared or went away.")
class IndicatorChange(Enum):
    SET = strawberry.enum_value(
        "StatusIndicatorSet", description="The monitor's rule now holds: the entity carries the indicator."
    )
    CLEARED = strawberry.enum_value(
        "StatusIndicatorCleared", description="The rule no longer holds (or the monitor was switched off or deleted)."
    )


INDICATOR_EVENT_TYPES = frozenset(kind.value for kind in IndicatorChange)
_ENTITY_TABLES = {
    "Account": (Account, tables.accounts),
    "Contact": (Contact, tables.contacts),
    "Opportunity": (Opportunity, tables.opportunities),
    "Lead": (Lead, tables.leads),
}
_MONITORED = {
    "Account": DomainMonitoredEntity.ACCOUNT,
    "Contact": DomainMonitoredEntity.CONTACT,
    "Opportunity": DomainMonitoredEntity.OPPORTUNITY,
    "Lead": DomainMonitoredEntity.LEAD,
}
MonitoredNode = Annotated[
    Account | Contact | Opportunity | Lead,
    strawberry.union("MonitoredNode", description="An entity a status monitor marks."),
]


@strawberry.type(description="A status indicator set on or cleared from an account, contact, opportunity or lead.")
class StatusIndicatorChange:
    event: strawberry.Private[Event]

    @strawberry.field(description="The event's id: pass the last one you received as `since` when you subscribe again.")
    def event_id(self) -> strawberry.ID:
        return strawberry.ID(str(self.event["id"]))

    @strawberry.field(description="Set or cleared.")
    def change(self) -> IndicatorChange:
        return IndicatorChange(self.event["type"])

    @strawberry.field(description="When it changed.")
    def at(self) -> datetime:
        data = self.event["data"]
        return datetime.fromisoformat(data["at"]) if data.get("at") else _at(self.event)

    @strawberry.field(description="What kind of entity it is on.")
    def entity_type(self) -> MonitoredEntity:  # type: ignore[valid-type]
        return MonitoredEntity(_MONITORED[self.event["entityType"]].value)  # type: ignore[call-arg]

    @strawberry.field(description="The entity's id (also when it has been deleted since).")
    def entity_id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode(self.event["entityType"], self.event["entityId"]))

    @strawberry.field(description="The entity as it is now; null when it no longer exists.")
    async def entity(self, info: Info) -> MonitoredNode | None:
        node_type, table = _ENTITY_TABLES[self.event["entityType"]]
        return node_type.from_row(await info.context.by_id(table).load(self.event["entityId"]))

    @strawberry.field(description="The monitor's id (also when it has been deleted since).")
    def monitor_id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("StatusMonitor", self.event["data"]["monitorId"]))

    @strawberry.field(description="The monitor whose indicator it is, as it is now; null when deleted.")
    async def monitor(self, info: Info) -> StatusMonitor | None:
        return StatusMonitor.from_row(
            await info.context.by_id(tables.status_monitors).load(self.event["data"]["monitorId"])
        )

    @strawberry.field(description="When the indicator was set (for CLEARED: when it had been set).")
    def set_at(self) -> datetime | None:
        value = self.event["data"].get("setAt")
        return datetime.fromisoformat(value) if value else None


def _realtime(info: Info) -> Realtime:
    realtime = info.context.realtime
    if realtime is None:
        raise GraphQLError("subscriptions run over WebSocket on /graphql")
    return realtime


def _pks(global_ids: list[strawberry.ID] | None, expected: str | tuple[str, ...], argument: str) -> set[int] | None:
    if global_ids is None:
        return None
    try:
        return {ids.decode_as(str(g), expected) for g in global_ids}
    except GraphQLError as error:
        raise GraphQLError(f"`{argument}`: {error.message}", extensions={"code": "BAD_USER_INPUT"}) from None


BOARD_SINCE = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="Accepted like the other subscriptions' `since` (and checked against the event log), though "
        "a live board needs no replay: its current state is always sent first."
    ),
]


async def _board(info: Info, since: strawberry.ID | None) -> Any:
    """The process's realtime state for a live board's subscription, once a `since` it was given is checked."""
    realtime = _realtime(info)
    if since is not None:
        await check_resume(realtime, parse_since(since))
    return realtime


@strawberry.type(
    description="Live updates over WebSocket (graphql-transport-ws or the legacy graphql-ws protocol) "
    'on /graphql; authenticate with {"authorization": "Bearer <token>"} as the '
    "connection_init payload."
)
class Subscription:
    @strawberry.subscription(
        description="Every event of the opportunities (stage changes, won, lost, quote activated, …), in order."
    )
    async def opportunity_events(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Only these opportunities; null: every opportunity."),
        ] = None,
        since: Annotated[strawberry.ID | None, strawberry.argument(description=SINCE)] = None,
    ) -> AsyncIterator[OpportunityEvent]:
        wanted = _pks(ids, "Opportunity", "ids")

        def accepts(event: Event) -> bool:
            return event["type"] in OPPORTUNITY_EVENT_TYPES and (wanted is None or event["entityId"] in wanted)

        source = await events(_realtime(info), accepts, parse_since(since), info.context.viewer)
        return _mapped(source, OpportunityEvent)

    @strawberry.subscription(
        description="Every event of the tasks you may see (created, changed, completed, reopened, deleted), in "
        "order: what a task list or a to-do screen needs to stay live. The arguments narrow it; together, "
        "all must hold."
    )
    async def task_events(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Only these tasks; null: every task."),
        ] = None,
        attached_to_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(
                description="Only tasks attached to these accounts, contacts, opportunities or leads (directly); "
                "null: wherever they are."
            ),
        ] = None,
        mine: Annotated[
            bool,
            strawberry.argument(
                description="Only tasks assigned to you, including the event that gives one of yours to someone "
                "else (so a list of your tasks can drop it)."
            ),
        ] = False,
        since: Annotated[strawberry.ID | None, strawberry.argument(description=SINCE)] = None,
    ) -> AsyncIterator[TaskEvent]:
        wanted = _pks(ids, "Task", "ids")
        attached = _rows(attached_to_ids, tuple(ATTACHED_KEYS), "attachedToIds")
        me = None
        if mine:
            me = info.context.viewer.user_id or -1  # a partner is assigned no task
        accepts = task_events_filter(wanted, attached, me)
        source = await events(_realtime(info), accepts, parse_since(since), info.context.viewer)
        return _mapped(source, TaskEvent)

    @strawberry.subscription(
        description="Every event of the files you may see (uploaded, a new version, deleted), in order: a file is "
        "seen with the account, opportunity or price book it is on. The arguments narrow it; together, all must "
        "hold."
    )
    async def attachment_events(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Only these attachments; null: every one."),
        ] = None,
        on_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Only files on these accounts, opportunities or price books."),
        ] = None,
        since: Annotated[strawberry.ID | None, strawberry.argument(description=SINCE)] = None,
    ) -> AsyncIterator[AttachmentEvent]:
        accepts = attachment_events_filter(_pks(ids, "Attachment", "ids"), _rows(on_ids, tuple(ON_KEYS), "onIds"))
        source = await events(_realtime(info), accepts, parse_since(since), info.context.viewer)
        return _mapped(source, AttachmentEvent)

    @strawberry.subscription(
        description="Every event of the contracts you may see (created by a sale, renewed, cancelled, expiring, "
        "expired, removed, withdrawn), in order: what delivery and support systems follow to hear of a sale at "
        "once. EXPIRING and EXPIRED come from the server as dates pass, with no request. The arguments narrow "
        "it; together, all must hold."
    )
    async def contract_events(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Only these contracts; null: every contract."),
        ] = None,
        account_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Only contracts of these accounts; null: any account."),
        ] = None,
        opportunity_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Only contracts sold with these opportunities; null: any."),
        ] = None,
        kinds: Annotated[
            list[ContractEventKind] | None,
            strawberry.argument(description="Only these kinds of event; null: all."),
        ] = None,
        since: Annotated[strawberry.ID | None, strawberry.argument(description=SINCE)] = None,
    ) -> AsyncIterator[ContractEvent]:
        accepts = contract_events_filter(
            _pks(ids, "Contract", "ids"),
            _pks(account_ids, "Account", "accountIds"),
            _pks(opportunity_ids, "Opportunity", "opportunityIds"),
            None if kinds is None else {k.value for k in kinds},
        )
        source = await events(_realtime(info), accepts, parse_since(since), info.context.viewer)
        return _mapped(source, ContractEvent)

    @strawberry.subscription(description="Every status indicator set or cleared, in order.")
    async def status_indicators_changed(
        self,
        info: Info,
        entity_types: Annotated[
            list[MonitoredEntity] | None,
            strawberry.argument(  # type: ignore[valid-type]
                description="Only indicators on these kinds of entity; null: all."
            ),
        ] = None,
        ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(
                description="Only indicators on these accounts, contacts, opportunities or leads; null: all."
            ),
        ] = None,
        since: Annotated[strawberry.ID | None, strawberry.argument(description=SINCE)] = None,
    ) -> AsyncIterator[StatusIndicatorChange]:
        kinds = (
            None
            if entity_types is None
            else {name for name, monitored in _MONITORED.items() if monitored.value in {k.value for k in entity_types}}
        )
        wanted = None
        if ids is not None:
            wanted = set()
            for global_id in ids:
                try:
                    wanted.add(ids_decode(global_id))
                except GraphQLError as error:
                    raise GraphQLError(f"`ids`: {error.message}", extensions={"code": "BAD_USER_INPUT"}) from None

        def accepts(event: Event) -> bool:
            return (
                event["type"] in INDICATOR_EVENT_TYPES
                and (kinds is None or event["entityType"] in kinds)
                and (wanted is None or (event["entityType"], event["entityId"]) in wanted)
            )

        source = await events(_realtime(info), accepts, parse_since(since), info.context.viewer)
        return _mapped(source, StatusIndicatorChange)

    @strawberry.subscription(
        description="The scoreboard now, then again whenever a figure changes: after an event "
        "that moves one (a sale, a loss, a new or changed opportunity, a goal, an "
        "exchange rate) or when time alone does (`changesAt`). Bursts are coalesced "
        "(at most one update per 200 ms, the last state always sent); the last "
        "update received always equals what the `scoreboard` query returns."
    )
    async def scoreboard_updated(
        self,
        info: Info,
        period: PERIOD,
        team_id: TEAM = None,
        currency: CURRENCY = None,
        since: BOARD_SINCE = None,
    ) -> AsyncIterator[Scoreboard]:
        realtime = await _board(info, since)
        return await realtime.scoreboards.subscribe(scoreboard_request(period, team_id, currency), info.context.viewer)

    @strawberry.subscription(
        description="The conversation insights page (`conversationInsights`) now, then again whenever a figure "
        "changes: after a conversation is recorded or deleted, a tracked term changes (and as the re-analysis "
        "goes), an activity is logged, a sale moves the won revenue, or an account or contact changes what the "
        "caller may see; a sliding window is read again every minute. Bursts are coalesced (at most one update "
        "per 200 ms, the last state always sent), and a state whose figures did not move is not sent."
    )
    async def conversation_insights_updated(
        self,
        info: Info,
        period: PERIOD,
        team_id: TEAM = None,
        user_id: INSIGHTS_USER = None,
        since: BOARD_SINCE = None,
    ) -> AsyncIterator[ConversationInsights]:
        realtime = await _board(info, since)
        return await realtime.insights.subscribe(insights_request(period, team_id, user_id), info.context.viewer)

    @strawberry.subscription(
        description="The sales reports now, then again whenever a figure changes: after an event that moves "
        "one (a sale, a loss, a new or changed opportunity, a contract, an activity, an exchange rate) or when "
        "time alone does (a sliding window's oldest deal or activity leaving it, a new day). Bursts are "
        "coalesced (at most one update per 200 ms, the last state always sent); the last update received "
        "always equals what the `salesReports` query returns. One read per report shape (period, scope, "
        "currency) serves every viewer."
    )
    async def sales_reports_updated(
        self,
        info: Info,
        period: PERIOD,
        scope: SCOPE = None,
        currency: CURRENCY = None,
        since: BOARD_SINCE = None,
    ) -> AsyncIterator[SalesReports]:
        realtime = await _board(info, since)
        return await realtime.scoreboards.subscribe(
            report_request(period, scope, currency), info.context.viewer, REPORTS
        )

    @strawberry.subscription(
        description="The opportunity board (`opportunityBoard`, the kanban) now, then again whenever it changes: "
        "an opportunity created, changed, moved to another stage, won, lost or deleted, an account's privacy, "
        "manager or partner, or an exchange rate. Bursts are coalesced (at most one update per 200 ms, the last "
        "state always sent); the last update's `columns` always equal what the `opportunityBoard` query returns "
        "for the same arguments. One read per board shape (scope, currency, limit) serves every viewer."
    )
    async def opportunity_board_updated(
        self,
        info: Info,
        scope: SCOPE = None,
        currency: CURRENCY = None,
        limit: LIMIT = 10,
        since: BOARD_SINCE = None,
    ) -> AsyncIterator[OpportunityBoard]:
        realtime = await _board(info, since)
        return await realtime.scoreboards.subscribe(board_request(scope, currency, limit), info.context.viewer, BOARD)


def _rows(
    global_ids: list[strawberry.ID] | None, expected: tuple[str, ...], argument: str
) -> set[tuple[str, int]] | None:
    """(type, key) of each global id, which must be of one of the `expected` types."""
    if global_ids is None:
        return None
    found = set()
    for global_id in global_ids:
        try:
            kind, _ = ids.decode(str(global_id))
            found.add((kind, ids.decode_as(str(global_id), expected)))
        except GraphQLError as error:
            raise GraphQLError(f"`{argument}`: {error.message}", extensions={"code": "BAD_USER_INPUT"}) from None
    return found


def ids_decode(global_id: str) -> tuple[str, int]:
    kind, pk = ids.decode(str(global_id))
    if kind not in _ENTITY_TABLES:
        raise GraphQLError(f"{global_id!r} is not the id of an account, contact, opportunity or lead")
    return kind, pk


async def _mapped(source: AsyncIterator[Event], wrap: Any) -> AsyncIterator[Any]:
    try:
        async for event in source:
            yield wrap(event=event)
    finally:
        await source.aclose()  # type: ignore[attr-defined]

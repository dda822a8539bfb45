from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import Table
from sqlalchemy.engine import Row
from strawberry.types import Info

from gql import ids
from gql.errors import ClientError
from gql.resolvers.connections import filter_criteria
from gql.schema import enums, filters
from gql.schema.accounts import AccountGroup, Contact, ContactColumn, ContactType
from gql.schema.base import MAX_PAGE_SIZE, Node, window
from gql.schema.catalog import ExchangeRate
from gql.schema.conversations import (
    ConversationAnalysisProgress,
    TrackedTerm,
    conversations_connection,
    resolve_progress,
)
from gql.schema.criteria import Criteria, list_tree
from gql.schema.documents import DocumentTemplate
from gql.schema.fields import connection, node_class
from gql.schema.insights import ConversationInsights, resolve_insights
from gql.schema.leads import (
    Lead,
    LeadColumn,
    LeadMatchingSettings,
    LeadStatisticsDimension,
    LeadStatisticsRow,
    statistics_row,
)
from gql.schema.monitors import StatusMonitorFilter, StatusMonitorOrder
from gql.schema.nodes import NODE_TYPES
from gql.schema.people import Partner, Team, User
from gql.schema.reports import OpportunityColumn, SalesReports, resolve_opportunity_board, resolve_sales_reports
from gql.schema.routing import LeadRoutingRule, LeadSplitter
from gql.schema.scoreboard import Scoreboard, resolve_scoreboard
from gql.schema.selections import SelectionEntity, selections_connection
from gql.schema.settings import Settings
from gql.schema.tasks import task_connection
from gql.schema.tokens import ApiToken, Scope, resolve_api_tokens
from gql.schema.views import SavedView, default_view, saved_views_connection
from persistence import filters as spec
from persistence import reads, tables
from persistence.criteria import compile_criteria
from persistence.filters import conditions
from persistence.lead_statistics import lead_statistics
from persistence.outbox import newest_position

MAX_NODES = 100


async def load_node(info: Info, global_id: str) -> Node | None:
    type_name, pk = ids.decode(global_id)
    found = NODE_TYPES.get(type_name)
    if found is None:
        raise ClientError(f"{global_id!r} is not a valid id", code="INVALID_ID")
    target, table = found
    return node_class(target).from_row(await info.context.by_id(table).load(pk))


@strawberry.type(description="Who is calling: the user or the partner that owns the token, and its scopes.")
class Viewer:
    user: User | None = strawberry.field(description="The calling user (null for a partner).")
    partner: Partner | None = strawberry.field(description="The calling partner (null for a user).")
    scopes: list[Scope] = strawberry.field(  # type: ignore[valid-type]
        description="What the token in use may do: the scopes it was created with (all, when none) within its "
        "owner's role."
    )

    @strawberry.field(
        description="Your default view of a root list: your own default if you chose one, else your role's (null: "
        "none). Pass its `criteria` and order to the list."
    )
    async def default_view(
        self,
        info: Info,
        list: Annotated[SelectionEntity, strawberry.argument(description="The root list.")],  # type: ignore[valid-type]
    ) -> SavedView | None:
        return await default_view(info, list)


def _list(
    target: str,
    spec_: spec.FilterSpec,
    default_order: str,
    filter_type: type,
    order_type: type,
    what: str,
    criteria_entity: str | None = None,
) -> Any:
    return connection(
        target,
        spec_,
        default_order=default_order,
        filter_type=filter_type,
        order_type=order_type,
        description=f"All {what}, a page at a time.",
        criteria_entity=criteria_entity,
    )


@strawberry.type(description="The entry points for reading the sales graph.")
class Query:
    @strawberry.field(description="Any object by its global id; null when it does not exist.")
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global id, as returned in any `id` field.")],
    ) -> Node | None:
        return await load_node(info, id)

    @strawberry.field(
        description=f"Several objects by global id, in the same order (null where one does not exist); "
        f"at most {MAX_NODES} ids."
    )
    async def nodes(
        self, info: Info, ids: Annotated[list[strawberry.ID], strawberry.argument(description="Global ids.")]
    ) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise ClientError(f"`ids` may hold at most {MAX_NODES} ids, got {len(ids)}", code="INVALID_PAGE")
        return list(await asyncio.gather(*(load_node(info, i) for i in ids)))

    @strawberry.field(
        description="What admins configure (the opportunity stages; the configurable lists: activity types, account "
        "types, campaign statuses, contract and contact categories; custom field definitions); readable by every "
        "signed-in caller, changed by admins through their mutations (createOpportunityStage, createListValue, …)."
    )
    def settings(self) -> Settings:
        return Settings()

    @strawberry.field(description="The caller: the user or partner that owns the token.")
    async def viewer(self, info: Info) -> Viewer:
        principal = info.context.principal
        user = partner = None
        if principal.user_id is not None:
            user = User.from_row(await info.context.by_id(tables.users).load(principal.user_id))
        if principal.partner_id is not None:
            partner = Partner.from_row(await info.context.by_id(tables.partners).load(principal.partner_id))
        return Viewer(user=user, partner=partner, scopes=sorted(principal.scopes))

    accounts = _list(
        "gql.schema.accounts:Account",
        spec.ACCOUNTS,
        "NAME",
        filters.AccountFilter,
        filters.AccountOrder,
        "accounts",
        "ACCOUNT",
    )
    contacts = _list(
        "gql.schema.accounts:Contact",
        spec.CONTACTS,
        "LAST_NAME",
        filters.ContactFilter,
        filters.ContactOrder,
        "contacts (employees and consultants)",
        "CONTACT",
    )
    leads = _list(
        "gql.schema.leads:Lead", spec.LEADS, "CREATED_AT", filters.LeadFilter, filters.LeadOrder, "leads", "LEAD"
    )
    opportunities = _list(
        "gql.schema.opportunities:Opportunity",
        spec.OPPORTUNITIES,
        "CREATED_AT",
        filters.OpportunityFilter,
        filters.OpportunityOrder,
        "opportunities",
        "OPPORTUNITY",
    )
    contracts = _list(
        "gql.schema.contracts:Contract",
        spec.CONTRACTS,
        "STARTS_ON",
        filters.ContractFilter,
        filters.ContractOrder,
        "contracts",
    )
    partners = _list(
        "gql.schema.people:Partner", spec.PARTNERS, "NAME", filters.PartnerFilter, filters.PartnerOrder, "partners"
    )
    campaigns = _list(
        "gql.schema.leads:Campaign", spec.CAMPAIGNS, "NAME", filters.CampaignFilter, filters.CampaignOrder, "campaigns"
    )
    price_books = _list(
        "gql.schema.catalog:PriceBook",
        spec.PRICE_BOOKS,
        "NAME",
        filters.PriceBookFilter,
        filters.PriceBookOrder,
        "price books",
    )
    products = _list(
        "gql.schema.catalog:Product", spec.PRODUCTS, "NAME", filters.ProductFilter, filters.ProductOrder, "products"
    )
    sales_activities = _list(
        "gql.schema.opportunities:SalesActivity",
        spec.SALES_ACTIVITIES,
        "CREATED_AT",
        filters.SalesActivityFilter,
        filters.SalesActivityOrder,
        "sales activities",
        "ACTIVITY",
    )
    tasks = task_connection(
        None,
        "All tasks you may see (on accounts, contacts, opportunities and leads you may see), a page at a time, "
        "by due time unless ordered otherwise. My open tasks: `tasks(filter: {mine: true, open: true})`; "
        "overdue: `tasks(filter: {overdue: true})`.",
    )
    users = _list("gql.schema.people:User", spec.USERS, "NAME", filters.UserFilter, filters.UserOrder, "users")
    status_monitors = _list(
        "gql.schema.monitors:StatusMonitor",
        spec.STATUS_MONITORS,
        "NAME",
        StatusMonitorFilter,
        StatusMonitorOrder,
        "status monitor definitions",
    )

    saved_views = saved_views_connection(
        "The saved views you may read (yours, and those shared with everyone), a page at a time."
    )
    selections = selections_connection(
        "The selections you may read (yours, your team's shared ones, those shared with everyone), a page at a time."
    )

    conversations = conversations_connection(None, "All recorded conversations you may see, a page at a time.")

    @strawberry.field(description="The tracked keywords and competitors, by kind and name. Empty for partners.")
    async def tracked_terms(
        self,
        info: Info,
        kind: Annotated[
            enums.TrackedTermKind | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only terms of this kind."),
        ] = None,
    ) -> list[TrackedTerm]:
        rows = await _all(info, tables.tracked_terms, "kind", "name", "id")
        if kind is not None:
            rows = [r for r in rows if r.kind == kind.value]
        return TrackedTerm.from_rows(rows)

    conversation_analysis: ConversationAnalysisProgress = strawberry.field(
        resolver=resolve_progress,
        description="How far the analysis of past conversations with the current tracked terms got (a change of "
        "the terms has them analysed again in the background).",
    )

    @strawberry.field(
        description="What the leads you may see that were created in a period became, split by source and/or "
        "campaign: created, qualified, disqualified, conversion rate and time to qualify (the leads are a cohort "
        "of their creation; qualified means qualified now). One SQL statement."
    )
    async def lead_statistics(
        self,
        info: Info,
        since: Annotated[datetime, strawberry.argument(name="from", description="The period's start (included).")],
        until: Annotated[datetime, strawberry.argument(name="to", description="The period's end (excluded).")],
        group_by: Annotated[
            list[LeadStatisticsDimension] | None,
            strawberry.argument(description="What to split by (null or empty: one row for all)."),
        ] = None,
    ) -> list[LeadStatisticsRow]:
        if until <= since:
            raise ClientError("`to` must be after `from`")
        dimensions = set(group_by or [])
        async with info.context.reads.connect() as conn:
            found = await lead_statistics(
                conn,
                info.context.viewer,
                since,
                until,
                LeadStatisticsDimension.SOURCE in dimensions,
                LeadStatisticsDimension.CAMPAIGN in dimensions,
            )
        return [statistics_row(row) for row in found]

    @strawberry.field(
        description="How incoming leads are recognised as known leads, contacts and accounts (null for partners)."
    )
    async def lead_matching(self, info: Info) -> LeadMatchingSettings | None:
        return LeadMatchingSettings.from_row(await info.context.by_id(tables.lead_matching_settings).load(1))

    @strawberry.field(description="All sales teams, by name.")
    async def teams(self, info: Info) -> list[Team]:
        return Team.from_rows(await _all(info, tables.teams, "name"))

    @strawberry.field(description="All contact types, by name.")
    async def contact_types(self, info: Info) -> list[ContactType]:
        return ContactType.from_rows(await _all(info, tables.contact_types, "name"))

    @strawberry.field(description="All account groups, by name.")
    async def account_groups(self, info: Info) -> list[AccountGroup]:
        return AccountGroup.from_rows(await _all(info, tables.account_groups, "name"))

    @strawberry.field(
        description="The lead processor's routing rules in the order they are tried (by position). Empty for partners."
    )
    async def lead_routing_rules(self, info: Info) -> list[LeadRoutingRule]:
        return LeadRoutingRule.from_rows(await _all(info, tables.lead_routing_rules, "position", "id"))

    @strawberry.field(description="The lead splitters, by name. Empty for partners.")
    async def lead_splitters(self, info: Info) -> list[LeadSplitter]:
        return LeadSplitter.from_rows(await _all(info, tables.lead_splitters, "name"))

    @strawberry.field(description="The Word templates for quote documents, by name.")
    async def document_templates(self, info: Info) -> list[DocumentTemplate]:
        return DocumentTemplate.from_rows(await _all(info, tables.document_templates, "name"))

    @strawberry.field(description="The exchange rates used to convert between currencies (base: EUR).")
    async def exchange_rates(self, info: Info) -> list[ExchangeRate]:
        rows = await _all(info, tables.exchange_rates, "currency")
        return [ExchangeRate(currency=r.currency, rate=r.rate, updated_at=r.updated_at) for r in rows]

    @strawberry.field(
        description="The id of the newest event (0 when there is none). Events are numbered in the "
        "transaction that makes their change, so every change committed before this read has an id up "
        "to this one, and every later change a greater one. Read it before the data a view shows (or in "
        "the same request), then subscribe with `since` set to it: the subscription sends every change "
        "after it, once. Only a change someone else commits between this read and the data's can show "
        "in the data and come as an event too (in the same request the two reads are not ordered, so "
        "such a change may instead be in neither)."
    )
    async def latest_event_id(self, info: Info) -> strawberry.ID:
        async with info.context.reads.connect() as conn:
            return strawberry.ID(str(await newest_position(conn)))

    @strawberry.field(
        description="Leads grouped by status, like a kanban board: every status is a column. "
        "Archived leads are left out unless the filter asks for them."
    )
    async def lead_board(
        self,
        info: Info,
        filter: Annotated[
            filters.LeadFilter | None, strawberry.argument(description="Only leads matching all these conditions.")
        ] = None,
        limit: Annotated[
            int, strawberry.argument(description=f"How many leads per column (0 to {MAX_PAGE_SIZE}).")
        ] = 10,
    ) -> list[LeadColumn]:
        found = filter_criteria(filter)
        found.setdefault("archived", False)
        conds = conditions(spec.LEADS, found, info.context.viewer)
        limit = window(limit, None, None, None).first or 0
        statuses = [s.value for s in enums.LeadStatus]
        order = [tables.leads.c.priority.desc(), tables.leads.c.created_at.desc()]
        async with info.context.reads.connect() as conn:
            columns = await reads.top_per_group(
                conn, tables.leads, "status", statuses, conds, order, limit, info.context.viewer
            )
        return [
            LeadColumn(status=s, total_count=count, leads=Lead.from_rows(rows))  # type: ignore[arg-type]
            for s, (count, rows) in zip(statuses, columns)
        ]

    @strawberry.field(
        description="Contacts grouped by the lead status they show, like a kanban board (SuperOffice's board view "
        "of leads): a column per status, each with its count and its first contacts. Only contacts that show a "
        "lead status (employees of PROSPECT accounts whose category has it switched on) are on the board."
    )
    async def contact_board(
        self,
        info: Info,
        filter: Annotated[
            filters.ContactFilter | None,
            strawberry.argument(description="Only contacts matching all these conditions."),
        ] = None,
        criteria: Annotated[
            Criteria | None,
            strawberry.argument(description="Only contacts matching these criteria (with `filter`, both hold)."),
        ] = None,
        limit: Annotated[
            int, strawberry.argument(description=f"How many contacts per column (0 to {MAX_PAGE_SIZE}).")
        ] = 10,
    ) -> list[ContactColumn]:
        viewer = info.context.viewer
        conds = [
            *conditions(spec.CONTACTS, filter_criteria(filter), viewer),
            compile_criteria("CONTACT", list_tree("CONTACT", criteria), viewer),
            spec.shows_lead_status(),
        ]
        limit = window(limit, None, None, None).first or 0
        statuses = [s.value for s in enums.LeadStatus]
        order = [tables.contacts.c.updated_at.desc()]
        async with info.context.reads.connect() as conn:
            columns = await reads.top_per_group(
                conn, tables.contacts, "lead_status", statuses, conds, order, limit, viewer
            )
        return [
            ContactColumn(status=s, total_count=count, contacts=Contact.from_rows(rows))  # type: ignore[arg-type]
            for s, (count, rows) in zip(statuses, columns)
        ]

    api_tokens: list[ApiToken] = strawberry.field(
        resolver=resolve_api_tokens,
        description="API tokens, newest first, never their secrets: an admin sees everyone's (filter by owner), "
        "anyone else only their own.",
    )
    scoreboard: Scoreboard = strawberry.field(
        resolver=resolve_scoreboard,
        description="The sales scoreboard for a period (a preset or a custom range), optionally one team, in a "
        "reporting currency: won revenue, open pipeline, deals, win rate and each rep's goal, "
        "progress, projection and rank. Bad arguments are an error with no data.",
    )
    conversation_insights: ConversationInsights = strawberry.field(
        resolver=resolve_insights,
        description="The sales manager's home page of conversation intelligence for a period (the scoreboard's "
        "presets or a custom range), optionally one team or one seller: what customers talk about, what "
        "distinguishes the best sellers and the call-recording KPIs, each figure with its change against the "
        "previous period of equal length, its series and the conversations it counts. Reads summed figures, "
        "never transcripts, in a fixed number of statements.",
    )
    sales_reports: SalesReports = strawberry.field(
        resolver=resolve_sales_reports,
        description="The sales reports for a period (a preset or a custom range), a scope (team, user, partner) "
        "and a reporting currency: the funnel by stage, won revenue by person and by product, the forecast, "
        "partner results and time per channel, counting only what you may see. Read from aggregates: a fixed "
        "number of statements whatever the number of opportunities. Bad arguments are an error with no data.",
    )
    opportunity_board: list[OpportunityColumn] = strawberry.field(
        resolver=resolve_opportunity_board,
        description="Open opportunities grouped by stage, like a kanban board: every open stage is a column with "
        "its count and amounts (from aggregates) and its newest opportunities, counting only what you may see.",
    )


async def _all(info: Info, table: Table, *order_by: str) -> list[Row]:
    """Every row of a short list the caller may see (routing rules, splitters and templates: none for a
    partner; see persistence/visibility.py)."""
    async with info.context.reads.connect() as conn:
        return await reads.all_rows(conn, table, order_by, info.context.viewer)

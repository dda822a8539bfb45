"""The contract lifecycle over HTTP on SQLite and PostgreSQL (issue 18, item 1): a contract's status follows
its dates (the scheduler announces it N days before its end and ends it when the end passes, with no
request), renewal for a new period, cancellation now or termination as of a later date, removal from a sold
opportunity, who may do each, bad input that changes nothing, the accounts' service-expiry filter for every
role, the CONTRACT_EXPIRING status monitor rule, and `contractEvents` over a real WebSocket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import httpx
import pytest_asyncio
from sqlalchemy import select

from domain.contracts import NOTICE_DAYS, add_months
from gql import ids
from gql.app import create_app
from gql.auth import issue_token
from persistence import tables
from persistence.scheduler import IndicatorScheduler
from tests.conftest import ANCHOR, Backend, GraphQLClient
from tests.integration.mutations.test_quotes_and_sales import catalog
from tests.integration.test_status_indicators import Clock
from tests.integration.test_status_indicators import mutation as plain_mutation
from tests.support.live import live_server
from tests.support.ws import GraphQLSocket


def mutation(*args: str) -> str:
    """A mutation document that also selects the field a ValidationError names."""
    return plain_mutation(*args).replace("code message }", "code message } ... on ValidationError { field }")


T0 = datetime.combine(ANCHOR.date() + timedelta(days=1), time(9), tzinfo=ANCHOR.tzinfo)
DAY = timedelta(days=1)
CONTRACT = "contract { id kind status startsOn endsOn cancelledOn cancelReason version account { id } }"
RENEW = mutation("renewContract", "RenewContractInput", "ContractPayload", CONTRACT)
CANCEL = mutation("cancelContract", "CancelContractInput", "ContractPayload", CONTRACT)
REMOVE = mutation("removeContract", "RemoveContractInput", "DeletedPayload", "deletedId")
READ = "query($id: ID!) { node(id: $id) { ... on Contract { status endsOn version history(first: 50) { nodes { field oldValue newValue } } } } }"
CREATE_ACCOUNT = mutation("createAccount", "CreateAccountInput", "AccountPayload", "account { id }")
CREATE_OPPORTUNITY = mutation("createOpportunity", "CreateOpportunityInput", "OpportunityPayload", "opportunity { id }")
CREATE_QUOTE = mutation("createQuote", "CreateQuoteInput", "QuotePayload", "quote { id }")
ADD_ITEMS = mutation("addQuoteItems", "AddQuoteItemsInput", "QuotePayload", "quote { id }")
SELL = mutation(
    "markOpportunitySold",
    "OpportunityRefInput",
    "OpportunityPayload",
    "opportunity { contracts { id kind status startsOn endsOn version } }",
)
CREATE_MONITOR = mutation(
    "createStatusMonitor", "CreateStatusMonitorInput", "StatusMonitorPayload", "statusMonitor { id }"
)


def end_of(day: str) -> datetime:
    """The instant a date is over (00:00 UTC of the next day)."""
    return datetime.combine(date.fromisoformat(day) + DAY, time(0), tzinfo=ANCHOR.tzinfo)


@dataclass
class World:
    api: GraphQLClient
    clock: Clock
    scheduler: IndicatorScheduler
    backend: Backend
    reps: list[int]

    async def run(self, document: str, input: dict, token: str | None = None) -> dict:
        return next(iter((await self.api.data(document, {"input": input}, token)).values()))

    async def ok(self, document: str, input: dict, token: str | None = None) -> dict:
        payload = await self.run(document, input, token)
        assert "code" not in payload, payload
        return payload

    async def sell(self, manager: int | None = None, owner: int | None = None, once: bool = False) -> dict:
        """A new account (managed by `manager`), an opportunity on it (owned by `owner`) sold with one
        recurring unit (or a one-time one): its contract."""
        c = await catalog(self.backend)
        account = await self.ok(
            CREATE_ACCOUNT,
            {
                "kind": "ORGANIZATION",
                "name": f"Customer {self.clock.now.isoformat()} {manager} {owner}",
                "country": "NO",  # in the price book's regions
                **({"managerId": ids.encode("User", manager)} if manager else {}),
            },
        )
        deal = await self.ok(
            CREATE_OPPORTUNITY,
            {
                "name": "Licences",
                "accountId": account["account"]["id"],
                **({"ownerId": ids.encode("User", owner)} if owner else {}),
            },
        )
        opportunity = deal["opportunity"]["id"]
        quote = await self.ok(
            CREATE_QUOTE, {"opportunityId": opportunity, "name": "Offer", "currency": "EUR", "priceBookId": c["book"]}
        )
        await self.ok(
            ADD_ITEMS,
            {"quoteId": quote["quote"]["id"], "items": [{"unitId": c["once" if once else "monthly"], "quantity": "1"}]},
        )
        sold = await self.ok(SELL, {"id": opportunity})
        [contract] = sold["opportunity"]["contracts"]
        return {**contract, "opportunity": opportunity, "account": account["account"]["id"]}

    async def read(self, contract: str) -> dict:
        return (await self.api.data(READ, {"id": contract}))["node"]

    async def events(self, contract: str) -> list[tuple[str, dict]]:
        box = tables.outbox_events
        async with self.backend.engine.connect() as conn:
            rows = await conn.execute(
                select(box.c.type, box.c.data)
                .where(box.c.entity_type == "Contract", box.c.entity_id == ids.decode(contract)[1])
                .order_by(box.c.id)
            )
            return [(r.type, r.data) for r in rows]

    async def time_passes(self, until: datetime) -> int:
        self.clock.now = max(self.clock.now, until)
        return await self.scheduler.run_due(self.clock.now)


CLOCKS: dict[str, Clock] = {}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(writable: Backend) -> AsyncIterator[World]:
    """One clock per database, only moving forward, shared with the live server of the WebSocket test."""
    clock = CLOCKS.setdefault(writable.url, Clock(T0))
    app = create_app(writable.engine, dispatch=False, schedule=False, clock=clock)
    u = tables.users
    async with writable.engine.connect() as conn:
        reps = [r.id for r in await conn.execute(select(u.c.id).where(u.c.role == "SALES_REP").order_by(u.c.id))]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://salesgraph.test") as http:
        yield World(GraphQLClient(http, writable.admin_token), clock, app.state.scheduler, writable, reps)


async def test_a_renewal_gives_a_time_based_contract_a_new_period_and_bad_input_changes_nothing(world):
    contract = await world.sell()
    start, end = date.fromisoformat(contract["startsOn"]), date.fromisoformat(contract["endsOn"])
    months = (end.year - start.year) * 12 + end.month - start.month
    renewed = (await world.ok(RENEW, {"id": contract["id"], "version": contract["version"]}))["contract"]
    assert renewed["endsOn"] == add_months(end, months).isoformat() and renewed["status"] == "ACTIVE"
    again = (await world.ok(RENEW, {"id": contract["id"], "months": 3}))["contract"]
    assert again["endsOn"] == add_months(date.fromisoformat(renewed["endsOn"]), 3).isoformat()
    target = (date.fromisoformat(again["endsOn"]) + timedelta(days=40)).isoformat()
    assert (await world.ok(RENEW, {"id": contract["id"], "endsOn": target}))["contract"]["endsOn"] == target
    kinds = [
        (kind, data.get("previousEndsOn"), data.get("endsOn")) for kind, data in await world.events(contract["id"])
    ]
    assert kinds == [
        ("ContractCreated", None, end.isoformat()),
        ("ContractRenewed", end.isoformat(), renewed["endsOn"]),
        ("ContractRenewed", renewed["endsOn"], again["endsOn"]),
        ("ContractRenewed", again["endsOn"], target),
    ]
    history = [(h["field"], h["newValue"]) for h in (await world.read(contract["id"]))["history"]["nodes"]]
    assert ("endsOn", target) in history

    before = await world.read(contract["id"])
    bad = [
        ({"months": 2, "endsOn": target}, "months"),
        ({"months": 0}, "months"),
        ({"endsOn": target}, "endsOn"),  # not after the current end
        ({"version": before["version"] - 1}, None),  # stale: a ConflictError
    ]
    for extra, field in bad:
        refused = await world.run(RENEW, {"id": contract["id"], **extra})
        if field is None:
            assert refused["__typename"] == "ConflictError", refused
        else:
            assert (refused["__typename"], refused["field"]) == ("ValidationError", field), refused
    one_time = await world.sell(once=True)
    refused = await world.run(RENEW, {"id": one_time["id"], "months": 1})
    assert refused["__typename"] == "ValidationError" and "one-time" in refused["message"]
    missing = await world.run(RENEW, {"id": ids.encode("Contract", 10**9)})
    assert missing["__typename"] == "NotFoundError"
    wrong_kind = await world.run(RENEW, {"id": ids.encode("Account", 1)})
    assert wrong_kind["__typename"] == "ValidationError"
    assert await world.read(contract["id"]) == before


async def test_cancelling_now_and_terminating_later_with_a_reason(world):
    today = world.clock.now.date()
    now = await world.sell()
    blank = await world.run(CANCEL, {"id": now["id"], "reason": "  "})
    assert blank["__typename"] == "ValidationError"
    early = await world.run(CANCEL, {"id": now["id"], "reason": "x", "effectiveOn": (today - DAY).isoformat()})
    assert early["__typename"] == "ValidationError"  # before the contract starts
    assert (await world.read(now["id"]))["version"] == now["version"]
    cancelled = (await world.ok(CANCEL, {"id": now["id"], "reason": "Customer went bankrupt"}))["contract"]
    assert (cancelled["status"], cancelled["cancelledOn"], cancelled["cancelReason"]) == (
        "CANCELLED",
        today.isoformat(),
        "Customer went bankrupt",
    )
    assert (await world.run(CANCEL, {"id": now["id"], "reason": "again"}))["__typename"] == "ConflictError"
    assert (await world.run(RENEW, {"id": now["id"]}))["__typename"] == "ConflictError"
    assert (await world.events(now["id"]))[-1][0] == "ContractCancelled"

    later = await world.sell()
    beyond = await world.run(
        CANCEL, {"id": later["id"], "reason": "x", "effectiveOn": (end_of(later["endsOn"]) + DAY).date().isoformat()}
    )
    assert beyond["__typename"] == "ValidationError"
    effective = today + timedelta(days=10)
    terminated = (
        await world.ok(CANCEL, {"id": later["id"], "reason": "Moving to a competitor", "effectiveOn": str(effective)})
    )["contract"]
    assert (terminated["status"], terminated["endsOn"], terminated["cancelledOn"]) == (
        "ACTIVE",
        (effective - DAY).isoformat(),
        effective.isoformat(),
    )
    # Its end passes: CANCELLED with no request, by the scheduler.
    await world.time_passes(end_of(terminated["endsOn"]) - timedelta(microseconds=1))
    assert (await world.read(later["id"]))["status"] == "ACTIVE"
    await world.time_passes(end_of(terminated["endsOn"]))
    assert (await world.read(later["id"]))["status"] == "CANCELLED"
    last, data = (await world.events(later["id"]))[-1]
    assert last == "ContractExpired" and data["status"] == "CANCELLED"
    once = await world.sell(once=True)
    refused = await world.run(CANCEL, {"id": once["id"], "reason": "x", "effectiveOn": str(today + timedelta(days=40))})
    assert refused["__typename"] == "ValidationError"


async def test_the_scheduler_announces_and_ends_a_contract_with_no_request(world):
    contract = await world.sell()
    one_time = await world.sell(once=True)
    ends = end_of(contract["endsOn"])
    await world.time_passes(ends - timedelta(days=NOTICE_DAYS) - timedelta(microseconds=1))
    assert [k for k, _ in await world.events(contract["id"])] == ["ContractCreated"]
    await world.time_passes(ends - timedelta(days=NOTICE_DAYS))
    await world.time_passes(ends - timedelta(days=NOTICE_DAYS) + DAY)  # announced once per end date
    kinds = await world.events(contract["id"])
    assert [k for k, _ in kinds] == ["ContractCreated", "ContractExpiring"]
    assert kinds[1][1]["daysLeft"] == NOTICE_DAYS
    await world.time_passes(ends - timedelta(microseconds=1))
    assert (await world.read(contract["id"]))["status"] == "ACTIVE"
    await world.time_passes(ends)
    assert (await world.read(contract["id"]))["status"] == "EXPIRED"
    assert [k for k, _ in await world.events(contract["id"])][-1] == "ContractExpired"
    assert (await world.read(one_time["id"]))["status"] == "ACTIVE"  # a purchase never expires
    # An expired contract renewed is ACTIVE again, and its new end is announced in its time.
    renewed = (await world.ok(RENEW, {"id": contract["id"], "months": 2}))["contract"]
    assert renewed["status"] == "ACTIVE"
    await world.time_passes(end_of(renewed["endsOn"]) - timedelta(days=NOTICE_DAYS))
    assert [k for k, _ in await world.events(contract["id"])][-2:] == ["ContractRenewed", "ContractExpiring"]
    assert (await world.run(REMOVE, {"id": one_time["id"]}))["__typename"] == "DeletedPayload"


async def test_who_may_renew_cancel_and_remove(world):
    manager, owner, stranger = world.reps[:3]
    contract = await world.sell(manager=manager, owner=owner)
    tokens = {
        rep: await issue_token(world.backend.engine, name=f"contracts {rep}", user_id=rep)
        for rep in (manager, owner, stranger)
    }
    before = await world.read(contract["id"])
    for document, extra in ((RENEW, {}), (CANCEL, {"reason": "x"}), (REMOVE, {})):
        denied = await world.run(document, {"id": contract["id"], **extra}, world.backend.partner_token)
        assert denied["__typename"] == "PermissionDeniedError", denied
        hidden = await world.run(document, {"id": contract["id"], **extra}, tokens[stranger])
        missing = await world.run(document, {"id": ids.encode("Contract", 10**9), **extra}, tokens[stranger])
        assert hidden["__typename"] == missing["__typename"] == "NotFoundError"
        assert hidden["message"].replace(contract["id"], "?") == missing["message"].replace(
            ids.encode("Contract", 10**9), "?"
        )
    # The account's manager sees the contract and may renew it, but only the deal's owner removes it.
    assert (await world.run(RENEW, {"id": contract["id"]}, tokens[manager]))["__typename"] == "ContractPayload"
    refused = await world.run(REMOVE, {"id": contract["id"]}, tokens[manager])
    assert refused["__typename"] == "PermissionDeniedError", refused
    assert (await world.read(contract["id"]))["version"] == before["version"] + 1
    removed = await world.run(REMOVE, {"id": contract["id"], "reason": "Not delivered"}, tokens[owner])
    assert removed == {"__typename": "DeletedPayload", "deletedId": contract["id"]}
    assert (await world.api.data(READ, {"id": contract["id"]}))["node"] is None
    assert (await world.events(contract["id"]))[-1][0] == "ContractRemoved"
    ended = await world.sell()
    await world.ok(CANCEL, {"id": ended["id"], "reason": "x"})
    assert (await world.run(REMOVE, {"id": ended["id"]}))["__typename"] == "ConflictError"


SERVICE = """query($from: Date, $to: Date) {
  accounts(first: 100, filter: {serviceExpiresFrom: $from, serviceExpiresTo: $to}) { totalCount nodes { id } }
  contracts(first: 100, filter: {status: ACTIVE, kind: TIME_BASED, endsFrom: $from, endsTo: $to}) {
    totalCount nodes { account { id } } } }"""


async def test_accounts_by_service_expiry_equal_their_visible_contracts_for_every_role(world):
    await world.sell(manager=world.reps[0])
    u = tables.users
    async with world.backend.engine.connect() as conn:
        director = (await conn.execute(select(u.c.id).where(u.c.role == "SALES_DIRECTOR").limit(1))).scalar()
    tokens = [
        world.backend.admin_token,
        world.backend.partner_token,
        await issue_token(world.backend.engine, name="expiry rep", user_id=world.reps[0]),
        await issue_token(world.backend.engine, name="expiry director", user_id=director),
    ]
    today = world.clock.now.date()
    windows = [(None, today + timedelta(days=400)), (today, today + timedelta(days=60)), (today, None), (None, None)]
    for token in tokens:
        for since, until in windows:
            found = await world.api.data(
                SERVICE, {"from": since and since.isoformat(), "to": until and until.isoformat()}, token
            )
            accounts = {a["id"] for a in found["accounts"]["nodes"]}
            assert found["accounts"]["totalCount"] == len(accounts) <= 100
            if since is None and until is None:
                continue  # no bound: the filter is off
            expected = {c["account"]["id"] for c in found["contracts"]["nodes"] if c["account"] is not None}
            assert found["contracts"]["totalCount"] <= 100
            assert accounts == expected, (token, since, until)
    bad = await world.api.post(SERVICE, {"from": "yesterday"})
    assert bad.json()["errors"]


MARKED = "query($id: ID!) { node(id: $id) { ... on Account { statusIndicators { name } } } }"


async def test_a_contract_expiring_monitor_marks_the_account_within_its_days_and_refuses_bad_rules(world):
    for rule, entity, field in (
        ({"kind": "CONTRACT_EXPIRING"}, "ACCOUNT", "rule.days"),
        ({"kind": "CONTRACT_EXPIRING", "days": 5}, "LEAD", "rule.kind"),
        ({"kind": "CONTRACT_EXPIRING", "days": -1}, "ACCOUNT", "rule.days"),
    ):
        refused = await world.run(CREATE_MONITOR, {"name": "Bad", "entityType": entity, "rule": rule})
        assert (refused["__typename"], refused["field"]) == ("ValidationError", field), refused
    await world.ok(
        CREATE_MONITOR,
        {"name": "Renewal due", "entityType": "ACCOUNT", "rule": {"kind": "CONTRACT_EXPIRING", "days": 10}},
    )
    contract = await world.sell()

    async def marked() -> bool:
        found = (await world.api.data(MARKED, {"id": contract["account"]}))["node"]["statusIndicators"]
        return any(i["name"] == "Renewal due" for i in found)

    ends = end_of(contract["endsOn"])
    await world.time_passes(ends - timedelta(days=10) - timedelta(microseconds=1))
    assert not await marked()
    await world.time_passes(ends - timedelta(days=10))
    assert await marked()
    renewed = (await world.ok(RENEW, {"id": contract["id"], "months": 1}))["contract"]  # the window moves on
    assert not await marked()
    await world.time_passes(end_of(renewed["endsOn"]) - timedelta(days=3))
    assert await marked()
    await world.time_passes(end_of(renewed["endsOn"]))  # expired: nothing left to renew in time
    assert not await marked()


EVENTS = """subscription($ids: [ID!], $kinds: [ContractEventKind!], $since: ID) {
  contractEvents(ids: $ids, kinds: $kinds, since: $since) {
    eventId kind status endsOn contractId contract { status } } }"""


async def test_a_contract_whose_end_passes_turns_expired_with_no_request_and_a_subscriber_hears_it(world):
    """The issue's test: the clock moves past a contract's end, the server's own scheduler ends it (no
    request is made in between: the scheduler is woken, as its own timer would wake it within
    max_sleep), and a `contractEvents` subscriber on a real WebSocket is told; one resuming with `since`
    gets the same event again."""
    contract = await world.sell()
    async with live_server(world.backend.url, clock=world.clock, schedule=True) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            api = GraphQLClient(http, world.backend.admin_token)
            since = (await api.data("{ latestEventId }"))["latestEventId"]
            socket = await GraphQLSocket.open(server.url, world.backend.admin_token)
            op = await socket.subscribe(EVENTS, {"ids": [contract["id"]], "kinds": ["EXPIRED"], "since": since})
            world.clock.now = end_of(contract["endsOn"])
            server.app.state.scheduler.wake()
            told = (await socket.next(op))["data"]["contractEvents"]
            assert (told["kind"], told["status"], told["contractId"], told["contract"]) == (
                "EXPIRED",
                "EXPIRED",
                contract["id"],
                {"status": "EXPIRED"},
            )
            assert (await api.data(READ, {"id": contract["id"]}))["node"]["status"] == "EXPIRED"
            # A client that reconnects with the `since` it had is sent the same event from the log.
            again = await GraphQLSocket.open(server.url, world.backend.admin_token)
            resumed = await again.subscribe(EVENTS, {"ids": [contract["id"]], "kinds": ["EXPIRED"], "since": since})
            assert (await again.next(resumed))["data"]["contractEvents"]["eventId"] == told["eventId"]
            await again.close()
            await socket.close()

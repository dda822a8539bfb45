"""Status indicators over HTTP: set the moment a monitor's rule holds (when the monitor is defined, when
data changes, when time passes), cleared the moment it stops holding, read through `statusIndicators`,
filtered with hasIndicator / lacksIndicator, and announced in the outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select

from gql import ids
from gql.app import create_app
from persistence import indicators, tables
from persistence.scheduler import IndicatorScheduler
from tests.conftest import Backend, GraphQLClient, statements

T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
ERRORS = "... on UserError { code message }"


def mutation(name: str, input_type: str, payload: str, body: str) -> str:
    return (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename "
        f"... on {payload} {{ {body} }} {ERRORS} }} }}"
    )


CREATE_MONITOR = mutation(
    "createStatusMonitor", "CreateStatusMonitorInput", "StatusMonitorPayload", "statusMonitor { id version }"
)
UPDATE_MONITOR = mutation(
    "updateStatusMonitor", "UpdateStatusMonitorInput", "StatusMonitorPayload", "statusMonitor { id version }"
)
DELETE_MONITOR = mutation("deleteStatusMonitor", "DeleteStatusMonitorInput", "DeletedPayload", "deletedId")
CREATE_ACCOUNT = mutation("createAccount", "CreateAccountInput", "AccountPayload", "account { id }")
CREATE_CONTACT = mutation("createContact", "CreateContactInput", "ContactPayload", "contact { id }")
CREATE_OPPORTUNITY = mutation(
    "createOpportunity", "CreateOpportunityInput", "OpportunityPayload", "opportunity { id version }"
)
LOG_ACTIVITY = mutation("createSalesActivity", "CreateSalesActivityInput", "SalesActivityPayload", "activity { id }")
CREATE_QUOTE = mutation("createQuote", "CreateQuoteInput", "QuotePayload", "quote { id }")
ADD_ITEMS = mutation("addQuoteItems", "AddQuoteItemsInput", "QuotePayload", "quote { id }")
SELL = mutation("markOpportunitySold", "OpportunityRefInput", "OpportunityPayload", "opportunity { stage }")

INDICATORS = "statusIndicators { name description icon colour priority setAt monitor { id name } }"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    api: GraphQLClient
    clock: Clock
    scheduler: IndicatorScheduler
    backend: Backend

    async def run(self, document: str, input: dict) -> dict:
        data = await self.api.data(document, {"input": input})
        payload = next(iter(data.values()))
        assert "code" not in payload, payload
        return payload

    async def monitor(self, name: str, entity_type: str, rule: dict, **extra) -> str:
        made = await self.run(CREATE_MONITOR, {"name": name, "entityType": entity_type, "rule": rule, **extra})
        return made["statusMonitor"]["id"]

    async def account(self, name: str) -> str:
        return (await self.run(CREATE_ACCOUNT, {"kind": "ORGANIZATION", "name": name}))["account"]["id"]

    async def contact(self, account: str, last_name: str) -> str:
        made = await self.run(CREATE_CONTACT, {"accountId": account, "firstName": "Kari", "lastName": last_name})
        return made["contact"]["id"]

    async def opportunity(self, account: str, **extra) -> str:
        made = await self.run(CREATE_OPPORTUNITY, {"name": "Fleet renewal", "accountId": account, **extra})
        return made["opportunity"]["id"]

    async def activity(self, target: str, type_: str = "CALL", **extra) -> str:
        made = await self.run(LOG_ACTIVITY, {"attachToId": target, "type": type_, "subject": "Follow-up", **extra})
        return made["activity"]["id"]

    async def indicators(self, node: str) -> list[str]:
        found = await self.api.data(
            f"query($id: ID!) {{ node(id: $id) {{ ... on Account {{ {INDICATORS} }} "
            f"... on Contact {{ {INDICATORS} }} ... on Opportunity {{ {INDICATORS} }} }} }}",
            {"id": node},
        )
        return [i["name"] for i in found["node"]["statusIndicators"]]

    async def time_passes(self, until: datetime) -> None:
        """The clock moves on, and the scheduler does what fell due meanwhile."""
        self.clock.now = until
        await self.scheduler.run_due(until)

    async def consistent(self) -> None:
        """What is stored is what a full re-evaluation at the clock's time gives."""
        async with self.backend.engine.connect() as conn:
            assert await indicators.stored_indicators(conn) == await indicators.evaluate_all(conn, self.clock.now)

    async def events_since(self, mark: int) -> list[tuple[str, str, int, dict]]:
        box = tables.outbox_events
        async with self.backend.engine.connect() as conn:
            rows = await conn.execute(
                select(box.c.type, box.c.entity_type, box.c.entity_id, box.c.data)
                .where(box.c.id > mark, box.c.type.in_(["StatusIndicatorSet", "StatusIndicatorCleared"]))
                .order_by(box.c.id)
            )
            return [(r.type, r.entity_type, r.entity_id, r.data) for r in rows]

    async def mark(self) -> int:
        async with self.backend.engine.connect() as conn:
            return (await conn.execute(select(func.coalesce(func.max(tables.outbox_events.c.id), 0)))).scalar_one()


@pytest.fixture(scope="module")
def clock(writable: Backend) -> Clock:
    """One clock per database: time only moves forward (what the stored indicators say holds from then on)."""
    return Clock(T0)


@pytest_asyncio.fixture(loop_scope="session")
async def world(writable: Backend, clock: Clock) -> AsyncIterator[World]:
    app = create_app(writable.engine, dispatch=False, schedule=False, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://salesgraph.test") as http:
        yield World(GraphQLClient(http, writable.admin_token), clock, app.state.scheduler, writable)


def pk(global_id: str) -> int:
    return ids.decode(global_id)[1]


async def test_a_mutation_pays_at_most_one_select_for_indicators_while_no_monitor_can_be_affected(world, monkeypatch):
    account = await world.account("Cost: quiet account")
    log = {"attachToId": account, "type": "CALL", "subject": "Call"}
    # SQLite reads the active monitors in every such transaction; PostgreSQL uses those the process read last
    # (read again once after a monitor changed) and checks them in the statement that writes the events.
    read = 0 if world.backend.name == "postgresql" else 1

    async def cost() -> int:
        return statements(await world.api.post(LOG_ACTIVITY, {"input": log}))

    async def steady() -> int:
        await cost()
        return await cost()

    async def no_indicators(conn, events, now, cache=None):
        return indicators.Tracked([])

    with monkeypatch.context() as patched:
        patched.setattr(indicators, "track", no_indicators)
        without = await cost()
    assert await steady() == without + read  # no monitor at all
    await world.monitor("Cost: late deals", "OPPORTUNITY", {"kind": "OPEN_PAST_CLOSE_DATE"})
    assert await steady() == without + read  # none judges accounts
    await world.monitor("Cost: quiet", "ACCOUNT", {"kind": "NO_ACTIVITY", "days": 30})
    await world.monitor("Cost: quiet contacts", "CONTACT", {"kind": "NO_WON_OPPORTUNITY", "months": 2})
    await world.contact(account, "Cost")
    one_contact = await steady()
    for n in range(3):
        await world.contact(account, f"Cost {n}")
    await world.activity(account, "MEETING")
    assert await cost() == one_contact  # batched: the same statements however many contacts and activities
    # measured: 6 on SQLite; 6 on PostgreSQL (its lock instead of the monitors' read)
    assert one_contact - without <= 6, one_contact - without
    await world.consistent()


async def test_a_new_monitor_marks_what_matches_at_once_and_an_activity_clears_only_its_account(world):
    start = world.clock.now
    quiet, busy = await world.account("Quiet AS"), await world.account("Busy AS")
    employee = await world.contact(quiet, "Quiet")
    await world.time_passes(start + 40 * DAY)
    mark = await world.mark()
    monitor = await world.monitor(
        "Not followed up in 30 days",
        "ACCOUNT",
        {"kind": "NO_ACTIVITY", "days": 30, "activityTypes": ["CALL", "MEETING"]},
        description="Call them",
        icon="phone",
        colour="#f0ad4e",
        priority=3,
    )
    contacts = await world.monitor("Contact not followed up", "CONTACT", {"kind": "NO_ACTIVITY", "days": 30})
    found = await world.api.data(
        f"query($id: ID!) {{ node(id: $id) {{ ... on Account {{ {INDICATORS} }} }} }}", {"id": quiet}
    )
    assert [i for i in found["node"]["statusIndicators"] if i["monitor"]["id"] == monitor] == [
        {
            "name": "Not followed up in 30 days",
            "description": "Call them",
            "icon": "phone",
            "colour": "#f0ad4e",
            "priority": 3,
            "setAt": world.clock.now.isoformat(),
            "monitor": {"id": monitor, "name": "Not followed up in 30 days"},
        }
    ]
    assert "Not followed up in 30 days" in await world.indicators(busy)
    assert "Contact not followed up" in await world.indicators(employee)
    made = await world.events_since(mark)
    at = world.clock.now.isoformat()
    assert ("StatusIndicatorSet", "Account", pk(quiet), {"monitorId": pk(monitor), "setAt": at, "at": at}) in made
    assert ("StatusIndicatorSet", "Contact", pk(employee), {"monitorId": pk(contacts), "setAt": at, "at": at}) in made

    await world.time_passes(start + 41 * DAY)
    mark = await world.mark()
    await world.activity(busy, "EMAIL", done=True)  # not a type the account monitor counts
    assert "Not followed up in 30 days" in await world.indicators(busy)
    await world.activity(quiet, "CALL", done=True)
    assert "Not followed up in 30 days" not in await world.indicators(quiet)
    # A person is judged by their own activities (issue 17): a call with the account is not one with them.
    assert "Contact not followed up" in await world.indicators(employee)
    await world.activity(employee, "MEETING", done=True)
    assert "Contact not followed up" not in await world.indicators(employee)
    assert "Not followed up in 30 days" in await world.indicators(busy)
    cleared = await world.events_since(mark)
    assert (
        "StatusIndicatorCleared",
        "Account",
        pk(quiet),
        {
            "monitorId": pk(monitor),
            "setAt": at,
            "clearedAt": world.clock.now.isoformat(),
            "at": world.clock.now.isoformat(),
        },
    ) in cleared
    assert {
        (kind, entity, entity_id)
        for kind, entity, entity_id, data in cleared
        if data["monitorId"] in (pk(monitor), pk(contacts))
    } == {("StatusIndicatorCleared", "Account", pk(quiet)), ("StatusIndicatorCleared", "Contact", pk(employee))}
    await world.consistent()


async def test_a_won_opportunity_clears_no_purchase_on_its_account_and_contacts(world):
    start = world.clock.now
    buyer = await world.account("Buyer AS")
    person = await world.contact(buyer, "Buyer")
    deal = await world.opportunity(buyer, estimatedRevenue={"amount": "1000.00", "currency": "EUR"})
    await world.time_passes(start + 70 * DAY)
    no_purchase = await world.monitor("No purchase in 2 months", "ACCOUNT", {"kind": "NO_WON_OPPORTUNITY", "months": 2})
    await world.monitor("Contact without purchase", "CONTACT", {"kind": "NO_WON_OPPORTUNITY", "months": 2})
    assert "No purchase in 2 months" in await world.indicators(buyer)
    assert "Contact without purchase" in await world.indicators(person)
    quote = await world.run(CREATE_QUOTE, {"opportunityId": deal, "name": "Offer", "currency": "EUR"})
    await world.run(
        ADD_ITEMS,
        {"quoteId": quote["quote"]["id"], "items": [{"name": "Installation", "unitPrice": "1000", "currency": "EUR"}]},
    )
    assert (await world.run(SELL, {"id": deal}))["opportunity"]["stage"] == "WON"
    assert "No purchase in 2 months" not in await world.indicators(buyer)
    assert "Contact without purchase" not in await world.indicators(person)
    await world.consistent()
    # Two months after the sale it is back, by the scheduler, with no request.
    mark = await world.mark()
    world.clock.now = start + 70 * DAY + 62 * DAY
    assert await world.scheduler.run_due(world.clock.now) >= 2
    assert "No purchase in 2 months" in await world.indicators(buyer)
    assert ("StatusIndicatorSet", "Account", pk(buyer)) in {(k, e, i) for k, e, i, _ in await world.events_since(mark)}
    assert pk(no_purchase) in {d["monitorId"] for *_, d in await world.events_since(mark)}
    await world.consistent()


async def test_the_scheduler_flips_time_based_indicators_only_when_their_time_comes(world):
    start = world.clock.now
    account = await world.account("Slow deals AS")
    closes = (start + 4 * DAY).date()
    midnight = datetime.combine(closes + DAY, time(0), tzinfo=UTC)
    deal = await world.opportunity(account, expectedCloseDate=closes.isoformat())
    await world.activity(deal, "MEETING", dueAt=(start + 3 * DAY).isoformat())
    stuck = await world.monitor("Stuck for 10 days", "OPPORTUNITY", {"kind": "STUCK_IN_STAGE", "days": 10})
    await world.monitor("Nothing planned", "OPPORTUNITY", {"kind": "NO_FUTURE_ACTIVITY"})
    await world.monitor("Late", "OPPORTUNITY", {"kind": "OPEN_PAST_CLOSE_DATE"})
    assert await world.indicators(deal) == []

    async def at(moment: datetime) -> list[str]:
        world.clock.now = moment
        await world.scheduler.run_due(moment)
        await world.consistent()
        return sorted(n for n in await world.indicators(deal) if n in ("Late", "Nothing planned", "Stuck for 10 days"))

    assert await at(start + 3 * DAY - timedelta(seconds=1)) == []
    assert await at(start + 3 * DAY) == ["Nothing planned"]
    assert await at(midnight - timedelta(minutes=1)) == ["Nothing planned"]
    assert await at(midnight) == ["Late", "Nothing planned"]
    mark = await world.mark()
    assert await at(start + 10 * DAY) == ["Late", "Nothing planned", "Stuck for 10 days"]
    [(kind, entity, entity_id, data)] = [e for e in await world.events_since(mark) if e[2] == pk(deal)]
    assert (kind, entity, entity_id) == ("StatusIndicatorSet", "Opportunity", pk(deal))
    assert data == {
        "monitorId": pk(stuck),
        "setAt": (start + 10 * DAY).isoformat(),
        "at": (start + 10 * DAY).isoformat(),
    }
    assert await world.scheduler.run_due(start + 10 * DAY) == 0  # nothing left due


async def test_indicators_are_ordered_by_priority_then_name_and_read_in_one_statement_per_level(world):
    start = world.clock.now
    accounts = [await world.account(f"Listed {n} AS") for n in range(4)]
    await world.time_passes(start + 100 * DAY)
    await world.monitor("B: quiet 90 days", "ACCOUNT", {"kind": "NO_ACTIVITY", "days": 90}, priority=1)
    await world.monitor("A: quiet 60 days", "ACCOUNT", {"kind": "NO_ACTIVITY", "days": 60}, priority=1)
    await world.monitor("Z: quiet 30 days", "ACCOUNT", {"kind": "NO_ACTIVITY", "days": 30}, priority=9)
    names = await world.indicators(accounts[0])
    assert [n for n in names if n[:3] in ("A: ", "B: ", "Z: ")] == [
        "Z: quiet 30 days",
        "A: quiet 60 days",
        "B: quiet 90 days",
    ]

    query = (
        'query($first: Int) { accounts(first: $first, filter: {search: "Listed"}) { nodes { name '
        f"{INDICATORS} contacts(first: 5) {{ nodes {{ {INDICATORS} }} }} }} }} }}"
    )

    async def cost(first: int) -> int:
        response = await world.api.post(query, {"first": first})
        assert "errors" not in response.json(), response.json()
        return statements(response)

    assert await cost(1) == await cost(4)


async def test_has_and_lacks_indicator_filter_lists_and_their_counts(world):
    start = world.clock.now
    stale = [await world.account(f"Filter stale {n}") for n in range(3)]
    fresh = await world.account("Filter fresh")
    await world.time_passes(start + 20 * DAY)
    await world.activity(fresh, "CALL", done=True)
    monitor = await world.monitor("Filter: quiet 15 days", "ACCOUNT", {"kind": "NO_ACTIVITY", "days": 15})
    query = """query($filter: AccountFilter) { accounts(filter: $filter, first: 2) { totalCount nodes { id } } }"""

    async def listed(**conditions) -> tuple[int, set[str]]:
        found = (await world.api.data(query, {"filter": {"search": "Filter ", **conditions}}))["accounts"]
        return found["totalCount"], {n["id"] for n in found["nodes"]}

    total, page = await listed(hasIndicator=monitor)
    assert total == 3 and page <= set(stale) and len(page) == 2
    assert await listed(lacksIndicator=monitor) == (1, {fresh})
    contacts = await world.monitor("Filter: contact quiet", "CONTACT", {"kind": "NO_ACTIVITY", "days": 15})
    person = await world.contact(stale[0], "Filterson")
    listing = await world.api.data(
        """query($f: ContactFilter) { contacts(filter: $f) { totalCount nodes { id } } }""",
        {"f": {"search": "Filterson", "hasIndicator": contacts}},
    )
    assert listing["contacts"] == {"totalCount": 0, "nodes": []}  # created just now: not quiet for 15 days yet
    listing = await world.api.data(
        """query($f: ContactFilter) { contacts(filter: $f) { totalCount nodes { id } } }""",
        {"f": {"search": "Filterson", "lacksIndicator": contacts}},
    )
    assert listing["contacts"] == {"totalCount": 1, "nodes": [{"id": person}]}
    late = await world.monitor("Filter: late", "OPPORTUNITY", {"kind": "OPEN_PAST_CLOSE_DATE"})
    deal = await world.opportunity(
        fresh, expectedCloseDate=(start + 10 * DAY).date().isoformat(), name="Filter late deal"
    )
    listing = await world.api.data(
        """query($f: OpportunityFilter) { opportunities(filter: $f) { totalCount
                                      nodes { id } } }""",
        {"f": {"search": "Filter late", "hasIndicator": late}},
    )
    assert listing["opportunities"] == {"totalCount": 1, "nodes": [{"id": deal}]}
    wrong = await world.api.post(query, {"filter": {"hasIndicator": fresh}})
    assert "StatusMonitor" in wrong.json()["errors"][0]["message"]


async def test_switching_a_monitor_off_or_deleting_it_clears_its_indicators_with_an_event_each(world):
    start = world.clock.now
    accounts = [await world.account(f"Switched {n} AS") for n in range(2)]
    await world.time_passes(start + 40 * DAY)
    monitor = await world.monitor("Switch: quiet", "ACCOUNT", {"kind": "NO_ACTIVITY", "days": 30})
    assert all(["Switch: quiet" in await world.indicators(a) for a in accounts])
    mark = await world.mark()
    await world.run(UPDATE_MONITOR, {"id": monitor, "active": False})
    assert all(["Switch: quiet" not in await world.indicators(a) for a in accounts])
    off = [e for e in await world.events_since(mark) if e[3]["monitorId"] == pk(monitor)]
    assert {(kind, entity_id) for kind, _, entity_id, _ in off} >= {("StatusIndicatorCleared", pk(a)) for a in accounts}
    assert {kind for kind, *_ in off} == {"StatusIndicatorCleared"}
    await world.consistent()

    await world.run(UPDATE_MONITOR, {"id": monitor, "active": True})
    assert all(["Switch: quiet" in await world.indicators(a) for a in accounts])
    carried = len([e for e in await world.events_since(mark) if e[0] == "StatusIndicatorSet"])
    mark = await world.mark()
    await world.run(DELETE_MONITOR, {"id": monitor})
    gone = await world.events_since(mark)
    assert len(gone) == carried and {kind for kind, *_ in gone} == {"StatusIndicatorCleared"}
    async with world.backend.engine.connect() as conn:
        left = (
            await conn.execute(
                select(func.count())
                .select_from(tables.status_indicators)
                .where(tables.status_indicators.c.monitor_id == pk(monitor))
            )
        ).scalar_one()
        due = (
            await conn.execute(
                select(func.count())
                .select_from(tables.indicator_due_times)
                .where(tables.indicator_due_times.c.monitor_id == pk(monitor))
            )
        ).scalar_one()
    assert (left, due) == (0, 0)
    await world.consistent()


async def test_deleting_an_entity_clears_its_indicators(world):
    start = world.clock.now
    doomed = await world.account("Doomed AS")
    person = await world.contact(doomed, "Doomed")
    await world.time_passes(start + 40 * DAY)
    await world.monitor("Doomed: quiet", "ACCOUNT", {"kind": "NO_ACTIVITY", "days": 30})
    await world.monitor("Doomed: quiet contact", "CONTACT", {"kind": "NO_ACTIVITY", "days": 30})
    mark = await world.mark()
    deleted = await world.api.data(
        "mutation($input: DeleteAccountInput!) { deleteAccount(input: $input) { __typename } }",
        {"input": {"id": doomed}},
    )
    assert deleted["deleteAccount"]["__typename"] == "DeletedPayload", deleted
    gone = {(kind, entity, entity_id) for kind, entity, entity_id, _ in await world.events_since(mark)}
    assert {
        ("StatusIndicatorCleared", "Account", pk(doomed)),
        ("StatusIndicatorCleared", "Contact", pk(person)),
    } <= gone
    await world.consistent()


@pytest.mark.parametrize(
    "rule",
    [{"kind": "TOO_MANY_ACTIVITIES", "count": 1, "weeks": 1}, {"kind": "MANY_MEETINGS_NO_SALE", "count": 2, "days": 7}],
)
async def test_window_rules_hold_while_enough_activities_are_in_the_window(world, rule):
    start = world.clock.now
    account = await world.account(f"Window {rule['kind']}")
    monitor_name = f"Window: {rule['kind']}"
    await world.monitor(monitor_name, "ACCOUNT", rule)
    await world.activity(account, "MEETING", done=True)
    assert monitor_name not in await world.indicators(account)
    await world.activity(account, "MEETING", done=True)
    assert monitor_name in await world.indicators(account)
    await world.time_passes(start + 7 * DAY)
    await world.scheduler.run_due(world.clock.now)
    assert monitor_name not in await world.indicators(account)
    await world.consistent()


async def test_concurrent_writers_on_postgresql_neither_deadlock_nor_disagree(pg_writable):
    """Activities logged while monitors are changed, switched off and deleted, all at once on several
    connections: every transaction commits, and the indicators are what a full re-evaluation says."""
    from domain.enums import Role
    from domain.monitors import MonitoredEntity, Rule, RuleKind
    from domain.uow import Actor
    from domain.workflows import accounts as acw
    from domain.workflows import activities as aw
    from domain.workflows import monitors as mw
    from persistence.uow import SqlUnitOfWork

    engine, actor, now = pg_writable.engine, Actor(user_id=pg_writable.summary.admin_user_id, role=Role.ADMIN), T0

    async def do(workflow, command):
        async with SqlUnitOfWork(engine, actor, clock=lambda: now) as uow:
            return await workflow(command, uow)

    accounts = [
        await do(acw.create_account, acw.CreateAccount(kind="ORGANIZATION", name=f"Busy {n}")) for n in range(3)
    ]
    for account in accounts:
        await do(acw.create_contact, acw.CreateContact(account_id=account.id, first_name="K", last_name="N"))
    for round_ in range(3):
        now = T0 + (round_ + 1) * 40 * DAY
        quiet = await do(
            mw.create_status_monitor,
            mw.CreateStatusMonitor(
                name=f"Busy quiet {round_}",
                entity_type=MonitoredEntity.ACCOUNT,
                rule=Rule(kind=RuleKind.NO_ACTIVITY, days=30),
            ),
        )
        people = await do(
            mw.create_status_monitor,
            mw.CreateStatusMonitor(
                name=f"Busy people {round_}",
                entity_type=MonitoredEntity.CONTACT,
                rule=Rule(kind=RuleKind.TOO_MANY_ACTIVITIES, count=2, weeks=1),
            ),
        )
        gone = await do(
            mw.create_status_monitor,
            mw.CreateStatusMonitor(
                name=f"Busy gone {round_}",
                entity_type=MonitoredEntity.ACCOUNT,
                rule=Rule(kind=RuleKind.TOO_MANY_ACTIVITIES, count=1, weeks=1),
            ),
        )
        now += DAY
        await asyncio.gather(
            *(
                do(
                    aw.create_sales_activity,
                    aw.CreateSalesActivity(attach_to=aw.Target("Account", a.id), type="CALL", subject="S", done=True),
                )
                for a in accounts
                for _ in range(3)
            ),
            do(
                mw.update_status_monitor,
                mw.UpdateStatusMonitor(id=quiet.id, rule=Rule(kind=RuleKind.NO_ACTIVITY, days=20)),
            ),
            do(mw.update_status_monitor, mw.UpdateStatusMonitor(id=people.id, active=False)),
            do(mw.delete_status_monitor, mw.DeleteStatusMonitor(id=gone.id)),
            do(
                mw.create_status_monitor,
                mw.CreateStatusMonitor(
                    name=f"Busy new {round_}",
                    entity_type=MonitoredEntity.CONTACT,
                    rule=Rule(kind=RuleKind.TOO_MANY_ACTIVITIES, count=1, weeks=1),
                ),
            ),
        )
        async with engine.connect() as conn:
            assert await indicators.stored_indicators(conn) == await indicators.evaluate_all(conn, now)


async def test_a_monitor_made_in_another_process_judges_this_processs_next_change(pg_writable):
    """Each process uses the monitors it read last (PostgreSQL). Another process (its own engine) makes a monitor
    that marks an account; this process, whose monitors predate it, then logs an activity that should clear the
    mark: the fingerprint its commit reads tells it the monitors changed, and it judges the change by the new
    monitor before committing. The monitor's stored indicators equal a full re-evaluation after each step."""
    from domain.enums import Role
    from domain.monitors import MonitoredEntity, Rule, RuleKind
    from domain.uow import Actor
    from domain.workflows import accounts as acw
    from domain.workflows import activities as aw
    from domain.workflows import monitors as mw
    from persistence.db import create_engine
    from persistence.uow import SqlUnitOfWork

    here, there = pg_writable.engine, create_engine(pg_writable.url)
    actor, now = Actor(user_id=pg_writable.summary.admin_user_id, role=Role.ADMIN), T0

    async def do(engine, workflow, command):
        async with SqlUnitOfWork(engine, actor, clock=lambda: now) as uow:
            return await workflow(command, uow)

    async def consistent(monitor_id: int) -> set:
        """The monitor's stored pairs, asserted equal to a full re-evaluation's (other tests of this module
        leave indicators judged at other times, so only this monitor's are compared)."""
        async with here.connect() as conn:
            stored = {p for p in await indicators.stored_indicators(conn) if p[0] == monitor_id}
            assert stored == {p for p in await indicators.evaluate_all(conn, now) if p[0] == monitor_id}
            return stored

    try:
        account = await do(here, acw.create_account, acw.CreateAccount(kind="ORGANIZATION", name="Elsewhere AS"))
        await do(here, acw.create_account, acw.CreateAccount(kind="ORGANIZATION", name="Warm-up AS"))
        assert indicators.monitor_cache(here).seen is not None  # this process has read the monitors
        now += 40 * DAY
        quiet = await do(
            there,
            mw.create_status_monitor,
            mw.CreateStatusMonitor(
                name="Quiet elsewhere",
                entity_type=MonitoredEntity.ACCOUNT,
                rule=Rule(kind=RuleKind.NO_ACTIVITY, days=30),
            ),
        )
        assert (quiet.id, "ACCOUNT", account.id) in await consistent(quiet.id)
        await do(
            here,
            aw.create_sales_activity,
            aw.CreateSalesActivity(attach_to=aw.Target("Account", account.id), type="CALL", subject="S", done=True),
        )
        assert (quiet.id, "ACCOUNT", account.id) not in await consistent(quiet.id)
    finally:
        await there.dispose()


async def test_the_scheduler_drops_what_a_monitor_deleted_behind_its_back_left(world):
    """A monitor removed outside the unit of work (by hand in SQL) leaves rows no one announced: when one
    of them falls due the scheduler clears them all, and a due time that matches no monitor's pair is
    dropped instead of being come back to forever."""
    from sqlalchemy import delete, insert

    start = world.clock.now
    old = await world.account("Orphaned old AS")
    monitor = pk(await world.monitor("Orphaning", "ACCOUNT", {"kind": "NO_ACTIVITY", "days": 5}))
    await world.time_passes(start + 6 * DAY)
    young = await world.account("Orphaned young AS")  # due in 5 days
    assert "Orphaning" in await world.indicators(old)
    async with world.backend.engine.begin() as conn:
        await conn.execute(delete(tables.status_monitors).where(tables.status_monitors.c.id == monitor))
        other = (await conn.execute(select(func.min(tables.status_monitors.c.id)))).scalar_one()
        await conn.execute(
            insert(tables.indicator_due_times).values(
                monitor_id=other, entity_type="LEAD", entity_id=1, due_at=start + 7 * DAY
            )
        )
    mark = await world.mark()
    await world.time_passes(start + 12 * DAY)
    assert ("StatusIndicatorCleared", "Account", pk(old)) in {
        (k, e, i) for k, e, i, d in await world.events_since(mark) if d["monitorId"] == monitor
    }
    async with world.backend.engine.connect() as conn:
        for table in (tables.status_indicators, tables.indicator_due_times):
            left = await conn.execute(
                select(func.count())
                .select_from(table)
                .where((table.c.monitor_id == monitor) | (table.c.entity_type == "LEAD"))
            )
            assert left.scalar_one() == 0
    assert "Orphaning" not in await world.indicators(young)
    assert await world.scheduler.run_due(start + 12 * DAY) == 0
    await world.consistent()


async def test_renaming_a_monitor_or_changing_its_look_re_evaluates_nothing(world, monkeypatch):
    monitor = await world.monitor("Look: quiet", "ACCOUNT", {"kind": "NO_ACTIVITY", "days": 3})
    version = 1

    async def cost(**changes) -> int:
        nonlocal version
        response = await world.api.post(UPDATE_MONITOR, {"input": {"id": monitor, "version": version, **changes}})
        assert response.json()["data"]["updateStatusMonitor"]["__typename"] == "StatusMonitorPayload"
        version += 1
        return statements(response)

    async def no_indicators(conn, events, now, cache=None):
        return indicators.Tracked([])

    with monkeypatch.context() as patched:
        patched.setattr(indicators, "track", no_indicators)
        without = await cost(name="Look: hushed", priority=2)
    mark = await world.mark()
    assert await cost(name="Look: silent", priority=4, colour="#123456", description="Call") == without
    assert await world.events_since(mark) == []
    assert await cost(rule={"kind": "NO_ACTIVITY", "days": 4}) > without  # the rule: every account again
    await world.consistent()

"""The conversation insights' aggregates against random histories (hypothesis), on SQLite and PostgreSQL:
conversations recorded (by any seller, linked to nothing, an account, a contact or an opportunity, with a
customer contact speaking or not, on any of 70 days, mentioning tracked terms and brands), deleted;
tracked terms created and deleted with the background re-analysis run; contacts that speak deleted (their
conversations move to another scope). After every step the stored buckets and items equal a
recomputation from the conversations (`differences`, what `salesgraph check-aggregates` runs), and for a
viewer in turn (the system, each admin, director, rep and partner) the buckets of the scopes it may see
add up to exactly the conversations it may see through the conversations' own rule; and the CLI checks
and rebuilds them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time as clock
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import func, select

from domain import insights
from domain.enums import ConversationKind, Language, Role, Side, TermKind
from domain.errors import DomainError
from domain.sentiment import builtin_scorer
from domain.transcripts import NewSegment, Speaker
from domain.uow import Actor
from domain.workflows import accounts as aw
from domain.workflows import conversations as cw
from domain.workflows import tracked_terms as tw
from gql.schema.mutations.conversations import OUTCOMES, STORE
from persistence import conversation_aggregates as ca
from persistence import tables
from persistence.db import create_engine
from persistence.migrate import upgrade_async
from persistence.reanalysis import Reanalyser
from persistence.seed import seed
from persistence.uow import SqlUnitOfWork
from persistence.visibility import PARTNER, Viewer, conversation_scope_rule
from tests.conftest import ANCHOR, new_database_url

BRANDS = ["Lumenhaus", "Printwell 3D", "Nordvik Labs", "Quadrant"]
LINES = [
    "We looked at {brand} last spring, and it was not good.",
    "Your price for the 3D printer is too high.",
    "Great, the service was excellent and we are happy.",
    "Can you send the quote for the filament again?",
    "{brand} offered us a discount, honestly.",
]


class World:
    """One event loop and one seeded database (20 opportunities, 8 conversations) for every example."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.run(upgrade_async(url))
        self.engine = create_engine(url)
        self.run(seed(self.engine, 20, anchor=ANCHOR, conversations=8))
        self.run(self._load())
        self.now = ANCHOR + timedelta(hours=10)
        self.steps = self.compared = 0
        self.done: dict[str, int] = {}

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    async def _load(self) -> None:
        t = tables
        async with self.engine.connect() as conn:
            users = list(await conn.execute(select(t.users).order_by(t.users.c.id)))
            partners = [r.id for r in await conn.execute(select(t.partners.c.id).order_by(t.partners.c.id))]
            self.accounts = [r.id for r in await conn.execute(select(t.accounts.c.id).order_by(t.accounts.c.id))]
            self.contacts = {
                r.id: r.account_id
                for r in await conn.execute(
                    select(t.contacts.c.id, t.contacts.c.account_id).where(t.contacts.c.account_id.is_not(None))
                )
            }
            self.opportunities = {
                r.id: r.account_id
                for r in await conn.execute(select(t.opportunities.c.id, t.opportunities.c.account_id))
            }
            self.conversations = [r.id for r in await conn.execute(select(t.conversations.c.id))]
        self.admin = next(u.id for u in users if u.role == "ADMIN")
        self.sellers = [u.id for u in users if u.role != "ADMIN"]
        self.viewers = [
            Viewer.everything(),
            *(Viewer(u.role, user_id=u.id) for u in users),
            *(Viewer(PARTNER, partner_id=p) for p in partners),
        ]

    async def attempt(self, workflow, command, *ports, actor: Actor | None = None):
        try:
            async with SqlUnitOfWork(self.engine, actor, clock=lambda: self.now) as uow:
                return await workflow(command, uow, *ports)
        except DomainError:
            return None

    async def check(self) -> None:
        async with self.engine.connect() as conn:
            assert await conn.run_sync(ca.differences) == []
            viewer = self.viewers[self.steps % len(self.viewers)]
            assert await visible_sums(conn, viewer) == await recounted_sums(conn, viewer), viewer
        self.steps += 1
        self.compared += 1


async def visible_sums(conn, viewer: Viewer) -> tuple[dict, dict]:
    """What the MONTH buckets and items of the scopes `viewer` sees add up to, per owner."""
    b, it, s = ca.buckets, ca.items, ca.scopes
    rule = conversation_scope_rule(viewer)
    where = [b.c.grain == ca.MONTH, *([rule] if rule is not None else [])]
    sums: dict[int, insights.Sums] = {}
    stmt = (
        select(s.c.owner_id, *(func.sum(b.c[n]) for n in ca.FIGURES))
        .select_from(b.join(s, s.c.id == b.c.scope_id))
        .where(*where)
        .group_by(s.c.owner_id)
    )
    for owner, *values in await conn.execute(stmt, viewer.params):
        sums.setdefault(owner, insights.Sums()).add(values)
    where = [it.c.grain == ca.MONTH, *([rule] if rule is not None else [])]
    items: dict[tuple, tuple[int, int, int]] = {}
    stmt = (
        select(
            s.c.owner_id,
            it.c.kind,
            it.c.item,
            func.sum(it.c.calls),
            func.sum(it.c.seller_mentions),
            func.sum(it.c.customer_mentions),
        )
        .select_from(it.join(s, s.c.id == it.c.scope_id))
        .where(*where)
        .group_by(s.c.owner_id, it.c.kind, it.c.item)
    )
    for owner, kind, item, *values in await conn.execute(stmt, viewer.params):
        items[(owner, kind, item)] = tuple(int(v) for v in values)
    return {k: dict(v) for k, v in sums.items()}, items


async def recounted_sums(conn, viewer: Viewer) -> tuple[dict, dict]:
    """The same from the conversations `viewer` sees by the conversations' rule, analysis by analysis."""
    rule = viewer.rule(tables.conversations)
    found = await ca.facts_where(
        conn, rule if rule is not None else tables.conversations.c.id.is_not(None), viewer.params
    )
    sums: dict[int, insights.Sums] = {}
    items: dict[tuple, list[int]] = {}
    for f in found:
        sums.setdefault(f.scope.owner_id, insights.Sums()).add(ca.figures(f))
        for kind, item, counts in ca.item_figures(f):
            entry = items.setdefault((f.scope.owner_id, kind, item), [0, 0, 0])
            for n, v in enumerate(counts):
                entry[n] += v
    return {k: dict(v) for k, v in sums.items()}, {k: tuple(v) for k, v in items.items()}


def pick(items, which: int):
    items = list(items)
    return items[which % len(items)]


def history_of(world: World):
    class History(RuleBasedStateMachine):
        @rule(
            seller=st.integers(0, 99),
            link=st.sampled_from(["none", "account", "contact", "opportunity"]),
            place=st.integers(0, 999),
            speaks=st.booleans(),
            day=st.integers(0, 69),
            seconds=st.integers(0, 86399),
            lines=st.lists(
                st.tuples(st.integers(0, len(LINES) - 1), st.integers(0, len(BRANDS) - 1)), min_size=1, max_size=4
            ),
            phone=st.booleans(),
        )
        def record(self, seller, link, place, speaks, day, seconds, lines, phone):
            account = contact = opportunity = None
            if link == "account":
                account = pick(world.accounts, place)
            elif link == "contact":
                contact = pick(world.contacts, place)
            elif link == "opportunity":
                opportunity = pick(world.opportunities, place)
            voice = pick(world.contacts, place + 1) if speaks and world.contacts else None
            speakers = [
                Speaker("Seller", Side.SELLER, user_id=None),
                Speaker("Customer", Side.CUSTOMER, contact_id=voice),
            ]
            segments, at = [], 0
            for n, (line, brand) in enumerate(lines):
                text = LINES[line].format(brand=BRANDS[brand])
                segments.append(NewSegment("Seller" if n % 2 else "Customer", at, at + 9_000, text))
                at += 10_000
            command = cw.RecordConversation(
                kind=ConversationKind.PHONE_CALL if phone else ConversationKind.ONLINE_MEETING,
                started_at=world.now - timedelta(days=day, seconds=seconds),
                speakers=speakers,
                segments=segments,
                language=Language.EN,
                owner_id=pick(world.sellers, seller),
                account_id=account,
                contact_id=contact,
                opportunity_id=opportunity,
            )
            done = world.run(world.attempt(cw.record_conversation, command, STORE, OUTCOMES, builtin_scorer()))
            if done is not None:
                world.conversations.append(done.conversation_id)
                world.done["recorded"] = world.done.get("recorded", 0) + 1

        @rule(which=st.integers(0, 999))
        def delete(self, which):
            if not world.conversations:
                return
            gone = world.conversations.pop(which % len(world.conversations))
            if world.run(world.attempt(cw.delete_conversation, cw.DeleteConversation(id=gone), STORE)) is not None:
                world.done["deleted"] = world.done.get("deleted", 0) + 1

        @rule(brand=st.integers(0, len(BRANDS) - 1), keyword=st.booleans())
        def toggle_term(self, brand, keyword):
            name = BRANDS[brand]
            admin = Actor(user_id=world.admin, role=Role.ADMIN)

            async def toggle() -> None:
                async with world.engine.connect() as conn:
                    found = (
                        await conn.execute(select(tables.tracked_terms.c.id).where(tables.tracked_terms.c.name == name))
                    ).scalar()
                if found is None:
                    kind = TermKind.KEYWORD if keyword else TermKind.COMPETITOR
                    await world.attempt(tw.create_tracked_term, tw.CreateTrackedTerm(kind=kind, name=name), actor=admin)
                else:
                    await world.attempt(tw.delete_tracked_term, tw.DeleteTrackedTerm(id=found), actor=admin)
                again = await Reanalyser(world.engine).run_pending()
                world.done["reanalysed"] = world.done.get("reanalysed", 0) + again

            world.run(toggle())

        @rule(which=st.integers(0, 999))
        def delete_speaking_contact(self, which):
            async def speaking() -> list[int]:
                p = tables.conversation_participants
                async with world.engine.connect() as conn:
                    rows = await conn.execute(select(p.c.contact_id).where(p.c.contact_id.is_not(None)).distinct())
                    return sorted(r.contact_id for r in rows)

            found = world.run(speaking())
            if not found:
                return
            gone = found[which % len(found)]
            if world.run(world.attempt(aw.delete_contact, aw.ContactRef(id=gone))) is not None:
                world.contacts.pop(gone, None)
                world.done["contacts deleted"] = world.done.get("contacts deleted", 0) + 1

        @invariant()
        def aggregates_equal_the_conversations(self):
            world.run(world.check())

    return History


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    w = World(new_database_url(request.param, request, tmp_path_factory))
    yield w
    w.run(w.engine.dispose())
    w.loop.close()


def test_random_histories_keep_the_conversation_aggregates_equal_to_the_conversations_for_every_role(world):
    started = clock.monotonic()
    machine = history_of(world)
    machine.TestCase.settings = settings(
        max_examples=8,
        stateful_step_count=8,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    machine.TestCase().runTest()
    print(f"{world.steps} steps ({world.done}), {world.compared} viewers compared, {clock.monotonic() - started:.1f} s")
    assert world.done.get("recorded") and world.done.get("reanalysed") and world.done.get("deleted")


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "salesgraph.cli", *args],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_aggregates_names_a_conversation_bucket_that_differs_and_rebuild_mends_it(world, request):
    url = world.engine.url.render_as_string(hide_password=False)  # agreeing: the history checked it each step

    async def spoil() -> None:
        b = ca.buckets.c
        async with world.engine.begin() as conn:
            row = (
                await conn.execute(
                    select(ca.buckets).where(b.grain == ca.DAY).order_by(b.scope_id, b.starts_on).limit(1)
                )
            ).one()
            await conn.execute(
                ca.buckets.update()
                .where(b.scope_id == row.scope_id, b.grain == row.grain, b.starts_on == row.starts_on)
                .values(calls=b.calls + 1)
            )

    world.run(spoil())
    checked = cli(url, "check-aggregates", "--quiet")
    assert checked.returncode == 1, checked.stderr
    assert checked.stdout.count("\n") == 1 and checked.stdout.startswith("conversation_buckets owner="), checked.stdout
    assert (
        "0 scoreboard, report and activity buckets differ from the deal and activity tables, 1 conversation buckets"
        in checked.stderr
    )
    rebuilt = cli(url, "rebuild-aggregates")
    assert rebuilt.returncode == 0 and "rebuilt the conversation aggregates" in rebuilt.stderr
    assert cli(url, "check-aggregates", "--quiet").returncode == 0

"""The scoreboard's aggregates against random histories (hypothesis), on SQLite and PostgreSQL: deals
created, moved through stages, re-valued, given to another owner, won (from a quote) and lost with
backdated closing times, reopened, deleted and moved to other accounts; partners given and taken;
accounts made private and public, given other managers and partners; exchange rates changed; time
passing; deals' credit shared among two or three users by percentage (the scoreboard counts each user's
part as that user's). After every step the buckets equal a recomputation from the deal table (`differences`, what
`salesgraph check-aggregates` runs), and every role's scoreboard read from the buckets (the system's,
the admin's, each director's, each rep's, each partner's) equals the one read from the deal table
through the visibility rules, for every preset, a ragged custom range, a team and another currency;
and so does each viewer's board cut in Python from the one read a live board shares among viewers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time as clock
from datetime import timedelta
from decimal import Decimal

import pytest
from alembic import command
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import func, select

from domain.enums import Role, Stage
from domain.errors import DomainError
from domain.money import Money
from domain.scoreboard import PeriodPreset, PeriodSpec, ScoreboardRequest
from domain.uow import Actor
from domain.workflows import accounts as aw
from domain.workflows import catalog as cw
from domain.workflows import credit_shares as cs
from domain.workflows import opportunities as ow
from domain.workflows import quotes as qw
from persistence import aggregates, tables
from persistence.catalog import SqlExchangeRates
from persistence.db import create_engine
from persistence.migrate import alembic_config, upgrade_async
from persistence.scoreboard import cut_board, load_board_source, load_scoreboard
from persistence.uow import SqlUnitOfWork
from persistence.visibility import PARTNER, Viewer
from tests.conftest import ANCHOR, seeded_database

# Credit splits of two and of three users (domain/credit.py): even, uneven, and a 1 % sliver.
SPLITS = {2: [(50, 50), (99, 1)], 3: [(34, 33, 33), (70, 20, 10)]}
OPEN = ["PROSPECTING", "QUALIFICATION", "PROPOSAL", "NEGOTIATION"]
# CHF has no rate until a step sets one: its amounts are left out and named meanwhile.
CURRENCIES = ["EUR", "USD", "NOK", "CHF"]
AMOUNTS = st.decimals(min_value=Decimal("1"), max_value=Decimal("90000"), places=2)
# A closing time up to 50 days back, to the second: across days, months and a quarter's start.
BACKDATE = st.integers(0, 50 * 86400)


class World:
    """One event loop and one seeded database (60 opportunities) for every example: each example goes
    on from where the last one left the data, and the invariants are about all of it."""

    def __init__(self, request, tmp_path_factory) -> None:
        self.loop = asyncio.new_event_loop()
        url, _ = self.run(seeded_database(request, tmp_path_factory, request.param, 60))
        self.engine = create_engine(url)
        self.run(self._load())
        self.now = ANCHOR + timedelta(hours=13, minutes=7, seconds=5)  # windows with ragged edges
        self.steps = self.boards = self.shared = 0

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    async def _load(self) -> None:
        async with self.engine.connect() as conn:
            users = list(await conn.execute(select(tables.users).order_by(tables.users.c.id)))
            partners = [r.id for r in await conn.execute(select(tables.partners.c.id).order_by(tables.partners.c.id))]
            self.teams = [r.id for r in await conn.execute(select(tables.teams.c.id).order_by(tables.teams.c.id))]
            accounts = await conn.execute(
                select(tables.accounts.c.id, tables.accounts.c.created_by_id).order_by(tables.accounts.c.id)
            )
            self.creators = {r.id: r.created_by_id for r in accounts}
            self.opportunities = [
                r.id for r in await conn.execute(select(tables.opportunities.c.id).order_by(tables.opportunities.c.id))
            ]
        self.users = {u.id: Role(u.role) for u in users}
        self.sellers = [u.id for u in users if u.role != "ADMIN"]
        self.everyone = [u.id for u in users]
        self.admin = next(u.id for u in users if u.role == "ADMIN")
        self.partners = partners
        self.accounts = sorted(self.creators)
        self.viewers = [
            Viewer.everything(),
            *(Viewer(u.role, user_id=u.id) for u in users),
            *(Viewer(PARTNER, partner_id=p) for p in partners),
        ]

    async def shared_deals(self) -> int:
        async with self.engine.connect() as conn:
            o = tables.opportunities.c
            return (await conn.execute(select(func.count()).where(o.credit_shares.is_not(None)))).scalar_one()

    async def owner_of(self, opportunity_id: int) -> int:
        async with self.engine.connect() as conn:
            o = tables.opportunities.c
            return (await conn.execute(select(o.owner_id).where(o.id == opportunity_id))).scalar_one()

    async def attempt(self, workflow, command, *ports, actor: Actor | None = None, back: int = 0):
        """Run a workflow as the system (or `actor`) at `now` less `back` seconds; None when refused."""
        at = self.now - timedelta(seconds=back)
        try:
            async with SqlUnitOfWork(self.engine, actor, clock=lambda: at) as uow:
                return await workflow(command, uow, *ports)
        except DomainError:
            return None

    def requests(self) -> list[ScoreboardRequest]:
        ragged = PeriodSpec.of(start=self.now - timedelta(days=45, hours=5), end=self.now - timedelta(days=2, hours=3))
        month = PeriodSpec.of(PeriodPreset.THIS_MONTH)
        return [
            *(ScoreboardRequest.of(PeriodSpec.of(preset)) for preset in PeriodPreset),
            ScoreboardRequest.of(ragged),
            *(ScoreboardRequest.of(month, team) for team in self.teams),
            ScoreboardRequest.of(month, currency="USD"),
        ]

    async def check(self) -> None:
        """The buckets equal the deal table's, and every viewer's board from them equals the one from
        the deal table, for one request per step in turn (each takes two reads of every board)."""
        async with self.engine.connect() as conn:
            assert await conn.run_sync(aggregates.differences) == []
        requests = self.requests()
        request = requests[self.steps % len(requests)]
        async with self.engine.connect() as conn:
            shared = await load_board_source(conn, request, self.now)  # what a live board reads, once
        for viewer in self.viewers:
            from_buckets = await load_scoreboard(self.engine, request, self.now, viewer)
            from_deals = await load_scoreboard(self.engine, request, self.now, viewer, from_deals=True)
            assert from_buckets.figures() == from_deals.figures(), (viewer, request)
            # The live board's cut for this viewer, from the one read shared by all of them.
            assert cut_board(shared, viewer).board.figures() == from_deals.figures(), (viewer, request)
            self.boards += 1
        self.steps += 1


def pick(items: list[int], which: int) -> int:
    return items[which % len(items)]


def history_of(world: World):
    def deal(which: int) -> int:
        """An opportunity: every other pick among the latest (mostly made by the histories, so open and
        unlocked), the others among all (the seed's won and locked ones too)."""
        return pick(world.opportunities[-12:] if which % 2 else world.opportunities, which // 2)

    class Histories(RuleBasedStateMachine):
        """Each rule picks among all opportunities, accounts, users and partners by index."""

        @rule(
            account=st.integers(0, 999),
            owner=st.integers(0, 999),
            partner=st.none() | st.integers(0, 999),
            stage=st.sampled_from(OPEN),
            amount=st.none() | AMOUNTS,
            currency=st.sampled_from(CURRENCIES),
        )
        def create(self, account, owner, partner, stage, amount, currency):
            made = world.run(
                world.attempt(
                    ow.create_opportunity,
                    ow.CreateOpportunity(
                        name="Random history",
                        account_id=pick(world.accounts, account),
                        owner_id=pick(world.sellers, owner),
                        partner_id=None if partner is None else pick(world.partners, partner),
                        stage=Stage(stage),
                        estimated_revenue=None if amount is None else Money(amount, currency),
                    ),
                )
            )
            if made is not None:
                world.opportunities.append(made.id)

        @rule(
            account=st.integers(0, 999),
            owner=st.integers(0, 999),
            amount=AMOUNTS,
            currency=st.sampled_from(CURRENCIES),
            won=st.booleans(),
            back=BACKDATE,
            others=st.lists(st.integers(0, 999), min_size=0, max_size=1),
            shared=st.integers(0, 3),
        )
        def create_and_close(self, account, owner, amount, currency, won, back, others, shared):
            """A deal made and closed at once, `back` seconds ago (a sale or a loss entered late); three times in
            four its credit shared first (0: not shared)."""
            made = len(world.opportunities)
            self.create(account, owner, None, "NEGOTIATION", amount, currency)
            if len(world.opportunities) > made:
                if shared:
                    self.share(world.opportunities[-1], others, amount.as_tuple().digits[-1] % 2, 1)
                if won:
                    self.sell(world.opportunities[-1], back, amount, 1, currency)
                else:
                    self.close_lost(world.opportunities[-1], back)

        @rule(which=st.integers(0, 999), stage=st.sampled_from(OPEN))
        def move_stage(self, which, stage):  # also reopens a lost one
            world.run(world.attempt(ow.change_opportunity_stage, ow.ChangeStage(id=deal(which), stage=Stage(stage))))

        @rule(which=st.integers(0, 999), amount=st.none() | AMOUNTS, currency=st.sampled_from(CURRENCIES))
        def revalue(self, which, amount, currency):
            revenue = None if amount is None else Money(amount, currency)
            world.run(
                world.attempt(
                    ow.update_opportunity,
                    ow.UpdateOpportunity(id=deal(which), estimated_revenue=revenue),
                )
            )

        @rule(
            which=st.integers(0, 999),
            others=st.lists(st.integers(0, 999), min_size=0, max_size=1),
            split=st.integers(0, 1),
            clear=st.integers(0, 3),
        )
        def share_credit(self, which, others, split, clear):
            self.share(deal(which), others, split, clear)

        def share(self, opportunity, others, split, clear):
            """The deal's credit shared between its owner, an admin (who sees most deals, so that most splits are
            allowed) and maybe one other user (or shared no more): the workflow refuses a user who may not see the
            deal, a locked deal, and leaves it as it was."""
            shares = []
            if clear:  # three times in four (0: shared no more)
                owner = world.run(world.owner_of(opportunity))
                users = list(dict.fromkeys([owner, world.admin, *(pick(world.everyone, o) for o in others)]))
                if len(users) < 2:
                    return
                percents = SPLITS[len(users)][split]
                shares = [cs.ShareSpec(user_id=u, percent=p) for u, p in zip(users, percents)]
            done = world.run(
                world.attempt(cs.set_opportunity_credit_shares, cs.SetCreditShares(id=opportunity, shares=shares))
            )
            world.shared += done is not None and bool(shares)

        @rule(which=st.integers(0, 999), owner=st.integers(0, 999))
        def hand_over(self, which, owner):
            world.run(
                world.attempt(
                    ow.update_opportunity,
                    ow.UpdateOpportunity(id=deal(which), owner_id=pick(world.sellers, owner)),
                )
            )

        @rule(
            which=st.integers(0, 999),
            back=BACKDATE,
            price=AMOUNTS,
            quantity=st.integers(1, 3),
            currency=st.sampled_from(CURRENCIES),
        )
        def win(self, which, back, price, quantity, currency):
            self.sell(deal(which), back, price, quantity, currency)

        def sell(self, opportunity, back, price, quantity, currency):
            """A new quote with one manual item, made active, sold: closed `back` seconds ago."""
            quote = world.run(
                world.attempt(qw.create_quote, qw.CreateQuote(opportunity_id=opportunity, name="Q", currency=currency))
            )
            if quote is None:
                return
            item = qw.NewItem(name="Manual", quantity=Decimal(quantity), unit_price=price, currency=currency)
            world.run(world.attempt(qw.add_quote_items, qw.AddItems(quote_id=quote.id, items=[item])))
            world.run(world.attempt(qw.make_quote_active, qw.QuoteRef(id=quote.id)))
            world.run(world.attempt(ow.mark_opportunity_sold, ow.MarkSold(id=opportunity), back=back))

        @rule(which=st.integers(0, 999), back=BACKDATE)
        def lose(self, which, back):
            self.close_lost(deal(which), back)

        def close_lost(self, opportunity, back):
            world.run(world.attempt(ow.mark_opportunity_lost, ow.MarkLost(id=opportunity, reason="Price"), back=back))

        @rule(which=st.integers(0, 999))
        def unlock(self, which):
            world.run(world.attempt(ow.unlock_opportunity, ow.Unlock(id=deal(which))))

        @rule(which=st.integers(0, 999))
        def delete(self, which):
            opportunity = deal(which)
            if world.run(world.attempt(ow.delete_opportunity, ow.DeleteOpportunity(id=opportunity))) is not None:
                world.opportunities.remove(opportunity)

        @rule(which=st.integers(0, 999), account=st.integers(0, 999))
        def move_to_account(self, which, account):
            world.run(
                world.attempt(
                    ow.move_opportunity,
                    ow.MoveOpportunity(id=deal(which), account_id=pick(world.accounts, account)),
                )
            )

        @rule(which=st.integers(0, 999), partner=st.none() | st.integers(0, 999))
        def give_deal_partner(self, which, partner):
            world.run(
                world.attempt(
                    ow.assign_opportunity_partner,
                    ow.AssignOpportunityPartner(
                        id=deal(which),
                        partner_id=None if partner is None else pick(world.partners, partner),
                    ),
                )
            )

        @rule(account=st.integers(0, 999), private=st.booleans())
        def set_privacy(self, account, private):
            """Only its creator may make an account private or public."""
            account_id = pick(world.accounts, account)
            creator = world.creators[account_id]
            if creator is None:
                return
            actor = Actor(user_id=creator, role=world.users[creator])
            command = aw.UpdateAccount(id=account_id, is_private=private, **({"is_global": False} if private else {}))
            world.run(world.attempt(aw.update_account, command, actor=actor))

        @rule(account=st.integers(0, 999), manager=st.none() | st.integers(0, 999))
        def set_manager(self, account, manager):
            managed = None if manager is None else pick(world.sellers, manager)
            world.run(
                world.attempt(aw.update_account, aw.UpdateAccount(id=pick(world.accounts, account), manager_id=managed))
            )

        @rule(account=st.integers(0, 999), partner=st.none() | st.integers(0, 999))
        def set_account_partner(self, account, partner):
            world.run(
                world.attempt(
                    aw.assign_account_partner,
                    aw.AssignAccountPartner(
                        id=pick(world.accounts, account),
                        partner_id=None if partner is None else pick(world.partners, partner),
                    ),
                )
            )

        @rule(
            currency=st.sampled_from(["USD", "NOK", "CHF"]), rate=st.decimals(Decimal("0.01"), Decimal("3"), places=4)
        )
        def set_rate(self, currency, rate):
            world.run(
                world.attempt(
                    cw.set_exchange_rate, cw.SetExchangeRate(currency=currency, rate=rate), SqlExchangeRates()
                )
            )

        @rule(seconds=st.integers(60, 3 * 86400))
        def time_passes(self, seconds):
            world.now += timedelta(seconds=seconds)

        @invariant()
        def boards_from_buckets_equal_boards_from_deals(self):
            world.run(world.check())

    return Histories


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    w = World(request, tmp_path_factory)
    yield w
    w.run(w.engine.dispose())
    w.loop.close()


def test_random_histories_keep_the_aggregates_equal_to_the_deal_table_for_every_role(world):
    started = clock.monotonic()
    machine = history_of(world)
    machine.TestCase.settings = settings(
        max_examples=14,
        stateful_step_count=12,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    machine.TestCase().runTest()
    shared = world.run(world.shared_deals())
    print(
        f"{world.steps} steps, {world.boards} boards compared, {world.shared} credit splits set, {shared} deals "
        f"shared at the end, {clock.monotonic() - started:.1f} s"
    )
    assert world.shared, "some histories shared a deal's credit"


# --- building and checking them ---


@pytest.fixture(params=["sqlite", "postgresql"])
async def seeded_url(request, tmp_path_factory):
    """A new database, migrated and seeded small (60 opportunities), by URL."""
    url, _ = await seeded_database(request, tmp_path_factory, request.param, 60)
    return url


async def buckets_of(url: str) -> list[tuple]:
    engine = create_engine(url)
    async with engine.connect() as conn:
        rows = [tuple(r) for r in await conn.execute(select(tables.scoreboard_buckets))]
    await engine.dispose()
    return sorted(rows)


async def test_the_migration_builds_the_aggregates_of_a_database_that_had_none(seeded_url, capfd):
    built = await buckets_of(seeded_url)
    assert built  # seeding built them
    await asyncio.to_thread(command.downgrade, alembic_config(seeded_url), "0006")  # as before 0007
    capfd.readouterr()
    await upgrade_async(seeded_url)
    progress = capfd.readouterr().err
    # 0018_split builds the scoreboard's buckets (with the reports') since it changed their figures.
    assert "aggregates: 60 of 60 opportunities" in progress
    assert "aggregates: building the scoreboard and report buckets" in progress
    assert await buckets_of(seeded_url) == built


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "salesgraph.cli", *args],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_check_aggregates_names_each_bucket_that_differs_and_fails_until_rebuilt(seeded_url):
    assert cli(seeded_url, "check-aggregates", "--quiet").returncode == 0
    b = tables.scoreboard_buckets.c
    engine = create_engine(seeded_url)
    async with engine.begin() as conn:
        wrong = (
            await conn.execute(
                select(tables.scoreboard_buckets)
                .where(b.slice == "OWNER", b.grain == "ALL", b.kind == "OPEN")
                .order_by(b.owner_id, b.currency)
                .limit(1)
            )
        ).one()
        await conn.execute(
            tables.scoreboard_buckets.update()
            .where(*(b[k] == wrong._mapping[k] for k in aggregates.KEY))
            .values(credit=b.credit + 1)
        )
    await engine.dispose()
    checked = cli(seeded_url, "check-aggregates", "--quiet")
    assert checked.returncode == 1, checked.stderr
    credited, amount = Decimal(wrong.credit).scaleb(-2), Decimal(int(wrong.amount_e6)).scaleb(-6)
    expected = f"deal table {credited} deals credited, {amount}, buckets {Decimal(wrong.credit + 1).scaleb(-2)} deals"
    assert checked.stdout.count("\n") == 1 and f"OWNER ALL all time OPEN owner={wrong.owner_id}" in checked.stdout
    assert expected in checked.stdout, checked.stdout
    assert "1 scoreboard, report and activity buckets differ from the deal and activity tables" in checked.stderr
    assert cli(seeded_url, "rebuild-aggregates").returncode == 0
    assert cli(seeded_url, "check-aggregates", "--quiet").returncode == 0

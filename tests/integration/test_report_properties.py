"""The sales reports against random histories (hypothesis), on SQLite and PostgreSQL: the scoreboard's
histories (deals created, moved, re-valued, handed over, won from a quote and lost with backdated closing
times, reopened, deleted, moved to other accounts; partners given and taken; accounts made private,
given other managers and partners; rates changed; time passing) and more: probabilities and expected
close dates changed, activities logged, changed and deleted.

After every step the report and activity buckets equal a recomputation (`differences`), and every
role's reports (the system's, the admin's, each director's and rep's, each partner's) for one request
in turn (every preset, a ragged custom range, a team, a user, a partner, another currency), read from
the buckets for that viewer and cut from the one read a live board shares, equal the reports computed
here in plain Python from the rows: the opportunities the viewer may see (the deal table's visibility
rule), their accounts and contracts, the activities, the users and the rates; and for the reports that
credit a person (won revenue by person, the forecast) each credited user's part of every deal, which the
viewer sees when it would see the deal were that user its owner (the scoreboard's rule for shared deals).
Deals' credit is shared from the start and by the histories' own steps."""

from __future__ import annotations

import time as clock
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule
from sqlalchemy import select

from domain import reports as domain
from domain.enums import ActivityType
from domain.errors import NotFound
from domain.scoreboard import PeriodPreset, PeriodSpec
from domain.workflows import activities as aw
from domain.workflows import credit_shares as cs
from domain.workflows import opportunities as ow
from persistence import aggregates, reads, tables
from persistence.reports import cut_reports, load_report_source, load_reports
from persistence.visibility import ADMIN, DIRECTOR, PARTNER, Viewer
from tests.integration.test_scoreboard_aggregates import BACKDATE, World, history_of, pick

OPEN = {"PROSPECTING", "QUALIFICATION", "PROPOSAL", "NEGOTIATION"}


def e4(value) -> int:
    return 0 if value is None else int((Decimal(value) * 10_000).to_integral_value(ROUND_HALF_UP))


def shares_of(deal) -> list[tuple[int, int]]:
    """(user, percent) of each credited user: the shares' text "user:percent,...", or the owner's 100 %."""
    if not deal.credit_shares:
        return [(deal.owner_id, 100)]
    return [(int(user), int(percent)) for user, percent in (part.split(":") for part in deal.credit_shares.split(","))]


def sees_part(viewer: Viewer, user: int, deal, team_of) -> bool:
    """Whether the viewer sees a credited user's part of a deal: as it would see the deal if that user owned
    it (the deal table's rule, on the account's columns)."""
    if viewer.role is None:
        return True
    if viewer.role == PARTNER:
        return not deal.is_private and viewer.partner_id in (deal.partner_id, deal.account_partner)
    if deal.is_private and deal.created_by != viewer.user_id:
        return False
    if viewer.role == ADMIN:
        return True
    if viewer.role == DIRECTOR:
        team = team_of.get(viewer.user_id)
        mine = {u for u, t in team_of.items() if team is not None and t == team}
    else:
        mine = {viewer.user_id}
    return user in mine or deal.manager_id in mine


async def plain_reports(engine, request: domain.ReportRequest, now, viewer: Viewer) -> domain.Reports:
    """The reports computed from the rows: each visible opportunity (and each activity) one line, and each
    visible credited part of a deal one line of the person reports."""
    period = request.period.resolve(now)
    first, last = period.days()
    o, a, k, s, u = tables.opportunities, tables.accounts, tables.contracts, tables.sales_activities, tables.users
    async with engine.connect() as conn:
        rates = await reads.exchange_rates(conn)
        rule = viewer.rule(o)
        stmt = select(o, a.c.partner_id.label("account_partner")).join(a, a.c.id == o.c.account_id)
        deals = list(await conn.execute(stmt.where(rule) if rule is not None else stmt, viewer.params))
        every_deal = list(
            await conn.execute(
                select(
                    o,
                    a.c.partner_id.label("account_partner"),
                    a.c.is_private,
                    a.c.created_by_id.label("created_by"),
                    a.c.manager_id,
                ).join(a, a.c.id == o.c.account_id)
            )
        )
        contracts: dict[int, list] = {}
        for row in await conn.execute(select(k.c.opportunity_id, k.c.product_id, k.c.value_amount, k.c.value_currency)):
            contracts.setdefault(row.opportunity_id, []).append(row)
        activities = list(await conn.execute(select(s.c.type, s.c.owner_id, s.c.occurred_at, s.c.duration_minutes)))
        team_of = {row.id: row.team_id for row in await conn.execute(select(u.c.id, u.c.team_id))}
    scope = request.scope
    if scope.team_id is not None and scope.team_id not in set(team_of.values()):
        raise NotFound("Team", scope.team_id)
    if viewer.role == PARTNER and scope.partner_id not in (None, viewer.partner_id):
        raise NotFound("Partner", scope.partner_id)
    lines = []
    for d in deals:
        common = (d.owner_id,)
        partners = (d.partner_id or 0, d.account_partner or 0)
        if d.stage in OPEN:
            value, currency = e4(d.estimated_revenue_amount), d.estimated_revenue_currency or ""
            weighted = value * d.probability
            lines.append(domain.Line("OPEN", d.stage, *common, currency, 0, *partners, None, 1, value, weighted))
            continue
        closed = d.closed_at
        if period.start is not None and (closed is None or not period.contains(closed)):
            continue
        value, currency = e4(d.actual_revenue_amount), d.actual_revenue_currency or ""
        lines.append(domain.Line("CLOSED", d.stage, *common, currency, 0, *partners, None, 1, value))
        if d.stage == "WON":
            sold: dict[tuple[int, str], int] = {}
            for c in contracts.get(d.id, []):
                slot = (c.product_id or -1, c.value_currency)
                sold[slot] = sold.get(slot, 0) + e4(c.value_amount)
            if not contracts.get(d.id):
                sold[(-1, currency)] = value
            for (product, cur), amount in sold.items():
                lines.append(domain.Line("CLOSED", "WON", *common, cur, product, *partners, None, 1, amount))
    for d in every_deal:  # the person reports: each credited user's part, by its percentage
        partners = (d.partner_id or 0, d.account_partner or 0)
        for user, pct in shares_of(d):
            if not sees_part(viewer, user, d, team_of):
                continue
            if d.stage in OPEN:
                when = d.expected_close_date
                if first is None or (when is not None and first <= when <= last):
                    month = None if when is None else when.replace(day=1)
                    value, currency = e4(d.estimated_revenue_amount), d.estimated_revenue_currency or ""
                    weighted = value * d.probability * pct
                    lines.append(
                        domain.Line(
                            "FORECAST", d.stage, user, currency, -2, *partners, month, pct, value * pct, weighted
                        )
                    )
            elif d.stage == "WON" and (period.start is None or (d.closed_at and period.contains(d.closed_at))):
                value, currency = e4(d.actual_revenue_amount), d.actual_revenue_currency or ""
                lines.append(domain.Line("CLOSED", "WON", user, currency, -2, *partners, None, pct, value * pct))
    mine = _time_rule(viewer, team_of)
    time = [
        domain.ActivityLine(row.type, row.owner_id, 1, row.duration_minutes or 0)
        for row in activities
        if row.occurred_at is not None and period.contains(row.occurred_at) and mine(row.owner_id)
    ]
    found = domain.compute_reports(request, lines, time, team_of, rates)
    if viewer.role == PARTNER:
        found = domain.Reports(
            **{**found.__dict__, "partners": tuple(p for p in found.partners if p.partner_id == viewer.partner_id)}
        )
    return found


def _time_rule(viewer: Viewer, team_of):
    if viewer.role in (None, ADMIN):
        return lambda owner: True
    if viewer.role == PARTNER:
        return lambda owner: False
    if viewer.role == DIRECTOR:
        team = team_of.get(viewer.user_id)
        return lambda owner: team is not None and team_of.get(owner) == team
    return lambda owner: owner == viewer.user_id


class ReportWorld(World):
    def __init__(self, request, tmp_path_factory) -> None:
        super().__init__(request, tmp_path_factory)
        self.activities: list[int] = []
        self.compared = self.compared_shared = 0

    async def share_some(self) -> int:
        """Share the credit of a few open deals from the start (owner and an admin, and a third user for
        one): the forecast's parts from the first step on; the histories share more, won ones too."""
        o = tables.opportunities.c
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(o.id, o.owner_id).where(o.stage.in_(sorted(OPEN)), o.owner_id != self.admin).order_by(o.id)
            )
            deals = list(found)[:3]
        done = 0
        for n, (deal, owner) in enumerate(deals):
            users = [owner, self.admin] + ([pick(self.sellers, n + 5)] if n == 2 else [])
            users = list(dict.fromkeys(users))
            percents = {2: (70, 30), 3: (34, 33, 33)}[len(users)]
            shares = [cs.ShareSpec(user_id=u, percent=p) for u, p in zip(users, percents)]
            made = await self.attempt(cs.set_opportunity_credit_shares, cs.SetCreditShares(id=deal, shares=shares))
            done += made is not None
        return done

    def requests(self) -> list[domain.ReportRequest]:
        ragged = PeriodSpec.of(start=self.now - timedelta(days=45, hours=5), end=self.now - timedelta(days=2, hours=3))
        quarter = PeriodSpec.of(PeriodPreset.THIS_QUARTER)
        reps = [u for u in self.sellers]
        return [
            *(domain.ReportRequest.of(PeriodSpec.of(preset)) for preset in PeriodPreset),
            domain.ReportRequest.of(ragged),
            domain.ReportRequest.of(quarter, domain.ReportScope(team_id=pick(self.teams, self.steps))),
            domain.ReportRequest.of(quarter, domain.ReportScope(user_id=pick(reps, self.steps))),
            domain.ReportRequest.of(
                PeriodSpec.of(PeriodPreset.ALL_TIME), domain.ReportScope(partner_id=self.partners[0])
            ),
            domain.ReportRequest.of(PeriodSpec.of(PeriodPreset.THIS_MONTH), currency="USD"),
        ]

    def some_viewers(self) -> list[Viewer]:
        """Every role at each step, and over the steps every viewer: the system, the admins, and in turn
        one director, two reps and two partners."""
        by_role: dict[str | None, list[Viewer]] = {}
        for viewer in self.viewers:
            by_role.setdefault(viewer.role, []).append(viewer)
        n = self.steps
        chosen = [*by_role.get(None, []), *by_role.get(ADMIN, [])]
        for role, many in ((DIRECTOR, 1), ("SALES_REP", 2), (PARTNER, 2)):
            found = by_role.get(role, [])
            chosen += {id(v): v for v in (found[(n + i) % len(found)] for i in range(many)) if found}.values()
        return chosen

    async def check(self) -> None:
        async with self.engine.connect() as conn:
            assert await conn.run_sync(aggregates.differences) == []
        requests = self.requests()
        request = requests[self.steps % len(requests)]
        async with self.engine.connect() as conn:
            shared = await load_report_source(conn, request, self.now)  # what a live board reads, once
        for viewer in self.some_viewers():
            try:
                expected = (await plain_reports(self.engine, request, self.now, viewer)).figures()
            except NotFound:
                expected = NotFound
            try:
                queried = (await load_reports(self.engine, request, self.now, viewer)).reports.figures()
            except NotFound:
                queried = NotFound
            try:
                cut = cut_reports(shared, viewer).reports.figures()
            except NotFound:
                cut = NotFound
            assert queried == expected, (viewer, request)
            assert cut == expected, (viewer, request)
            self.compared += 1
        self.compared_shared += await self.shared_deals() > 0
        self.steps += 1


def report_history_of(world: ReportWorld):
    base = history_of(world)
    days = st.integers(-40, 120)

    class ReportHistories(base):  # type: ignore[misc, valid-type]
        @rule(which=st.integers(0, 999), probability=st.integers(0, 100), in_days=st.none() | days)
        def forecast(self, which, probability, in_days):
            opportunity = pick(world.opportunities[-12:] if which % 2 else world.opportunities, which // 2)
            when = None if in_days is None else (world.now + timedelta(days=in_days)).date()
            command = ow.UpdateOpportunity(id=opportunity, probability=probability, expected_close_date=when)
            world.run(world.attempt(ow.update_opportunity, command))

        @rule(
            which=st.integers(0, 999),
            owner=st.integers(0, 999),
            kind=st.sampled_from([ActivityType.CALL, ActivityType.EMAIL, ActivityType.MEETING]),
            back=st.none() | BACKDATE,
            minutes=st.none() | st.integers(0, 240),
        )
        def log_activity(self, which, owner, kind, back, minutes):
            target = aw.Target("Opportunity", pick(world.opportunities, which))
            command = aw.CreateSalesActivity(
                attach_to=target,
                type=kind,
                subject="Random history",
                owner_id=pick(world.sellers, owner),
                occurred_at=None if back is None else world.now - timedelta(seconds=back),
                duration_minutes=minutes,
            )
            made = world.run(world.attempt(aw.create_sales_activity, command))
            if made is not None:
                world.activities.append(made.id)

        @rule(which=st.integers(0, 999), back=st.none() | BACKDATE, minutes=st.none() | st.integers(0, 240))
        def change_activity(self, which, back, minutes):
            if not world.activities:
                return
            command = aw.UpdateSalesActivity(
                id=pick(world.activities, which),
                occurred_at=None if back is None else world.now - timedelta(seconds=back),
                duration_minutes=minutes,
            )
            world.run(world.attempt(aw.update_sales_activity, command))

        @rule(which=st.integers(0, 999))
        def delete_activity(self, which):
            if not world.activities:
                return
            activity = pick(world.activities, which)
            world.run(world.attempt(aw.delete_sales_activity, aw.DeleteSalesActivity(id=activity)))
            world.activities.remove(activity)

        @invariant()
        def boards_from_buckets_equal_boards_from_deals(self):
            world.run(world.check())

    return ReportHistories


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    w = ReportWorld(request, tmp_path_factory)  # a copy of the seeded template
    yield w
    w.run(w.engine.dispose())
    w.loop.close()


def test_random_histories_keep_every_roles_reports_equal_to_a_computation_from_the_rows(world):
    started = clock.monotonic()
    assert world.run(world.share_some()) >= 2
    machine = report_history_of(world)
    machine.TestCase.settings = settings(
        max_examples=4,
        stateful_step_count=8,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    machine.TestCase().runTest()
    print(
        f"{world.steps} steps, {world.compared} reports compared, {world.compared_shared} steps with shared deals, "
        f"{clock.monotonic() - started:.1f} s"
    )
    assert world.compared > 0 and world.compared_shared > 0


def test_a_month_cover_adds_up_to_its_days():
    from persistence.reports import date_cover

    for first, last in [
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 1, 2), date(2026, 3, 30)),
        (date(2026, 1, 10), date(2026, 1, 20)),
        (date(2025, 12, 15), date(2026, 2, 1)),
        (date(2026, 2, 1), date(2026, 4, 30)),
    ]:
        months, days = date_cover(first, last)
        covered = set()
        if months is not None:
            day = months[0]
            while day <= months[1]:
                covered.add(day)
                day += timedelta(days=1)
            assert months[0].day == 1 and (months[1] + timedelta(days=1)).day == 1
        for low, high in days:
            day = low
            while day <= high:
                assert day not in covered
                covered.add(day)
                day += timedelta(days=1)
        want = {first + timedelta(days=n) for n in range((last - first).days + 1)}
        assert covered == want, (first, last)

"""The scoreboard's aggregates: deal counts and amounts in buckets, kept in the transaction of every change.

A bucket (`tables.scoreboard_buckets`) sums the opportunities that share its key:

- the *slice*, by whose rules it is read (persistence/visibility.py, `scoreboard_bucket_slices`): OWNER
  holds every deal once, by owner; MANAGER holds again the deals on an account whose manager is not
  their owner, by that manager (a rep and a director see those too); PARTNER holds again the deals
  of public accounts that carry a partner on the deal or on its account;
- the *time*: closed deals (WON, LOST) at three grains of their closing time in UTC (ALL, MONTH,
  DAY), open deals at ALL only (the board counts open deals whenever they were opened);
- the owner, the currency (amounts stay in the deal's currency: a rate change moves no bucket) and
  what the visibility rules ask of the account: private and by whom, its manager, its partner.

A board then sums buckets whose number grows with owners, currencies and days, not with deals (3,130
OWNER buckets of all time at 100,000 opportunities and 250 reps): ALL for ALL_TIME; for a bounded
period the months inside it, the days inside it around those months, and, for what is left of a day
at either end (a sliding window's edges, a custom range's times of day), the closed deals themselves
through the (stage, closed_at) index, at most two partial days of them (persistence/scoreboard.py).

The unit of work keeps the buckets (`DealTracker`): before it first changes an opportunity (or the
account fields the rules read) it reads what the opportunity counts for, at commit what it counts
for now, and adds the difference to the buckets in one statement. On PostgreSQL the account is
read FOR SHARE both times, so a concurrent change of the account (which takes the row for update
and then reads its opportunities) waits for the deal's transaction, or the deal's for it: either
way each sees the other's committed state. `rebuild` fills the buckets from the deal table (the
migration and `salesgraph seed`), `differences` compares them with it (`salesgraph check-aggregates`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache as cache_by_name
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, func, insert, inspect, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from domain import credit
from domain.scoreboard import Period
from domain.stages import DEFAULT_CATALOG
from persistence import tables

OWNER, MANAGER, PARTNER = "OWNER", "MANAGER", "PARTNER"
ALL, MONTH, DAY = "ALL", "MONTH", "DAY"
ALL_TIME = date(1, 1, 1)  # the `starts_on` of an ALL bucket
E4 = 10_000  # amounts are kept in ten-thousandths
# A stage's kind by its key (OPEN, WON, LOST: `StageCatalog.kinds`); a deal in a stage not in it counts nowhere.
Kinds = Mapping[str, str]
SEEDED_KINDS: Kinds = DEFAULT_CATALOG.kinds()

# The entity fields whose change moves an opportunity between buckets (a Money field is two columns).
# The report buckets read the probability and the expected close date too.
DEAL_FIELDS = frozenset(
    {
        "account_id",
        "owner_id",
        "partner_id",
        "stage",
        "closed_at",
        "actual_revenue",
        "estimated_revenue",
        "probability",
        "expected_close_date",
        "credit_shares",
    }
)
ACCOUNT_FIELDS = frozenset({"is_private", "created_by_id", "manager_id", "partner_id"})

buckets = tables.scoreboard_buckets
report_buckets = tables.report_buckets
activity_buckets = tables.activity_buckets
o, a, k = tables.opportunities, tables.accounts, tables.contracts
KEY = tuple(c.name for c in buckets.primary_key.columns)
REPORT_KEY = tuple(c.name for c in report_buckets.primary_key.columns)
ACTIVITY_KEY = tuple(c.name for c in activity_buckets.primary_key.columns)
NO_PRODUCT = -1  # a report bucket's product_id for won revenue on no product's contract
THE_DEAL = 0  # ... for the deal itself
# ... for a credited user's part of an open or won deal (the person reports: won revenue by person, the
# forecast), keyed by that user as the scoreboard keys it, in its units: `deals` in hundredths of a deal,
# `amount_e4` in millionths (ten-thousandths × percent), `weighted_e6` in hundred-millionths
CREDITED = -2


class Key(NamedTuple):
    slice: str
    grain: str
    starts_on: date
    kind: str
    owner_id: int
    currency: str
    manager_id: int
    partner_id: int
    account_partner_id: int
    is_private: bool
    creator_id: int


assert Key._fields == KEY, "Key follows the primary key of scoreboard_buckets"


class ReportKey(NamedTuple):
    slice: str
    grain: str
    starts_on: date
    stage: str
    owner_id: int
    currency: str
    product_id: int
    manager_id: int
    partner_id: int
    account_partner_id: int
    is_private: bool
    creator_id: int


assert ReportKey._fields == REPORT_KEY, "ReportKey follows the primary key of report_buckets"


class ActivityKey(NamedTuple):
    grain: str
    starts_on: date
    type: str
    owner_id: int


assert ActivityKey._fields == ACTIVITY_KEY, "ActivityKey follows the primary key of activity_buckets"


@dataclass(frozen=True)
class AccountSide:
    """What the visibility rules read of an opportunity's account."""

    is_private: bool
    created_by_id: int | None
    manager_id: int | None
    partner_id: int | None

    @classmethod
    def of(cls, account: Any) -> AccountSide:
        """Of an Account entity."""
        return cls(bool(account.is_private), account.created_by_id, account.manager_id, account.partner_id)

    @classmethod
    def of_row(cls, row: Any) -> AccountSide:
        """Of a row of DEAL_COLUMNS with ACCOUNT_COLUMNS (where `partner_id` is the deal's)."""
        return cls(bool(row.is_private), row.created_by_id, row.manager_id, row.account_partner_id)


DEAL_COLUMNS = (
    o.c.id,
    o.c.account_id,
    o.c.owner_id,
    o.c.partner_id,
    o.c.stage,
    o.c.closed_at,
    o.c.actual_revenue_amount,
    o.c.actual_revenue_currency,
    o.c.estimated_revenue_amount,
    o.c.estimated_revenue_currency,
    o.c.probability,
    o.c.expected_close_date,
    o.c.credit_shares,
)
# A won deal's contracts (one row per contract, outer-joined): what the report by product counts.
SOLD_COLUMNS = (
    k.c.id.label("sold_id"),
    k.c.product_id.label("sold_product_id"),
    k.c.value_amount.label("sold_amount"),
    k.c.value_currency.label("sold_currency"),
)
ACCOUNT_COLUMNS = (a.c.is_private, a.c.created_by_id, a.c.manager_id, a.c.partner_id.label("account_partner_id"))


def e4(amount: Decimal | None) -> int:
    return 0 if amount is None else int((Decimal(amount) * E4).to_integral_value(ROUND_HALF_UP))


def from_e4(value: Any) -> Decimal:
    return Decimal(int(value or 0)).scaleb(-4)


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def contributions(deal: Any, account: AccountSide, kinds: Kinds = SEEDED_KINDS) -> list[tuple[Key, int, int]]:
    """The buckets one opportunity (a row of DEAL_COLUMNS) counts in, each with its credit in hundredths
    of a deal and its amount in millionths (ten-thousandths × percent); none for a stage the board does
    not count. A shared deal counts once per credited user, by that user's percentage, as if each user
    owned that part of it (the key's owner is the credited user). `kinds`: the stage catalogue's kinds; the
    bucket's kind is the stage's (so every WON-kind stage counts as won)."""
    kind = kinds.get(deal.stage)
    if kind is None:
        return []
    if kind == "OPEN":
        amount, currency = deal.estimated_revenue_amount, deal.estimated_revenue_currency
        times = [(ALL, ALL_TIME)]
    else:
        amount, currency = deal.actual_revenue_amount, deal.actual_revenue_currency
        times = [(ALL, ALL_TIME)]
        if deal.closed_at is not None:
            day = _day(deal.closed_at)
            times += [(MONTH, day.replace(day=1)), (DAY, day)]
    private = account.is_private
    creator = (account.created_by_id or 0) if private else 0
    value = e4(amount)
    found = []
    for user, percent in credit.credited(deal.owner_id, deal.credit_shares):
        sides = [(OWNER, 0, 0, 0)]
        if account.manager_id is not None and account.manager_id != user:
            sides.append((MANAGER, account.manager_id, 0, 0))
        if not private and (deal.partner_id is not None or account.partner_id is not None):
            sides.append((PARTNER, 0, deal.partner_id or 0, account.partner_id or 0))
        found += [
            (
                Key(
                    slice_,
                    grain,
                    start,
                    kind,
                    user,
                    currency or "",
                    manager,
                    partner,
                    account_partner,
                    private,
                    creator,
                ),
                percent,
                value * percent,
            )
            for grain, start in times
            for slice_, manager, partner, account_partner in sides
        ]
    return found


class Sold(NamedTuple):
    """A contract of a won deal, as the report by product counts it."""

    product_id: int | None
    amount: Decimal | None
    currency: str | None


def report_contributions(
    deal: Any, account: AccountSide, sold: Sequence[Sold] = (), kinds: Kinds = SEEDED_KINDS
) -> list[tuple[ReportKey, tuple]]:
    """The report buckets one opportunity counts in, each with (deals, amount in ten-thousandths,
    amount × probability): open deals at their stage, all time; won and lost deals by closing time as on
    the scoreboard; a won deal also per product of its contracts (their values, in their currencies), or
    under NO_PRODUCT when it has none. An open or won deal also counts once per credited user
    (`_credited`: an open one all time and by the month and day of its expected close date)."""
    stage = deal.stage
    kind = kinds.get(stage)
    if kind is None:
        return []
    if kind == "OPEN":
        amount, currency = deal.estimated_revenue_amount, deal.estimated_revenue_currency
        times = [(ALL, ALL_TIME)]
        if deal.expected_close_date is not None:
            day = deal.expected_close_date
            times += [(MONTH, day.replace(day=1)), (DAY, day)]
        value = e4(amount)
        lines = [(THE_DEAL, currency or "", (1, value, value * int(deal.probability or 0)))]
    else:
        amount, currency = deal.actual_revenue_amount, deal.actual_revenue_currency
        times = [(ALL, ALL_TIME)]
        if deal.closed_at is not None:
            day = _day(deal.closed_at)
            times += [(MONTH, day.replace(day=1)), (DAY, day)]
        lines = [(THE_DEAL, currency or "", (1, e4(amount), 0))]
        if kind == "WON":
            products: dict[tuple[int, str], int] = {}
            for line in sold:
                slot = (line.product_id or NO_PRODUCT, line.currency or "")
                products[slot] = products.get(slot, 0) + e4(line.amount)
            if not sold:
                products[(NO_PRODUCT, currency or "")] = e4(amount)
            lines += [(product, cur, (1, value, 0)) for (product, cur), value in sorted(products.items())]
    private = account.is_private
    creator = (account.created_by_id or 0) if private else 0
    partner, account_partner = deal.partner_id or 0, account.partner_id or 0
    sides = [(OWNER, 0)]
    if account.manager_id is not None and account.manager_id != deal.owner_id:
        sides.append((MANAGER, account.manager_id))
    if not private and (partner or account_partner):
        sides.append((PARTNER, 0))
    found = [
        (
            ReportKey(
                slice_,
                grain,
                start,
                stage,
                deal.owner_id,
                cur,
                product,
                manager,
                partner,
                account_partner,
                private,
                creator,
            ),
            values,
        )
        # (an open deal by its expected close date counts only as its credited parts: the forecast)
        for grain, start in (times[:1] if kind == "OPEN" else times)
        for slice_, manager in sides
        for product, cur, values in lines
    ]
    if kind != "LOST":  # (lines[0]: the deal itself)
        found += _credited(deal, account, stage, lines[0][1], times, lines[0][2])
    return found


def _credited(
    deal: Any, account: AccountSide, stage: str, currency: str, times: list, values: tuple[int, int, int]
) -> list[tuple[ReportKey, tuple]]:
    """The CREDITED buckets of an open or won deal: each credited user's part (the owner's whole deal when
    it is not shared), as if that user owned it, by the scoreboard's slices (`contributions`): its
    percentage in hundredths of a deal, of the amount and of the weighted amount."""
    _, value, weighted = values
    private = account.is_private
    creator = (account.created_by_id or 0) if private else 0
    partner, account_partner = deal.partner_id or 0, account.partner_id or 0
    found = []
    for user, percent in credit.credited(deal.owner_id, deal.credit_shares):
        sides = [(OWNER, 0)]
        if account.manager_id is not None and account.manager_id != user:
            sides.append((MANAGER, account.manager_id))
        if not private and (partner or account_partner):
            sides.append((PARTNER, 0))
        part = (percent, value * percent, weighted * percent)
        found += [
            (
                ReportKey(
                    slice_,
                    grain,
                    start,
                    stage,
                    user,
                    currency,
                    CREDITED,
                    manager,
                    partner,
                    account_partner,
                    private,
                    creator,
                ),
                part,
            )
            for grain, start in times
            for slice_, manager in sides
        ]
    return found


def activity_contributions(activity: Any) -> list[tuple[ActivityKey, tuple]]:
    """The activity buckets a sales activity (entity or row) counts in: (1, its minutes) at all time and
    by the month and day it occurred; none before it has occurred."""
    when = activity.occurred_at
    if when is None:
        return []
    kind = activity.type.value if hasattr(activity.type, "value") else activity.type
    day = _day(when)
    minutes = int(activity.duration_minutes or 0)
    return [
        (ActivityKey(grain, start, kind, activity.owner_id), (1, minutes))
        for grain, start in ((ALL, ALL_TIME), (MONTH, day.replace(day=1)), (DAY, day))
    ]


class Sums(dict[Any, list[int]]):
    """Sums per bucket of the report or activity tables (any number of figures), to add or take away."""

    def add(self, counted: Iterable[tuple[Any, tuple]], sign: int = 1) -> None:
        for key, values in counted:
            entry = self.get(key)
            if entry is None:
                entry = self[key] = [0] * len(values)
            for n, value in enumerate(values):
                entry[n] += sign * value

    def changes(self) -> list[tuple[Any, list[int]]]:
        return [(key, values) for key, values in sorted(self.items()) if any(values)]


class Tally(dict[Key, list[int]]):
    """Credit (hundredths of deals) and amounts (millionths) per bucket, to add (or, negative, to take away)."""

    def add(self, counted: Iterable[tuple[Key, int, int]], sign: int = 1) -> None:
        for key, share, amount in counted:
            entry = self.setdefault(key, [0, 0])
            entry[0] += sign * share
            entry[1] += sign * amount

    def changes(self) -> list[tuple[Key, int, int]]:
        """The non-zero entries in key order (writers that lock buckets in one order never deadlock)."""
        return [(key, deals, amount) for key, (deals, amount) in sorted(self.items()) if deals or amount]


def _sums_upsert(dialect: str, table: Any, key: tuple[str, ...], figures: tuple[str, ...]) -> Any:
    build = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = build(table)
    return stmt.on_conflict_do_update(
        index_elements=list(key), set_={f: table.c[f] + stmt.excluded[f] for f in figures}
    )


SIBLINGS = {  # table, its key, its figures (the first is the count that empties a bucket)
    "report": (report_buckets, REPORT_KEY, ("deals", "amount_e4", "weighted_e6")),
    "activity": (activity_buckets, ACTIVITY_KEY, ("activities", "minutes")),
}
TABLES = {"scoreboard": (buckets, KEY, ("credit", "amount_e6")), **SIBLINGS}


@cache_by_name
def _emptied(name: str) -> Any:
    table, key, figures = TABLES[name]
    return delete(table).where(table.c[figures[0]] == 0, *(table.c[c] == bindparam(f"k_{c}") for c in key))


async def _apply_one(conn: AsyncConnection, name: str, changes: list[tuple[Any, Sequence[int]]]) -> None:
    """Add `changes` (bucket key, figures) to table `name`, then drop the buckets they leave empty: two
    statements (SQLite; PostgreSQL writes every table in one, `_apply_together`)."""
    table, key, figures = TABLES[name]
    await conn.execute(
        _sums_upsert(conn.dialect.name, table, key, figures),
        [{**dict(zip(key, bucket)), **dict(zip(figures, values))} for bucket, values in changes],
    )
    emptied = [{f"k_{c}": v for c, v in zip(key, bucket)} for bucket, values in changes if values[0] < 0]
    if emptied:
        await conn.execute(_emptied(name), emptied)


def _unnested(name: str, columns: Sequence[str], tag: str) -> Any:
    """Rows given as one array per column (parameters `<name>_<column>`), unnested side by side."""
    table = TABLES[name][0]
    arrays = (func.unnest(bindparam(f"{name}_{c}", type_=postgresql.ARRAY(table.c[c].type))).label(c) for c in columns)
    return select(*arrays).cte(f"{name}_{tag}")


@cache_by_name
def _added_together(names: tuple[str, ...]) -> Any:
    """One PostgreSQL statement adding the changes to the tables `names`: an INSERT … ON CONFLICT each (in key
    order, as SQLite runs them one by one)."""
    parts = []
    for name in names:
        table, key, figures = TABLES[name]
        changes = _unnested(name, (*key, *figures), "changes")
        add = postgresql.insert(table).from_select([*key, *figures], select(changes))
        add = add.on_conflict_do_update(
            index_elements=list(key), set_={f: table.c[f] + add.excluded[f] for f in figures}
        )
        parts += [changes, add.cte(f"{name}_added")]
    return select(literal(1)).add_cte(*parts)


@cache_by_name
def _emptied_together(names: tuple[str, ...]) -> Any:
    """One PostgreSQL statement dropping, from the tables `names`, the given buckets that are empty."""
    parts = []
    for name in names:
        table, key, figures = TABLES[name]
        candidates = _unnested(name, key, "emptied")
        gone = delete(table).where(table.c[figures[0]] == 0, *(table.c[c] == candidates.c[c] for c in key))
        parts += [candidates, gone.cte(f"{name}_dropped")]
    return select(literal(1)).add_cte(*parts)


def _arrays(name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> dict[str, list[Any]]:
    values = list(zip(*rows)) or [()] * len(columns)
    return {f"{name}_{c}": list(column) for c, column in zip(columns, values)}


async def _apply_together(conn: AsyncConnection, changed: dict[str, list[tuple[Any, Sequence[int]]]]) -> None:
    """PostgreSQL: every table's changes in one statement, then, when a change takes deals (or activities)
    away, the buckets it may have emptied dropped in a second, like the SQLite path: so a mutation's
    statements do not depend on what else the buckets hold. The second statement touches only rows the
    first took, in key order."""
    names = tuple(sorted(changed))
    params: dict[str, list[Any]] = {}
    for name in names:
        _, key, figures = TABLES[name]
        params |= _arrays(name, (*key, *figures), ((*bucket, *values) for bucket, values in changed[name]))
    await conn.execute(_added_together(names), params)
    taken = {name: [bucket for bucket, values in changed[name] if values[0] < 0] for name in names}
    emptied = tuple(name for name in names if taken[name])
    if emptied:
        params = {}
        for name in emptied:
            params |= _arrays(name, TABLES[name][1], taken[name])
        await conn.execute(_emptied_together(emptied), params)


async def apply_changes(conn: AsyncConnection, changed: dict[str, list[tuple[Any, Sequence[int]]]]) -> None:
    """Add the changes to the buckets of each table (`TABLES`), each table's in key order (writers that lock
    buckets in one order never deadlock), and drop the buckets they leave empty."""
    changed = {name: rows for name, rows in changed.items() if rows}
    if not changed:
        return
    if conn.dialect.name == "postgresql":
        await _apply_together(conn, changed)
        return
    for name in sorted(changed):
        await _apply_one(conn, name, changed[name])


def _deals_with_accounts() -> Any:
    """Each opportunity with its account and its contracts (a row per contract; one with null
    contract columns when it has none): read through `_by_deal`."""
    return select(*DEAL_COLUMNS, *ACCOUNT_COLUMNS, *SOLD_COLUMNS).select_from(
        o.join(a, a.c.id == o.c.account_id).outerjoin(k, k.c.opportunity_id == o.c.id)
    )


def _by_deal(rows: Iterable[Any]) -> dict[int, tuple[Any, list[Sold]]]:
    """The rows of `_deals_with_accounts` (or of DEAL_COLUMNS with SOLD_COLUMNS) per opportunity."""
    found: dict[int, tuple[Any, list[Sold]]] = {}
    for row in rows:
        entry = found.get(row.id)
        if entry is None:
            entry = found[row.id] = (row, [])
        if row.sold_id is not None:
            entry[1].append(Sold(row.sold_product_id, row.sold_amount, row.sold_currency))
    return found


def _counted(row: Any, sold: Sequence[Sold], account: AccountSide, kinds: Kinds) -> tuple[list, list]:
    return contributions(row, account, kinds), report_contributions(row, account, sold, kinds)


def stage_kinds(conn: Connection) -> Kinds:
    """The stage kinds of the database (sync: the migrations and the CLI); the seeded stages' before migration
    0019 made them rows (0018 rebuilds the buckets with this code)."""
    if not inspect(conn).has_table(tables.opportunity_stages.name):
        return SEEDED_KINDS
    st = tables.opportunity_stages
    return {key: kind for key, kind in conn.execute(select(st.c.key, st.c.kind))}


CHUNK = 5_000  # ids per IN (...): well below the bind-parameter limits of SQLite and asyncpg


class DealTracker:
    """The scoreboard side of a unit of work: what each opportunity it changes counted for before its
    first change, and at commit the difference to what it counts for now (in the scoreboard's buckets
    and the reports'); and the sales activities it adds, changes and deletes (activity buckets)."""

    def __init__(self, kinds: Callable[[], Awaitable[Kinds]]) -> None:
        self.before: dict[int, tuple[list, list]] = {}
        self.activities = Sums()
        self.kinds = kinds  # the stage catalogue's kinds (the unit of work's copy: no statement once read)

    async def before_change(self, conn: AsyncConnection, opportunity_id: int) -> None:
        """Call before an opportunity's row (or one of its contracts) is updated or deleted."""
        if opportunity_id in self.before:
            return
        stmt = _deals_with_accounts().where(o.c.id == opportunity_id).with_for_update(read=True, of=a)
        rows = _by_deal(await conn.execute(stmt))
        if opportunity_id not in rows:
            self.before[opportunity_id] = ([], [])
        else:
            row, sold = rows[opportunity_id]
            self.before[opportunity_id] = _counted(row, sold, AccountSide.of_row(row), await self.kinds())

    def added(self, opportunity_id: int) -> None:
        self.before.setdefault(opportunity_id, ([], []))

    def activity(self, before: Any | None, after: Any | None) -> None:
        """A sales activity changed from `before` to `after` (None: it did not exist / no longer does)."""
        if before is not None:
            self.activities.add(activity_contributions(before), -1)
        if after is not None:
            self.activities.add(activity_contributions(after))

    async def activities_going(self, conn: AsyncConnection, column: str, key: int) -> None:
        """Call before deleting a row whose sales activities the database deletes with it (`column` of
        sales_activities names it): they leave their buckets."""
        s = tables.sales_activities
        rows = await conn.execute(
            select(s.c.type, s.c.owner_id, s.c.occurred_at, s.c.duration_minutes).where(
                s.c[column] == key, s.c.occurred_at.is_not(None)
            )
        )
        for row in rows:
            self.activities.add(activity_contributions(row), -1)

    async def account_changed(self, conn: AsyncConnection, account_id: int, before: AccountSide) -> None:
        """Call after an account's row was updated with a change of ACCOUNT_FIELDS (`before`: as it was).
        The update holds the account's row, so no opportunity of it changes until this transaction ends."""
        stmt = (
            select(*DEAL_COLUMNS, *SOLD_COLUMNS)
            .select_from(o.outerjoin(k, k.c.opportunity_id == o.c.id))
            .where(o.c.account_id == account_id)
        )
        kinds = None
        for deal_id, (row, sold) in _by_deal(await conn.execute(stmt)).items():
            if deal_id not in self.before:
                kinds = kinds or await self.kinds()
                self.before[deal_id] = _counted(row, sold, before, kinds)

    async def flush(self, conn: AsyncConnection) -> None:
        """Add the difference to the buckets (call once, just before the commit): one statement on
        PostgreSQL for every table it moves."""
        activities, self.activities = self.activities, Sums()
        changed: dict[str, list[tuple[Any, Sequence[int]]]] = {"activity": activities.changes()}
        if self.before:
            tally, sums = Tally(), Sums()
            ids = sorted(self.before)
            kinds = await self.kinds()
            for start in range(0, len(ids), CHUNK):
                stmt = (
                    _deals_with_accounts()
                    .where(o.c.id.in_(ids[start : start + CHUNK]))
                    .with_for_update(read=True, of=a)
                )
                for row, sold in _by_deal(await conn.execute(stmt)).values():
                    now, reported = _counted(row, sold, AccountSide.of_row(row), kinds)
                    tally.add(now)
                    sums.add(reported)
            for counted, reported in self.before.values():
                tally.add(counted, -1)
                sums.add(reported, -1)
            self.before.clear()
            changed["scoreboard"] = [(key, (deals, amount)) for key, deals, amount in tally.changes()]
            changed["report"] = sums.changes()
        await apply_changes(conn, changed)


# --- built and checked from the deal table (sync: the migration runs them, and the CLI through run_sync) ---

BATCH = 50_000  # opportunities recomputed at a time: memory stays bounded at any size


def _owner_batches(conn: Connection) -> Iterator[tuple[list[int], int]]:
    """The owners (and the users credited with a share of a deal they do not own) in batches of about
    BATCH opportunities, with how many each batch holds."""
    counts = dict(list(conn.execute(select(o.c.owner_id, func.count()).group_by(o.c.owner_id))))
    for (text,) in conn.execute(select(o.c.credit_shares).where(o.c.credit_shares.is_not(None)).distinct()):
        for share in credit.decode(text):
            counts.setdefault(share.user_id, 0)
    batch: list[int] = []
    held = 0
    for owner_id, count in sorted(counts.items()):
        batch.append(owner_id)
        held += count
        if held >= BATCH:
            yield batch, held
            batch, held = [], 0
    if batch:
        yield batch, held


def recompute(conn: Connection, owners: Sequence[int]) -> Tally:
    """The scoreboard buckets of these owners' opportunities, from the deal table."""
    return recompute_all(conn, owners)[0]


def recompute_all(conn: Connection, owners: Sequence[int], kinds: Kinds | None = None) -> tuple[Tally, Sums]:
    """The scoreboard and report buckets of these owners (the buckets whose owner is one of them), from
    the deal table: their unshared opportunities, and the shared ones (all of them, each batch: a shared
    deal counts in the buckets of users of any batch; shared deals are the few large ones)."""
    tally, sums = Tally(), Sums()
    mine = set(owners)
    kinds = stage_kinds(conn) if kinds is None else kinds

    def count(rows: Iterable[Any]) -> None:
        for row, sold in _by_deal(rows).values():
            counted, reported = _counted(row, sold, AccountSide.of_row(row), kinds)
            tally.add(c for c in counted if c[0].owner_id in mine)
            sums.add(r for r in reported if r[0].owner_id in mine)

    for start in range(0, len(owners), CHUNK):
        batch = owners[start : start + CHUNK]
        count(conn.execute(_deals_with_accounts().where(o.c.owner_id.in_(batch), o.c.credit_shares.is_(None))))
    count(conn.execute(_deals_with_accounts().where(o.c.credit_shares.is_not(None))))
    return tally, sums


def recompute_activities(conn: Connection, owners: Sequence[int] | None = None) -> Sums:
    """The activity buckets of these owners' sales activities (everyone's: None), from their table."""
    s = tables.sales_activities
    stmt = select(s.c.type, s.c.owner_id, s.c.occurred_at, s.c.duration_minutes).where(s.c.occurred_at.is_not(None))
    sums = Sums()
    if owners is None:
        for row in conn.execute(stmt):
            sums.add(activity_contributions(row))
        return sums
    for start in range(0, len(owners), CHUNK):
        for row in conn.execute(stmt.where(s.c.owner_id.in_(owners[start : start + CHUNK]))):
            sums.add(activity_contributions(row))
    return sums


SCOREBOARD, REPORTS, ACTIVITIES = "scoreboard", "reports", "activities"
EVERY_TABLE = (SCOREBOARD, REPORTS, ACTIVITIES)


def _sum_rows(name: str, sums: Sums) -> list[dict[str, Any]]:
    _, key, figures = SIBLINGS[name]
    return [{**dict(zip(key, bucket)), **dict(zip(figures, values))} for bucket, values in sums.changes()]


def rebuild(conn: Connection, say: Callable[[str], None] | None = None, which: Sequence[str] = EVERY_TABLE) -> int:
    """Replace every bucket of the tables `which` names (the scoreboard's, the reports', the activities')
    with what the deal and activity tables hold; returns how many buckets there are. Migration 0007 asks
    for the scoreboard's alone (the other tables come later)."""
    if SCOREBOARD in which:
        conn.execute(delete(buckets))
    if REPORTS in which:
        conn.execute(delete(report_buckets))
    total = conn.execute(select(func.count()).select_from(o)).scalar_one()
    done = written = 0
    label = "scoreboard aggregates" if tuple(which) == (SCOREBOARD,) else "aggregates"
    if SCOREBOARD in which or REPORTS in which:
        kinds = stage_kinds(conn)
        for owners, held in _owner_batches(conn):
            tally, sums = recompute_all(conn, owners, kinds)
            batches = []
            if SCOREBOARD in which:
                rows = [
                    {**key._asdict(), "credit": share, "amount_e6": amount} for key, share, amount in tally.changes()
                ]
                batches.append((buckets, rows))
            if REPORTS in which:
                batches.append((report_buckets, _sum_rows("report", sums)))
            for table, rows in batches:
                for start in range(0, len(rows), CHUNK):
                    conn.execute(insert(table), rows[start : start + CHUNK])
                written += len(rows)
            done += held
            if say is not None:
                say(f"{label}: {done:,} of {total:,} opportunities, {written:,} buckets")
    if ACTIVITIES in which:
        conn.execute(delete(activity_buckets))
        rows = _sum_rows("activity", recompute_activities(conn))
        for start in range(0, len(rows), CHUNK):
            conn.execute(insert(activity_buckets), rows[start : start + CHUNK])
        written += len(rows)
        if say is not None:
            say(f"aggregates: {len(rows):,} activity buckets")
    return written


class Difference(NamedTuple):
    key: Any  # a Key (scoreboard), ReportKey or ActivityKey
    expected: tuple[int, ...]  # (deals, amount in ten-thousandths[, weighted]) from the deal table
    found: tuple[int, ...]  # ... in the buckets


def _stored(conn: Connection, table: Any, key: tuple[str, ...], figures: tuple[str, ...], batch: Sequence[int]) -> dict:
    stored: dict[tuple, tuple[int, ...]] = {}
    columns = [*(table.c[c] for c in key), *(table.c[f] for f in figures)]
    for start in range(0, len(batch), CHUNK):
        for row in conn.execute(select(*columns).where(table.c.owner_id.in_(batch[start : start + CHUNK]))):
            stored[tuple(row[: len(key)])] = tuple(int(v) for v in row[len(key) :])
    return stored


def _compare(found: list[Difference], expected: dict, stored: dict, make: Any) -> None:
    for key in sorted(expected.keys() | stored.keys()):
        zero = (0,) * len(next(iter(expected.values() or stored.values())))
        want, have = expected.get(key, zero), stored.get(key, zero)
        if want != have:
            found.append(Difference(make(*key), want, have))


def differences(conn: Connection, say: Callable[[str], None] | None = None) -> list[Difference]:
    """Every bucket (scoreboard, reports, activities) that differs from a recomputation from the deal and
    activity tables (a missing bucket is found as zeros, a bucket with nothing to hold is expected as zeros)."""
    found: list[Difference] = []
    owners = {r[0] for r in conn.execute(select(buckets.c.owner_id).distinct())}
    owners |= {r[0] for r in conn.execute(select(report_buckets.c.owner_id).distinct())}
    batches = list(_owner_batches(conn))
    strays = sorted(owners - {owner for batch, _ in batches for owner in batch})
    total = sum(held for _, held in batches)
    done = 0
    report_figures = SIBLINGS["report"][2]
    kinds = stage_kinds(conn)
    for batch, held in [*batches, (strays, 0)]:
        if not batch:
            continue
        tally, sums = recompute_all(conn, batch, kinds)
        expected = {tuple(key): (deals, amount) for key, deals, amount in tally.changes()}
        _compare(found, expected, _stored(conn, buckets, KEY, ("credit", "amount_e6"), batch), Key)
        expected = {tuple(key): tuple(values) for key, values in sums.changes()}
        _compare(found, expected, _stored(conn, report_buckets, REPORT_KEY, report_figures, batch), ReportKey)
        done += held
        if say is not None and held:
            say(f"checked {done:,} of {total:,} opportunities: {len(found):,} differences so far")
    expected = {tuple(key): tuple(values) for key, values in recompute_activities(conn).changes()}
    stored: dict[tuple, tuple[int, ...]] = {}
    for row in conn.execute(select(activity_buckets)):
        stored[tuple(row[: len(ACTIVITY_KEY)])] = tuple(int(v) for v in row[len(ACTIVITY_KEY) :])
    _compare(found, expected, stored, ActivityKey)
    return found


# --- which buckets a period sums ---


@dataclass(frozen=True)
class Cover:
    """A period's closed deals as buckets and edges: whole `months` (first days), whole days in
    `day_ranges` (inclusive pairs), and `edges` read from the deal table, each (after, low, high,
    until): closed_at > low (or >= low when not `after`) and closed_at < high (<= high when `until`).
    `everything`: ALL_TIME, the ALL buckets with the open deals."""

    everything: bool
    months: tuple[date, date] | None = None  # the first and the last month, inclusive
    day_ranges: tuple[tuple[date, date], ...] = ()
    edges: tuple[tuple[bool, datetime, datetime, bool], ...] = ()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def _month(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def _index(day: date) -> int:
    return day.year * 12 + day.month - 1


def cover(period: Period) -> Cover:
    if period.start is None or period.end is None:
        return Cover(everything=True)
    start, end, sliding = period.start, period.end, period.sliding
    one = timedelta(days=1)
    # The whole days: [midnight(D), midnight(D + 1)) inside the period.
    if sliding:  # (start, end]: the day that starts at `start` itself is not whole (start is outside)
        first = start.date() + one
    else:  # [start, end)
        first = start.date() if start == _midnight(start.date()) else start.date() + one
    last = end.date() - one
    if first > last:
        return Cover(everything=False, edges=((sliding, start, end, sliding),))
    edges = []
    if start < _midnight(first):  # always, for a sliding window
        edges.append((sliding, start, _midnight(first), False))
    if sliding or end > _midnight(last + one):  # a sliding window holds its end, even at midnight
        edges.append((False, _midnight(last + one), end, sliding))
    # The whole months among the whole days, by month index (no date past 9999-12-31 is ever made).
    low = _index(first) + (first.day != 1)
    high = _index(last) - ((last + one).day != 1 if last < date.max else 0)
    if low > high:
        return Cover(everything=False, day_ranges=((first, last),), edges=tuple(edges))
    days = []
    if first < _month(low):
        days.append((first, _month(low) - one))
    if high < _index(last):
        days.append((_month(high + 1), last))
    return Cover(everything=False, months=(_month(low), _month(high)), day_ranges=tuple(days), edges=tuple(edges))

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

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.enums import OPEN_STAGES, Stage
from domain.scoreboard import Period
from persistence import tables

OWNER, MANAGER, PARTNER = "OWNER", "MANAGER", "PARTNER"
ALL, MONTH, DAY = "ALL", "MONTH", "DAY"
ALL_TIME = date(1, 1, 1)  # the `starts_on` of an ALL bucket
E4 = 10_000  # amounts are kept in ten-thousandths
OPEN_KINDS = {s.value: "OPEN" for s in OPEN_STAGES} | {Stage.WON.value: "WON", Stage.LOST.value: "LOST"}

# The entity fields whose change moves an opportunity between buckets (a Money field is two columns).
DEAL_FIELDS = frozenset(
    {"account_id", "owner_id", "partner_id", "stage", "closed_at", "actual_revenue", "estimated_revenue"}
)
ACCOUNT_FIELDS = frozenset({"is_private", "created_by_id", "manager_id", "partner_id"})

buckets = tables.scoreboard_buckets
o, a = tables.opportunities, tables.accounts
KEY = tuple(c.name for c in buckets.primary_key.columns)


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
)
ACCOUNT_COLUMNS = (a.c.is_private, a.c.created_by_id, a.c.manager_id, a.c.partner_id.label("account_partner_id"))


def e4(amount: Decimal | None) -> int:
    return 0 if amount is None else int((Decimal(amount) * E4).to_integral_value(ROUND_HALF_UP))


def from_e4(value: Any) -> Decimal:
    return Decimal(int(value or 0)).scaleb(-4)


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def contributions(deal: Any, account: AccountSide) -> list[tuple[Key, int]]:
    """The buckets one opportunity (a row of DEAL_COLUMNS) counts in, each with its amount in
    ten-thousandths; none for a stage the board does not count."""
    kind = OPEN_KINDS.get(deal.stage)
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
    sides = [(OWNER, 0, 0, 0)]
    if account.manager_id is not None and account.manager_id != deal.owner_id:
        sides.append((MANAGER, account.manager_id, 0, 0))
    if not private and (deal.partner_id is not None or account.partner_id is not None):
        sides.append((PARTNER, 0, deal.partner_id or 0, account.partner_id or 0))
    value = e4(amount)
    return [
        (
            Key(
                slice_,
                grain,
                start,
                kind,
                deal.owner_id,
                currency or "",
                manager,
                partner,
                account_partner,
                private,
                creator,
            ),
            value,
        )
        for grain, start in times
        for slice_, manager, partner, account_partner in sides
    ]


class Tally(dict[Key, list[int]]):
    """Deals and amounts per bucket, to add (or, negative, to take away)."""

    def add(self, counted: Iterable[tuple[Key, int]], sign: int = 1) -> None:
        for key, amount in counted:
            entry = self.setdefault(key, [0, 0])
            entry[0] += sign
            entry[1] += sign * amount

    def changes(self) -> list[tuple[Key, int, int]]:
        """The non-zero entries in key order (writers that lock buckets in one order never deadlock)."""
        return [(key, deals, amount) for key, (deals, amount) in sorted(self.items()) if deals or amount]


def _upsert(dialect: str) -> Any:
    build = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = build(buckets)
    return stmt.on_conflict_do_update(
        index_elements=list(KEY),
        set_={
            "deals": buckets.c.deals + stmt.excluded.deals,
            "amount_e4": buckets.c.amount_e4 + stmt.excluded.amount_e4,
        },
    )


_EMPTIED = delete(buckets).where(buckets.c.deals == 0, *(buckets.c[k] == bindparam(f"k_{k}") for k in KEY))


async def apply(conn: AsyncConnection, tally: Tally) -> None:
    """Add `tally` to the buckets, and drop those it leaves without a deal."""
    changes = tally.changes()
    if not changes:
        return
    await conn.execute(
        _upsert(conn.dialect.name),
        [{**key._asdict(), "deals": deals, "amount_e4": amount} for key, deals, amount in changes],
    )
    emptied = [{f"k_{k}": v for k, v in key._asdict().items()} for key, deals, _ in changes if deals < 0]
    if emptied:
        await conn.execute(_EMPTIED, emptied)


def _deals_with_accounts() -> Any:
    return select(*DEAL_COLUMNS, *ACCOUNT_COLUMNS).select_from(o.join(a, a.c.id == o.c.account_id))


CHUNK = 5_000  # ids per IN (...): well below the bind-parameter limits of SQLite and asyncpg


class DealTracker:
    """The scoreboard side of a unit of work: what each opportunity it changes counted for before its
    first change, and at commit the difference to what it counts for now."""

    def __init__(self) -> None:
        self.before: dict[int, list[tuple[Key, int]]] = {}

    async def before_change(self, conn: AsyncConnection, opportunity_id: int) -> None:
        """Call before an opportunity's row is updated or deleted."""
        if opportunity_id in self.before:
            return
        stmt = _deals_with_accounts().where(o.c.id == opportunity_id).with_for_update(read=True, of=a)
        row = (await conn.execute(stmt)).first()
        self.before[opportunity_id] = [] if row is None else contributions(row, AccountSide.of_row(row))

    def added(self, opportunity_id: int) -> None:
        self.before.setdefault(opportunity_id, [])

    async def account_changed(self, conn: AsyncConnection, account_id: int, before: AccountSide) -> None:
        """Call after an account's row was updated with a change of ACCOUNT_FIELDS (`before`: as it was).
        The update holds the account's row, so no opportunity of it changes until this transaction ends."""
        rows = await conn.execute(select(*DEAL_COLUMNS).where(o.c.account_id == account_id))
        for row in rows:
            if row.id not in self.before:
                self.before[row.id] = contributions(row, before)

    async def flush(self, conn: AsyncConnection) -> None:
        """Add the difference to the buckets (call once, just before the commit)."""
        if not self.before:
            return
        tally = Tally()
        ids = sorted(self.before)
        for start in range(0, len(ids), CHUNK):
            stmt = _deals_with_accounts().where(o.c.id.in_(ids[start : start + CHUNK])).with_for_update(read=True, of=a)
            for row in await conn.execute(stmt):
                tally.add(contributions(row, AccountSide.of_row(row)))
        for counted in self.before.values():
            tally.add(counted, -1)
        self.before.clear()
        await apply(conn, tally)


# --- built and checked from the deal table (sync: the migration runs them, and the CLI through run_sync) ---

BATCH = 50_000  # opportunities recomputed at a time: memory stays bounded at any size


def _owner_batches(conn: Connection) -> Iterator[tuple[list[int], int]]:
    """The owners in batches of about BATCH opportunities, with how many each batch holds."""
    counts = conn.execute(select(o.c.owner_id, func.count()).group_by(o.c.owner_id).order_by(o.c.owner_id))
    batch: list[int] = []
    held = 0
    for owner_id, count in counts:
        batch.append(owner_id)
        held += count
        if held >= BATCH:
            yield batch, held
            batch, held = [], 0
    if batch:
        yield batch, held


def recompute(conn: Connection, owners: Sequence[int]) -> Tally:
    """The buckets of these owners' opportunities, from the deal table."""
    tally = Tally()
    for start in range(0, len(owners), CHUNK):
        for row in conn.execute(_deals_with_accounts().where(o.c.owner_id.in_(owners[start : start + CHUNK]))):
            tally.add(contributions(row, AccountSide.of_row(row)))
    return tally


def rebuild(conn: Connection, say: Callable[[str], None] | None = None) -> int:
    """Replace every bucket with what the deal table holds; returns how many buckets there are."""
    conn.execute(delete(buckets))
    total = conn.execute(select(func.count()).select_from(o)).scalar_one()
    done = written = 0
    for owners, held in _owner_batches(conn):
        rows = [
            {**key._asdict(), "deals": deals, "amount_e4": amount}
            for key, deals, amount in recompute(conn, owners).changes()
        ]
        for start in range(0, len(rows), CHUNK):
            conn.execute(insert(buckets), rows[start : start + CHUNK])
        done, written = done + held, written + len(rows)
        if say is not None:
            say(f"scoreboard aggregates: {done:,} of {total:,} opportunities, {written:,} buckets")
    return written


class Difference(NamedTuple):
    key: Key
    expected: tuple[int, int]  # (deals, amount in ten-thousandths) from the deal table
    found: tuple[int, int]  # ... in the buckets


def differences(conn: Connection, say: Callable[[str], None] | None = None) -> list[Difference]:
    """Every bucket that differs from a recomputation from the deal table (a missing bucket is found
    as (0, 0), a bucket with nothing to hold is expected as (0, 0))."""
    found: list[Difference] = []
    owners = {r[0] for r in conn.execute(select(buckets.c.owner_id).distinct())}
    batches = list(_owner_batches(conn))
    strays = sorted(owners - {owner for batch, _ in batches for owner in batch})
    total = sum(held for _, held in batches)
    done = 0
    for batch, held in [*batches, (strays, 0)]:
        if not batch:
            continue
        expected = {key: (deals, amount) for key, deals, amount in recompute(conn, batch).changes()}
        stored: dict[Key, tuple[int, int]] = {}
        columns = [*(buckets.c[k] for k in KEY), buckets.c.deals, buckets.c.amount_e4]
        for start in range(0, len(batch), CHUNK):
            for *key, deals, amount in conn.execute(
                select(*columns).where(buckets.c.owner_id.in_(batch[start : start + CHUNK]))
            ):
                stored[Key(*key)] = (deals, int(amount))
        for key in sorted(expected.keys() | stored.keys()):
            want, have = expected.get(key, (0, 0)), stored.get(key, (0, 0))
            if want != have:
                found.append(Difference(key, want, have))
        done += held
        if say is not None and held:
            say(f"checked {done:,} of {total:,} opportunities: {len(found):,} differences so far")
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

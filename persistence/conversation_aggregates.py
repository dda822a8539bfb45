"""The conversation insights' aggregates: each conversation's analysis summed per scope and per DAY and
MONTH of its start (UTC), kept in the transaction of every change, like the scoreboard's buckets.

A *scope* (`tables.conversation_scopes`) is what the visibility rules read of a conversation: its owner,
its account, contact and opportunity, and the contacts that speak in it. Two conversations of one scope
are seen by exactly the same viewers whatever else changes (an account turning private hides both), so
a viewer's page is the sum of the buckets of the scopes it may see, `visibility.conversation_scope_rule`
being `_conversations` written on the scope. A bucket (`conversation_buckets`) holds the figures that add
up (calls, seconds by channel, talk times, switches, sentiment labels and score sums, calls and mentions
of keywords and competitors, new names); `conversation_bucket_items` holds what is counted per tracked
term (calls mentioning it, mentions by side) and per customer sentiment score in hundredths (so "calls
more negative than average" is a sum too).

The unit of work keeps them (`ConversationTracker`): before a conversation's analysis or links change
(a re-analysis, a deletion, a deleted account, contact or opportunity that its links name) it reads what
the conversation counts for, at commit what it counts for now, and adds the difference in one statement
per table. A deleted tracked term's items are deleted with it (its mentions go by cascade); the calls'
totals move when the re-analysis reaches them. `rebuild` fills the tables from the conversations (the
migration, `salesgraph seed`, `salesgraph rebuild-aggregates`), `differences` compares them
(`salesgraph check-aggregates`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from persistence import tables

DAY, MONTH = "DAY", "MONTH"
TERM, SCORE = "T", "S"
E4 = 10_000
CHUNK = 2_000

c = tables.conversations
an = tables.conversation_analyses
speakers = tables.conversation_participants
mentions = tables.conversation_mentions
scopes, scope_speakers = tables.conversation_scopes, tables.conversation_scope_speakers
buckets, items = tables.conversation_buckets, tables.conversation_bucket_items

FIGURES = tuple(col.name for col in buckets.c if not col.primary_key)
ITEM_FIGURES = ("calls", "seller_mentions", "customer_mentions")


class Scope(NamedTuple):
    owner_id: int
    account_id: int | None
    opportunity_id: int | None
    contact_id: int | None
    speakers: tuple[int, ...]  # the contacts that speak, in id order

    @property
    def key(self) -> str:
        return _scope_key(self)


@lru_cache(maxsize=100_000)
def _scope_key(scope: Scope) -> str:
    """A scope's key (cached: sorting a rebuild's rows by scope asked for it ~80,000 times at 6,000 calls)."""
    text = "|".join(
        [
            str(scope.owner_id),
            *("" if v is None else str(v) for v in (scope.account_id, scope.opportunity_id, scope.contact_id)),
            ",".join(map(str, scope.speakers)),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()


class Facts(NamedTuple):
    """What a conversation counts for, read from its rows (`load_facts`): never its transcript."""

    id: int
    scope: Scope
    kind: str
    started_at: datetime
    duration_seconds: int
    seller_talk_ms: int
    customer_talk_ms: int
    switches: int
    sentiment_label: str | None
    sentiment_score: float | None
    keyword_mentions: int
    competitor_mentions: int
    new_names: int
    terms: tuple[tuple[int, int, int], ...]  # (term id, seller mentions, customer mentions)


def score_e4(score: float | None) -> int:
    return 0 if score is None else int(Decimal(repr(score)).scaleb(4).to_integral_value(ROUND_HALF_UP))


def score_centi(score: float) -> int:
    return int(Decimal(repr(score)).scaleb(2).to_integral_value(ROUND_HALF_UP))


def figures(f: Facts) -> tuple[int, ...]:
    """The bucket figures of one conversation, in the order of FIGURES."""
    label = f.sentiment_label
    values = {
        "calls": 1,
        "seconds": f.duration_seconds,
        "phone_seconds": f.duration_seconds if f.kind == "PHONE_CALL" else 0,
        "meeting_seconds": 0 if f.kind == "PHONE_CALL" else f.duration_seconds,
        "seller_talk_ms": f.seller_talk_ms,
        "customer_talk_ms": f.customer_talk_ms,
        "switches": f.switches,
        "scored": int(label is not None),
        "score_e4": score_e4(f.sentiment_score) if label is not None else 0,
        "positive": int(label == "POSITIVE"),
        "neutral": int(label == "NEUTRAL"),
        "negative": int(label == "NEGATIVE"),
        "keyword_calls": int(f.keyword_mentions > 0),
        "competitor_calls": int(f.competitor_mentions > 0),
        "keyword_mentions": f.keyword_mentions,
        "competitor_mentions": f.competitor_mentions,
        "new_names": f.new_names,
    }
    return tuple(values[name] for name in FIGURES)


def item_figures(f: Facts) -> list[tuple[str, int, tuple[int, int, int]]]:
    """(kind, item, (calls, seller mentions, customer mentions)) of one conversation."""
    found = [(TERM, term, (1, seller, customer)) for term, seller, customer in f.terms]
    if f.sentiment_label is not None and f.sentiment_score is not None:
        found.append((SCORE, score_centi(f.sentiment_score), (1, 0, 0)))
    return found


def times(started_at: datetime) -> list[tuple[str, date]]:
    day = started_at.astimezone(UTC).date()
    return [(DAY, day), (MONTH, day.replace(day=1))]


def _order(entry: tuple[tuple, Any]) -> tuple:
    """Entries by their scope's key, then the rest of theirs (a scope's links may be None)."""
    scope, *rest = entry[0]
    return (scope.key, *rest)


class Tally:
    """Figures per (scope, grain, day) and per (scope, grain, day, kind, item), to add or take away."""

    def __init__(self) -> None:
        self.buckets: dict[tuple[Scope, str, date], list[int]] = {}
        self.items: dict[tuple[Scope, str, date, str, int], list[int]] = {}

    def add(self, f: Facts, sign: int = 1) -> None:
        values = figures(f)
        extra = item_figures(f)
        for grain, day in times(f.started_at):
            entry = self.buckets.setdefault((f.scope, grain, day), [0] * len(FIGURES))
            for n, v in enumerate(values):
                entry[n] += sign * v
            for kind, item, counts in extra:
                row = self.items.setdefault((f.scope, grain, day, kind, item), [0, 0, 0])
                for n, v in enumerate(counts):
                    row[n] += sign * v

    def bucket_changes(self) -> list[tuple[tuple[Scope, str, date], list[int]]]:
        return [(k, v) for k, v in sorted(self.buckets.items(), key=_order) if any(v)]

    def item_changes(self) -> list[tuple[tuple[Scope, str, date, str, int], list[int]]]:
        return [(k, v) for k, v in sorted(self.items.items(), key=_order) if any(v)]

    def scopes(self) -> set[Scope]:
        return {k[0] for k in self.buckets} | {k[0] for k in self.items}


# --- reading what conversations count for (the same statements for the tracker, rebuild and check) ---


def _facts_statements(where: Any) -> tuple[Any, Any, Any]:
    rows = select(
        c.c.id,
        c.c.owner_id,
        c.c.account_id,
        c.c.opportunity_id,
        c.c.contact_id,
        c.c.kind,
        c.c.started_at,
        c.c.duration_seconds,
        an.c.seller_talk_ms,
        an.c.customer_talk_ms,
        an.c.speaker_switches,
        an.c.sentiment_label,
        an.c.sentiment_score,
        an.c.keyword_mentions,
        an.c.competitor_mentions,
        an.c.new_names,
    ).select_from(c.join(an, an.c.conversation_id == c.c.id))
    voices = (
        select(speakers.c.conversation_id, speakers.c.contact_id).where(speakers.c.contact_id.is_not(None)).distinct()
    )
    said = select(
        mentions.c.conversation_id,
        mentions.c.term_id,
        func.sum(mentions.c.count).filter(mentions.c.side == "SELLER").label("seller"),
        func.sum(mentions.c.count).filter(mentions.c.side == "CUSTOMER").label("customer"),
    ).group_by(mentions.c.conversation_id, mentions.c.term_id)
    if where is None:
        return rows, voices, said
    return (
        rows.where(c.c.id.in_(where)),
        voices.where(speakers.c.conversation_id.in_(where)),
        said.where(mentions.c.conversation_id.in_(where)),
    )


def _facts(rows: Iterable[Any], voices: Iterable[Any], said: Iterable[Any]) -> list[Facts]:
    heard: dict[int, set[int]] = {}
    for r in voices:
        heard.setdefault(r.conversation_id, set()).add(r.contact_id)
    terms: dict[int, list[tuple[int, int, int]]] = {}
    for r in said:
        terms.setdefault(r.conversation_id, []).append((r.term_id, int(r.seller or 0), int(r.customer or 0)))
    return [
        Facts(
            id=r.id,
            scope=Scope(r.owner_id, r.account_id, r.opportunity_id, r.contact_id, tuple(sorted(heard.get(r.id, ())))),
            kind=r.kind,
            started_at=r.started_at,
            duration_seconds=r.duration_seconds,
            seller_talk_ms=r.seller_talk_ms,
            customer_talk_ms=r.customer_talk_ms,
            switches=r.speaker_switches,
            sentiment_label=r.sentiment_label,
            sentiment_score=r.sentiment_score,
            keyword_mentions=r.keyword_mentions,
            competitor_mentions=r.competitor_mentions,
            new_names=r.new_names,
            terms=tuple(sorted(terms.get(r.id, ()))),
        )
        for r in rows
    ]


async def load_facts(conn: AsyncConnection, ids: Sequence[int]) -> list[Facts]:
    found: list[Facts] = []
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        rows, voices, said = _facts_statements(chunk)
        found += _facts(await conn.execute(rows), await conn.execute(voices), await conn.execute(said))
    return found


async def facts_where(conn: AsyncConnection, condition: Any, params: dict[str, Any] | None = None) -> list[Facts]:
    """The facts of the conversations that `condition` (on `conversations`) selects, in three statements."""
    ids = select(c.c.id).where(condition)
    rows, voices, said = _facts_statements(ids)
    return _facts(
        await conn.execute(rows, params or {}),
        await conn.execute(voices, params or {}),
        await conn.execute(said, params or {}),
    )


# --- writing a tally ---


def _insert(dialect: str, table: Any, key: Sequence[str], sums: Sequence[str]) -> Any:
    build = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = build(table)
    return stmt.on_conflict_do_update(
        index_elements=list(key), set_={name: table.c[name] + stmt.excluded[name] for name in sums}
    )


BUCKET_KEY = ("scope_id", "grain", "starts_on")
ITEM_KEY = ("scope_id", "grain", "starts_on", "kind", "item")


async def _scope_ids(conn: AsyncConnection, wanted: set[Scope]) -> dict[Scope, int]:
    """The id of each scope, made when it is new (scopes are never deleted, so an id read stays good)."""
    by_key = {s.key: s for s in wanted}
    found: dict[Scope, int] = {}
    keys = sorted(by_key)
    for start in range(0, len(keys), CHUNK):
        for r in await conn.execute(
            select(scopes.c.id, scopes.c.key).where(scopes.c.key.in_(keys[start : start + CHUNK]))
        ):
            found[by_key[r.key]] = r.id
    for key in keys:
        scope = by_key[key]
        if scope in found:
            continue
        values = {
            "key": key,
            "owner_id": scope.owner_id,
            "account_id": scope.account_id,
            "opportunity_id": scope.opportunity_id,
            "contact_id": scope.contact_id,
        }
        build = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        # Two transactions may make the same scope at once: the second reads the first's.
        made = (
            await conn.execute(
                build(scopes).values(**values).on_conflict_do_nothing(index_elements=["key"]).returning(scopes.c.id)
            )
        ).scalar()
        if made is None:
            made = (await conn.execute(select(scopes.c.id).where(scopes.c.key == key))).scalar_one()
        elif scope.speakers:
            await conn.execute(insert(scope_speakers), [{"scope_id": made, "contact_id": s} for s in scope.speakers])
        found[scope] = made
    return found


_EMPTY_BUCKET = delete(buckets).where(buckets.c.calls == 0, *(buckets.c[k] == bindparam(f"k_{k}") for k in BUCKET_KEY))
_EMPTY_ITEM = delete(items).where(items.c.calls == 0, *(items.c[k] == bindparam(f"k_{k}") for k in ITEM_KEY))


async def apply(conn: AsyncConnection, tally: Tally) -> None:
    """Add `tally` to the tables, and drop the rows it leaves with no call."""
    changes, item_changes = tally.bucket_changes(), tally.item_changes()
    if not changes and not item_changes:
        return
    ids = await _scope_ids(conn, tally.scopes())
    dialect = conn.dialect.name
    if changes:
        rows = [
            {"scope_id": ids[scope], "grain": grain, "starts_on": day, **dict(zip(FIGURES, values))}
            for (scope, grain, day), values in changes
        ]
        rows.sort(key=lambda r: (r["scope_id"], r["grain"], r["starts_on"]))  # one lock order for every writer
        await conn.execute(_insert(dialect, buckets, BUCKET_KEY, FIGURES), rows)
        gone = [{f"k_{k}": r[k] for k in BUCKET_KEY} for r in rows if r["calls"] < 0]
        if gone:
            await conn.execute(_EMPTY_BUCKET, gone)
    if item_changes:
        rows = [
            {
                "scope_id": ids[scope],
                "grain": grain,
                "starts_on": day,
                "kind": kind,
                "item": item,
                **dict(zip(ITEM_FIGURES, values)),
            }
            for (scope, grain, day, kind, item), values in item_changes
        ]
        rows.sort(key=lambda r: tuple(r[k] for k in ITEM_KEY))
        await conn.execute(_insert(dialect, items, ITEM_KEY, ITEM_FIGURES), rows)
        gone = [{f"k_{k}": r[k] for k in ITEM_KEY} for r in rows if r["calls"] < 0]
        if gone:
            await conn.execute(_EMPTY_ITEM, gone)


class ConversationTracker:
    """The insights' side of a unit of work: what each conversation it changes counted for before its
    first change, and at commit the difference to what it counts for now."""

    def __init__(self) -> None:
        self.before: dict[int, Facts | None] = {}

    def added(self, conversation_id: int) -> None:
        self.before.setdefault(conversation_id, None)

    async def before_change(self, conn: AsyncConnection, conversation_ids: Iterable[int]) -> None:
        """Call before a conversation's analysis, mentions, names or links change, or it is deleted."""
        wanted = sorted(set(conversation_ids) - self.before.keys())
        if not wanted:
            return
        found = {f.id: f for f in await load_facts(conn, wanted)}
        for id in wanted:
            self.before[id] = found.get(id)

    async def linked_to(self, conn: AsyncConnection, column: str, id: int) -> None:
        """Call before deleting the account, contact or opportunity `id`: its conversations move scope (the
        links are set to NULL). `column`: account_id, contact_id or opportunity_id."""
        condition: Any = c.c[column] == id
        if column == "account_id":  # its contacts go with it
            ofs = select(tables.contacts.c.id).where(tables.contacts.c.account_id == id)
            condition = (
                condition
                | c.c.contact_id.in_(ofs)
                | c.c.id.in_(select(speakers.c.conversation_id).where(speakers.c.contact_id.in_(ofs)))
            )
        elif column == "contact_id":
            condition = condition | c.c.id.in_(select(speakers.c.conversation_id).where(speakers.c.contact_id == id))
        ids = [r.id for r in await conn.execute(select(c.c.id).where(condition))]
        await self.before_change(conn, ids)

    async def flush(self, conn: AsyncConnection) -> None:
        if not self.before:
            return
        tally = Tally()
        for f in await load_facts(conn, sorted(self.before)):
            tally.add(f)
        for f in self.before.values():
            if f is not None:
                tally.add(f, -1)
        self.before.clear()
        await apply(conn, tally)


async def term_deleted(conn: AsyncConnection, term_id: int) -> None:
    """A deleted term's items go with its mentions (which its row's deletion cascades to)."""
    await conn.execute(delete(items).where(items.c.kind == TERM, items.c.item == term_id))


# --- built and checked from the conversations (sync: the migration and the CLI run them) ---

BATCH = 20_000


def _id_batches(conn: Connection) -> list[tuple[int, int]]:
    ids = [r[0] for r in conn.execute(select(c.c.id).order_by(c.c.id))]
    return [(ids[n], ids[min(n + BATCH, len(ids)) - 1]) for n in range(0, len(ids), BATCH)]


def recompute(conn: Connection, low: int | None = None, high: int | None = None) -> Tally:
    where = None if low is None else select(c.c.id).where(c.c.id.between(low, high))
    rows, voices, said = _facts_statements(where)
    tally = Tally()
    for f in _facts(conn.execute(rows), conn.execute(voices), conn.execute(said)):
        tally.add(f)
    return tally


def _whole(conn: Connection, say: Callable[[str], None] | None) -> Tally:
    tally = Tally()
    batches = _id_batches(conn)
    for n, (low, high) in enumerate(batches, 1):
        part = recompute(conn, low, high)
        for key, values in part.buckets.items():
            entry = tally.buckets.setdefault(key, [0] * len(FIGURES))
            for i, v in enumerate(values):
                entry[i] += v
        for key, values in part.items.items():
            entry = tally.items.setdefault(key, [0, 0, 0])
            for i, v in enumerate(values):
                entry[i] += v
        if say is not None:
            say(f"conversation aggregates: batch {n} of {len(batches)}")
    return tally


def rebuild(conn: Connection, say: Callable[[str], None] | None = None) -> int:
    """Replace every bucket and item with what the conversations hold; returns how many buckets."""
    conn.execute(delete(items))
    conn.execute(delete(buckets))
    tally = _whole(conn, say)
    known = {
        Scope(r.owner_id, r.account_id, r.opportunity_id, r.contact_id, sp): r.id for r, sp in _stored_scopes(conn)
    }
    for scope in sorted(tally.scopes() - known.keys(), key=lambda scope: scope.key):
        made = conn.execute(
            insert(scopes)
            .values(
                key=scope.key,
                owner_id=scope.owner_id,
                account_id=scope.account_id,
                opportunity_id=scope.opportunity_id,
                contact_id=scope.contact_id,
            )
            .returning(scopes.c.id)
        ).scalar_one()
        if scope.speakers:
            conn.execute(insert(scope_speakers), [{"scope_id": made, "contact_id": s} for s in scope.speakers])
        known[scope] = made
    rows = [
        {"scope_id": known[s], "grain": g, "starts_on": d, **dict(zip(FIGURES, v))}
        for (s, g, d), v in tally.bucket_changes()
    ]
    for start in range(0, len(rows), CHUNK):
        conn.execute(insert(buckets), rows[start : start + CHUNK])
    item_rows = [
        {"scope_id": known[s], "grain": g, "starts_on": d, "kind": k, "item": i, **dict(zip(ITEM_FIGURES, v))}
        for (s, g, d, k, i), v in tally.item_changes()
    ]
    for start in range(0, len(item_rows), CHUNK):
        conn.execute(insert(items), item_rows[start : start + CHUNK])
    return len(rows)


def _stored_scopes(conn: Connection) -> list[tuple[Any, tuple[int, ...]]]:
    heard: dict[int, list[int]] = {}
    for r in conn.execute(select(scope_speakers).order_by(scope_speakers.c.scope_id, scope_speakers.c.contact_id)):
        heard.setdefault(r.scope_id, []).append(r.contact_id)
    return [(r, tuple(heard.get(r.id, ()))) for r in conn.execute(select(scopes))]


class Difference(NamedTuple):
    table: str
    key: tuple
    expected: tuple[int, ...]  # from the conversations
    found: tuple[int, ...]  # in the table


def differences(conn: Connection, say: Callable[[str], None] | None = None) -> list[Difference]:
    """Every bucket and item that differs from a recomputation from the conversations (compared by scope,
    not by the scope's id; a missing row is found as zeros)."""
    tally = _whole(conn, say)
    by_id = {
        r.id: Scope(r.owner_id, r.account_id, r.opportunity_id, r.contact_id, sp) for r, sp in _stored_scopes(conn)
    }
    stored: dict[tuple, tuple[int, ...]] = {}
    for r in conn.execute(select(buckets)):
        stored[(by_id[r.scope_id], r.grain, r.starts_on)] = tuple(int(r._mapping[n]) for n in FIGURES)
    stored_items: dict[tuple, tuple[int, ...]] = {}
    for r in conn.execute(select(items)):
        stored_items[(by_id[r.scope_id], r.grain, r.starts_on, r.kind, r.item)] = tuple(
            int(r._mapping[n]) for n in ITEM_FIGURES
        )
    found: list[Difference] = []
    for name, expected, have, width in (
        ("conversation_buckets", {k: tuple(v) for k, v in tally.bucket_changes()}, stored, len(FIGURES)),
        ("conversation_bucket_items", {k: tuple(v) for k, v in tally.item_changes()}, stored_items, 3),
    ):
        zero = (0,) * width
        for key in sorted(expected.keys() | have.keys(), key=lambda k: (k[0].key, *k[1:])):
            want, got = expected.get(key, zero), have.get(key, zero)
            if want != got:
                found.append(Difference(name, key, want, got))
    return found


def describe(difference: Difference) -> str:
    scope, *rest = difference.key
    names = FIGURES if difference.table == "conversation_buckets" else ITEM_FIGURES
    return (
        f"{difference.table} owner={scope.owner_id} account={scope.account_id} opportunity={scope.opportunity_id} "
        f"contact={scope.contact_id} speakers={list(scope.speakers)} {' '.join(map(str, rest))}: "
        f"conversations {dict(zip(names, difference.expected))}, stored {dict(zip(names, difference.found))}"
    )

"""The yardstick of bench/compare_peers.py: what this machine and this Python stack do for the two
read queries with no GraphQL at all. Hand-written SQL through asyncpg (statements prepared once per
connection, related rows read in batches with `= ANY($1)`, one pooled connection per request, no
transaction), JSON by orjson, served by uvicorn with uvloop and httptools as Salesgraph is.

It answers exactly the documents of bench/queries.py (the same text Salesgraph gets, the same JSON
back: global ids, amounts in the currency's minor units, the admin's visibility of private
accounts) and nothing else (400). It checks no token and parses no GraphQL: a lower bound on the
cost of the answer, not a peer.

    python bench/raw_server.py --database-url postgresql://… --port 8010 --viewer-id 1
"""

from __future__ import annotations

import argparse
import base64
import functools
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.queries import NESTED, SMALL
from domain.money import MINOR_UNITS


def _in_minor_units(amount: str, currency: str) -> str:
    """SQL text: `amount` rounded half away from zero to `currency`'s minor unit, as text."""
    by_exponent: dict[int, list[str]] = defaultdict(list)
    for code, exponent in MINOR_UNITS.items():
        by_exponent[exponent].append(code)
    cases = " ".join(
        f"WHEN {currency} IN ({', '.join(repr(code) for code in codes)}) THEN {exponent}"
        for exponent, codes in sorted(by_exponent.items())
    )
    return f"round({amount}, CASE {cases} ELSE 2 END)::text"


VISIBLE = "(NOT a.is_private OR a.created_by_id = $2)"  # an admin sees all but others' private accounts

SMALL_ACCOUNT = f"SELECT a.id, a.name, a.country FROM accounts a WHERE a.id = $1 AND {VISIBLE}"
SMALL_OPPORTUNITIES = f"""SELECT id, name, stage,
  {_in_minor_units("estimated_revenue_amount", "estimated_revenue_currency")}, estimated_revenue_currency
FROM opportunities WHERE account_id = $1 ORDER BY created_at, id LIMIT 10"""

NESTED_ACCOUNTS = f"""SELECT a.id, a.name FROM accounts a WHERE {VISIBLE.replace("$2", "$1")}
ORDER BY a.created_at, a.id LIMIT 50"""
NESTED_OPPORTUNITIES = f"""SELECT id, account_id, name, stage, amount, currency FROM (
  SELECT id, account_id, name, stage,
    {_in_minor_units("estimated_revenue_amount", "estimated_revenue_currency")} AS amount,
    estimated_revenue_currency AS currency,
    created_at, row_number() OVER (PARTITION BY account_id ORDER BY created_at, id) AS n
  FROM opportunities WHERE account_id = ANY($1::int[])) o
WHERE n <= 100 ORDER BY account_id, created_at, id"""
NESTED_QUOTES = """SELECT id, opportunity_id, name, is_active FROM quotes
WHERE opportunity_id = ANY($1::int[]) ORDER BY opportunity_id, created_at, id"""
NESTED_ITEMS = f"""SELECT i.id, i.quote_id, i.name, i.quantity::text, i.discount_percent::text,
  {_in_minor_units("i.unit_price", "i.currency")}, {_in_minor_units("i.total", "i.currency")}, i.currency,
  p.id, p.code, p.name
FROM quote_items i LEFT JOIN products p ON p.id = i.product_id
WHERE i.quote_id = ANY($1::int[]) ORDER BY i.quote_id, i.position, i.id"""


@functools.lru_cache(maxsize=200_000)
def gid(type_name: str, pk: int) -> str:
    """The Relay global id Salesgraph gives the row (base64url of `Type:pk`, unpadded)."""
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def pk_of(global_id: str) -> int:
    type_name, _, pk = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode().partition(":")
    if type_name != "Account":
        raise ValueError(global_id)
    return int(pk)


def money(amount: str | None, currency: str | None) -> dict | None:
    return None if amount is None else {"amount": amount, "currency": currency}


class RawServer:
    """An ASGI app: POST /graphql with one of the two documents, GET /readyz."""

    def __init__(self, database_url: str, viewer_id: int, pool_size: int) -> None:
        self.database_url = database_url
        self.viewer_id = viewer_id
        self.pool_size = pool_size
        self.pool: asyncpg.Pool | None = None
        self.handlers = {SMALL: self.small, NESTED: self.nested}

    async def small(self, conn: asyncpg.Connection, variables: dict) -> dict:
        pk = pk_of(variables["id"])
        account = await conn.fetchrow(SMALL_ACCOUNT, pk, self.viewer_id)
        if account is None:
            return {"node": None}
        opportunities = await conn.fetch(SMALL_OPPORTUNITIES, pk)
        return {
            "node": {
                "id": gid("Account", account[0]),
                "name": account[1],
                "country": account[2],
                "opportunities": {
                    "nodes": [
                        {
                            "id": gid("Opportunity", o[0]),
                            "name": o[1],
                            "stage": o[2],
                            "estimatedRevenue": money(o[3], o[4]),
                        }
                        for o in opportunities
                    ]
                },
            }
        }

    async def nested(self, conn: asyncpg.Connection, variables: dict) -> dict:
        accounts = await conn.fetch(NESTED_ACCOUNTS, self.viewer_id)
        opportunities = await conn.fetch(NESTED_OPPORTUNITIES, [a[0] for a in accounts])
        quotes = await conn.fetch(NESTED_QUOTES, [o[0] for o in opportunities])
        items = await conn.fetch(NESTED_ITEMS, [q[0] for q in quotes])
        items_of: dict[int, list[dict]] = defaultdict(list)
        for i in items:
            items_of[i[1]].append(
                {
                    "id": gid("QuoteItem", i[0]),
                    "name": i[2],
                    "quantity": i[3],
                    "discountPercent": i[4],
                    "unitPrice": {"amount": i[5], "currency": i[7]},
                    "total": {"amount": i[6], "currency": i[7]},
                    "product": None if i[8] is None else {"id": gid("Product", i[8]), "code": i[9], "name": i[10]},
                }
            )
        quotes_of: dict[int, list[dict]] = defaultdict(list)
        for q in quotes:
            quotes_of[q[1]].append(
                {"id": gid("Quote", q[0]), "name": q[2], "isActive": q[3], "items": items_of.get(q[0], [])}
            )
        opportunities_of: dict[int, list[dict]] = defaultdict(list)
        for o in opportunities:
            opportunities_of[o[1]].append(
                {
                    "id": gid("Opportunity", o[0]),
                    "name": o[2],
                    "stage": o[3],
                    "estimatedRevenue": money(o[4], o[5]),
                    "quotes": quotes_of.get(o[0], []),
                }
            )
        return {
            "accounts": {
                "nodes": [
                    {
                        "id": gid("Account", a[0]),
                        "name": a[1],
                        "opportunities": {"nodes": opportunities_of.get(a[0], [])},
                    }
                    for a in accounts
                ]
            }
        }

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        if scope["path"] == "/readyz":
            await self.answer(send, 200, b'{"ready":true}')
            return
        if scope["path"] != "/graphql" or scope["method"] != "POST":
            await self.answer(send, 404, b'{"errors":[{"message":"not found"}]}')
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        request = orjson.loads(b"".join(chunks))
        handler = self.handlers.get(request.get("query"))
        if handler is None:
            await self.answer(send, 400, b'{"errors":[{"message":"this server answers only bench/queries.py"}]}')
            return
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            data = await handler(conn, request.get("variables") or {})
        await self.answer(send, 200, orjson.dumps({"data": data}))

    async def lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.pool = await asyncpg.create_pool(
                    self.database_url, min_size=self.pool_size, max_size=self.pool_size
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.pool is not None:
                    await self.pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    @staticmethod
    async def answer(send: Any, status: int, body: bytes) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="postgresql://… (a +asyncpg driver suffix is dropped)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--viewer-id", type=int, required=True, help="the admin user whose visibility applies")
    parser.add_argument("--pool-size", type=int, default=10, help="connections (Salesgraph's pool keeps 10)")
    args = parser.parse_args()
    app = RawServer(args.database_url.replace("postgresql+asyncpg://", "postgresql://"), args.viewer_id, args.pool_size)
    uvicorn.run(
        app, host="127.0.0.1", port=args.port, loop="uvloop", http="httptools", log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main()

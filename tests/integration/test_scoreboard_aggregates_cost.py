"""What keeping the scoreboard's and the reports' aggregates costs a mutation, in SQL statements, against
the same mutation with the unit of work's aggregate step switched off: nothing when no counted field
changes (a rename); when an amount changes, what the deal counted for before and what it counts for at
commit (read once for both tables), then the difference added to each table: one upsert per table on
SQLite (four in all), one statement for both on PostgreSQL (three); when it leaves buckets, the emptied
buckets are deleted too: one statement per table on SQLite (six), one for both on PostgreSQL (four)."""

from __future__ import annotations

from persistence import aggregates
from tests.conftest import statements
from tests.integration.mutations.test_opportunities import LOST, UPDATE, new_opportunity


async def test_a_rename_costs_nothing_more_a_new_amount_and_a_loss_a_few_statements(api, writable, monkeypatch):
    async def cost(opportunity: dict, document: str, **values) -> int:
        response = await api.post(document, {"input": {"id": opportunity["id"], **values}})
        assert "errors" not in response.json(), response.json()
        return statements(response)

    async def changes(opportunity: dict) -> list[int]:
        return [
            await cost(opportunity, UPDATE, name="Fleet renewal, phase 2"),
            await cost(opportunity, UPDATE, estimatedRevenue={"amount": "13000.00", "currency": "EUR"}),
            await cost(opportunity, LOST, reason="Price"),
        ]

    kept = await changes(await new_opportunity(api, writable))
    with monkeypatch.context() as patched:

        async def nothing(*args) -> None:
            return None

        for step in ("before_change", "account_changed", "flush"):
            patched.setattr(aggregates.DealTracker, step, nothing)
        without = await changes(await new_opportunity(api, writable))
    expected = [0, 3, 4] if writable.name == "postgresql" else [0, 4, 6]
    assert [k - w for k, w in zip(kept, without)] == expected

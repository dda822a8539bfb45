"""Amounts come back in their currency's minor units, whatever the column keeps (4 decimals)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import update

from gql import ids
from persistence import tables
from tests.integration.mutations.test_opportunities import UPDATE, an_account

CREATE = """mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) {
  ... on OpportunityPayload { opportunity { id estimatedRevenue { amount currency } } } ... on UserError { message } } }"""
READ = """query($id: ID!) { node(id: $id) { ... on Opportunity {
  estimatedRevenue { amount currency }
  history(last: 5) { nodes { field oldValue newValue } } } } }"""


async def created(api, writable, amount: str, currency: str) -> dict:
    data = await api.data(
        CREATE,
        {
            "input": {
                "name": f"Deal in {currency}",
                "accountId": await an_account(writable),
                "estimatedRevenue": {"amount": amount, "currency": currency},
            }
        },
    )
    return data["createOpportunity"]["opportunity"]


async def test_an_amount_stored_with_four_decimals_reads_back_in_minor_units(api, writable):
    opportunity = await created(api, writable, "81100", "EUR")
    assert opportunity["estimatedRevenue"] == {"amount": "81100.00", "currency": "EUR"}
    async with writable.engine.begin() as conn:
        await conn.execute(
            update(tables.opportunities)
            .where(tables.opportunities.c.id == ids.decode(opportunity["id"])[1])
            .values(estimated_revenue_amount=Decimal("81100.0000"))
        )
    node = (await api.data(READ, {"id": opportunity["id"]}))["node"]
    assert node["estimatedRevenue"] == {"amount": "81100.00", "currency": "EUR"}


async def test_yen_have_no_decimals_and_dinars_three(api, writable):
    yen = await created(api, writable, "1200", "JPY")
    assert yen["estimatedRevenue"] == {"amount": "1200", "currency": "JPY"}
    dinars = await created(api, writable, "1.25", "BHD")
    assert dinars["estimatedRevenue"] == {"amount": "1.250", "currency": "BHD"}


async def test_the_history_shows_changed_amounts_in_minor_units(api, writable):
    opportunity = await created(api, writable, "500", "EUR")
    changed = await api.data(
        UPDATE, {"input": {"id": opportunity["id"], "estimatedRevenue": {"amount": "750.5", "currency": "EUR"}}}
    )
    assert "opportunity" in changed["updateOpportunity"], changed
    history = (await api.data(READ, {"id": opportunity["id"]}))["node"]["history"]["nodes"]
    revenue = next(entry for entry in history if entry["field"] == "estimatedRevenue")
    assert revenue["oldValue"] == {"amount": "500.00", "currency": "EUR"}
    assert revenue["newValue"] == {"amount": "750.50", "currency": "EUR"}

"""Values that do not fit — too long, too many decimals, too large, not finite, cleared where a
value is required, an id beyond any key — are ValidationErrors naming the field on both backends,
never an internal error, and write nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gql import ids
from persistence import tables
from tests.integration.mutations.test_opportunities import new_opportunity
from tests.integration.mutations.test_quotes_and_sales import ADD_ITEMS, CREATE_QUOTE, items

LONG = "x" * 400


def mutation(name: str, input_type: str) -> str:
    return (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename "
        f"... on ValidationError {{ field message }} }} }}"
    )


async def refused(api, name: str, input_type: str, value: dict) -> dict:
    response = await api.post(mutation(name, input_type), {"input": value})
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    result = body["data"][name]
    assert result["__typename"] == "ValidationError", (name, value, result)
    return result


async def total_rows(engine) -> int:
    async with engine.connect() as conn:
        return sum(
            [
                (await conn.execute(select(func.count()).select_from(table))).scalar_one()
                for table in (
                    tables.accounts,
                    tables.opportunities,
                    tables.quotes,
                    tables.quote_items,
                    tables.goals,
                    tables.product_units,
                )
            ]
        )


@pytest.fixture
async def quote_and_item(api, writable):
    opportunity = await new_opportunity(api, writable)
    quote = (
        await api.data(CREATE_QUOTE, {"input": {"opportunityId": opportunity["id"], "name": "Q", "currency": "EUR"}})
    )["createQuote"]["quote"]
    added = (
        await api.data(ADD_ITEMS, {"input": {"quoteId": quote["id"], "items": [{"name": "Line", "unitPrice": "10"}]}})
    )["addQuoteItems"]["quote"]
    return opportunity, quote, items(added)[0]


async def test_values_that_do_not_fit_are_validation_errors_naming_the_field(api, writable, quote_and_item):
    opportunity, quote, item = quote_and_item
    account = (await api.data("{ accounts(first: 1) { nodes { id } } }"))["accounts"]["nodes"][0]["id"]
    product = (await api.data("{ products(first: 1) { nodes { id } } }"))["products"]["nodes"][0]["id"]
    before = await total_rows(writable.engine)
    cases = [
        ("createAccount", "CreateAccountInput", {"kind": "ORGANIZATION", "name": LONG}, "name"),
        ("createAccount", "CreateAccountInput", {"kind": "ORGANIZATION", "name": "Fjord AS", "city": LONG}, "city"),
        ("createOpportunity", "CreateOpportunityInput", {"name": LONG, "accountId": account}, "name"),
        (
            "createOpportunity",
            "CreateOpportunityInput",
            {"name": "Big", "accountId": account, "estimatedRevenue": {"amount": "1e20", "currency": "EUR"}},
            "estimatedRevenue",
        ),
        (
            "addQuoteItems",
            "AddQuoteItemsInput",
            {"quoteId": quote["id"], "items": [{"name": "Tiny", "unitPrice": "1", "quantity": "0.00001"}]},
            "quantity",
        ),
        (
            "addQuoteItems",
            "AddQuoteItemsInput",
            {"quoteId": quote["id"], "items": [{"name": "Huge", "unitPrice": "1", "quantity": "1e30"}]},
            "quantity",
        ),
        (
            "addQuoteItems",
            "AddQuoteItemsInput",
            {"quoteId": quote["id"], "items": [{"name": "Endless", "unitPrice": "1", "quantity": "Infinity"}]},
            "quantity",
        ),
        (
            "addQuoteItems",
            "AddQuoteItemsInput",
            {"quoteId": quote["id"], "items": [{"name": "Dear", "unitPrice": "1e17"}]},
            "unitPrice",
        ),
        (
            "addQuoteItems",
            "AddQuoteItemsInput",
            {"quoteId": quote["id"], "items": [{"name": LONG, "unitPrice": "1"}]},
            "name",
        ),
        (
            "addQuoteItems",
            "AddQuoteItemsInput",
            {"quoteId": quote["id"], "items": [{"name": "Odd", "unitPrice": "1", "discountPercent": "0.00004"}]},
            "discountPercent",
        ),
        ("updateQuoteItem", "UpdateQuoteItemInput", {"id": item["id"], "quantity": None}, "quantity"),
        ("updateQuoteItem", "UpdateQuoteItemInput", {"id": item["id"], "position": 2**31 - 1}, "position"),
        ("updateOpportunity", "UpdateOpportunityInput", {"id": opportunity["id"], "probability": None}, "probability"),
        ("updateOpportunity", "UpdateOpportunityInput", {"id": opportunity["id"], "ownerId": None}, "ownerId"),
        (
            "markOpportunityLost",
            "MarkOpportunityLostInput",
            {"id": ids.encode("Opportunity", 3_000_000_000), "reason": "Gone"},
            "id",
        ),
        (
            "setGoal",
            "SetGoalInput",
            {
                "userId": ids.encode("User", writable.summary.admin_user_id),
                "periodStart": "2027-01-01",
                "periodEnd": "2027-03-31",
                "targetRevenue": {"amount": "1e25", "currency": "EUR"},
            },
            "targetRevenue",
        ),
        (
            "addProductUnit",
            "AddProductUnitInput",
            {"productId": product, "name": "century", "recurring": True, "periodMonths": 2**31 - 1},
            "periodMonths",
        ),
    ]
    for name, input_type, value, field in cases:
        result = await refused(api, name, input_type, value)
        assert result["field"] == field, (name, value, result)
    assert await total_rows(writable.engine) == before

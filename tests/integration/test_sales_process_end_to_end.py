"""The whole sales process through the API of a real server process, as the README walks through it:
a lead arrives from marketing automation, is routed and qualified, becomes an opportunity with a
quote from a price book, is sold into contracts, gets a quote document, and later an upsell; every
step is in the history and every event leaves the outbox."""

from __future__ import annotations

import asyncio
import io
import time
from decimal import Decimal

import docx
import httpx
import pytest
from sqlalchemy import func, select

from persistence import tables
from tests.support.server import start_server

ERRORS = "... on UserError { code message }"

ROUTING_RULE = f"""mutation($input: CreateLeadRoutingRuleInput!) {{
  createLeadRoutingRule(input: $input) {{ __typename ... on LeadRoutingRulePayload {{ rule {{ id }} }} {ERRORS} }}
}}"""
QUALIFY = f"""mutation($input: QualifyLeadInput!) {{
  qualifyLead(input: $input) {{ __typename ... on QualifyLeadPayload {{
    lead {{ status account {{ id name }} contact {{ id }} opportunity {{ id }} }}
    opportunity {{ id name stage account {{ id }} }} }} {ERRORS} }}
}}"""
PRICE_BOOK = """{ priceBooks(first: 1, filter: {active: true}) { edges { node { id name
  entries(currency: "EUR") { unit { id name recurring product { name } } price { amount } } } } } }"""
CREATE_QUOTE = f"""mutation($input: CreateQuoteInput!) {{
  createQuote(input: $input) {{ __typename ... on QuotePayload {{ quote {{ id isActive }} }} {ERRORS} }}
}}"""
ADD_ITEMS = f"""mutation($input: AddQuoteItemsInput!) {{
  addQuoteItems(input: $input) {{ __typename ... on QuotePayload {{ quote {{ total {{ amount currency }} items {{ name }} }} }} {ERRORS} }}
}}"""
ROUND = f"""mutation($input: AddRoundingItemInput!) {{
  addRoundingItem(input: $input) {{ __typename ... on QuotePayload {{ quote {{ total {{ amount }} }} }} {ERRORS} }}
}}"""
SELL = f"""mutation($input: OpportunityRefInput!) {{
  markOpportunitySold(input: $input) {{ __typename ... on OpportunityPayload {{ opportunity {{
    stage locked actualRevenue {{ amount currency }} contracts {{ id kind endsOn value {{ amount }} }} }} }} {ERRORS} }}
}}"""
UPSELL = f"""mutation($input: CreateUpsellOpportunityInput!) {{
  createUpsellOpportunity(input: $input) {{ __typename ... on OpportunityPayload {{ opportunity {{ id name stage
    expectedCloseDate }} }} {ERRORS} }}
}}"""
DOCUMENT = f"""mutation($input: GenerateQuoteDocumentInput!) {{
  generateQuoteDocument(input: $input) {{ __typename ... on QuoteDocumentPayload {{ document {{ id fileName downloadUrl }} }} {ERRORS} }}
}}"""
HISTORY = (
    """query($id: ID!) { node(id: $id) { ... on Opportunity { history { edges { node { field newValue } } } } } }"""
)


@pytest.fixture
def server(writable, tmp_path):
    running = start_server(writable.url, tmp_path)
    yield running
    running.stop()


async def test_a_lead_becomes_a_sold_opportunity_with_contracts_a_document_and_an_upsell(server, writable):
    headers = {"Authorization": f"Bearer {writable.admin_token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as http:

        async def gql(query: str, variables: dict | None = None) -> dict:
            response = await http.post("/graphql", json={"query": query, "variables": variables})
            body = response.json()
            assert response.status_code == 200 and "errors" not in body, body
            return body["data"]

        rep = await gql("{ users(first: 1, filter: {role: SALES_REP}) { edges { node { id } } } }")
        rep_id = rep["users"]["edges"][0]["node"]["id"]

        # 1. Leads from Norway go to one sales rep, with priority 2.
        rule = await gql(
            ROUTING_RULE,
            {
                "input": {
                    "name": "Norway",
                    "target": {"userId": rep_id},
                    "priority": 2,
                    "position": 0,
                    "conditions": [{"field": "COUNTRY", "values": ["NO"]}],
                }
            },
        )
        assert rule["createLeadRoutingRule"]["__typename"] == "LeadRoutingRulePayload", rule

        # 2. The marketing tool posts a lead, twice with the same key: one lead.
        lead_json = {
            "firstName": "Kari",
            "lastName": "Nordmann",
            "company": "Fjordkraft Logistikk AS",
            "email": "kari@fjordkraft.example",
            "country": "NO",
            "utmSource": "newsletter",
        }
        first = await http.post("/ingest/leads", json=lead_json, headers={"Idempotency-Key": "newsletter-4711"})
        again = await http.post("/ingest/leads", json=lead_json, headers={"Idempotency-Key": "newsletter-4711"})
        assert first.status_code == 201 and again.json() == first.json()
        lead = first.json()["lead"]
        assert lead["assignedUserId"] == rep_id and lead["priority"] == 2

        # 3. The rep qualifies it: account, contact and opportunity in one step.
        qualified = (
            await gql(
                QUALIFY,
                {
                    "input": {
                        "id": lead["id"],
                        "createAccount": True,
                        "createContact": True,
                        "opportunityName": "Fleet telematics",
                    }
                },
            )
        )["qualifyLead"]
        assert qualified["__typename"] == "QualifyLeadPayload", qualified
        assert qualified["lead"]["status"] == "QUALIFIED"
        assert qualified["lead"]["account"]["name"] == "Fjordkraft Logistikk AS"
        opportunity = qualified["opportunity"]
        assert qualified["lead"]["opportunity"]["id"] == opportunity["id"]

        # 4. A quote from the price book: a licence per year, a one-time setup, a manual day of training.
        book = (await gql(PRICE_BOOK))["priceBooks"]["edges"][0]["node"]
        yearly = next(e for e in book["entries"] if e["unit"]["recurring"])
        once = next(e for e in book["entries"] if not e["unit"]["recurring"])
        quote = (
            await gql(
                CREATE_QUOTE,
                {
                    "input": {
                        "opportunityId": opportunity["id"],
                        "name": "Offer 1",
                        "currency": "EUR",
                        "priceBookId": book["id"],
                    }
                },
            )
        )["createQuote"]
        assert quote["quote"]["isActive"] is True
        quote_id = quote["quote"]["id"]
        added = (
            await gql(
                ADD_ITEMS,
                {
                    "input": {
                        "quoteId": quote_id,
                        "items": [
                            {"unitId": yearly["unit"]["id"], "quantity": "25", "discountPercent": "15"},
                            {"unitId": once["unit"]["id"], "quantity": "1"},
                            {"name": "Training day", "unitPrice": "1100", "currency": "USD"},
                        ],
                    }
                },
            )
        )["addQuoteItems"]
        assert len(added["quote"]["items"]) == 3
        total = Decimal(added["quote"]["total"]["amount"])
        target = str(total.quantize(Decimal(100)) if total > 1000 else total)
        rounded = (await gql(ROUND, {"input": {"quoteId": quote_id, "total": target}}))["addRoundingItem"]
        assert Decimal(rounded["quote"]["total"]["amount"]) == Decimal(target)

        # 5. Sold: won, locked, one contract per item, adding up to the quote.
        sold = (await gql(SELL, {"input": {"id": opportunity["id"]}}))["markOpportunitySold"]["opportunity"]
        assert sold["stage"] == "WON" and sold["locked"] is True
        assert Decimal(sold["actualRevenue"]["amount"]) == Decimal(target)
        assert sum(Decimal(c["value"]["amount"]) for c in sold["contracts"]) == Decimal(target)
        assert len(sold["contracts"]) == 3  # the rounding item gets none of its own (README, step 5)
        licence = next(c for c in sold["contracts"] if c["kind"] == "TIME_BASED")

        # 6. The quote document for the customer, downloaded as a Word file.
        document = (await gql(DOCUMENT, {"input": {"quoteId": quote_id}}))["generateQuoteDocument"]
        assert document["__typename"] == "QuoteDocumentPayload", document
        download = await http.get(document["document"]["downloadUrl"])
        assert download.status_code == 200 and download.content[:2] == b"PK"  # a .docx is a zip file
        words = docx.Document(io.BytesIO(download.content))
        text = "\n".join(
            [p.text for p in words.paragraphs]
            + [c.text for table in words.tables for row in table.rows for c in row.cells]
        )
        assert "Fjordkraft Logistikk AS" in text and "Training day" in text

        # 7. A year later the licence comes up for renewal: an upsell.
        upsell = (await gql(UPSELL, {"input": {"contractId": licence["id"]}}))["createUpsellOpportunity"]
        assert upsell["opportunity"]["stage"] == "PROSPECTING"
        assert upsell["opportunity"]["expectedCloseDate"] == licence["endsOn"]

        # 8. The opportunity's history tells the story.
        fields = [
            e["node"]["field"] for e in (await gql(HISTORY, {"id": opportunity["id"]}))["node"]["history"]["edges"]
        ]
        assert fields[0] == "created" and "stage" in fields and "locked" in fields

    # 9. Every event of the process left the outbox (the server's dispatcher published them).
    async def waiting() -> int:
        async with writable.engine.connect() as conn:
            return (
                await conn.execute(
                    select(func.count())
                    .select_from(tables.outbox_events)
                    .where(tables.outbox_events.c.published_at.is_(None))
                )
            ).scalar_one()

    deadline = time.monotonic() + 10
    while await waiting() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert await waiting() == 0
    async with writable.engine.connect() as conn:
        types = {r.type for r in await conn.execute(select(tables.outbox_events.c.type))}
    assert {
        "LeadCreated",
        "LeadQualified",
        "OpportunityCreated",
        "QuoteActivated",
        "QuoteChanged",
        "OpportunityWon",
        "ContractCreated",
        "QuoteDocumentGenerated",
    } <= types

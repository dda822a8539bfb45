"""Lead identity over HTTP on SQLite and PostgreSQL (issue 18, item 2): an incoming lead (POST /ingest/leads,
ingestLead, createLead) that matches a known lead, contact or account by e-mail, phone or normalised company
name is linked to them and flagged, never silently duplicated; matching is configured by an admin and can
be switched off; a partner sees only the matches it may see; two leads are merged."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from sqlalchemy import select

from gql import ids
from gql.app import create_app
from gql.auth import issue_token
from persistence import tables
from tests.conftest import Backend, GraphQLClient

ERRORS = "... on UserError { code message } ... on ValidationError { field }"
LEAD = """id status archived version firstName phone company duplicateOf { id } mergedInto { id }
  matches { reasons lead { id } contact { id } account { id } }"""
READ = f"query($id: ID!) {{ node(id: $id) {{ ... on Lead {{ {LEAD} }} }} }}"
INGEST = f"""mutation($input: IngestLeadInput!) {{ ingestLead(input: $input) {{ __typename
  ... on IngestLeadPayload {{ lead {{ {LEAD} }} }} {ERRORS} }} }}"""
CREATE = f"""mutation($input: CreateLeadInput!) {{ createLead(input: $input) {{ __typename
  ... on LeadPayload {{ lead {{ {LEAD} }} }} {ERRORS} }} }}"""
MATCHING = """mutation($input: UpdateLeadMatchingInput!) { updateLeadMatching(input: $input) { __typename
  ... on LeadMatchingSettingsPayload { leadMatchingSettings { enabled byEmail byPhone byCompany version } }
  ... on UserError { code message } ... on ValidationError { field } } }"""
MERGE = f"""mutation($input: MergeLeadsInput!) {{ mergeLeads(input: $input) {{ __typename
  ... on LeadPayload {{ lead {{ {LEAD} }} }} {ERRORS} }} }}"""
TASK = """mutation($input: CreateTaskInput!) { createTask(input: $input) { __typename ... on TaskPayload {
  task { id lead { id } } } } }"""
ACCOUNT = """mutation($input: CreateAccountInput!) { createAccount(input: $input) { ... on AccountPayload {
  account { id } } } }"""
CONTACT = """mutation($input: CreateContactInput!) { createContact(input: $input) { ... on ContactPayload {
  contact { id } } } }"""


class World:
    def __init__(self, http: httpx.AsyncClient, backend: Backend) -> None:
        self.http, self.backend = http, backend
        self.api = GraphQLClient(http, backend.admin_token)
        self.n = 0

    def person(self, **extra) -> dict:
        self.n += 1
        return {
            "firstName": "Kari",
            "lastName": f"Nordmann {self.n}",
            "email": f"kari.{self.n}@fjordkraft-{self.n}.example",
            "phone": f"+47 22 33 {self.n:02d} 55",
            "company": f"Fjordkraft Logistikk {self.n} AS",
            "country": "NO",
            **extra,
        }

    async def post(self, body: dict, key: str, token: str | None = None) -> dict:
        response = await self.http.post(
            "/ingest/leads",
            json=body,
            headers={"Authorization": f"Bearer {token or self.backend.admin_token}", "Idempotency-Key": key},
        )
        assert response.status_code in (200, 201), response.text
        return response.json()["lead"]

    async def read(self, lead: str, token: str | None = None) -> dict:
        return (await self.api.data(READ, {"id": lead}, token))["node"]

    async def run(self, document: str, input: dict, token: str | None = None) -> dict:
        return next(iter((await self.api.data(document, {"input": input}, token)).values()))

    async def switch(self, **values) -> dict:
        done = await self.run(MATCHING, values)
        assert done["__typename"] == "LeadMatchingSettingsPayload", done
        return done["leadMatchingSettings"]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(writable: Backend) -> AsyncIterator[World]:
    app = create_app(writable.engine, dispatch=False, schedule=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://salesgraph.test") as http:
        yield World(http, writable)


async def test_the_same_person_ingested_twice_gives_one_lead_linked_to_the_first_and_the_match_is_visible(world):
    person = world.person()
    first = await world.post(person, "newsletter-1")
    # The same person again under another key, written a little differently: another address case, the
    # number with 00 and dashes, the company without its legal form.
    again = {
        **person,
        "email": person["email"].upper(),
        "phone": "0047-2233" + person["phone"][-5:].replace(" ", ""),
        "company": person["company"].removesuffix(" AS").lower(),
    }
    second = await world.post(again, "webinar-7")
    assert second["id"] != first["id"]
    found = await world.read(second["id"])
    assert found["duplicateOf"] == {"id": first["id"]}
    assert found["matches"] == [
        {"reasons": ["COMPANY", "EMAIL", "PHONE"], "lead": {"id": first["id"]}, "contact": None, "account": None}
    ]
    assert (await world.read(first["id"]))["matches"] == []  # the first one matched nobody
    # The mutation and a lead entered by hand are recognised alike, each as the first (earliest) lead.
    by_mutation = await world.run(INGEST, {**world.person(), "email": person["email"], "idempotencyKey": "m-1"})
    assert by_mutation["lead"]["duplicateOf"] == {"id": first["id"]}
    assert by_mutation["lead"]["matches"][0]["reasons"] == ["EMAIL"]
    by_hand = await world.run(CREATE, {"lastName": "Someone", "phone": person["phone"]})
    assert by_hand["lead"]["duplicateOf"] == {"id": first["id"]}
    assert by_hand["lead"]["matches"][0]["reasons"] == ["PHONE"]
    listed = await world.api.data(
        "{ leads(first: 100, filter: {hasDuplicateOf: true}) { nodes { id } } }",
    )
    assert {second["id"], by_mutation["lead"]["id"], by_hand["lead"]["id"]} <= {
        n["id"] for n in listed["leads"]["nodes"]
    }
    box = tables.outbox_events
    async with world.backend.engine.connect() as conn:
        data = (
            await conn.execute(
                select(box.c.data).where(box.c.type == "LeadCreated", box.c.entity_id == ids.decode(second["id"])[1])
            )
        ).scalar_one()
    assert data["duplicateOfId"] == ids.decode(first["id"])[1]


async def test_a_lead_matching_a_known_contact_and_account_is_linked_to_them(world):
    person = world.person()
    account = (await world.run(ACCOUNT, {"kind": "ORGANIZATION", "name": person["company"]}))["account"]["id"]
    contact = (
        await world.run(
            CONTACT,
            {
                "accountId": account,
                "firstName": "Ola",
                "lastName": "N",
                "email": person["email"],
                "phone": "22 33 44 55",
            },
        )
    )["contact"]["id"]
    lead = await world.post(
        {**person, "company": "FJORDKRAFT  logistikk " + person["company"].split()[2] + ", A/S"}, "k-2"
    )
    matches = (await world.read(lead["id"]))["matches"]
    assert matches == [
        {"reasons": ["EMAIL"], "lead": None, "contact": {"id": contact}, "account": None},
        {"reasons": ["COMPANY"], "lead": None, "contact": None, "account": {"id": account}},
    ]


async def test_matching_switched_off_stores_the_same_person_unlinked_and_only_an_admin_may_switch_it(world):
    u = tables.users
    async with world.backend.engine.connect() as conn:
        rep = (await conn.execute(select(u.c.id).where(u.c.role == "SALES_REP").limit(1))).scalar_one()
    rep_token = await issue_token(world.backend.engine, name="matching rep", user_id=rep)
    for token in (rep_token, world.backend.partner_token):
        refused = await world.run(MATCHING, {"enabled": False}, token)
        assert refused["__typename"] == "PermissionDeniedError", refused
    assert (await world.run(MATCHING, {}))["__typename"] == "ValidationError"
    before = (await world.api.data("{ leadMatching { enabled version } }"))["leadMatching"]
    assert before["enabled"] is True
    assert (await world.api.data("{ leadMatching { enabled } }", token=world.backend.partner_token)) == {
        "leadMatching": None
    }
    person = world.person()
    first = await world.post(person, "off-1")
    off = await world.switch(enabled=False, version=before["version"])
    assert off["enabled"] is False
    second = await world.post(person | {"lastName": "Again"}, "off-2")
    found = await world.read(second["id"])
    assert (found["duplicateOf"], found["matches"]) == (None, [])
    # On, but only by phone: the same e-mail is not a match, the same number is.
    await world.switch(enabled=True, byEmail=False, byCompany=False)
    only_email = await world.post({**world.person(), "email": person["email"]}, "off-3")
    assert (await world.read(only_email["id"]))["matches"] == []
    by_phone = await world.post({**world.person(), "phone": person["phone"]}, "off-4")
    assert (await world.read(by_phone["id"]))["duplicateOf"] == {"id": first["id"]}
    await world.switch(byEmail=True, byCompany=True)


async def test_a_partner_is_shown_only_the_matches_it_may_see(world):
    person = world.person()
    internal = await world.run(CREATE, {**person, "assignedUserId": ids.encode("User", 1)})
    theirs = await world.post({**person, "lastName": "Partner's"}, "partner-1", world.backend.partner_token)
    as_partner = await world.read(theirs["id"], world.backend.partner_token)
    assert (as_partner["duplicateOf"], as_partner["matches"]) == (None, [])
    as_admin = await world.read(theirs["id"])
    assert as_admin["duplicateOf"] == {"id": internal["lead"]["id"]}
    hidden = await world.run(
        MERGE, {"targetId": theirs["id"], "sourceId": internal["lead"]["id"]}, world.backend.partner_token
    )
    missing = await world.run(
        MERGE, {"targetId": theirs["id"], "sourceId": ids.encode("Lead", 10**9)}, world.backend.partner_token
    )
    assert hidden["__typename"] == missing["__typename"] == "NotFoundError"


async def test_merging_a_duplicate_into_the_first_lead(world):
    person = world.person()
    first = await world.post({**person, "phone": None}, "merge-1")
    second = await world.post({**person, "firstName": None, "lastName": "Nordmann"}, "merge-2")
    task = await world.run(TASK, {"attachToId": second["id"], "title": "Call back"})
    assert (await world.run(MERGE, {"targetId": first["id"], "sourceId": first["id"]}))["field"] == "sourceId"
    stale = await world.run(MERGE, {"targetId": first["id"], "sourceId": second["id"], "sourceVersion": 99})
    assert stale["__typename"] == "ConflictError"
    merged = await world.run(MERGE, {"targetId": first["id"], "sourceId": second["id"]})
    assert merged["__typename"] == "LeadPayload", merged
    assert merged["lead"]["phone"] == person["phone"] and merged["lead"]["firstName"] == "Kari"
    gone = await world.read(second["id"])
    assert gone["archived"] is True and gone["mergedInto"] == {"id": first["id"]}
    moved = await world.api.data(
        "query($id: ID!) { node(id: $id) { ... on Task { lead { id } } } }", {"id": task["task"]["id"]}
    )
    assert moved["node"]["lead"] == {"id": first["id"]}
    again = await world.run(MERGE, {"targetId": first["id"], "sourceId": second["id"]})
    assert again["__typename"] == "ConflictError"
    # A merged lead is no longer what a newcomer is recognised as: the one it was merged into is.
    third = await world.post({**person, "lastName": "Third"}, "merge-3")
    assert (await world.read(third["id"]))["duplicateOf"] == {"id": first["id"]}


RULE = """mutation($input: CreateLeadRoutingRuleInput!) { createLeadRoutingRule(input: $input) {
  __typename ... on LeadRoutingRulePayload { rule { id } } ... on UserError { message } } }"""
DELETE_RULE = """mutation($input: LeadRoutingRuleRefInput!) { deleteLeadRoutingRule(input: $input) { __typename } }"""
ROUTE = f"""mutation($input: RouteLeadsInput!) {{ routeLeads(input: $input) {{ __typename
  ... on RouteLeadsPayload {{ unmatched leads {{ id priority assignedUser {{ id }} }} }} {ERRORS} }} }}"""
ARCHIVE = """mutation($input: LeadRefInput!) { archiveLead(input: $input) { __typename } }"""


async def test_routing_the_unprocessed_leads_again_with_the_rules_as_they_are_now(world):
    u = tables.users
    async with world.backend.engine.connect() as conn:
        rep, other = [
            r.id for r in await conn.execute(select(u.c.id).where(u.c.role == "SALES_REP").order_by(u.c.id).limit(2))
        ]
    rep_token = await issue_token(world.backend.engine, name="routing rep", user_id=rep)
    # Two Icelandic leads arrive before any rule routes Iceland: nobody gets them.
    waiting = [await world.post(world.person(country="IS"), f"iceland-{n}") for n in range(2)]
    stored = [await world.read(lead["id"]) for lead in waiting]
    assert all(s["status"] == "OPEN" for s in stored)
    rule = await world.run(
        RULE,
        {
            "name": "Iceland",
            "position": 0,
            "priority": 4,
            "target": {"userId": ids.encode("User", rep)},
            "conditions": [{"field": "COUNTRY", "values": ["IS"]}],
        },
    )
    assert rule["__typename"] == "LeadRoutingRulePayload", rule
    for token in (rep_token, world.backend.partner_token):
        refused = await world.run(ROUTE, {}, token)
        assert refused["__typename"] == "PermissionDeniedError", refused
    archived = await world.post(world.person(country="IS"), "iceland-archived")
    await world.run(ARCHIVE, {"id": archived["id"]})
    refused = await world.run(ROUTE, {"leadIds": [waiting[0]["id"], archived["id"]]})
    assert refused["__typename"] == "ConflictError", refused
    assert (await world.read(waiting[0]["id"]))["version"] == stored[0]["version"]  # nothing changed
    bad = await world.run(ROUTE, {"leadIds": [ids.encode("User", other)]})
    assert bad["__typename"] == "ValidationError" and bad["field"] == "leadIds"

    done = await world.run(ROUTE, {"country": "IS"})
    assert done["__typename"] == "RouteLeadsPayload", done
    routed = {lead["id"]: lead for lead in done["leads"]}
    assert {lead["id"] for lead in waiting} <= set(routed)
    assert all(routed[lead["id"]]["assignedUser"] == {"id": ids.encode("User", rep)} for lead in waiting)
    assert all(routed[lead["id"]]["priority"] == 4 for lead in waiting)
    again = await world.run(ROUTE, {"country": "IS"})  # now assigned: nothing left unprocessed there
    assert {lead["id"] for lead in again["leads"]}.isdisjoint(lead["id"] for lead in waiting)
    await world.run(DELETE_RULE, {"id": rule["rule"]["id"]})

"""POST /ingest/leads: the lead processor over HTTP — storing, routing and splitting leads, the
Idempotency-Key contract, and clear errors for bad requests with nothing written."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, insert, select

from domain.enums import Role
from domain.uow import Actor
from domain.workflows import ingestion
from domain.workflows.ingestion import fingerprint
from domain.workflows.lead_processor import IngestLeads
from domain.workflows.leads import NewLead
from gql import ids
from gql.auth import issue_token
from persistence import tables

URL = "/ingest/leads"
CREATE_RULE = """mutation($input: CreateLeadRoutingRuleInput!) { createLeadRoutingRule(input: $input) {
  __typename ... on LeadRoutingRulePayload { rule { id } } ... on UserError { message } } }"""
DELETE_RULE = """mutation($input: LeadRoutingRuleRefInput!) { deleteLeadRoutingRule(input: $input) { __typename } }"""
CREATE_SPLITTER = """mutation($input: CreateLeadSplitterInput!) { createLeadSplitter(input: $input) {
  __typename ... on LeadSplitterPayload { splitter { id shares { weight assigned realisedPercent user { id } } } }
  ... on UserError { message } } }"""
SPLITTER = (
    """query($id: ID!) { node(id: $id) { ... on LeadSplitter { version shares { assigned realisedPercent } } } }"""
)


async def scalar(engine, stmt):
    async with engine.connect() as conn:
        return (await conn.execute(stmt)).scalar_one()


async def count(engine, table, *where) -> int:
    return await scalar(engine, select(func.count()).select_from(table).where(*where))


async def written(writable) -> tuple[int, int, int]:
    engine = writable.engine
    return (
        await count(engine, tables.leads),
        await count(engine, tables.outbox_events),
        await count(engine, tables.idempotency_keys),
    )


def pk_of(global_id: str) -> int:
    return ids.decode(global_id)[1]


async def post(api, body, token: str | None = None, key: str | None = None, **headers):
    headers = {"Authorization": f"Bearer {token or api.token}", **headers}
    if key is not None:
        headers["Idempotency-Key"] = key
    return await api.http.post(URL, json=body, headers=headers)


async def reps(writable, n: int) -> list[int]:
    async with writable.engine.connect() as conn:
        rows = await conn.execute(
            select(tables.users.c.id).where(tables.users.c.role == "SALES_REP").order_by(tables.users.c.id).limit(n)
        )
        return [r.id for r in rows]


async def rule_for(api, source: str, target: dict, **extra) -> str:
    made = await api.data(
        CREATE_RULE,
        {
            "input": {
                "name": f"Source {source}",
                "target": target,
                "position": 0,
                "conditions": [{"field": "UTM_SOURCE", "values": [source]}],
                **extra,
            }
        },
    )
    assert made["createLeadRoutingRule"]["__typename"] == "LeadRoutingRulePayload", made
    return made["createLeadRoutingRule"]["rule"]["id"]


def error_of(response) -> dict:
    body = response.json()
    assert list(body) == ["errors"] and len(body["errors"]) == 1, body
    return {"message": body["errors"][0]["message"], **body["errors"][0]["extensions"]}


# --- storing and routing ---


async def test_one_lead_is_stored_routed_and_announced(api, writable):
    [rep] = await reps(writable, 1)
    rule = await rule_for(api, "webinar-one", {"userId": ids.encode("User", rep)}, priority=4)
    response = await post(
        api,
        {
            "firstName": "Kari",
            "lastName": "Nordmann",
            "email": "kari@fjellvent.no",
            "country": "no",
            "companySize": 40,
            "utmSource": "webinar-one",
        },
    )
    assert response.status_code == 201, response.text
    assert "Idempotent-Replayed" not in response.headers
    lead = response.json()["lead"]
    assert lead["status"] == "OPEN" and lead["priority"] == 4 and lead["routingRuleId"] == rule
    assert lead["assignedUserId"] == ids.encode("User", rep) and lead["assignedPartnerId"] is None
    async with writable.engine.connect() as conn:
        stored = (await conn.execute(select(tables.leads).where(tables.leads.c.id == pk_of(lead["id"])))).one()
        kinds = [
            r.type
            for r in await conn.execute(
                select(tables.outbox_events.c.type)
                .where(tables.outbox_events.c.entity_type == "Lead", tables.outbox_events.c.entity_id == stored.id)
                .order_by(tables.outbox_events.c.id)
            )
        ]
    assert (stored.email, stored.country, stored.assigned_user_id, stored.priority) == (
        "kari@fjellvent.no",
        "NO",
        rep,
        4,
    )
    assert kinds == ["LeadCreated", "LeadRouted"]
    assert "server-timing" in response.headers
    await api.data(DELETE_RULE, {"input": {"id": rule}})


async def test_a_batch_is_routed_lead_by_lead_and_answered_in_order(api, writable):
    partner = ids.encode("Partner", writable.summary.partner_id)
    rule = await rule_for(api, "fair-batch", {"partnerId": partner})
    response = await post(
        api,
        {
            "leads": [
                {"company": "Fjord Freight AS", "utmSource": "fair-batch"},
                {"email": "nils@example.com", "utmSource": "elsewhere", "priority": 2},
            ]
        },
    )
    assert response.status_code == 201, response.text
    first, second = response.json()["leads"]
    assert first["assignedPartnerId"] == partner and first["routingRuleId"] == rule
    assert second["routingRuleId"] is None and second["assignedUserId"] is None and second["priority"] == 2
    await api.data(DELETE_RULE, {"input": {"id": rule}})


async def test_a_thousand_leads_through_a_50_30_20_splitter_land_within_one_point_of_the_weights(api, writable):
    sellers = await reps(writable, 3)
    made = await api.data(
        CREATE_SPLITTER,
        {
            "input": {
                "name": "Thousand split",
                "shares": [{"userId": ids.encode("User", s), "weight": w} for s, w in zip(sellers, (50, 30, 20))],
            }
        },
    )
    splitter = made["createLeadSplitter"]["splitter"]["id"]
    rule = await rule_for(api, "split-thousand", {"splitterId": splitter})
    for batch in range(4):
        response = await post(
            api, {"leads": [{"lastName": f"Lead {batch}-{n}", "utmSource": "split-thousand"} for n in range(250)]}
        )
        assert response.status_code == 201, response.text
    async with writable.engine.connect() as conn:
        got = Counter(
            r.assigned_user_id
            for r in await conn.execute(
                select(tables.leads.c.assigned_user_id).where(tables.leads.c.utm_source == "split-thousand")
            )
        )
    assert sum(got.values()) == 1000
    for seller, weight in zip(sellers, (50, 30, 20)):
        assert abs(got[seller] / 10 - weight) <= 1, got
    shares = (await api.data(SPLITTER, {"id": splitter}))["node"]
    assert [s["assigned"] for s in shares["shares"]] == [got[s] for s in sellers]
    assert [s["realisedPercent"] for s in shares["shares"]] == ["50.00", "30.00", "20.00"]
    assert shares["version"] == 1  # leads arriving move the shares' counters, not the splitter's configuration
    await api.data(DELETE_RULE, {"input": {"id": rule}})


async def test_sixty_concurrent_requests_through_one_splitter_all_succeed_and_lose_no_count(api, writable):
    sellers = await reps(writable, 3)
    weights = (3, 2, 1)
    made = await api.data(
        CREATE_SPLITTER,
        {
            "input": {
                "name": "Concurrent split",
                "shares": [{"userId": ids.encode("User", s), "weight": w} for s, w in zip(sellers, weights)],
            }
        },
    )
    splitter = made["createLeadSplitter"]["splitter"]["id"]
    rule = await rule_for(api, "split-concurrent", {"splitterId": splitter})
    responses = await asyncio.gather(
        *(post(api, {"lastName": f"Crowd {n}", "utmSource": "split-concurrent"}) for n in range(60))
    )
    assert [r.status_code for r in responses] == [201] * 60, [r.text for r in responses if r.status_code != 201]
    async with writable.engine.connect() as conn:
        got = Counter(
            r.assigned_user_id
            for r in await conn.execute(
                select(tables.leads.c.assigned_user_id).where(tables.leads.c.utm_source == "split-concurrent")
            )
        )
    # 60 leads are ten rounds of 3+2+1: the quota method lands exactly on the weights.
    assert got == {sellers[0]: 30, sellers[1]: 20, sellers[2]: 10}
    assert Counter(r.json()["lead"]["assignedUserId"] for r in responses) == {
        ids.encode("User", s): got[s] for s in sellers
    }
    node = (await api.data(SPLITTER, {"id": splitter}))["node"]
    assert [s["assigned"] for s in node["shares"]] == [30, 20, 10]
    assert node["version"] == 1  # an admin who read the splitter before the burst can still edit it
    await api.data(DELETE_RULE, {"input": {"id": rule}})


async def test_concurrent_batches_through_one_splitter_stay_within_one_lead_of_the_quota(api, writable):
    sellers = await reps(writable, 3)
    weights = (5, 3, 1)
    made = await api.data(
        CREATE_SPLITTER,
        {
            "input": {
                "name": "Concurrent batches",
                "shares": [{"userId": ids.encode("User", s), "weight": w} for s, w in zip(sellers, weights)],
            }
        },
    )
    splitter = made["createLeadSplitter"]["splitter"]["id"]
    rule = await rule_for(api, "split-batches", {"splitterId": splitter})
    responses = await asyncio.gather(
        *(
            post(api, {"leads": [{"lastName": f"B{n}-{i}", "utmSource": "split-batches"} for i in range(n % 4 + 1)]})
            for n in range(20)
        )
    )
    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses if r.status_code != 201]
    total = sum(n % 4 + 1 for n in range(20))
    async with writable.engine.connect() as conn:
        got = Counter(
            r.assigned_user_id
            for r in await conn.execute(
                select(tables.leads.c.assigned_user_id).where(tables.leads.c.utm_source == "split-batches")
            )
        )
    assert sum(got.values()) == total
    for seller, weight in zip(sellers, weights):
        quota = total * weight / sum(weights)
        assert math.floor(quota) <= got[seller] <= math.ceil(quota), (got, quota)
    node = (await api.data(SPLITTER, {"id": splitter}))["node"]
    assert [s["assigned"] for s in node["shares"]] == [got[s] for s in sellers]
    await api.data(DELETE_RULE, {"input": {"id": rule}})


async def test_a_splitter_edited_during_a_crowd_of_ingestions_waits_its_turn_and_nothing_fails(api, writable):
    first, second, third = await reps(writable, 3)
    made = await api.data(
        CREATE_SPLITTER,
        {
            "input": {
                "name": "Edited while busy",
                "shares": [{"userId": ids.encode("User", s), "weight": 1} for s in (first, second)],
            }
        },
    )
    splitter = made["createLeadSplitter"]["splitter"]["id"]
    rule = await rule_for(api, "split-edited", {"splitterId": splitter})
    edit = api.data(
        """mutation($input: UpdateLeadSplitterInput!) { updateLeadSplitter(input: $input) {
      __typename ... on UserError { message } } }""",
        {"input": {"id": splitter, "shares": [{"userId": ids.encode("User", third), "weight": 1}]}},
    )
    crowd = [post(api, {"lastName": f"Busy {n}", "utmSource": "split-edited"}) for n in range(30)]
    *responses, edited = await asyncio.gather(*crowd, edit)
    assert edited["updateLeadSplitter"]["__typename"] == "LeadSplitterPayload", edited
    assert [r.status_code for r in responses] == [201] * 30, [r.text for r in responses if r.status_code != 201]
    async with writable.engine.connect() as conn:
        got = Counter(
            r.assigned_user_id
            for r in await conn.execute(
                select(tables.leads.c.assigned_user_id).where(tables.leads.c.utm_source == "split-edited")
            )
        )
    assert sum(got.values()) == 30 and set(got) <= {first, second, third}
    # The new share counts from zero exactly the leads that came after the edit.
    node = (await api.data(SPLITTER, {"id": splitter}))["node"]
    assert [s["assigned"] for s in node["shares"]] == [got[third]]
    await api.data(DELETE_RULE, {"input": {"id": rule}})


# --- idempotency ---


async def test_a_repeated_key_returns_the_first_response_and_creates_nothing(api, writable):
    body = {"lastName": "Berg", "email": "berg@example.com"}
    first = await post(api, body, key="lead-berg-1")
    assert first.status_code == 201
    before = await written(writable)
    again = await post(api, {"email": "berg@example.com", "lastName": "Berg"}, key="lead-berg-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await written(writable) == before
    async with writable.engine.connect() as conn:
        stored = (
            await conn.execute(select(tables.idempotency_keys).where(tables.idempotency_keys.c.key == "lead-berg-1"))
        ).one()
    # The key keeps what the processor did (keys, not the rendered ids), and the caller it belongs to.
    assert stored.owner == f"user:{writable.summary.admin_user_id}"
    assert [lead["id"] for lead in stored.response["leads"]] == [pk_of(first.json()["lead"]["id"])]


async def test_the_same_key_with_another_body_is_refused(api, writable):
    assert (await post(api, {"lastName": "Dahl"}, key="lead-dahl")).status_code == 201
    before = await written(writable)
    other = await post(api, {"lastName": "Dahl", "phone": "+47 5"}, key="lead-dahl")
    assert other.status_code == 422
    error = error_of(other)
    assert error["code"] == "IDEMPOTENCY_KEY_REUSED" and error["field"] == "idempotencyKey"
    assert "different request" in error["message"]
    assert await written(writable) == before


async def test_keys_belong_to_their_caller(api, writable):
    mine = await post(api, {"lastName": "Holm"}, key="shared-key")
    theirs = await post(api, {"lastName": "Holm"}, key="shared-key", token=writable.partner_token)
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["lead"]["id"] != theirs.json()["lead"]["id"]
    assert theirs.json()["lead"]["assignedPartnerId"] == ids.encode("Partner", writable.summary.partner_id)


async def test_concurrent_requests_with_one_key_create_one_lead(api, writable):
    before = await count(writable.engine, tables.leads)
    responses = await asyncio.gather(*(post(api, {"lastName": "Lund"}, key="race-key") for _ in range(5)))
    assert [r.status_code for r in responses] == [201] * 5, [r.text for r in responses]
    assert len({r.json()["lead"]["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 4
    assert await count(writable.engine, tables.leads) == before + 1


# --- bad requests: clear errors, nothing written ---


async def test_a_request_without_a_valid_token_is_unauthorized(api, writable):
    before = await written(writable)
    response = await api.http.post(URL, json={"lastName": "Berg"})
    assert response.status_code == 401 and error_of(response)["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"].startswith("Bearer")
    wrong = await post(api, {"lastName": "Berg"}, token="not-a-token")
    assert wrong.status_code == 401
    assert await written(writable) == before


async def test_malformed_bodies_are_bad_requests(api, writable):
    before = await written(writable)
    auth = {"Authorization": f"Bearer {api.token}"}
    not_json = await api.http.post(URL, content=b"{lastName:", headers={**auth, "Content-Type": "application/json"})
    assert not_json.status_code == 400 and error_of(not_json)["code"] == "BAD_REQUEST"
    text = await api.http.post(URL, content=b"lastName=Berg", headers={**auth, "Content-Type": "text/plain"})
    assert text.status_code == 415 and error_of(text)["code"] == "UNSUPPORTED_MEDIA_TYPE"
    not_a_list = await post(api, {"leads": {"lastName": "Berg"}})
    assert not_a_list.status_code == 400 and "JSON array" in error_of(not_a_list)["message"]
    extra = await post(api, {"leads": [], "source": "x"})
    assert extra.status_code == 400
    scalar_item = await post(api, {"leads": ["Berg"]})
    assert scalar_item.status_code == 400 and "leads[0]" in error_of(scalar_item)["message"]
    array = await post(api, [{"lastName": "Berg"}])
    assert array.status_code == 400
    assert (await api.http.get(URL, headers=auth)).status_code == 405
    assert await written(writable) == before


async def test_invalid_leads_are_unprocessable_and_name_the_field(api, writable):
    before = await written(writable)
    cases = [
        ({"lastName": "Berg", "fax": "1"}, "fax"),
        ({"lastName": "Berg", "companySize": "fifty"}, "companySize"),
        ({"lastName": "Berg", "companySize": True}, "companySize"),
        ({"lastName": 42}, "lastName"),
        ({"phone": "+47 1"}, "lastName"),
        ({"lastName": "Berg", "country": "Norway"}, "country"),
        ({"lastName": "Berg", "campaignId": ids.encode("User", 1)}, "campaignId"),
        ({"lastName": "Berg", "priority": -1}, "priority"),
        ({"leads": [{"lastName": "Fine"}, {"lastName": "Bad", "email": "nope"}]}, "leads[1].email"),
        ({"leads": []}, "leads"),
    ]
    for body, field in cases:
        response = await post(api, body, key=f"bad-{field}")
        assert response.status_code == 422, (body, response.text)
        error = error_of(response)
        assert error["code"] == "VALIDATION" and error["field"] == field, (body, error)
    missing = await post(api, {"lastName": "Berg", "campaignId": ids.encode("Campaign", 999_999)})
    assert missing.status_code == 422
    assert error_of(missing)["code"] == "NOT_FOUND" and error_of(missing)["entityType"] == "Campaign"
    too_long_key = await post(api, {"lastName": "Berg"}, key="k" * 201)
    assert too_long_key.status_code == 422 and error_of(too_long_key)["field"] == "idempotencyKey"
    assert await written(writable) == before


async def test_the_http_endpoint_and_the_ingest_lead_mutation_share_their_keys(api, writable):
    response = await post(api, {"lastName": "Vik", "country": "SE"}, key="both-ways")
    assert response.status_code == 201
    before = await written(writable)
    data = await api.data("""mutation { ingestLead(input: {lastName: "Vik", country: "SE", idempotencyKey: "both-ways"})
      { ... on IngestLeadPayload { replayed lead { id } } } }""")
    assert data["ingestLead"] == {"replayed": True, "lead": {"id": response.json()["lead"]["id"]}}
    assert await written(writable) == before


# --- one path for POST and the ingestLead mutation ---

INGEST_LEAD = """mutation($input: IngestLeadInput!) { ingestLead(input: $input) {
  __typename ... on IngestLeadPayload { replayed lead { id assignedUser { id } assignedPartner { id } }
  routingRule { id } } ... on UserError { message } } }"""


async def test_a_key_first_used_by_the_mutation_replays_over_post_and_creates_nothing(api, writable):
    [rep] = await reps(writable, 1)
    rule = await rule_for(api, "mutation-first", {"userId": ids.encode("User", rep)})
    made = await api.data(
        INGEST_LEAD, {"input": {"lastName": "Aas", "utmSource": "mutation-first", "idempotencyKey": "mutation-first"}}
    )
    first = made["ingestLead"]
    assert first["replayed"] is False and first["routingRule"] == {"id": rule}, first
    before = await written(writable)
    again = await post(api, {"utmSource": "mutation-first", "lastName": "Aas"}, key="mutation-first")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    lead = again.json()["lead"]
    assert (lead["id"], lead["routingRuleId"], lead["assignedUserId"]) == (
        first["lead"]["id"],
        rule,
        ids.encode("User", rep),
    )
    replayed = (
        await api.data(
            INGEST_LEAD,
            {"input": {"lastName": "Aas", "utmSource": "mutation-first", "idempotencyKey": "mutation-first"}},
        )
    )["ingestLead"]
    assert replayed == {**first, "replayed": True}
    assert await written(writable) == before
    await api.data(DELETE_RULE, {"input": {"id": rule}})


async def test_a_key_stored_before_outcomes_were_kept_as_keys_still_replays_its_response(api, writable):
    """Rows written before the ingestion moved into the domain hold the rendered HTTP response."""
    made = await post(api, {"lastName": "Gammel"})
    assert made.status_code == 201
    stored = made.json()
    owner = f"user:{writable.summary.admin_user_id}"
    digest = fingerprint(IngestLeads(leads=[NewLead(last_name="Gammel")]))
    async with writable.engine.begin() as conn:
        await conn.execute(
            insert(tables.idempotency_keys).values(
                owner=owner, key="legacy-key", request_hash=digest, response=stored, created_at=datetime.now(UTC)
            )
        )
    before = await written(writable)
    again = await post(api, {"lastName": "Gammel"}, key="legacy-key")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == stored
    over_graphql = await api.data(INGEST_LEAD, {"input": {"lastName": "Gammel", "idempotencyKey": "legacy-key"}})
    assert over_graphql["ingestLead"]["replayed"] is True
    assert over_graphql["ingestLead"]["lead"]["id"] == stored["lead"]["id"]
    assert await written(writable) == before


async def test_each_ingestion_runs_as_its_caller_with_the_caller_s_role(api, writable, monkeypatch):
    """Over POST and over the mutation alike, the processor runs as the token's user with that user's
    role (whose rules its reads follow), or as the partner with a partner's rules."""
    seen = []
    original = ingestion.ingest_leads

    async def spied(cmd, uow, before_commit=None):
        seen.append((uow.actor, uow.viewer.role))
        return await original(cmd, uow, before_commit)

    monkeypatch.setattr(ingestion, "ingest_leads", spied)
    [rep] = await reps(writable, 1)
    rep_token = await issue_token(writable.engine, name="rep ingest", user_id=rep)
    admin, partner = writable.summary.admin_user_id, writable.summary.partner_id
    callers = [
        (api.token, Actor(user_id=admin, role=Role.ADMIN), "ADMIN"),
        (rep_token, Actor(user_id=rep, role=Role.SALES_REP), "SALES_REP"),
        (writable.partner_token, Actor(partner_id=partner), "PARTNER"),
    ]
    for n, (token, actor, rules) in enumerate(callers):
        seen.clear()
        over_http = await post(api, {"lastName": f"Caller {n}"}, token=token)
        assert over_http.status_code == 201, over_http.text
        over_graphql = await api.data(INGEST_LEAD, {"input": {"lastName": f"Caller {n}"}}, token=token)
        assert over_graphql["ingestLead"]["__typename"] == "IngestLeadPayload", over_graphql
        assert seen == [(actor, rules), (actor, rules)]
        if actor.partner_id is not None:  # no rule matched: a partner's own lead, whichever way it came
            assert over_http.json()["lead"]["assignedPartnerId"] == ids.encode("Partner", partner)
            assert over_graphql["ingestLead"]["lead"]["assignedPartner"] == {"id": ids.encode("Partner", partner)}
        else:
            assert over_http.json()["lead"]["assignedPartnerId"] is None
            assert over_graphql["ingestLead"]["lead"]["assignedPartner"] is None

"""Error messages name rows as clients know them, by their global ids, never by database keys."""

from __future__ import annotations

import re

from gql import ids
from tests.integration.mutations.test_opportunities import DELETE, LOST, UPDATE, new_opportunity


def names_no_key(message: str, pk: int) -> bool:
    return re.search(rf"(?<![\w]){pk}(?![\w])", message) is None


async def test_a_stale_version_names_the_opportunity_by_its_global_id(api, writable):
    created = await new_opportunity(api, writable)
    pk = ids.decode(created["id"])[1]
    await api.data(UPDATE, {"input": {"id": created["id"], "version": 1, "name": "Fleet renewal 2027"}})
    stale = (await api.data(UPDATE, {"input": {"id": created["id"], "version": 1, "name": "Overwritten"}}))[
        "updateOpportunity"
    ]
    assert stale["__typename"] == "ConflictError"
    assert created["id"] in stale["message"] and "version 2" in stale["message"]
    assert names_no_key(stale["message"], pk), stale["message"]


async def test_a_missing_row_is_named_by_the_global_id_that_was_sent(api, writable):
    created = await new_opportunity(api, writable)
    pk = ids.decode(created["id"])[1]
    assert (await api.data(DELETE, {"input": {"id": created["id"]}}))["deleteOpportunity"]["__typename"] == (
        "DeletedPayload"
    )
    gone = (await api.data(UPDATE, {"input": {"id": created["id"], "name": "Anyone?"}}))["updateOpportunity"]
    assert gone["__typename"] == "NotFoundError" and gone["entityType"] == "Opportunity"
    assert created["id"] in gone["message"] and names_no_key(gone["message"], pk), gone["message"]


async def test_a_rule_refusing_a_change_names_the_row_by_its_global_id(api, writable):
    created = await new_opportunity(api, writable)
    pk = ids.decode(created["id"])[1]
    lost = (await api.data(LOST, {"input": {"id": created["id"], "reason": "Budget cut"}}))["markOpportunityLost"]
    assert lost["__typename"] == "OpportunityPayload", lost
    again = await api.data(LOST, {"input": {"id": created["id"], "reason": "Twice"}})
    refused = again["markOpportunityLost"]
    assert refused["__typename"] == "ConflictError" and "already lost" in refused["message"]
    assert created["id"] in refused["message"] and names_no_key(refused["message"], pk), refused["message"]


async def test_the_lead_webhook_names_a_missing_campaign_by_its_global_id(api, writable):
    campaign = ids.encode("Campaign", 999_999)
    response = await api.http.post(
        "/ingest/leads",
        json={"lastName": "Berg", "campaignId": campaign},
        headers={"Authorization": f"Bearer {writable.admin_token}"},
    )
    error = response.json()["errors"][0]
    assert response.status_code == 422 and error["extensions"]["code"] == "NOT_FOUND", error
    assert campaign in error["message"] and "999999" not in error["message"]

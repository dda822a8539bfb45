"""Events follow the read rules for every kind of event, a deletion included: who is told that a row
was deleted is decided by the rules, from the row as it was. Over real WebSockets (both protocols),
on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from gql.auth import issue_token
from persistence import tables
from tests.conftest import GraphQLClient
from tests.integration.mutations.test_accounts import CREATE_ACCOUNT
from tests.integration.mutations.test_opportunities import CREATE, new_opportunity
from tests.integration.test_subscriptions import EVENTS, cursor
from tests.support.live import live_server
from tests.support.ws import LEGACY_WS, TRANSPORT_WS, GraphQLSocket

DELETE = """mutation($input: OpportunityRefInput!) { deleteOpportunity(input: $input) { __typename } }"""


@pytest.fixture
async def live(writable):
    async with live_server(writable.url) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            server.api = GraphQLClient(http, writable.admin_token)
            yield server


async def delete(api: GraphQLClient, opportunity_id: str, token: str | None = None) -> None:
    result = await api.data(DELETE, {"input": {"id": opportunity_id}}, token)
    assert result["deleteOpportunity"]["__typename"] == "DeletedPayload", result


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_deletion_on_a_private_account_is_told_to_its_creator_and_not_to_an_admin(live, writable, protocol):
    async with writable.engine.connect() as conn:
        rep_id = (
            await conn.execute(
                select(tables.users.c.id).where(tables.users.c.role == "SALES_REP").order_by(tables.users.c.id)
            )
        ).scalar()
    rep = await issue_token(writable.engine, name=f"rep {protocol}", user_id=rep_id)
    made = await live.api.data(
        CREATE_ACCOUNT, {"input": {"kind": "ORGANIZATION", "name": f"Rep's own ({protocol})", "isPrivate": True}}, rep
    )
    account = made["createAccount"]["account"]
    private = await live.api.data(
        CREATE,
        {
            "input": {
                "name": "Quiet deal",
                "accountId": account["id"],
                "estimatedRevenue": {"amount": "500", "currency": "EUR"},
            }
        },
        rep,
    )
    private_id = private["createOpportunity"]["opportunity"]["id"]
    # The admin's own opportunity: its deletion is the next thing the admin is told of.
    visible = await new_opportunity(live.api, writable)

    since = await cursor(live)
    admin = await GraphQLSocket.open(live.url, writable.admin_token, protocol)
    creator = await GraphQLSocket.open(live.url, rep, protocol)
    admin_op = await admin.subscribe(EVENTS, {"since": since})
    creator_op = await creator.subscribe(EVENTS, {"since": since})
    await delete(live.api, private_id, rep)
    await delete(live.api, visible["id"])

    told_admin = (await admin.next(admin_op))["data"]["opportunityEvents"]
    assert (told_admin["kind"], told_admin["opportunityId"]) == ("DELETED", visible["id"])
    told_creator = (await creator.next(creator_op))["data"]["opportunityEvents"]
    assert told_creator["kind"] == "DELETED" and told_creator["opportunityId"] == private_id
    assert told_creator["opportunity"] is None
    await admin.close()
    await creator.close()

"""A database as the previous revision leaves it (migration 0018_split: the seeded demo, whose accounts hold free
`custom_attributes`, plus rows written as that code wrote them) upgraded to the head: every value reads the same
through the API, each key became an ACCOUNT definition of type STRING, the values stay writable, and the other
entities start with none. The seeded copy is taken back to 0018_split by 0019's downgrade (one migration each
way instead of the whole chain from an empty database: the suite's time budget)."""

from __future__ import annotations

import asyncio
import json

import httpx
from alembic import command
from sqlalchemy import text

from gql import ids
from gql.app import create_app
from persistence.db import create_engine
from persistence.migrate import alembic_config, upgrade
from tests.conftest import GraphQLClient


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


# What accounts held before (keys as users typed them, one with a space, and an account with none).
BEFORE = [
    {"tier": "gold", "Region name": "north"},
    {"tier": "silver"},
    {},
    {"tier": "gold", "legacy-id": "A-17", "Region name": ""},
]
ACCOUNTS = """{ accounts(first: 100) { totalCount nodes { id customAttributes { key value }
  customFields { key label type value text } } } }"""
SETTINGS = "{ settings { customFields { entityType key label type active mandatory } } }"


async def test_a_database_made_by_the_previous_revision_keeps_every_custom_value(writable):
    url = writable.url
    await writable.engine.dispose()
    await asyncio.to_thread(downgrade, url, "0018_split")
    engine = create_engine(url)
    admin = writable.summary.admin_user_id
    async with engine.connect() as conn:
        rows = list(await conn.execute(text("SELECT id, custom_attributes, is_private, created_by_id FROM accounts")))
    # What the admin reads: every account but the private ones of others.
    seeded = {
        pk: json.loads(values) if isinstance(values, str) else values
        for pk, values, private, creator in rows
        if not private or creator == admin
    }
    async with engine.begin() as conn:
        kind = (
            await conn.execute(
                text("INSERT INTO contact_types (name, kind) VALUES ('Old employee', 'EMPLOYEE') RETURNING id")
            )
        ).scalar_one()
        accounts = []
        for n, attributes in enumerate(BEFORE):
            accounts.append(
                (
                    await conn.execute(
                        text(
                            "INSERT INTO accounts (kind, name, custom_attributes, key_account, category_group, "
                            "is_global, is_private) VALUES ('ORGANIZATION', :name, :attrs, false, 'PROSPECT', true, "
                            "false) RETURNING id"
                        ),
                        {"name": f"Old {n} AS", "attrs": json.dumps(attributes)},
                    )
                ).scalar_one()
            )
        await conn.execute(
            text(
                "INSERT INTO contacts (account_id, contact_type_id, first_name, last_name, lead_status, anonymized) "
                "VALUES (:a, :k, 'Kari', 'Old', 'OPEN', false)"
            ),
            {"a": accounts[0], "k": kind},
        )
        await conn.execute(
            text(
                "INSERT INTO opportunities (name, account_id, owner_id, stage, probability, locked) "
                "VALUES ('Old deal', :a, :u, 'PROSPECTING', 10, false)"
            ),
            {"a": accounts[0], "u": admin},
        )
        await conn.execute(
            text(
                "INSERT INTO leads (last_name, priority, status, archived, anonymized, assigned_user_id) "
                "VALUES ('Oldlead', 0, 'OPEN', false, false, :u)"
            ),
            {"u": admin},
        )
    await engine.dispose()

    await asyncio.to_thread(upgrade, url, "head")
    engine = create_engine(url)
    try:
        token = writable.admin_token  # tokens were kept
        app = create_app(engine, dispatch=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            api = GraphQLClient(http, token)
            before = {**seeded, **dict(zip(accounts, BEFORE, strict=True))}
            listed = (await api.data(ACCOUNTS))["accounts"]
            assert listed["totalCount"] == len(before) <= 100
            for node in listed["nodes"]:
                attributes = before[ids.decode_as(node["id"], "Account")]
                assert {a["key"]: a["value"] for a in node["customAttributes"]} == attributes
                assert {v["key"]: v["value"] for v in node["customFields"]} == attributes
                assert all(v["type"] == "STRING" and v["label"] == v["key"] for v in node["customFields"])
                assert all(v["text"] == v["value"] for v in node["customFields"])
            keys = sorted({k for attributes in before.values() for k in attributes})
            assert {"segment", "source", "tier", "Region name"} <= set(keys)
            assert (await api.data(SETTINGS))["settings"]["customFields"] == [
                {"entityType": "ACCOUNT", "key": k, "label": k, "type": "STRING", "active": True, "mandatory": False}
                for k in keys
            ]
            rest = await api.data(
                "{ contacts(first: 100) { nodes { customFields { key } } } opportunities(first: 100) { nodes { "
                "customFields { key } } } leads(first: 100) { nodes { customFields { key } } } }"
            )
            assert all(n["customFields"] == [] for list_ in rest.values() for n in list_["nodes"])
            changed = (
                await api.data(
                    """mutation($input: UpdateAccountInput!) { updateAccount(input: $input) { __typename
                  ... on AccountPayload { account { customFields { key value } } } } }""",
                    {
                        "input": {
                            "id": ids.encode("Account", accounts[1]),
                            "customFields": [{"key": "Region name", "value": "south"}],
                        }
                    },
                )
            )["updateAccount"]
            assert {v["key"]: v["value"] for v in changed["account"]["customFields"]} == {
                "tier": "silver",
                "Region name": "south",
            }
    finally:
        await engine.dispose()

"""History never points at hidden rows: a value that names a row (the account an opportunity moved
from, a parent account, a partner, a campaign, the contact of a business role) reads as its global
id for a reader who may see that row and as null for one who may not, never as a database key; the
same holds for `oldNode` / `newNode`. Entries written before, with bare keys, are rewritten by
migration 0006 so that they read the same way. Every role, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import insert, select

from gql import ids
from gql.auth import issue_token
from persistence import tables
from persistence.db import create_engine
from persistence.migrate import alembic_config, upgrade_async
from tests.conftest import new_database_url

ROLES = ["ADMIN", "SALES_DIRECTOR", "SALES_REP", "PARTNER"]


def mutation(name: str, input_type: str, selection: str = "") -> str:
    return f"""mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename
      ... on UserError {{ message }} {selection} }} }}"""


async def done(api, name: str, input_type: str, values: dict, selection: str = "") -> dict:
    result = (await api.data(mutation(name, input_type, selection), {"input": values}))[name]
    assert not result.get("message"), result
    return result


HISTORY = """query($id: ID!) { node(id: $id) { ... on Opportunity { history(first: 100) { nodes { ...entry } } }
  ... on Account { history(first: 100) { nodes { ...entry } } } } }
fragment entry on AuditEntry { field oldValue newValue oldNode { id } newNode { id } }"""


@pytest.fixture(scope="module")
async def activity(writable) -> dict:
    """The callers, and the partner's account that the admin's activity (`act`) is about."""
    from tests.integration.mutations.test_accounts import CREATE_ACCOUNT

    async with writable.engine.connect() as conn:
        users = list(await conn.execute(select(tables.users).order_by(tables.users.c.id)))
        accounts = list(await conn.execute(select(tables.accounts).order_by(tables.accounts.c.id)))
    director = next(u for u in users if u.role == "SALES_DIRECTOR" and u.team_id is not None)
    rep = next(u for u in users if u.role == "SALES_REP" and u.team_id == director.team_id)
    partner_account = next(a for a in accounts if a.partner_id == writable.summary.partner_id and not a.is_private)
    tokens = {
        "ADMIN": writable.admin_token,
        "SALES_DIRECTOR": await issue_token(writable.engine, name="director", user_id=director.id),
        "SALES_REP": await issue_token(writable.engine, name="rep", user_id=rep.id),
        "PARTNER": writable.partner_token,
    }
    return {
        "tokens": tokens,
        "rep": rep.id,
        "account": ids.encode("Account", partner_account.id),
        "create_account": CREATE_ACCOUNT,
    }


async def act(api, activity: dict) -> dict:
    """What an admin does (once per database), over HTTP: a new opportunity on the partner's account,
    owned by a rep, moved to a private account and back; the account given that private parent; the
    opportunity assigned to another partner, given a business role with a contact of the private
    account, and put in a campaign."""
    if "opportunity" in activity:
        return activity
    account = activity["account"]
    made = await api.data(
        activity["create_account"], {"input": {"kind": "ORGANIZATION", "name": "Hidden Holdings AS", "isPrivate": True}}
    )
    hidden = made["createAccount"]["account"]["id"]
    opportunity = (
        await done(
            api,
            "createOpportunity",
            "CreateOpportunityInput",
            {"name": "Watched deal", "accountId": account, "ownerId": ids.encode("User", activity["rep"])},
            "... on OpportunityPayload { opportunity { id } }",
        )
    )["opportunity"]["id"]
    await done(api, "moveOpportunity", "MoveOpportunityInput", {"id": opportunity, "accountId": hidden})
    await done(api, "moveOpportunity", "MoveOpportunityInput", {"id": opportunity, "accountId": account})
    await done(api, "setAccountParent", "SetAccountParentInput", {"id": account, "parentId": hidden})
    rival = (
        await done(
            api,
            "createPartner",
            "CreatePartnerInput",
            {"name": "Rival Partners AS"},
            "... on PartnerPayload { partner { id } }",
        )
    )["partner"]["id"]
    await done(
        api, "assignOpportunityPartner", "AssignOpportunityPartnerInput", {"id": opportunity, "partnerId": rival}
    )
    contact = (
        await done(
            api,
            "createContact",
            "CreateContactInput",
            {"accountId": hidden, "firstName": "Hedda", "lastName": "Hidden"},
            "... on ContactPayload { contact { id } }",
        )
    )["contact"]["id"]
    await done(
        api,
        "addBusinessRole",
        "AddBusinessRoleInput",
        {"opportunityId": opportunity, "contactId": contact, "role": "Buyer"},
    )
    campaign = (
        await done(
            api,
            "createCampaign",
            "CreateCampaignInput",
            {"name": "Internal push"},
            "... on CampaignPayload { campaign { id } }",
        )
    )["campaign"]["id"]
    await done(api, "updateOpportunity", "UpdateOpportunityInput", {"id": opportunity, "campaignId": campaign})
    activity.update(opportunity=opportunity, hidden=hidden, rival=rival, contact=contact, campaign=campaign)
    return activity


def changes(history: dict, field: str) -> list[tuple]:
    return [
        (n["oldValue"], n["newValue"], (n["oldNode"] or {}).get("id"), (n["newNode"] or {}).get("id"))
        for n in history["history"]["nodes"]
        if n["field"] == field
    ]


@pytest.mark.parametrize("role", ROLES)
async def test_history_shows_a_row_it_names_only_to_a_reader_who_may_see_it(api, activity, role):
    done_ = await act(api, activity)
    token = done_["tokens"][role]
    account, hidden, rival, contact, campaign = (
        done_[k] for k in ("account", "hidden", "rival", "contact", "campaign")
    )

    def seen(global_id: str, by: set[str]) -> str | None:
        return global_id if role in by else None

    only_admin = {"ADMIN"}
    users = {"ADMIN", "SALES_DIRECTOR", "SALES_REP"}
    opportunity_body = await api.post(HISTORY, {"id": done_["opportunity"]}, token)
    account_body = await api.post(HISTORY, {"id": account}, token)
    opportunity = opportunity_body.json()["data"]["node"]
    account_history = account_body.json()["data"]["node"]
    assert opportunity is not None and account_history is not None, "every role sees the opportunity and its account"

    h = seen(hidden, only_admin)
    assert changes(opportunity, "accountId") == [(account, h, account, h), (h, account, h, account)]
    assert changes(account_history, "parentId") == [(None, h, None, h)]
    r = seen(rival, users)
    assert changes(opportunity, "partnerId") == [(None, r, None, r)]
    c = seen(contact, only_admin)
    assert changes(opportunity, "businessRoles") == [(None, {"role": "Buyer", "contact": c}, None, c)]
    k = seen(campaign, users)
    assert changes(opportunity, "campaignId") == [(None, k, None, k)]
    # Nothing else in either answer names a hidden row, by global id or by key.
    for body in (opportunity_body.text, account_body.text):
        for global_id, by in ((hidden, only_admin), (rival, users), (contact, only_admin), (campaign, users)):
            if role not in by:
                assert global_id not in body
                assert not _numbers_equal(json.loads(body), ids.decode(global_id)[1])


def _numbers_equal(value, key: int) -> bool:
    """Whether `key` appears as a bare number anywhere in the value."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value == key
    if isinstance(value, dict):
        return any(_numbers_equal(v, key) for v in value.values())
    if isinstance(value, list):
        return any(_numbers_equal(v, key) for v in value)
    if isinstance(value, str):
        return value.strip().isdigit() and int(value) == key or f"({key})" in value
    return False


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
async def test_migration_0006_rewrites_the_keys_old_entries_hold_and_0005_gets_them_back(
    backend_name, request, tmp_path_factory
):
    url = new_database_url(backend_name, request, tmp_path_factory)
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0005")
    engine = create_engine(url)
    at = datetime(2026, 6, 1, tzinfo=UTC)
    old = [
        ("Opportunity", "accountId", 38, 4),
        ("Opportunity", "partnerId", None, 2),
        ("Account", "parentId", None, 7),
        ("Opportunity", "businessRoles", None, "Buyer (17)"),
        ("Opportunity", "relatedAccounts", 9, None),
        ("Account", "favouriteOf", None, 3),
        ("Opportunity", "probability", 10, 40),
        ("Opportunity", "created", None, "Fleet renewal"),
    ]
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(tables.audit_entries),
                [
                    {"entity_type": e, "entity_id": 1, "field": f, "old_value": o, "new_value": n, "at": at}
                    for e, f, o, n in old
                ],
            )
        await upgrade_async(url)

        async def stored() -> list[tuple]:
            async with engine.connect() as conn:
                a = tables.audit_entries
                rows = await conn.execute(
                    select(a.c.entity_type, a.c.field, a.c.old_value, a.c.new_value).order_by(a.c.id)
                )
                return [tuple(r) for r in rows]

        assert await stored() == [
            ("Opportunity", "accountId", {"ref": "Account", "id": 38}, {"ref": "Account", "id": 4}),
            ("Opportunity", "partnerId", None, {"ref": "Partner", "id": 2}),
            ("Account", "parentId", None, {"ref": "Account", "id": 7}),
            ("Opportunity", "businessRoles", None, {"role": "Buyer", "contact": {"ref": "Contact", "id": 17}}),
            ("Opportunity", "relatedAccounts", {"ref": "Account", "id": 9}, None),
            ("Account", "favouriteOf", None, {"ref": "User", "id": 3}),
            ("Opportunity", "probability", 10, 40),
            ("Opportunity", "created", None, "Fleet renewal"),
        ]
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0005")
        assert await stored() == old
    finally:
        await engine.dispose()

"""Custom fields over HTTP on both databases (issue 17, item 5): admins define them per entity (settings, with
history and typed errors), every write of accounts, contacts, opportunities and leads checks their values
(create, update, CSV import, lead ingestion: nothing is stored on a refusal), rows show them typed, and the
criteria language tests them inside the list's one statement, for every role exactly as plain Python computes
from the rows. A definition in use cannot be deleted; deactivated, it takes no new values and keeps the old."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import bindparam, func, select, update

from gql import ids
from gql.auth import issue_token
from persistence import tables
from tests.conftest import statements
from tests.integration.test_visibility import Caller, World
from tests.support.rows import table_rows

ERRORS = "... on UserError { code message } ... on ValidationError { field }"
DEFINITION = "customFieldDefinition { id key label type options mandatory active position version entityType }"
CREATE = f"""mutation($input: CreateCustomFieldInput!) {{ createCustomField(input: $input) {{
  __typename ... on CustomFieldDefinitionPayload {{ {DEFINITION} }} {ERRORS} }} }}"""
UPDATE = f"""mutation($input: UpdateCustomFieldInput!) {{ updateCustomField(input: $input) {{
  __typename ... on CustomFieldDefinitionPayload {{ {DEFINITION} }} {ERRORS} }} }}"""
DELETE = f"""mutation($input: DeleteCustomFieldInput!) {{ deleteCustomField(input: $input) {{
  __typename ... on DeletedPayload {{ deletedId }} {ERRORS} }} }}"""
VALUES = "customFields { key label type active value text number date boolean definition { id key options } }"
CREATE_ACCOUNT = f"""mutation($input: CreateAccountInput!) {{ createAccount(input: $input) {{
  __typename ... on AccountPayload {{ account {{ id version {VALUES} }} }} {ERRORS} }} }}"""
UPDATE_ACCOUNT = f"""mutation($input: UpdateAccountInput!) {{ updateAccount(input: $input) {{
  __typename ... on AccountPayload {{ account {{ id version {VALUES} customAttributes {{ key value }} }} }}
  {ERRORS} }} }}"""
CREATE_LEAD = f"""mutation($input: CreateLeadInput!) {{ createLead(input: $input) {{
  __typename ... on LeadPayload {{ lead {{ id {VALUES} }} }} {ERRORS} }} }}"""
UPDATE_CONTACT = f"""mutation($input: UpdateContactInput!) {{ updateContact(input: $input) {{
  __typename ... on ContactPayload {{ contact {{ id {VALUES} }} }} {ERRORS} }} }}"""
UPDATE_OPPORTUNITY = f"""mutation($input: UpdateOpportunityInput!) {{ updateOpportunity(input: $input) {{
  __typename ... on OpportunityPayload {{ opportunity {{ id {VALUES} }} }} {ERRORS} }} }}"""
IMPORT_ACCOUNTS = """mutation($input: ImportAccountsInput!) { importAccounts(input: $input) { __typename
  ... on ImportRejectedError { problems { line column message } } ... on UserError { code message } } }"""
SETTINGS = """query($e: CustomFieldEntity) { settings { customFields(entityType: $e) { key type options active } } }"""
ROLES = ["ADMIN", "SALES_DIRECTOR", "SALES_REP", "PARTNER"]
LIST = {"ACCOUNT": "accounts", "CONTACT": "contacts", "OPPORTUNITY": "opportunities", "LEAD": "leads"}
TIERS = ["GOLD", "SILVER", "BRONZE"]
# The fields the tests define (besides the seeded accounts' `segment` and `source`).
FIELDS = [
    ("ACCOUNT", "TIER", "CHOICE", TIERS),
    ("ACCOUNT", "SCORE", "NUMBER", []),
    ("ACCOUNT", "RENEWAL", "DATE", []),
    ("ACCOUNT", "VIP", "BOOLEAN", []),
    ("CONTACT", "NEWSLETTER", "BOOLEAN", []),
    ("CONTACT", "NICKNAME", "STRING", []),
    ("OPPORTUNITY", "COMPETITOR", "STRING", []),
    ("OPPORTUNITY", "SEATS", "NUMBER", []),
    ("LEAD", "BUDGET", "NUMBER", []),
    ("LEAD", "SOURCE_DETAIL", "CHOICE", ["FAIR", "WEBINAR"]),
]


async def _do(api, document: str, values: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    data = await api.data(document, {"input": values}, token=token)
    [result] = data.values()
    return result


def _value(rng: random.Random, kind: str, options: list[str]) -> Any:
    """A value of the type, or none (a third of the rows hold none), or (rarely) one of another JSON type, as a
    row written before a field's definition could hold: criteria read it as no value."""
    roll = rng.random()
    if roll < 0.3:
        return None
    if roll < 0.36:
        return rng.choice(["text", 7, True])
    return {
        "CHOICE": lambda: rng.choice(options),
        "STRING": lambda: rng.choice(["Acme", "Globex", "Initech"]),
        "NUMBER": lambda: rng.choice([0, 3, 12.5, 40, 99, -2]),
        "DATE": lambda: rng.choice(["2026-01-31", "2026-06-15", "2027-02-01", "2025-12-31"]),
        "BOOLEAN": lambda: rng.random() < 0.5,
    }[kind]()


@pytest.fixture(scope="module")
async def scene(writable, api_module) -> tuple[World, dict[str, str]]:
    """The test fields defined through the API, values spread over every seeded row (straight into the column,
    also values of another type), and the callers of each role."""
    for entity, key, kind, options in FIELDS:
        made = await _do(
            api_module,
            CREATE,
            {"entityType": entity, "key": key, "label": key.title(), "type": kind, "options": options},
        )
        assert made["__typename"] == "CustomFieldDefinitionPayload", made
    rng = random.Random(17)
    async with writable.engine.begin() as conn:
        for entity, table_name in (
            ("ACCOUNT", "accounts"),
            ("CONTACT", "contacts"),
            ("OPPORTUNITY", "opportunities"),
            ("LEAD", "leads"),
        ):
            table = tables.metadata.tables[table_name]
            spread = []
            for pk, stored in list(await conn.execute(select(table.c.id, table.c.custom_fields).order_by(table.c.id))):
                values = dict(stored or {})
                for e, key, kind, options in FIELDS:
                    if e == entity:
                        value = _value(rng, kind, options)
                        if value is not None:
                            values[key] = value
                spread.append({"pk": pk, "values": values})
            await conn.execute(  # one executemany per table
                update(table).where(table.c.id == bindparam("pk")).values(custom_fields=bindparam("values")), spread
            )
    rows = await table_rows(
        writable.engine,
        "users",
        "accounts",
        "opportunities",
        "quotes",
        "contracts",
        "contacts",
        "leads",
        "sales_activities",
        "conversations",
        "conversation_participants",
        "tasks",
    )
    callers = {
        "ADMIN": Caller("ADMIN", writable.admin_token, user_id=writable.summary.admin_user_id),
        "PARTNER": Caller("PARTNER", writable.partner_token, partner_id=writable.summary.partner_id),
    }
    for role in ("SALES_DIRECTOR", "SALES_REP"):
        user = next(u for u in rows["users"] if u.role == role)
        callers[role] = Caller(
            role, await issue_token(writable.engine, name=f"cf {role}", user_id=user.id), user_id=user.id
        )
    return World(rows, callers), {e: t for e, t in LIST.items()}


@pytest.fixture(scope="module")
async def api_module(writable):
    import httpx

    from gql.app import create_app
    from tests.conftest import GraphQLClient

    app = create_app(writable.engine, dispatch=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        yield GraphQLClient(http, writable.admin_token)


# --- the oracle ---


def _holds(node: dict[str, Any], values: dict[str, Any]) -> bool:
    """A custom field condition (the domain's normalised form) on a row's values, in plain Python."""
    if "and" in node:
        return all(_holds(n, values) for n in node["and"])
    if "or" in node:
        return any(_holds(n, values) for n in node["or"])
    if "not" in node:
        return not _holds(node["not"], values)
    value = values.get(node["custom"])
    if "empty" in node:
        return (value is None) == node["empty"]
    if "is" in node:
        return isinstance(value, bool) and value == node["is"]
    if "in" in node or "notIn" in node:
        matches = isinstance(value, str) and value in node.get("in", node.get("notIn"))
        return matches if "in" in node else not matches
    if "min" in node or "max" in node:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return value >= float(node.get("min", "-inf")) and value <= float(node.get("max", "inf"))
    if not isinstance(value, str):
        return False
    return (node.get("from") is None or value >= node["from"]) and (node.get("to") is None or value <= node["to"])


def _as_input(node: dict[str, Any]) -> dict[str, Any]:
    for group in ("and", "or"):
        if group in node:
            return {group: [_as_input(n) for n in node[group]]}
    if "not" in node:
        return {"not": _as_input(node["not"])}
    names = {
        "in": "in",
        "notIn": "notIn",
        "min": "atLeast",
        "max": "atMost",
        "from": "fromDate",
        "to": "toDate",
        "is": "is",
        "empty": "isEmpty",
    }
    return {"customField": node["custom"], **{names[k]: v for k, v in node.items() if k != "custom"}}


TREES = {
    "ACCOUNT": [
        {"custom": "TIER", "in": ["GOLD", "SILVER"]},
        {"custom": "TIER", "notIn": ["GOLD"]},
        {"custom": "SCORE", "min": "3", "max": "40"},
        {"custom": "RENEWAL", "from": "2026-01-01", "to": "2026-12-31"},
        {"custom": "VIP", "is": True},
        {"custom": "VIP", "empty": True},
        {"or": [{"custom": "TIER", "empty": False}, {"not": {"custom": "segment", "in": ["SMB"]}}]},
        {"custom": "UNDEFINED_KEY", "in": ["x"]},
    ],
    "CONTACT": [{"custom": "NEWSLETTER", "is": True}, {"custom": "NICKNAME", "notIn": ["Acme"]}],
    "OPPORTUNITY": [
        {"custom": "COMPETITOR", "in": ["Globex", "Initech"]},
        {"custom": "SEATS", "min": "-2", "max": "3"},
    ],
    "LEAD": [{"custom": "BUDGET", "empty": False}, {"not": {"custom": "SOURCE_DETAIL", "in": ["FAIR"]}}],
}


async def test_criteria_on_custom_fields_match_plain_python_for_every_role(api_module, scene):
    world, _ = scene
    checked = 0
    for entity, trees in TREES.items():
        rows = world.rows[LIST[entity]]
        for role in ROLES:
            caller = world.callers[role]
            visible = getattr(world, LIST[entity])(caller)
            for tree in trees:
                expected = {r.id for r in rows if r.id in visible and _holds(tree, r.custom_fields or {})}
                data = await api_module.data(
                    f"query($c: Criteria) {{ {LIST[entity]}(first: 100, criteria: $c) {{ totalCount nodes {{ id }} }} }}",
                    {"c": _as_input(tree)},
                    token=caller.token,
                )
                page = data[LIST[entity]]
                assert page["totalCount"] == len(expected), (entity, role, tree)
                assert {ids.decode(n["id"])[1] for n in page["nodes"]} <= expected
                checked += bool(expected) and len(expected) < len(visible)
    assert checked > 20  # trees that cut the lists, not only all or nothing
    # A custom field of the related rows, in `where`: accounts with a contact (one the reader may see) who
    # takes the newsletter.
    tree = {"has": "CONTACTS", "where": {"customField": "NEWSLETTER", "is": True}}
    for role in ROLES:
        caller = world.callers[role]
        contacts = world.contacts(caller)
        readers = {
            c.account_id
            for c in world.rows["contacts"]
            if c.id in contacts and c.custom_fields.get("NEWSLETTER") is True
        }
        expected = world.accounts(caller) & readers
        data = await api_module.data(
            "query($c: Criteria) { accounts(first: 100, criteria: $c) { totalCount } }", {"c": tree}, token=caller.token
        )
        assert data["accounts"]["totalCount"] == len(expected), role


async def test_a_list_costs_the_same_statements_with_custom_field_criteria(api_module, scene):
    query = "query($c: Criteria) { accounts(first: 50, criteria: $c) { totalCount nodes { id name } } }"
    await api_module.post(query)  # the token's lookup is cached from here on
    plain = await api_module.post(query)
    tree = {
        "or": [
            {"customField": "TIER", "in": ["GOLD"]},
            {"customField": "SCORE", "atLeast": "10"},
            {"not": {"customField": "VIP", "isEmpty": True}},
        ]
    }
    filtered = await api_module.post(query, {"c": tree})
    assert "errors" not in filtered.json(), filtered.json()
    assert statements(filtered) == statements(plain)


async def test_values_read_typed_in_the_order_of_their_definitions(api_module, scene, writable):
    world, _ = scene
    account = next(
        a
        for a in world.rows["accounts"]
        if {"TIER", "SCORE", "RENEWAL"} <= set(a.custom_fields)
        and isinstance(a.custom_fields["SCORE"], (int, float))
        and not isinstance(a.custom_fields["SCORE"], bool)
        and a.custom_fields["TIER"] in TIERS
        and isinstance(a.custom_fields["RENEWAL"], str)
    )
    data = await api_module.data(
        f"query($id: ID!) {{ node(id: $id) {{ ... on Account {{ {VALUES} }} }} }}",
        {"id": ids.encode("Account", account.id)},
    )
    shown = {v["key"]: v for v in data["node"]["customFields"]}
    assert list(shown) == [
        k for k in ["segment", "source", "TIER", "SCORE", "RENEWAL", "VIP"] if k in account.custom_fields
    ]
    assert (shown["TIER"]["label"], shown["TIER"]["type"], shown["TIER"]["text"]) == (
        "Tier",
        "CHOICE",
        account.custom_fields["TIER"],
    )
    assert float(shown["SCORE"]["number"]) == float(account.custom_fields["SCORE"])
    assert shown["RENEWAL"]["date"] == account.custom_fields["RENEWAL"]
    assert (shown["TIER"]["definition"]["key"], shown["TIER"]["definition"]["options"]) == ("TIER", TIERS)


async def test_every_write_checks_its_custom_fields_and_stores_nothing_on_a_refusal(api_module, scene, writable):
    async def count(table) -> int:
        async with writable.engine.connect() as conn:
            return (await conn.execute(select(func.count()).select_from(table))).scalar_one()

    accounts = await count(tables.accounts)
    base = {"kind": "ORGANIZATION", "name": "Custom AS"}
    for values, field in [
        ([{"key": "SCORE", "value": "many"}], "customFields.SCORE"),
        ([{"key": "TIER", "value": "PLATINUM"}], "customFields.TIER"),
        ([{"key": "NOPE", "value": "x"}], "customFields.NOPE"),
        ([{"key": "VIP", "value": "yes"}], "customFields.VIP"),
        ([{"key": "RENEWAL", "value": "31.12.2026"}], "customFields.RENEWAL"),
        ([{"key": "TIER", "value": "GOLD"}, {"key": "TIER", "value": "SILVER"}], "customFields.TIER"),
    ]:
        refused = await _do(api_module, CREATE_ACCOUNT, {**base, "customFields": values})
        assert (refused["__typename"], refused["field"]) == ("ValidationError", field), refused
    assert await count(tables.accounts) == accounts

    made = await _do(
        api_module,
        CREATE_ACCOUNT,
        {
            **base,
            "customFields": [
                {"key": "TIER", "value": "GOLD"},
                {"key": "SCORE", "value": 12.5},
                {"key": "VIP", "value": False},
                {"key": "RENEWAL", "value": "2027-03-01"},
            ],
        },
    )
    assert {v["key"]: v["value"] for v in made["account"]["customFields"]} == {
        "TIER": "GOLD",
        "SCORE": 12.5,
        "RENEWAL": "2027-03-01",
        "VIP": False,
    }
    changed = await _do(
        api_module,
        UPDATE_ACCOUNT,
        {"id": made["account"]["id"], "customFields": [{"key": "SCORE", "value": None}, {"key": "VIP", "value": True}]},
    )
    assert {v["key"]: v["value"] for v in changed["account"]["customFields"]} == {
        "TIER": "GOLD",
        "RENEWAL": "2027-03-01",
        "VIP": True,
    }  # key by key; null removed SCORE
    assert {"key": "VIP", "value": "true"} in changed["account"]["customAttributes"]

    # Contacts and opportunities: the update names the field it refuses; the row keeps its values.
    contact = scene[0].rows["contacts"][0]
    refused = await _do(
        api_module,
        UPDATE_CONTACT,
        {"id": ids.encode("Contact", contact.id), "customFields": [{"key": "NEWSLETTER", "value": 1}]},
    )
    assert refused["field"] == "customFields.NEWSLETTER"
    ok = await _do(
        api_module,
        UPDATE_CONTACT,
        {"id": ids.encode("Contact", contact.id), "customFields": [{"key": "NICKNAME", "value": "Bob"}]},
    )
    assert {"key": "NICKNAME", "value": "Bob"}.items() <= {
        "key": "NICKNAME",
        "value": next(v["value"] for v in ok["contact"]["customFields"] if v["key"] == "NICKNAME"),
    }.items()
    deal = next(o for o in scene[0].rows["opportunities"] if not o.locked)
    refused = await _do(
        api_module,
        UPDATE_OPPORTUNITY,
        {"id": ids.encode("Opportunity", deal.id), "customFields": [{"key": "SEATS", "value": True}]},
    )
    assert refused["field"] == "customFields.SEATS"

    # A mandatory lead field: a new lead without it is refused, by hand and through the lead processor.
    budget = next(d for d in (await api_module.data(SETTINGS, {"e": "LEAD"}))["settings"]["customFields"])
    assert budget["key"] == "BUDGET"
    definitions = await api_module.data("{ settings { customFields(entityType: LEAD) { id key version } } }")
    budget_id = next(d["id"] for d in definitions["settings"]["customFields"] if d["key"] == "BUDGET")
    assert (await _do(api_module, UPDATE, {"id": budget_id, "mandatory": True}))["customFieldDefinition"]["mandatory"]
    leads = await count(tables.leads)
    refused = await _do(api_module, CREATE_LEAD, {"lastName": "Nobudget"})
    assert (refused["__typename"], refused["field"]) == ("ValidationError", "customFields.BUDGET")
    answer = await api_module.http.post(
        "/ingest/leads", json={"lastName": "Nobudget"}, headers={"Authorization": f"Bearer {writable.admin_token}"}
    )
    assert answer.status_code == 422 and answer.json()["errors"][0]["extensions"]["field"] == "customFields.BUDGET"
    assert await count(tables.leads) == leads
    answer = await api_module.http.post(
        "/ingest/leads",
        json={"lastName": "Budget", "customFields": {"BUDGET": 500}},
        headers={"Authorization": f"Bearer {writable.admin_token}"},
    )
    assert answer.status_code == 201, answer.json()
    lead = await _do(
        api_module, CREATE_LEAD, {"lastName": "Budget", "customFields": [{"key": "BUDGET", "value": "12"}]}
    )
    assert [v["number"] for v in lead["lead"]["customFields"]] == ["12"]
    assert (await _do(api_module, UPDATE, {"id": budget_id, "mandatory": False}))["customFieldDefinition"][
        "mandatory"
    ] is False

    # A CSV import: custom.KEY columns, every bad cell reported, nothing stored.
    accounts = await count(tables.accounts)
    csv = "name,custom.TIER,custom.SCORE\nOne AS,GOLD,4\nTwo AS,TIN,x\n"
    rejected = await _do(api_module, IMPORT_ACCOUNTS, {"csv": csv})
    assert rejected["__typename"] == "ImportRejectedError"
    assert [(p["line"], p["column"]) for p in rejected["problems"]] == [(3, "custom.TIER")]
    assert await count(tables.accounts) == accounts
    done = await _do(api_module, IMPORT_ACCOUNTS, {"csv": "name,custom.TIER,custom.VIP\nOne AS,GOLD,yes\n"})
    assert done["__typename"] == "ImportAccountsPayload", done
    async with writable.engine.connect() as conn:
        stored = (
            await conn.execute(select(tables.accounts.c.custom_fields).where(tables.accounts.c.name == "One AS"))
        ).scalar_one()
    assert stored == {"TIER": "GOLD", "VIP": True}


async def test_definitions_are_admins_settings_with_typed_errors_history_and_deletion_only_when_unused(
    api_module, scene, writable
):
    world, _ = scene
    rep = world.callers["SALES_REP"].token
    refused = await api_module.post(
        CREATE, {"input": {"entityType": "ACCOUNT", "key": "X", "label": "X", "type": "STRING"}}, token=rep
    )
    assert refused.status_code == 403  # settings:write is an admin's scope
    for values, field in [
        ({"key": "lower_case"}, "key"),
        ({"type": "CHOICE"}, "options"),
        ({"type": "CHOICE", "options": ["A", "A"]}, "options"),
        ({"options": ["A"]}, "options"),
    ]:
        made = await _do(
            api_module, CREATE, {"entityType": "ACCOUNT", "key": "NEW_ONE", "label": "New", "type": "STRING", **values}
        )
        assert (made["__typename"], made.get("field")) == ("ValidationError", field), made
    twice = await _do(api_module, CREATE, {"entityType": "ACCOUNT", "key": "TIER", "label": "Again", "type": "STRING"})
    assert twice["__typename"] == "ConflictError"
    # A partner reads the settings.
    seen = await api_module.data(SETTINGS, {"e": "ACCOUNT"}, token=writable.partner_token)
    assert [d["key"] for d in seen["settings"]["customFields"]] == [
        "segment",
        "source",
        "TIER",
        "SCORE",
        "RENEWAL",
        "VIP",
    ]

    tier = next(
        d
        for d in (await api_module.data("{ settings { customFields(entityType: ACCOUNT) { id key version } } }"))[
            "settings"
        ]["customFields"]
        if d["key"] == "TIER"
    )
    holding = sum(1 for a in world.rows["accounts"] if "TIER" in a.custom_fields)
    async with writable.engine.connect() as conn:
        holding = (
            await conn.execute(
                select(func.count())
                .select_from(tables.accounts)
                .where(tables.accounts.c.custom_fields["TIER"].as_string().is_not(None))
            )
        ).scalar_one()
    refused = await _do(api_module, DELETE, {"id": tier["id"]})
    assert refused["__typename"] == "ConflictError" and refused["message"].startswith(f"{holding} accounts hold"), (
        refused
    )
    shrink = await _do(api_module, UPDATE, {"id": tier["id"], "options": ["GOLD", "SILVER"]})
    assert shrink["__typename"] == "ConflictError" and "'BRONZE'" in shrink["message"]
    off = await _do(api_module, UPDATE, {"id": tier["id"], "active": False, "label": "Tier (old)"})
    assert off["customFieldDefinition"]["active"] is False
    holder = next(
        a
        for a in world.rows["accounts"]
        if a.custom_fields.get("TIER") in TIERS and a.id in world.accounts(world.callers["ADMIN"])
    )
    kept = await _do(
        api_module,
        UPDATE_ACCOUNT,
        {
            "id": ids.encode("Account", holder.id),
            "customFields": [{"key": "TIER", "value": holder.custom_fields["TIER"]}, {"key": "VIP", "value": True}],
        },
    )
    assert kept["__typename"] == "AccountPayload", kept  # the value it held stays writable as it is
    shown = {v["key"]: v for v in kept["account"]["customFields"]}
    assert (shown["TIER"]["active"], shown["TIER"]["label"]) == (False, "Tier (old)")
    other = next(t for t in TIERS if t != holder.custom_fields["TIER"])
    new = await _do(
        api_module,
        UPDATE_ACCOUNT,
        {"id": ids.encode("Account", holder.id), "customFields": [{"key": "TIER", "value": other}]},
    )
    assert (new["__typename"], new["field"]) == ("ValidationError", "customFields.TIER")
    unused = await _do(
        api_module, CREATE, {"entityType": "CONTACT", "key": "UNUSED", "label": "Unused", "type": "DATE"}
    )
    gone = await _do(api_module, DELETE, {"id": unused["customFieldDefinition"]["id"]})
    assert gone["__typename"] == "DeletedPayload"
    history = await api_module.data(
        "query($id: ID!) { node(id: $id) { ... on CustomFieldDefinition { history(first: 20) { nodes { field oldValue newValue } } } } }",
        {"id": tier["id"]},
    )
    entries = [(e["field"], e["oldValue"], e["newValue"]) for e in history["node"]["history"]["nodes"]]
    assert (
        entries[0][0] == "created" and ("active", True, False) in entries and ("label", "Tier", "Tier (old)") in entries
    )

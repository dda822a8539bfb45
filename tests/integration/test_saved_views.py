"""Saved views over HTTP on both databases: a named filter and order per root list, private or shared,
a default per role (set by an admin, one per role and list) and each user's own default, which comes first;
the view's criteria, passed to its list, give the list's rows."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from gql import ids
from gql.auth import issue_token
from persistence import tables

ERRORS = "... on UserError { code message } ... on ValidationError { field }"
VIEW = "savedView { id name list criteria orderField orderDescending sharing defaultForRoles ownerDefault version }"


def _mutation(name: str, input_type: str) -> str:
    return f"""mutation($input: {input_type}!) {{ {name}(input: $input) {{
      __typename ... on SavedViewPayload {{ {VIEW} }} {ERRORS} }} }}"""


CREATE = _mutation("createSavedView", "CreateSavedViewInput")
UPDATE = _mutation("updateSavedView", "UpdateSavedViewInput")
DEFAULT = _mutation("setDefaultView", "SetDefaultViewInput")
DELETE = f"""mutation($input: DeleteSavedViewInput!) {{ deleteSavedView(input: $input) {{
  __typename ... on DeletedPayload {{ deletedId }} {ERRORS} }} }}"""
MY_DEFAULT = (
    """query($list: SelectionEntity!) { viewer { defaultView(list: $list) { id name criteria orderField } } }"""
)
VIEWS = """query { savedViews(first: 100) { totalCount nodes { id name } } }"""


@pytest.fixture(scope="module")
async def tokens(writable) -> dict[str, str]:
    async with writable.engine.connect() as conn:
        users = list(await conn.execute(select(tables.users)))
    found = {"ADMIN": writable.admin_token, "PARTNER": writable.partner_token}
    for role in ("SALES_DIRECTOR", "SALES_REP"):
        user = next(u for u in users if u.role == role)
        found[role] = await issue_token(writable.engine, name=f"views {role}", user_id=user.id)
    rep2 = [u for u in users if u.role == "SALES_REP"][1]
    found["OTHER_REP"] = await issue_token(writable.engine, name="views rep 2", user_id=rep2.id)
    return found


async def _do(api, document: str, values: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    data = await api.data(document, {"input": values}, token=token)
    [result] = data.values()
    return result


async def test_a_roles_default_view_and_a_users_own_default(api, tokens):
    late = {"field": "STAGE", "in": ["NEGOTIATION", "PROPOSAL"]}
    shared = await _do(
        api,
        CREATE,
        {
            "name": "Late stage",
            "list": "OPPORTUNITY",
            "criteria": late,
            "orderField": "EXPECTED_CLOSE_DATE",
            "sharing": "EVERYONE",
        },
    )
    assert shared["__typename"] == "SavedViewPayload", shared
    view = shared["savedView"]
    assert view["criteria"] == late and view["orderField"] == "EXPECTED_CLOSE_DATE"
    made = await _do(api, DEFAULT, {"id": view["id"], "roles": ["SALES_REP", "SALES_DIRECTOR"]})
    assert made["savedView"]["defaultForRoles"] == ["SALES_DIRECTOR", "SALES_REP"]
    for role in ("SALES_REP", "SALES_DIRECTOR"):
        found = (await api.data(MY_DEFAULT, {"list": "OPPORTUNITY"}, token=tokens[role]))["viewer"]["defaultView"]
        assert found["id"] == view["id"]
    assert (await api.data(MY_DEFAULT, {"list": "OPPORTUNITY"}))["viewer"]["defaultView"] is None  # no admin default
    # Another view becomes the reps' default: the first keeps the directors only.
    other = (
        await _do(
            api,
            CREATE,
            {
                "name": "Big deals",
                "list": "OPPORTUNITY",
                "sharing": "EVERYONE",
                "criteria": {"field": "ESTIMATED_REVENUE", "atLeast": "50000"},
            },
        )
    )["savedView"]
    await _do(api, DEFAULT, {"id": other["id"], "roles": ["SALES_REP"]})
    rep = (await api.data(MY_DEFAULT, {"list": "OPPORTUNITY"}, token=tokens["SALES_REP"]))["viewer"]["defaultView"]
    assert rep["id"] == other["id"]
    first = (
        await api.data("query($id: ID!) { node(id: $id) { ... on SavedView { defaultForRoles } } }", {"id": view["id"]})
    )["node"]
    assert first["defaultForRoles"] == ["SALES_DIRECTOR"]
    # The rep's own default comes before its role's.
    mine = await _do(
        api,
        CREATE,
        {
            "name": "My open deals",
            "list": "OPPORTUNITY",
            "myDefault": True,
            "criteria": {"field": "STAGE", "notIn": ["WON", "LOST"]},
        },
        tokens["SALES_REP"],
    )
    rep = (await api.data(MY_DEFAULT, {"list": "OPPORTUNITY"}, token=tokens["SALES_REP"]))["viewer"]["defaultView"]
    assert rep["id"] == mine["savedView"]["id"]
    # Only an admin sets a role's default.
    refused = await _do(api, DEFAULT, {"id": other["id"], "roles": ["SALES_REP"]}, tokens["SALES_DIRECTOR"])
    assert refused["__typename"] == "PermissionDeniedError"


async def test_a_private_view_is_its_owners_and_a_shared_one_everyones_but_partners(api, tokens):
    private = await _do(
        api,
        CREATE,
        {"name": "Rep's private", "list": "LEAD", "criteria": {"field": "STATUS", "in": ["OPEN"]}},
        tokens["SALES_REP"],
    )
    gid = private["savedView"]["id"]
    read = "query($id: ID!) { node(id: $id) { ... on SavedView { id name } } }"
    assert (await api.data(read, {"id": gid}, token=tokens["SALES_REP"]))["node"]["id"] == gid
    for other in ("OTHER_REP", "ADMIN", "PARTNER"):
        assert (await api.data(read, {"id": gid}, token=tokens[other]))["node"] is None
    missing = ids.encode("SavedView", 9_999_999)
    hidden = await _do(api, UPDATE, {"id": gid, "name": "x"}, tokens["OTHER_REP"])
    gone = await _do(api, UPDATE, {"id": missing, "name": "x"}, tokens["OTHER_REP"])
    assert hidden["__typename"] == gone["__typename"] == "NotFoundError"
    assert hidden["message"].replace(gid, "?") == gone["message"].replace(missing, "?")
    await _do(api, UPDATE, {"id": gid, "sharing": "EVERYONE"}, tokens["SALES_REP"])
    assert (await api.data(read, {"id": gid}, token=tokens["OTHER_REP"]))["node"]["id"] == gid
    assert (await api.data(read, {"id": gid}, token=tokens["PARTNER"]))["node"] is None
    refused = await _do(api, UPDATE, {"id": gid, "name": "mine"}, tokens["OTHER_REP"])
    assert refused["__typename"] == "PermissionDeniedError"
    partner = await _do(api, CREATE, {"name": "p", "list": "ACCOUNT", "sharing": "EVERYONE"}, tokens["PARTNER"])
    assert partner["__typename"] == "ValidationError" and partner["field"] == "sharing"
    deleted = await _do(api, DELETE, {"id": gid}, tokens["SALES_REP"])
    assert deleted["deletedId"] == gid


async def test_a_views_criteria_and_order_give_its_lists_rows(api, tokens, writable):
    view = (
        await _do(
            api,
            CREATE,
            {
                "name": "Customers by country",
                "list": "ACCOUNT",
                "orderField": "COUNTRY",
                "orderDescending": True,
                "criteria": {"field": "CATEGORY_GROUP", "in": ["CUSTOMER"]},
            },
        )
    )["savedView"]
    accounts = await api.data(
        """query($c: Criteria, $o: AccountOrder) { accounts(first: 100, criteria: $c, orderBy: $o) {
          totalCount nodes { country } } }""",
        {"c": view["criteria"], "o": {"field": view["orderField"], "direction": "DESC"}},
    )
    async with writable.engine.connect() as conn:
        customers = (
            await conn.execute(select(tables.accounts.c.id).where(tables.accounts.c.category_group == "CUSTOMER"))
        ).all()
    assert accounts["accounts"]["totalCount"] == len(customers)
    wrong = await _do(api, CREATE, {"name": "bad order", "list": "LEAD", "orderField": "NAME"})
    assert wrong["__typename"] == "ValidationError" and wrong["field"] == "orderField"
    bad = await _do(api, CREATE, {"name": "bad", "list": "LEAD", "criteria": {"field": "STAGE", "in": ["WON"]}})
    assert bad["__typename"] == "ValidationError" and bad["field"] == "criteria.field"


HISTORY = """query($id: ID!) { node(id: $id) { ... on SavedView { history(first: 50) { nodes {
  field oldValue newValue } } } } }"""


async def test_a_views_history_tells_its_criteria_sharing_and_defaults_to_who_may_read_it(api, tokens):
    made = await _do(
        api,
        CREATE,
        {"name": "Late deals", "list": "OPPORTUNITY", "criteria": {"field": "STAGE", "in": ["PROPOSAL"]}},
        tokens["SALES_REP"],
    )
    gid = made["savedView"]["id"]
    await _do(api, UPDATE, {"id": gid, "criteria": {"field": "STAGE", "in": ["NEGOTIATION"]}}, tokens["SALES_REP"])
    assert (await api.data(HISTORY, {"id": gid}, token=tokens["OTHER_REP"]))["node"] is None  # private
    await _do(api, UPDATE, {"id": gid, "sharing": "EVERYONE"}, tokens["SALES_REP"])
    await _do(api, DEFAULT, {"id": gid, "roles": ["SALES_REP"]})  # an admin sets a role's default
    for token in (tokens["SALES_REP"], tokens["OTHER_REP"]):
        history = (await api.data(HISTORY, {"id": gid}, token=token))["node"]["history"]["nodes"]
        assert [(e["field"], e["oldValue"], e["newValue"]) for e in history] == [
            ("created", None, "Late deals"),
            ("criteria", {"field": "STAGE", "in": ["PROPOSAL"]}, {"field": "STAGE", "in": ["NEGOTIATION"]}),
            ("sharing", "PRIVATE", "EVERYONE"),
            ("defaultForRoles", [], ["SALES_REP"]),
        ]
    assert (await api.data(HISTORY, {"id": gid}, token=tokens["PARTNER"]))["node"] is None

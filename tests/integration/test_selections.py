"""Selections over HTTP on both databases: dynamic ones (criteria, members computed when read), static ones
(add / remove / clear, saved from the results of criteria), copy, convert to static, sharing, and the
visibility of members: whoever reads a selection sees exactly the members it may see itself (computed here
in plain Python with test_visibility.py's rules), and a hidden row is refused as a missing one is."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from gql import ids
from gql.auth import issue_token
from persistence import tables
from tests.integration.test_visibility import Caller, World

ERRORS = "... on UserError { code message } ... on ValidationError { field }"
SELECTION = "selection { id name kind sharing entityType version criteria members(first: 100) { totalCount nodes { ... on Node { id } } } }"


def _mutation(name: str, input_type: str) -> str:
    return f"""mutation($input: {input_type}!) {{ {name}(input: $input) {{
      __typename ... on SelectionPayload {{ {SELECTION} }} {ERRORS} }} }}"""


CREATE = _mutation("createSelection", "CreateSelectionInput")
UPDATE = _mutation("updateSelection", "UpdateSelectionInput")
COPY = _mutation("copySelection", "CopySelectionInput")
CONVERT = _mutation("convertSelectionToStatic", "ConvertSelectionToStaticInput")
ADD = _mutation("addSelectionMembers", "ChangeSelectionMembersInput")
REMOVE = _mutation("removeSelectionMembers", "ChangeSelectionMembersInput")
CLEAR = _mutation("clearSelection", "ClearSelectionInput")
DELETE = f"""mutation($input: DeleteSelectionInput!) {{ deleteSelection(input: $input) {{
  __typename ... on DeletedPayload {{ deletedId }} {ERRORS} }} }}"""
READ = """query($id: ID!) { node(id: $id) { ... on Selection { id name members(first: 100) {
  totalCount nodes { ... on Node { id } } } } } }"""
MEMBERS = """query($id: ID!, $c: Criteria, $o: SelectionMemberOrder) { node(id: $id) { ... on Selection {
  members(first: 100, criteria: $c, orderBy: $o) { totalCount nodes { ... on Opportunity { id name } ... on Account { id name } } } } } }"""
OPEN = {"PROSPECTING", "QUALIFICATION", "PROPOSAL", "NEGOTIATION"}


@pytest.fixture(scope="module")
async def people(writable) -> World:
    """The rows, and a caller per role: a rep and a director of the same team, another team's rep."""
    rows = {}
    async with writable.engine.connect() as conn:
        for name in (
            "users",
            "accounts",
            "opportunities",
            "contacts",
            "leads",
            "sales_activities",
            "tasks",
            "quotes",
            "contracts",
            "conversations",
            "conversation_participants",
        ):
            rows[name] = list(await conn.execute(select(getattr(tables, name))))
    callers = {
        "ADMIN": Caller("ADMIN", writable.admin_token, user_id=writable.summary.admin_user_id),
        "PARTNER": Caller("PARTNER", writable.partner_token, partner_id=writable.summary.partner_id),
    }
    director = next(u for u in rows["users"] if u.role == "SALES_DIRECTOR" and u.team_id is not None)
    rep = next(u for u in rows["users"] if u.role == "SALES_REP" and u.team_id == director.team_id)
    other = next(u for u in rows["users"] if u.role == "SALES_REP" and u.team_id != director.team_id)
    for role, user in (("SALES_DIRECTOR", director), ("SALES_REP", rep), ("OTHER_REP", other)):
        token = await issue_token(writable.engine, name=f"{role} selections", user_id=user.id)
        callers[role] = Caller("SALES_REP" if role == "OTHER_REP" else role, token, user_id=user.id)
    return World(rows, callers)


async def _do(api, document: str, values: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    data = await api.data(document, {"input": values}, token=token)
    [result] = data.values()
    return result


def _pks(nodes: list[dict[str, Any]]) -> set[int]:
    return {ids.decode(n["id"])[1] for n in nodes}


async def test_a_dynamic_selection_holds_what_its_criteria_match_now_for_each_reader(api, people, writable):
    w = people
    criteria = {"or": [{"field": "STAGE", "in": ["NEGOTIATION", "PROPOSAL"]}, {"hasNot": "QUOTES"}]}
    made = await _do(
        api,
        CREATE,
        {"name": "Late or unquoted", "entityType": "OPPORTUNITY", "criteria": criteria, "sharing": "EVERYONE"},
    )
    assert made["__typename"] == "SelectionPayload", made
    selection = made["selection"]
    assert selection["kind"] == "DYNAMIC" and selection["criteria"] == criteria
    quoted = {q.opportunity_id for q in w.rows["quotes"]}
    matching = {o.id for o in w.rows["opportunities"] if o.stage in ("PROPOSAL", "NEGOTIATION") or o.id not in quoted}
    for role in ("ADMIN", "SALES_DIRECTOR", "SALES_REP"):
        caller = w.callers[role]
        read = (await api.data(READ, {"id": selection["id"]}, token=caller.token))["node"]
        expected = matching & w.opportunities(caller)
        # (a reader's hidden quotes do not count either: the rep sees the quotes of the deals it sees)
        assert read["members"]["totalCount"] == len(expected) and _pks(read["members"]["nodes"]) <= expected, role
    # A row that changes so it matches joins at once.
    outside = next(o for o in w.rows["opportunities"] if o.id not in matching)
    async with writable.engine.begin() as conn:
        await conn.execute(
            update(tables.opportunities).where(tables.opportunities.c.id == outside.id).values(stage="PROPOSAL")
        )
    read = (await api.data(READ, {"id": selection["id"]}))["node"]
    assert read["members"]["totalCount"] == len(matching) + 1
    narrowed = await api.data(
        MEMBERS,
        {
            "id": selection["id"],
            "c": {"field": "STAGE", "in": ["PROPOSAL"]},
            "o": {"field": "NAME", "descending": True},
        },
    )
    nodes = narrowed["node"]["members"]["nodes"]
    assert [n["name"] for n in nodes] == sorted((n["name"] for n in nodes), reverse=True)
    async with writable.engine.begin() as conn:
        await conn.execute(
            update(tables.opportunities).where(tables.opportunities.c.id == outside.id).values(stage=outside.stage)
        )


async def test_a_static_selection_takes_adds_removes_and_clears_members(api, people):
    w = people
    accounts = sorted(w.accounts(w.callers["ADMIN"]))[:6]
    gids = [ids.encode("Account", a) for a in accounts]
    made = await _do(api, CREATE, {"name": "Six accounts", "entityType": "ACCOUNT", "memberIds": gids[:4]})
    selection = made["selection"]
    assert selection["kind"] == "STATIC" and _pks(selection["members"]["nodes"]) == set(accounts[:4])
    added = await _do(api, ADD, {"id": selection["id"], "memberIds": gids[3:]})
    assert _pks(added["selection"]["members"]["nodes"]) == set(accounts)
    assert added["selection"]["version"] == selection["version"] + 1
    removed = await _do(api, REMOVE, {"id": selection["id"], "memberIds": gids[:2]})
    assert _pks(removed["selection"]["members"]["nodes"]) == set(accounts[2:])
    cleared = await _do(api, CLEAR, {"id": selection["id"]})
    assert cleared["selection"]["members"]["totalCount"] == 0
    wrong = await _do(api, ADD, {"id": selection["id"], "memberIds": [ids.encode("Contact", 1)]})
    assert wrong["__typename"] == "ValidationError" and wrong["field"] == "memberIds[0]"


async def test_a_hidden_row_is_refused_as_a_missing_one(api, people):
    w = people
    rep = w.callers["SALES_REP"]
    hidden = next(a.id for a in w.rows["accounts"] if a.id not in w.accounts(rep))
    missing = max(a.id for a in w.rows["accounts"]) + 1000
    answers = []
    for pk in (hidden, missing):
        answer = await _do(
            api, CREATE, {"name": "x", "entityType": "ACCOUNT", "memberIds": [ids.encode("Account", pk)]}, rep.token
        )
        answers.append(
            (answer["__typename"], answer["field"], answer["message"].replace(ids.encode("Account", pk), "?"))
        )
    assert answers[0] == answers[1] and answers[0][0] == "ValidationError"
    # And a selection the reader may not read is a missing one too.
    mine = await _do(api, CREATE, {"name": "Admin's own", "entityType": "ACCOUNT"})
    for pk in (ids.decode(mine["selection"]["id"])[1], 10_000_000):
        gid = ids.encode("Selection", pk)
        assert (await api.data(READ, {"id": gid}, token=rep.token))["node"] is None
        answer = await _do(api, ADD, {"id": gid, "memberIds": []}, rep.token)
        assert answer["__typename"] == "NotFoundError", answer


async def test_sharing_decides_who_reads_a_selection_and_each_reader_sees_its_own_members(api, people):
    w = people
    rep, director, other, partner = (w.callers[r] for r in ("SALES_REP", "SALES_DIRECTOR", "OTHER_REP", "PARTNER"))
    everything = {"field": "STAGE", "notIn": ["LOST"]}
    made = await _do(
        api, CREATE, {"name": "Rep's deals", "entityType": "OPPORTUNITY", "criteria": everything}, rep.token
    )
    gid = made["selection"]["id"]

    async def readers() -> set[str]:
        found = set()
        for name in ("SALES_REP", "SALES_DIRECTOR", "OTHER_REP", "PARTNER", "ADMIN"):
            if (await api.data(READ, {"id": gid}, token=w.callers[name].token))["node"] is not None:
                found.add(name)
        return found

    assert await readers() == {"SALES_REP"}
    await _do(api, UPDATE, {"id": gid, "sharing": "TEAM"}, rep.token)
    assert await readers() == {"SALES_REP", "SALES_DIRECTOR", "ADMIN"}
    await _do(api, UPDATE, {"id": gid, "sharing": "EVERYONE"}, rep.token)
    assert await readers() == {"SALES_REP", "SALES_DIRECTOR", "OTHER_REP", "ADMIN"}
    for caller in (rep, director, other):
        read = (await api.data(READ, {"id": gid}, token=caller.token))["node"]
        expected = {o.id for o in w.rows["opportunities"] if o.stage != "LOST"} & w.opportunities(caller)
        assert read["members"]["totalCount"] == len(expected)
    # Only its owner (or an admin) changes it.
    refused = await _do(api, UPDATE, {"id": gid, "name": "mine now"}, other.token)
    assert refused["__typename"] == "PermissionDeniedError", refused
    # A static selection of the rep's rows read by another rep: only what that rep may see.
    rep_rows = sorted(w.opportunities(rep) - w.opportunities(other))[:3]
    static = await _do(
        api,
        CREATE,
        {
            "name": "Rep's three",
            "entityType": "OPPORTUNITY",
            "sharing": "EVERYONE",
            "memberIds": [ids.encode("Opportunity", o) for o in rep_rows],
        },
        rep.token,
    )
    read = (await api.data(READ, {"id": static["selection"]["id"]}, token=other.token))["node"]
    assert read["members"]["totalCount"] == len(set(rep_rows) & w.opportunities(other)) == 0
    assert partner.token


async def test_a_partners_selection_is_private_and_counts_no_hidden_row(api, people):
    w = people
    partner = w.callers["PARTNER"]
    shared = await _do(
        api,
        CREATE,
        {"name": "p", "entityType": "OPPORTUNITY", "criteria": {"has": "PARTNER"}, "sharing": "TEAM"},
        partner.token,
    )
    assert shared["__typename"] == "ValidationError" and shared["field"] == "sharing"
    made = await _do(
        api,
        CREATE,
        {"name": "All mine", "entityType": "OPPORTUNITY", "criteria": {"not": {"field": "STAGE", "in": ["LOST"]}}},
        partner.token,
    )
    expected = {o.id for o in w.rows["opportunities"] if o.stage != "LOST"} & w.opportunities(partner)
    assert made["selection"]["members"]["totalCount"] == len(expected)
    assert _pks(made["selection"]["members"]["nodes"]) == expected
    assert (await api.data(READ, {"id": made["selection"]["id"]}))["node"] is None  # not even an admin


async def test_saved_results_copy_and_conversion_freeze_the_members_of_the_moment(api, people, writable):
    w = people
    criteria = {"field": "STAGE", "in": ["PROSPECTING"]}
    dynamic = (await _do(api, CREATE, {"name": "Prospecting", "entityType": "OPPORTUNITY", "criteria": criteria}))[
        "selection"
    ]
    saved = (
        await _do(
            api,
            CREATE,
            {"name": "Prospecting today", "entityType": "OPPORTUNITY", "criteria": criteria, "static": True},
        )
    )["selection"]
    prospecting = {o.id for o in w.rows["opportunities"] if o.stage == "PROSPECTING"}
    assert saved["kind"] == "STATIC" and _pks(saved["members"]["nodes"]) == prospecting
    copy = (await _do(api, COPY, {"id": dynamic["id"]}))["selection"]
    assert copy["name"] == "Copy of Prospecting" and copy["criteria"] == criteria and copy["sharing"] == "PRIVATE"
    converted = (await _do(api, CONVERT, {"id": copy["id"], "version": copy["version"]}))["selection"]
    assert converted["kind"] == "STATIC" and converted["criteria"] is None
    assert _pks(converted["members"]["nodes"]) == prospecting
    moved = min(prospecting)
    async with writable.engine.begin() as conn:
        await conn.execute(
            update(tables.opportunities).where(tables.opportunities.c.id == moved).values(stage="QUALIFICATION")
        )
    try:
        assert (await api.data(READ, {"id": dynamic["id"]}))["node"]["members"]["totalCount"] == len(prospecting) - 1
        for frozen in (saved, converted):
            assert (await api.data(READ, {"id": frozen["id"]}))["node"]["members"]["totalCount"] == len(prospecting)
    finally:
        async with writable.engine.begin() as conn:
            await conn.execute(
                update(tables.opportunities).where(tables.opportunities.c.id == moved).values(stage="PROSPECTING")
            )
    again = await _do(api, CONVERT, {"id": converted["id"]})
    assert again["__typename"] == "ValidationError"
    gone = await _do(api, DELETE, {"id": saved["id"]})
    assert gone["deletedId"] == saved["id"]
    async with writable.engine.connect() as conn:
        left = (
            await conn.execute(
                select(tables.selection_members).where(
                    tables.selection_members.c.selection_id == ids.decode(saved["id"])[1]
                )
            )
        ).all()
        events = (
            (
                await conn.execute(
                    select(tables.outbox_events.c.type).where(
                        tables.outbox_events.c.entity_type == "Selection",
                        tables.outbox_events.c.entity_id == ids.decode(saved["id"])[1],
                    )
                )
            )
            .scalars()
            .all()
        )
    assert left == [] and events == ["SelectionChanged", "SelectionChanged"]


async def test_bad_criteria_are_refused_with_the_place_of_the_mistake(api):
    answer = await _do(
        api, CREATE, {"name": "bad", "entityType": "LEAD", "criteria": {"and": [{"field": "STAGE", "in": ["WON"]}]}}
    )
    assert answer["__typename"] == "ValidationError" and answer["field"] == "criteria.and[0].field", answer


async def test_the_selections_list_shows_what_the_caller_may_read(api, people):
    query = """query($f: SelectionFilter) { selections(first: 100, filter: $f) { totalCount nodes { name owner { id } sharing } } }"""
    rep = people.callers["OTHER_REP"]
    await _do(api, CREATE, {"name": "Other rep's private", "entityType": "LEAD"}, rep.token)
    mine = (await api.data(query, {"f": {"entityType": "LEAD"}}, token=rep.token))["selections"]
    assert "Other rep's private" in {n["name"] for n in mine["nodes"]}
    admin = (await api.data(query, {"f": {"entityType": "LEAD"}}))["selections"]
    assert "Other rep's private" not in {n["name"] for n in admin["nodes"]}


HISTORY = """query($id: ID!) { node(id: $id) { ... on Selection { history(first: 50) { totalCount nodes {
  id field oldValue newValue actor { id } } } } } }"""
ENTRY = "query($id: ID!) { node(id: $id) { ... on AuditEntry { id field } } }"


async def test_a_selections_history_names_its_changes_and_members_as_each_reader_may_see_them(api, people):
    """Criteria edits, sharing and members added or removed are history, read only by who may read the
    selection; a member its reader may not see is named as null, never by its id."""
    w = people
    rep, director, other = (w.callers[r] for r in ("SALES_REP", "SALES_DIRECTOR", "OTHER_REP"))
    hidden_from_rep = sorted(w.opportunities(director) - w.opportunities(rep))[:1]
    shared_with_rep = sorted(w.opportunities(director) & w.opportunities(rep))[:2]
    assert hidden_from_rep and len(shared_with_rep) == 2
    members = [*hidden_from_rep, *shared_with_rep]
    made = await _do(api, CREATE, {"name": "Director's picks", "entityType": "OPPORTUNITY"}, director.token)
    gid = made["selection"]["id"]
    await _do(api, UPDATE, {"id": gid, "sharing": "TEAM", "name": "Team picks"}, director.token)
    added = await _do(
        api, ADD, {"id": gid, "memberIds": [ids.encode("Opportunity", o) for o in members]}, director.token
    )
    assert added["__typename"] == "SelectionPayload", added
    await _do(api, REMOVE, {"id": gid, "memberIds": [ids.encode("Opportunity", shared_with_rep[0])]}, director.token)

    def entries(data: dict[str, Any]) -> list[tuple[str, Any, Any]]:
        return [(e["field"], e["oldValue"], e["newValue"]) for e in data["node"]["history"]["nodes"]]

    gids = {o: ids.encode("Opportunity", o) for o in members}
    seen = entries(await api.data(HISTORY, {"id": gid}, token=director.token))
    assert seen == [
        ("created", None, "Director's picks"),
        ("name", "Director's picks", "Team picks"),
        ("sharing", "PRIVATE", "TEAM"),
        ("members", None, [gids[o] for o in members]),
        ("members", [gids[shared_with_rep[0]]], None),
    ]
    # The team's rep reads it, but not the member it may not see.
    by_rep = entries(await api.data(HISTORY, {"id": gid}, token=rep.token))
    assert by_rep[3] == ("members", None, [None, gids[shared_with_rep[0]], gids[shared_with_rep[1]]])
    assert by_rep[:3] == seen[:3] and by_rep[4] == seen[4]
    # Another team's rep reads neither the selection nor its entries.
    assert (await api.data(HISTORY, {"id": gid}, token=other.token))["node"] is None
    [first] = (await api.data(HISTORY, {"id": gid}, token=director.token))["node"]["history"]["nodes"][:1]
    assert (await api.data(ENTRY, {"id": first["id"]}, token=other.token))["node"] is None
    assert (await api.data(ENTRY, {"id": first["id"]}, token=rep.token))["node"]["field"] == "created"

    # A dynamic selection's criteria edits: the old and new trees, rows named by global ids.
    accounts = sorted(w.accounts(rep))[:2]
    dynamic = await _do(
        api,
        CREATE,
        {
            "name": "Two accounts' deals",
            "entityType": "OPPORTUNITY",
            "criteria": {"field": "ACCOUNT", "in": [ids.encode("Account", accounts[0])]},
        },
        rep.token,
    )
    changed = await _do(
        api,
        UPDATE,
        {
            "id": dynamic["selection"]["id"],
            "criteria": {"field": "ACCOUNT", "in": [ids.encode("Account", a) for a in accounts]},
        },
        rep.token,
    )
    assert changed["__typename"] == "SelectionPayload", changed
    last = entries(await api.data(HISTORY, {"id": dynamic["selection"]["id"]}, token=rep.token))[-1]
    assert last == (
        "criteria",
        {"field": "ACCOUNT", "in": [ids.encode("Account", accounts[0])]},
        {"field": "ACCOUNT", "in": [ids.encode("Account", a) for a in accounts]},
    )

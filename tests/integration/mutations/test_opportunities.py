"""Opportunity mutations over HTTP: each workflow, its typed errors, its history and its events."""

from __future__ import annotations

from sqlalchemy import func, select

from gql import ids
from persistence import tables

ERRORS = "... on UserError { code message } ... on ValidationError { field } ... on NotFoundError { entityType }"
OPPORTUNITY = "opportunity { id name stage probability version locked lossReason account { id } }"

CREATE = f"""mutation($input: CreateOpportunityInput!) {{
  createOpportunity(input: $input) {{ __typename ... on OpportunityPayload {{ {OPPORTUNITY} }} {ERRORS} }}
}}"""
UPDATE = f"""mutation($input: UpdateOpportunityInput!) {{
  updateOpportunity(input: $input) {{ __typename ... on OpportunityPayload {{ {OPPORTUNITY} }} {ERRORS} }}
}}"""
STAGE = f"""mutation($input: ChangeOpportunityStageInput!) {{
  changeOpportunityStage(input: $input) {{ __typename ... on OpportunityPayload {{ {OPPORTUNITY} }} {ERRORS} }}
}}"""
LOST = f"""mutation($input: MarkOpportunityLostInput!) {{
  markOpportunityLost(input: $input) {{ __typename ... on OpportunityPayload {{ {OPPORTUNITY} }} {ERRORS} }}
}}"""
DELETE = f"""mutation($input: OpportunityRefInput!) {{
  deleteOpportunity(input: $input) {{ __typename ... on DeletedPayload {{ deletedId }} {ERRORS} }}
}}"""


async def count(engine, table, *where) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()


async def outbox_types(engine, entity_id: int) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(tables.outbox_events.c.type)
            .where(tables.outbox_events.c.entity_id == entity_id, tables.outbox_events.c.entity_type == "Opportunity")
            .order_by(tables.outbox_events.c.id)
        )
        return [r.type for r in rows]


async def an_account(writable) -> str:
    async with writable.engine.connect() as conn:
        return ids.encode("Account", (await conn.execute(select(func.min(tables.accounts.c.id)))).scalar_one())


async def new_opportunity(api, writable, **extra) -> dict:
    data = await api.data(
        CREATE,
        {
            "input": {
                "name": "Fleet renewal",
                "accountId": await an_account(writable),
                "estimatedRevenue": {"amount": "12000.00", "currency": "EUR"},
                **extra,
            }
        },
    )
    assert data["createOpportunity"]["__typename"] == "OpportunityPayload", data
    return data["createOpportunity"]["opportunity"]


async def test_create_opportunity_stores_it_announces_it_and_starts_its_history(api, writable):
    created = await new_opportunity(api, writable)
    assert created["stage"] == "PROSPECTING" and created["probability"] == 10 and created["version"] == 1
    pk = ids.decode(created["id"])[1]
    assert await outbox_types(writable.engine, pk) == ["OpportunityCreated"]
    assert (
        await count(
            writable.engine,
            tables.audit_entries,
            tables.audit_entries.c.entity_type == "Opportunity",
            tables.audit_entries.c.entity_id == pk,
        )
        == 1
    )


async def test_create_opportunity_with_bad_input_changes_nothing_and_names_the_field(api, writable):
    before = await count(writable.engine, tables.opportunities)
    events = await count(writable.engine, tables.outbox_events)
    blank = (await api.data(CREATE, {"input": {"name": "  ", "accountId": await an_account(writable)}}))[
        "createOpportunity"
    ]
    assert blank["__typename"] == "ValidationError" and blank["field"] == "name" and blank["code"] == "VALIDATION"
    wrong_type = (await api.data(CREATE, {"input": {"name": "X", "accountId": ids.encode("User", 1)}}))[
        "createOpportunity"
    ]
    assert wrong_type["__typename"] == "ValidationError" and wrong_type["field"] == "accountId"
    missing = await api.data(CREATE, {"input": {"name": "X", "accountId": ids.encode("Account", 999_999)}})
    assert missing["createOpportunity"]["__typename"] == "NotFoundError"
    assert missing["createOpportunity"]["entityType"] == "Account"
    closed = await api.data(CREATE, {"input": {"name": "X", "accountId": await an_account(writable), "stage": "WON"}})
    assert closed["createOpportunity"]["field"] == "stage"
    assert await count(writable.engine, tables.opportunities) == before
    assert await count(writable.engine, tables.outbox_events) == events


async def test_update_with_a_stale_version_is_a_conflict_and_the_current_version_wins(api, writable):
    created = await new_opportunity(api, writable)
    first = await api.data(UPDATE, {"input": {"id": created["id"], "version": 1, "name": "Fleet renewal 2027"}})
    assert first["updateOpportunity"]["opportunity"]["version"] == 2
    stale = await api.data(UPDATE, {"input": {"id": created["id"], "version": 1, "name": "Overwritten"}})
    assert stale["updateOpportunity"]["__typename"] == "ConflictError"
    assert "version 2" in stale["updateOpportunity"]["message"]
    node = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Opportunity { name version } } }", {"id": created["id"]}
    )
    assert node["node"] == {"name": "Fleet renewal 2027", "version": 2}


async def test_stage_changes_record_the_move_and_closing_stages_are_refused(api, writable):
    created = await new_opportunity(api, writable)
    moved = (await api.data(STAGE, {"input": {"id": created["id"], "stage": "PROPOSAL"}}))["changeOpportunityStage"]
    assert moved["opportunity"]["stage"] == "PROPOSAL" and moved["opportunity"]["probability"] == 50
    won = (await api.data(STAGE, {"input": {"id": created["id"], "stage": "WON"}}))["changeOpportunityStage"]
    assert won["__typename"] == "ValidationError" and won["field"] == "stage"
    pk = ids.decode(created["id"])[1]
    assert await outbox_types(writable.engine, pk) == ["OpportunityCreated", "OpportunityStageChanged"]


async def test_mark_lost_needs_a_reason_and_a_lost_opportunity_can_be_reopened(api, writable):
    created = await new_opportunity(api, writable)
    no_reason = (await api.data(LOST, {"input": {"id": created["id"], "reason": " "}}))["markOpportunityLost"]
    assert no_reason["__typename"] == "ValidationError" and no_reason["field"] == "reason"
    lost = (await api.data(LOST, {"input": {"id": created["id"], "reason": "Budget cut"}}))["markOpportunityLost"]
    assert lost["opportunity"]["stage"] == "LOST" and lost["opportunity"]["lossReason"] == "Budget cut"
    again = (await api.data(LOST, {"input": {"id": created["id"], "reason": "Twice"}}))["markOpportunityLost"]
    assert again["__typename"] == "ConflictError"
    reopened = await api.data(STAGE, {"input": {"id": created["id"], "stage": "QUALIFICATION"}})
    assert reopened["changeOpportunityStage"]["opportunity"]["stage"] == "QUALIFICATION"
    assert reopened["changeOpportunityStage"]["opportunity"]["lossReason"] is None


async def test_delete_removes_an_open_opportunity_and_a_second_delete_finds_nothing(api, writable):
    created = await new_opportunity(api, writable)
    deleted = (await api.data(DELETE, {"input": {"id": created["id"]}}))["deleteOpportunity"]
    assert deleted == {"__typename": "DeletedPayload", "deletedId": created["id"]}
    assert (await api.data(DELETE, {"input": {"id": created["id"]}}))["deleteOpportunity"][
        "__typename"
    ] == "NotFoundError"
    assert (
        await count(writable.engine, tables.opportunities, tables.opportunities.c.id == ids.decode(created["id"])[1])
        == 0
    )


HISTORY = """query($id: ID!) { node(id: $id) { ... on Opportunity {
  history(last: 10) { totalCount edges { node { field oldValue newValue at actor { id } } } }
} } }"""


async def test_history_lists_who_changed_which_field_from_what_to_what(api, writable):
    created = await new_opportunity(api, writable)
    await api.data(UPDATE, {"input": {"id": created["id"], "name": "Fleet renewal (phase 2)", "probability": 40}})
    await api.data(STAGE, {"input": {"id": created["id"], "stage": "PROPOSAL", "probability": 55}})
    history = (await api.data(HISTORY, {"id": created["id"]}))["node"]["history"]
    changes = [(e["node"]["field"], e["node"]["oldValue"], e["node"]["newValue"]) for e in history["edges"]]
    assert changes[0] == ("created", None, "Fleet renewal")
    assert ("name", "Fleet renewal", "Fleet renewal (phase 2)") in changes
    assert ("probability", 10, 40) in changes and ("probability", 40, 55) in changes
    assert ("stage", "PROSPECTING", "PROPOSAL") in changes
    assert history["totalCount"] == len(changes)
    assert {e["node"]["actor"]["id"] for e in history["edges"]} == {ids.encode("User", writable.summary.admin_user_id)}
    only = await api.data(
        HISTORY.replace("history(last: 10)", 'history(filter: {field: "stage"})'), {"id": created["id"]}
    )
    assert [e["node"]["newValue"] for e in only["node"]["history"]["edges"]] == ["PROPOSAL"]


MOVE = f"""mutation($input: MoveOpportunityInput!) {{
  moveOpportunity(input: $input) {{ __typename ... on OpportunityPayload {{ {OPPORTUNITY} }} {ERRORS} }}
}}"""
COPY = f"""mutation($input: CopyOpportunityInput!) {{
  copyOpportunity(input: $input) {{ __typename ... on OpportunityPayload {{ {OPPORTUNITY} quotes: opportunity {{ quotes {{ name isActive }} }} }} {ERRORS} }}
}}"""
RELATED = "opportunity { id relatedAccounts { id } }"
ADD_RELATED = f"""mutation($input: RelatedAccountInput!) {{
  addRelatedAccount(input: $input) {{ __typename ... on OpportunityPayload {{ {RELATED} }} {ERRORS} }}
}}"""
REMOVE_RELATED = f"""mutation($input: RelatedAccountInput!) {{
  removeRelatedAccount(input: $input) {{ __typename ... on OpportunityPayload {{ {RELATED} }} {ERRORS} }}
}}"""
ADD_ROLE = f"""mutation($input: AddBusinessRoleInput!) {{
  addBusinessRole(input: $input) {{ __typename ... on BusinessRolePayload {{ businessRole {{ id role contact {{ id }} }}
    opportunity {{ businessRoles {{ id }} }} }} {ERRORS} }}
}}"""
REMOVE_ROLE = f"""mutation($input: RemoveBusinessRoleInput!) {{
  removeBusinessRole(input: $input) {{ __typename ... on OpportunityPayload {{ opportunity {{ businessRoles {{ id }} }} }} {ERRORS} }}
}}"""
PARTNER = f"""mutation($input: AssignOpportunityPartnerInput!) {{
  assignOpportunityPartner(input: $input) {{ __typename ... on OpportunityPayload {{ opportunity {{ id partner {{ id }} version }} }} {ERRORS} }}
}}"""


async def some(writable, table, n: int = 2) -> list[int]:
    async with writable.engine.connect() as conn:
        return [r.id for r in await conn.execute(select(table.c.id).order_by(table.c.id).limit(n))]


async def test_move_puts_the_opportunity_on_another_account_and_refuses_the_same_one(api, writable):
    created = await new_opportunity(api, writable)
    other = ids.encode("Account", (await some(writable, tables.accounts))[1])
    moved = (await api.data(MOVE, {"input": {"id": created["id"], "accountId": other}}))["moveOpportunity"]
    assert moved["opportunity"]["account"]["id"] == other
    same = (await api.data(MOVE, {"input": {"id": created["id"], "accountId": other}}))["moveOpportunity"]
    assert same["__typename"] == "ValidationError" and same["field"] == "accountId"
    gone = await api.data(MOVE, {"input": {"id": created["id"], "accountId": ids.encode("Account", 10**6)}})
    assert gone["moveOpportunity"]["__typename"] == "NotFoundError"


async def test_copy_makes_an_open_opportunity_with_copies_of_the_quotes(api, writable):
    created = await new_opportunity(api, writable)
    await api.data(
        """mutation($input: CreateQuoteInput!) { createQuote(input: $input) { __typename } }""",
        {"input": {"opportunityId": created["id"], "name": "Base offer", "currency": "EUR"}},
    )
    copy = (await api.data(COPY, {"input": {"id": created["id"]}}))["copyOpportunity"]
    assert copy["opportunity"]["name"] == "Fleet renewal (copy)" and copy["opportunity"]["id"] != created["id"]
    assert copy["quotes"]["quotes"] == [{"name": "Base offer", "isActive": True}]
    missing = (await api.data(COPY, {"input": {"id": ids.encode("Opportunity", 10**6)}}))["copyOpportunity"]
    assert missing["__typename"] == "NotFoundError"


async def test_related_accounts_are_added_once_and_removed(api, writable):
    created = await new_opportunity(api, writable)
    other = ids.encode("Account", (await some(writable, tables.accounts))[1])
    added = await api.data(ADD_RELATED, {"input": {"opportunityId": created["id"], "accountId": other}})
    assert added["addRelatedAccount"]["opportunity"]["relatedAccounts"] == [{"id": other}]
    twice = await api.data(ADD_RELATED, {"input": {"opportunityId": created["id"], "accountId": other}})
    assert twice["addRelatedAccount"]["__typename"] == "ConflictError"
    own = await api.data(
        ADD_RELATED, {"input": {"opportunityId": created["id"], "accountId": created["account"]["id"]}}
    )
    assert own["addRelatedAccount"]["__typename"] == "ValidationError"
    removed = await api.data(REMOVE_RELATED, {"input": {"opportunityId": created["id"], "accountId": other}})
    assert removed["removeRelatedAccount"]["opportunity"]["relatedAccounts"] == []
    again = await api.data(REMOVE_RELATED, {"input": {"opportunityId": created["id"], "accountId": other}})
    assert again["removeRelatedAccount"]["__typename"] == "ValidationError"


async def test_business_roles_are_added_and_removed(api, writable):
    created = await new_opportunity(api, writable)
    contact = ids.encode("Contact", (await some(writable, tables.contacts, 1))[0])
    added = (
        await api.data(
            ADD_ROLE, {"input": {"opportunityId": created["id"], "contactId": contact, "role": "Decision maker"}}
        )
    )["addBusinessRole"]
    assert added["businessRole"]["role"] == "Decision maker" and added["businessRole"]["contact"]["id"] == contact
    blank = await api.data(ADD_ROLE, {"input": {"opportunityId": created["id"], "contactId": contact, "role": ""}})
    assert blank["addBusinessRole"]["__typename"] == "ValidationError" and blank["addBusinessRole"]["field"] == "role"
    removed = (await api.data(REMOVE_ROLE, {"input": {"id": added["businessRole"]["id"]}}))["removeBusinessRole"]
    assert removed["opportunity"]["businessRoles"] == []
    again = (await api.data(REMOVE_ROLE, {"input": {"id": added["businessRole"]["id"]}}))["removeBusinessRole"]
    assert again["__typename"] == "NotFoundError"


async def test_assigning_a_partner_and_taking_it_away(api, writable):
    created = await new_opportunity(api, writable)
    partner = ids.encode("Partner", writable.summary.partner_id)
    given = await api.data(PARTNER, {"input": {"id": created["id"], "partnerId": partner, "version": 1}})
    assert given["assignOpportunityPartner"]["opportunity"]["partner"] == {"id": partner}
    stale = await api.data(PARTNER, {"input": {"id": created["id"], "partnerId": None, "version": 1}})
    assert stale["assignOpportunityPartner"]["__typename"] == "ConflictError"
    taken = await api.data(PARTNER, {"input": {"id": created["id"], "partnerId": None}})
    assert taken["assignOpportunityPartner"]["opportunity"]["partner"] is None
    unknown = await api.data(PARTNER, {"input": {"id": created["id"], "partnerId": ids.encode("Partner", 10**6)}})
    assert unknown["assignOpportunityPartner"]["__typename"] == "NotFoundError"

"""Sales activity mutations over HTTP: logged on a lead, an opportunity, an account or a partner,
edited, completed and deleted, with typed errors, the database state and the outbox events."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gql import ids
from persistence import tables

ERRORS = "... on UserError { code message } ... on ValidationError { field } ... on NotFoundError { entityType }"
ACTIVITY = (
    "activity { id type subject notes done occurredAt dueAt durationMinutes owner { id } lead { id } "
    "opportunity { id } account { id } partner { id } }"
)


def mutation(name: str, input_type: str, payload: str, selection: str) -> str:
    return f"""mutation($input: {input_type}!) {{
  {name}(input: $input) {{ __typename ... on {payload} {{ {selection} }} {ERRORS} }}
}}"""


CREATE = mutation("createSalesActivity", "CreateSalesActivityInput", "SalesActivityPayload", ACTIVITY)
UPDATE = mutation("updateSalesActivity", "UpdateSalesActivityInput", "SalesActivityPayload", ACTIVITY)
COMPLETE = mutation("completeSalesActivity", "CompleteSalesActivityInput", "SalesActivityPayload", ACTIVITY)
DELETE = mutation("deleteSalesActivity", "DeleteSalesActivityInput", "DeletedPayload", "deletedId")

TARGETS = {
    "Lead": tables.leads,
    "Opportunity": tables.opportunities,
    "Account": tables.accounts,
    "Partner": tables.partners,
}


async def count(engine, table, *where) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()


async def row(engine, table, pk: int):
    async with engine.connect() as conn:
        return (await conn.execute(select(table).where(table.c.id == pk))).first()


async def last_event(engine, entity_id: int) -> tuple[str, dict]:
    e = tables.outbox_events
    async with engine.connect() as conn:
        found = (
            await conn.execute(
                select(e.c.type, e.c.data)
                .where(e.c.entity_type == "SalesActivity", e.c.entity_id == entity_id)
                .order_by(e.c.id.desc())
                .limit(1)
            )
        ).first()
        return (found.type, found.data)


async def a_target(writable, type_name: str) -> str:
    table = TARGETS[type_name]
    async with writable.engine.connect() as conn:
        return ids.encode(type_name, (await conn.execute(select(func.min(table.c.id)))).scalar_one())


def pk(global_id: str) -> int:
    return ids.decode(global_id)[1]


async def log_call(api, writable, **extra) -> dict:
    data = await api.data(
        CREATE,
        {
            "input": {
                "attachToId": await a_target(writable, "Opportunity"),
                "type": "CALL",
                "subject": "Discovery call",
                **extra,
            }
        },
    )
    assert data["createSalesActivity"]["__typename"] == "SalesActivityPayload", data
    return data["createSalesActivity"]["activity"]


@pytest.mark.parametrize("type_name", ["Lead", "Opportunity", "Account", "Partner"])
async def test_an_activity_is_logged_on_a_lead_an_opportunity_an_account_or_a_partner(api, writable, type_name):
    target = await a_target(writable, type_name)
    created = (
        await api.data(
            CREATE, {"input": {"attachToId": target, "type": "MEETING", "subject": "Demo", "durationMinutes": 45}}
        )
    )["createSalesActivity"]["activity"]
    assert created[type_name[0].lower() + type_name[1:]] == {"id": target}
    assert created["owner"] == {"id": ids.encode("User", writable.summary.admin_user_id)}
    stored = await row(writable.engine, tables.sales_activities, pk(created["id"]))
    column = {"Lead": "lead_id", "Opportunity": "opportunity_id", "Account": "account_id", "Partner": "partner_id"}
    assert getattr(stored, column[type_name]) == pk(target) and stored.duration_minutes == 45
    event_type, data = await last_event(writable.engine, pk(created["id"]))
    assert event_type == "ActivityLogged" and data["type"] == "MEETING"
    assert data[column[type_name].replace("_id", "Id")] == pk(target)


async def test_an_activity_about_something_else_or_nothing_is_refused_and_nothing_is_written(api, writable):
    activities = await count(writable.engine, tables.sales_activities)
    product = ids.encode("Product", 1)  # an activity is about a lead, opportunity, account, contact or partner
    wrong = await api.data(CREATE, {"input": {"attachToId": product, "type": "CALL", "subject": "X"}})
    assert (wrong["createSalesActivity"]["__typename"], wrong["createSalesActivity"]["field"]) == (
        "ValidationError",
        "attachToId",
    )
    garbage = await api.data(CREATE, {"input": {"attachToId": "???", "type": "CALL", "subject": "X"}})
    assert garbage["createSalesActivity"]["field"] == "attachToId"
    missing = (
        await api.data(CREATE, {"input": {"attachToId": ids.encode("Lead", 999_999), "type": "CALL", "subject": "X"}})
    )["createSalesActivity"]
    assert (missing["__typename"], missing["entityType"]) == ("NotFoundError", "Lead")
    blank = (
        await api.data(
            CREATE, {"input": {"attachToId": await a_target(writable, "Account"), "type": "CALL", "subject": " "}}
        )
    )["createSalesActivity"]
    assert (blank["__typename"], blank["field"]) == ("ValidationError", "subject")
    assert await count(writable.engine, tables.sales_activities) == activities


async def test_an_activity_logged_as_done_happened_when_it_was_logged(api, writable):
    done = await log_call(api, writable, done=True)
    assert done["done"] is True and done["occurredAt"] is not None
    assert (await row(writable.engine, tables.sales_activities, pk(done["id"]))).occurred_at is not None


async def test_update_changes_an_activity_and_a_stale_version_is_a_conflict(api, writable):
    call = await log_call(api, writable)
    updated = await api.data(
        UPDATE,
        {
            "input": {
                "id": call["id"],
                "version": 1,
                "subject": "Pricing call",
                "type": "FOLLOW_UP",
                "dueAt": "2026-07-01T09:00:00+00:00",
            }
        },
    )
    activity = updated["updateSalesActivity"]["activity"]
    assert (activity["subject"], activity["type"]) == ("Pricing call", "FOLLOW_UP")
    stored = await row(writable.engine, tables.sales_activities, pk(call["id"]))
    assert (stored.subject, stored.version) == ("Pricing call", 2)
    stale = await api.data(UPDATE, {"input": {"id": call["id"], "version": 1, "subject": "Lost update"}})
    assert stale["updateSalesActivity"]["__typename"] == "ConflictError"
    cleared = (await api.data(UPDATE, {"input": {"id": call["id"], "subject": None}}))["updateSalesActivity"]
    assert (cleared["__typename"], cleared["field"]) == ("ValidationError", "subject")
    negative = (await api.data(UPDATE, {"input": {"id": call["id"], "durationMinutes": -1}}))["updateSalesActivity"]
    assert negative["field"] == "durationMinutes"
    assert (await row(writable.engine, tables.sales_activities, pk(call["id"]))).subject == "Pricing call"
    assert await last_event(writable.engine, pk(call["id"])) == (
        "ActivityChanged",
        {"type": "FOLLOW_UP", "fields": ["due_at", "subject", "type"], "opportunityId": pk(call["opportunity"]["id"])},
    )


async def test_complete_marks_an_activity_done_once(api, writable):
    call = await log_call(api, writable)
    done = (
        await api.data(
            COMPLETE,
            {"input": {"id": call["id"], "occurredAt": "2026-06-14T10:30:00+00:00", "notes": "Agreed on a trial"}},
        )
    )["completeSalesActivity"]["activity"]
    assert (done["done"], done["notes"]) == (True, "Agreed on a trial")
    stored = await row(writable.engine, tables.sales_activities, pk(call["id"]))
    assert stored.done and stored.occurred_at.isoformat().startswith("2026-06-14T10:30")
    event_type, data = await last_event(writable.engine, pk(call["id"]))
    assert event_type == "ActivityChanged" and data["completed"] is True
    again = (await api.data(COMPLETE, {"input": {"id": call["id"]}}))["completeSalesActivity"]
    assert again["__typename"] == "ConflictError"


async def test_delete_removes_an_activity_and_a_second_delete_finds_nothing(api, writable):
    call = await log_call(api, writable)
    deleted = (await api.data(DELETE, {"input": {"id": call["id"]}}))["deleteSalesActivity"]
    assert deleted == {"__typename": "DeletedPayload", "deletedId": call["id"]}
    assert await count(writable.engine, tables.sales_activities, tables.sales_activities.c.id == pk(call["id"])) == 0
    assert await last_event(writable.engine, pk(call["id"])) == (
        "ActivityDeleted",
        {"type": "CALL", "opportunityId": pk(call["opportunity"]["id"])},
    )
    again = (await api.data(DELETE, {"input": {"id": call["id"]}}))["deleteSalesActivity"]
    assert (again["__typename"], again["entityType"]) == ("NotFoundError", "SalesActivity")

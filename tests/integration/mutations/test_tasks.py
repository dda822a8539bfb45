"""Task mutations over HTTP, on SQLite and PostgreSQL: created on an account, a contact, an opportunity or a
lead, changed, completed (when, by whom), reopened and deleted, with typed errors that change nothing, the
database state, the history and the outbox events; who may do what (a rep and a colleague's task, a partner,
a token without the scope)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from gql import ids
from gql.auth import issue_token
from persistence import tables

ERRORS = "... on UserError { code message } ... on ValidationError { field } ... on NotFoundError { entityType }"
TASK = (
    "task { id title notes dueAt priority done completedAt isOverdue version assignee { id } completedBy { id } "
    "completedByPartner { id } createdBy { id } createdByPartner { id } account { id } contact { id } "
    "opportunity { id } lead { id } }"
)


def mutation(name: str, input_type: str, payload: str, selection: str) -> str:
    return f"""mutation($input: {input_type}!) {{
  {name}(input: $input) {{ __typename ... on {payload} {{ {selection} }} {ERRORS} }}
}}"""


CREATE = mutation("createTask", "CreateTaskInput", "TaskPayload", TASK)
UPDATE = mutation("updateTask", "UpdateTaskInput", "TaskPayload", TASK)
COMPLETE = mutation("completeTask", "CompleteTaskInput", "TaskPayload", TASK)
REOPEN = mutation("reopenTask", "ReopenTaskInput", "TaskPayload", TASK)
DELETE = mutation("deleteTask", "DeleteTaskInput", "DeletedPayload", "deletedId")
HISTORY = """query($id: ID!) { node(id: $id) { ... on Task {
  history(first: 20) { nodes { field oldValue newValue actor { id } } } } } }"""

TABLES = {
    "Account": tables.accounts,
    "Contact": tables.contacts,
    "Opportunity": tables.opportunities,
    "Lead": tables.leads,
}
FIELD = {"Account": "account", "Contact": "contact", "Opportunity": "opportunity", "Lead": "lead"}


def pk(global_id: str) -> int:
    return ids.decode(global_id)[1]


async def one(engine, statement):
    async with engine.connect() as conn:
        return (await conn.execute(statement)).first()


async def count(engine, table, *where) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()


async def task_events(engine) -> int:
    return await count(engine, tables.outbox_events, tables.outbox_events.c.entity_type == "Task")


async def last_event(engine, task_id: int) -> tuple[str, dict]:
    e = tables.outbox_events
    found = await one(
        engine,
        select(e.c.type, e.c.data)
        .where(e.c.entity_type == "Task", e.c.entity_id == task_id)
        .order_by(e.c.id.desc())
        .limit(1),
    )
    return found.type, found.data


async def a_row(writable, kind: str) -> str:
    table = TABLES[kind]
    where = [table.c.is_private.is_(False)] if kind == "Account" else []
    return ids.encode(kind, (await one(writable.engine, select(func.min(table.c.id)).where(*where)))[0])


async def create(api, attach_to: str, token: str | None = None, **extra) -> dict:
    data = await api.data(
        CREATE, {"input": {"attachToId": attach_to, "title": "Send the revised offer", **extra}}, token
    )
    return data["createTask"]


async def a_task(api, writable, **extra) -> dict:
    made = await create(api, await a_row(writable, "Opportunity"), **extra)
    assert made["__typename"] == "TaskPayload", made
    return made["task"]


@pytest.mark.parametrize("kind", ["Account", "Contact", "Opportunity", "Lead"])
async def test_a_task_is_created_on_an_account_a_contact_an_opportunity_or_a_lead(api, writable, kind):
    target = await a_row(writable, kind)
    due = "2030-01-15T09:00:00+00:00"
    made = await create(api, target, dueAt=due, priority="HIGH", notes="Ask for the CFO")
    task = made["task"]
    admin = ids.encode("User", writable.summary.admin_user_id)
    assert task[FIELD[kind]] == {"id": target}
    assert (task["assignee"], task["createdBy"], task["priority"], task["done"], task["isOverdue"]) == (
        {"id": admin},
        {"id": admin},
        "HIGH",
        False,
        False,
    )
    stored = await one(writable.engine, select(tables.tasks).where(tables.tasks.c.id == pk(task["id"])))
    assert getattr(stored, f"{FIELD[kind]}_id") == pk(target)
    assert (stored.title, stored.notes, stored.priority, stored.due_at) == (
        "Send the revised offer",
        "Ask for the CFO",
        "HIGH",
        datetime(2030, 1, 15, 9, tzinfo=UTC),
    )
    assert await last_event(writable.engine, pk(task["id"])) == (
        "TaskCreated",
        {
            "assigneeId": writable.summary.admin_user_id,
            "priority": "HIGH",
            "dueAt": "2030-01-15T09:00:00+00:00",
            "done": False,
            f"{FIELD[kind]}Id": pk(target),
        },
    )


async def test_bad_input_is_a_typed_error_and_changes_nothing(api, writable):
    before = (await count(writable.engine, tables.tasks), await task_events(writable.engine))
    account = await a_row(writable, "Account")
    cases = [
        ({"attachToId": ids.encode("Partner", 1)}, ("ValidationError", "attachToId")),
        ({"attachToId": "not an id"}, ("ValidationError", "attachToId")),
        ({"attachToId": ids.encode("Lead", 999_999)}, ("NotFoundError", None)),
        ({"attachToId": account, "title": "  "}, ("ValidationError", "title")),
        ({"attachToId": account, "title": "x" * 301}, ("ValidationError", "title")),
        ({"attachToId": account, "assigneeId": ids.encode("Account", 1)}, ("ValidationError", "assigneeId")),
        ({"attachToId": account, "assigneeId": ids.encode("User", 999_999)}, ("NotFoundError", None)),
    ]
    for values, (typename, field) in cases:
        result = (await api.data(CREATE, {"input": {"title": "Call back", **values}}))["createTask"]
        assert result["__typename"] == typename, (values, result)
        assert result.get("field") == field, (values, result)
        assert result["message"]
    assert (await count(writable.engine, tables.tasks), await task_events(writable.engine)) == before


async def test_a_task_goes_only_to_a_user_who_may_see_what_it_is_attached_to(api, writable):
    """A rep who does not see an opportunity cannot be given a task on it: the task would be invisible to
    the one who has to do it."""
    o, a = tables.opportunities, tables.accounts
    async with writable.engine.connect() as conn:
        reps = [r.id for r in await conn.execute(select(tables.users.c.id).where(tables.users.c.role == "SALES_REP"))]
        deal = (
            await conn.execute(
                select(o.c.id, o.c.owner_id, a.c.manager_id)
                .join(a, a.c.id == o.c.account_id)
                .where(a.c.is_private.is_(False))
                .order_by(o.c.id)
            )
        ).first()
    stranger = next(r for r in reps if r not in (deal.owner_id, deal.manager_id))
    before = await count(writable.engine, tables.tasks)
    refused = await create(api, ids.encode("Opportunity", deal.id), assigneeId=ids.encode("User", stranger))
    assert (refused["__typename"], refused["field"]) == ("ValidationError", "assigneeId")
    assert "may not see the opportunity" in refused["message"]
    given = await create(api, ids.encode("Opportunity", deal.id), assigneeId=ids.encode("User", deal.owner_id))
    assert given["task"]["assignee"] == {"id": ids.encode("User", deal.owner_id)}
    moved = (
        await api.data(UPDATE, {"input": {"id": given["task"]["id"], "assigneeId": ids.encode("User", stranger)}})
    )["updateTask"]
    assert (moved["__typename"], moved["field"]) == ("ValidationError", "assigneeId")
    assert await count(writable.engine, tables.tasks) == before + 1


async def test_update_changes_a_task_keeps_its_history_and_a_stale_version_is_a_conflict(api, writable):
    task = await a_task(api, writable)
    changed = (
        await api.data(
            UPDATE,
            {
                "input": {
                    "id": task["id"],
                    "version": 1,
                    "title": "Send the final offer",
                    "dueAt": None,
                    "priority": "URGENT",
                }
            },
        )
    )["updateTask"]["task"]
    assert (changed["title"], changed["priority"], changed["dueAt"], changed["version"]) == (
        "Send the final offer",
        "URGENT",
        None,
        2,
    )
    assert await last_event(writable.engine, pk(task["id"])) == (
        "TaskChanged",
        {
            "assigneeId": writable.summary.admin_user_id,
            "priority": "URGENT",
            "dueAt": None,
            "done": False,
            "opportunityId": pk(task["opportunity"]["id"]),
            "fields": ["due_at", "priority", "title"],
        },
    )
    entries = (await api.data(HISTORY, {"id": task["id"]}))["node"]["history"]["nodes"]
    assert {(e["field"], e["oldValue"], e["newValue"]) for e in entries} >= {
        ("created", None, "Send the revised offer"),
        ("title", "Send the revised offer", "Send the final offer"),
        ("priority", "NORMAL", "URGENT"),
    }
    before = await task_events(writable.engine)
    stale = (await api.data(UPDATE, {"input": {"id": task["id"], "version": 1, "title": "Lost"}}))["updateTask"]
    assert stale["__typename"] == "ConflictError"
    for cleared in ("title", "priority"):
        refused = (await api.data(UPDATE, {"input": {"id": task["id"], cleared: None}}))["updateTask"]
        assert (refused["__typename"], refused["field"]) == ("ValidationError", cleared)
    stored = await one(writable.engine, select(tables.tasks).where(tables.tasks.c.id == pk(task["id"])))
    assert (stored.title, stored.version) == ("Send the final offer", 2)
    assert await task_events(writable.engine) == before


async def test_a_task_is_completed_once_with_when_and_by_whom_and_can_be_reopened(api, writable):
    task = await a_task(api, writable, dueAt=(datetime.now(UTC) - timedelta(days=1)).isoformat())
    assert task["isOverdue"] is True
    before = datetime.now(UTC)
    done = (await api.data(COMPLETE, {"input": {"id": task["id"], "version": 1}}))["completeTask"]["task"]
    admin = {"id": ids.encode("User", writable.summary.admin_user_id)}
    assert (done["done"], done["completedBy"], done["isOverdue"]) == (True, admin, False)
    assert datetime.fromisoformat(done["completedAt"]) >= before - timedelta(seconds=1)
    event_type, data = await last_event(writable.engine, pk(task["id"]))
    assert event_type == "TaskCompleted" and data["completedAt"] == done["completedAt"]
    again = (await api.data(COMPLETE, {"input": {"id": task["id"]}}))["completeTask"]
    assert again["__typename"] == "ConflictError" and "already done" in again["message"]
    reopened = (await api.data(REOPEN, {"input": {"id": task["id"]}}))["reopenTask"]["task"]
    assert (reopened["done"], reopened["completedAt"], reopened["completedBy"]) == (False, None, None)
    assert (await last_event(writable.engine, pk(task["id"])))[0] == "TaskReopened"
    twice = (await api.data(REOPEN, {"input": {"id": task["id"]}}))["reopenTask"]
    assert twice["__typename"] == "ConflictError"


async def test_delete_removes_a_task_and_a_second_delete_finds_nothing(api, writable):
    task = await a_task(api, writable)
    deleted = (await api.data(DELETE, {"input": {"id": task["id"]}}))["deleteTask"]
    assert deleted == {"__typename": "DeletedPayload", "deletedId": task["id"]}
    assert await count(writable.engine, tables.tasks, tables.tasks.c.id == pk(task["id"])) == 0
    assert (await last_event(writable.engine, pk(task["id"])))[0] == "TaskDeleted"
    again = (await api.data(DELETE, {"input": {"id": task["id"]}}))["deleteTask"]
    assert (again["__typename"], again["entityType"]) == ("NotFoundError", "Task")


async def test_a_sales_rep_may_not_change_complete_reopen_or_delete_a_colleagues_task(api, writable):
    """Both reps see the task (it is on a global account), but only its assignee, its creator, a director
    or an admin may act on it: the colleague gets a PermissionDeniedError and nothing changes."""
    a, u = tables.accounts, tables.users
    async with writable.engine.connect() as conn:
        shared = (
            await conn.execute(select(a.c.id).where(a.c.is_global.is_(True), a.c.is_private.is_(False)).limit(1))
        ).scalar_one()
        reps = [r.id for r in await conn.execute(select(u.c.id).where(u.c.role == "SALES_REP").order_by(u.c.id))]
    owner, colleague = reps[0], reps[1]
    owner_token = await issue_token(writable.engine, name="task owner", user_id=owner)
    colleague_token = await issue_token(writable.engine, name="task colleague", user_id=colleague)
    made = await create(api, ids.encode("Account", shared), owner_token, title="Check the renewal date")
    task = made["task"]
    seen = await api.data("query($id: ID!) { node(id: $id) { id } }", {"id": task["id"]}, colleague_token)
    assert seen["node"] == {"id": task["id"]}
    before = await task_events(writable.engine)
    for document, name, extra in (
        (UPDATE, "updateTask", {"title": "Mine now"}),
        (COMPLETE, "completeTask", {}),
        (REOPEN, "reopenTask", {}),
        (DELETE, "deleteTask", {}),
    ):
        refused = (await api.data(document, {"input": {"id": task["id"], **extra}}, colleague_token))[name]
        assert refused["__typename"] == "PermissionDeniedError", refused
    stored = await one(writable.engine, select(tables.tasks).where(tables.tasks.c.id == pk(task["id"])))
    assert (stored.title, stored.done, stored.version) == ("Check the renewal date", False, 1)
    assert await task_events(writable.engine) == before
    done = (await api.data(COMPLETE, {"input": {"id": task["id"]}}, owner_token))["completeTask"]["task"]
    assert done["completedBy"] == {"id": ids.encode("User", owner)}


async def test_a_partner_creates_tasks_on_its_own_rows_for_a_user_and_cannot_reach_others(api, writable):
    a = tables.accounts
    partner = writable.summary.partner_id
    async with writable.engine.connect() as conn:
        own = (
            await conn.execute(
                select(a.c.id, a.c.manager_id).where(a.c.partner_id == partner, a.c.is_private.is_(False))
            )
        ).first()
        foreign = (
            await conn.execute(select(func.max(a.c.id)).where(a.c.partner_id.is_(None), a.c.is_private.is_(False)))
        ).scalar_one()
    unnamed = await create(api, ids.encode("Account", own.id), writable.partner_token)
    assert (unnamed["__typename"], unnamed["field"]) == ("ValidationError", "assigneeId")
    made = await create(
        api, ids.encode("Account", own.id), writable.partner_token, assigneeId=ids.encode("User", own.manager_id)
    )
    task = made["task"]
    assert (task["createdBy"], task["createdByPartner"]) == (None, {"id": ids.encode("Partner", partner)})
    listed = await api.data(
        "query($id: ID!) { tasks(first: 100, filter: {accountId: $id}) { nodes { id } } }",
        {"id": ids.encode("Account", own.id)},
        writable.partner_token,
    )
    assert {"id": task["id"]} in listed["tasks"]["nodes"]
    hidden = await create(
        api, ids.encode("Account", foreign), writable.partner_token, assigneeId=ids.encode("User", own.manager_id)
    )
    missing = await create(
        api, ids.encode("Account", 999_999), writable.partner_token, assigneeId=ids.encode("User", own.manager_id)
    )
    assert hidden["__typename"] == missing["__typename"] == "NotFoundError"
    assert hidden["message"].replace(ids.encode("Account", foreign), "?") == missing["message"].replace(
        ids.encode("Account", 999_999), "?"
    )
    done = (await api.data(COMPLETE, {"input": {"id": task["id"]}}, writable.partner_token))["completeTask"]["task"]
    assert (done["completedBy"], done["completedByPartner"]) == (None, {"id": ids.encode("Partner", partner)})


async def test_a_token_without_activities_write_is_refused_before_anything_runs(api, writable):
    reader = await issue_token(
        writable.engine, name="tasks reader", user_id=writable.summary.admin_user_id, scopes=["activities:read"]
    )
    before = await count(writable.engine, tables.tasks)
    response = await api.post(
        CREATE, {"input": {"attachToId": await a_row(writable, "Lead"), "title": "Call to qualify"}}, reader
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "INSUFFICIENT_SCOPE"
    assert await count(writable.engine, tables.tasks) == before

"""Task rules with the in-memory unit of work: attached to exactly one account, contact, opportunity or
lead, given only to a user who may see that row, done once (when, by whom) and reopened, changed only by
those who may, and announced with what they are attached to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.accounts import Account, Contact
from domain.enums import AccountKind, Role, Stage, TaskPriority
from domain.errors import Conflict, NotFound, PermissionDenied, StaleVersion, ValidationError
from domain.leads import Lead
from domain.opportunities import Opportunity
from domain.people import User
from domain.tasks import Task
from domain.uow import Actor
from domain.workflows import tasks as wf
from tests.support.memory_uow import MemoryStore

NOW = datetime(2026, 6, 15, tzinfo=UTC)
REP, COLLEAGUE, DIRECTOR = 1, 2, 3
PARTNER, OTHER_PARTNER = 7, 8


def put(store: MemoryStore, entity):
    entity.id = next(store.ids)
    store.rows.setdefault(type(entity), {})[entity.id] = entity
    return entity


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore()
    for pk, name, role in (
        (REP, "Ingrid Berg", Role.SALES_REP),
        (COLLEAGUE, "Ola Lie", Role.SALES_REP),
        (DIRECTOR, "Kari Dahl", Role.SALES_DIRECTOR),
    ):
        store.rows.setdefault(User, {})[pk] = User(id=pk, name=name, email=f"u{pk}@x.example", role=role)
    store.ids = iter(range(100, 10_000))
    return store


@pytest.fixture
def rows(store: MemoryStore) -> dict[str, int]:
    account = put(store, Account(kind=AccountKind.ORGANIZATION, name="Fjord AS"))
    return {
        "Account": account.id,
        "Contact": put(
            store, Contact(first_name="Kari", last_name="Nord", contact_type_id=1, account_id=account.id)
        ).id,
        "Opportunity": put(
            store, Opportunity(name="Deal", account_id=account.id, owner_id=REP, stage=Stage.PROPOSAL, probability=50)
        ).id,
        "Lead": put(store, Lead(last_name="Nord")).id,
    }


def as_user(user_id: int, role: Role = Role.SALES_REP) -> Actor:
    return Actor(user_id=user_id, role=role)


async def create(store: MemoryStore, rows: dict[str, int], actor: Actor | None = None, **values) -> Task:
    values.setdefault("attach_to", wf.Attachment("Opportunity", rows["Opportunity"]))
    values.setdefault("title", "Send the revised offer")
    return await wf.create_task(wf.CreateTask(**values), store.uow(actor or as_user(REP), NOW))


@pytest.mark.parametrize("kind", ["Account", "Contact", "Opportunity", "Lead"])
async def test_a_task_is_created_on_an_account_a_contact_an_opportunity_or_a_lead_for_its_creator(store, rows, kind):
    due = NOW + timedelta(days=2)
    task = await create(store, rows, attach_to=wf.Attachment(kind, rows[kind]), due_at=due)
    assert task.attached_to == (kind, rows[kind])
    assert (task.assignee_id, task.created_by_user_id, task.priority, task.done) == (
        REP,
        REP,
        TaskPriority.NORMAL,
        False,
    )
    [event] = store.events
    assert event.type == "TaskCreated" and event.entity_id == task.id
    key = kind[0].lower() + kind[1:] + "Id"
    assert event.data == {
        "assigneeId": REP,
        "priority": "NORMAL",
        "dueAt": due.isoformat(),
        "done": False,
        key: rows[kind],
    }


async def test_a_task_about_anything_else_or_nothing_is_refused(store, rows):
    with pytest.raises(ValidationError) as wrong:
        wf.Attachment("Partner", 1)
    assert wrong.value.field == "attachToId"
    with pytest.raises(ValidationError) as both:
        Task(title="X", assignee_id=REP, account_id=1, lead_id=2)
    assert both.value.field == "attachToId"
    with pytest.raises(ValidationError) as none:
        Task(title="X", assignee_id=REP)
    assert none.value.field == "attachToId"


async def test_bad_input_is_a_typed_error_and_writes_nothing(store, rows):
    with pytest.raises(ValidationError) as blank:
        await create(store, rows, title="  ")
    assert blank.value.field == "title"
    with pytest.raises(ValidationError) as long_title:
        await create(store, rows, title="x" * 301)
    assert long_title.value.field == "title"
    with pytest.raises(NotFound):
        await create(store, rows, attach_to=wf.Attachment("Lead", 9_999))
    with pytest.raises(NotFound):
        await create(store, rows, assignee_id=9_999)
    assert store.all(Task) == [] and store.events == []


async def test_a_partner_names_the_user_who_does_the_task(store, rows):
    partner = Actor(partner_id=PARTNER)
    with pytest.raises(ValidationError) as missing:
        await create(store, rows, partner)
    assert missing.value.field == "assigneeId"
    task = await create(store, rows, partner, assignee_id=REP)
    assert (task.assignee_id, task.created_by_user_id, task.created_by_partner_id) == (REP, None, PARTNER)


async def test_a_task_goes_only_to_a_user_who_may_see_what_it_is_attached_to(store, rows):
    store.hidden_from[COLLEAGUE] = {("Opportunity", rows["Opportunity"])}
    with pytest.raises(ValidationError) as refused:
        await create(store, rows, assignee_id=COLLEAGUE)
    assert refused.value.field == "assigneeId" and "Ola Lie may not see the opportunity" in refused.value.message
    task = await create(store, rows)
    with pytest.raises(ValidationError):
        await wf.update_task(wf.UpdateTask(id=task.id, assignee_id=COLLEAGUE), store.uow(as_user(REP), NOW))
    assert store.all(Task)[0].assignee_id == REP


async def test_update_changes_a_task_and_says_whose_it_was(store, rows):
    task = await create(store, rows)
    due = NOW + timedelta(days=5)
    changed = await wf.update_task(
        wf.UpdateTask(id=task.id, version=1, priority=TaskPriority.URGENT, due_at=due, assignee_id=COLLEAGUE),
        store.uow(as_user(REP), NOW),
    )
    assert (changed.priority, changed.due_at, changed.assignee_id, changed.version) == (
        TaskPriority.URGENT,
        due,
        COLLEAGUE,
        2,
    )
    event = store.events[-1]
    assert event.type == "TaskChanged"
    assert event.data["fields"] == ["assignee_id", "due_at", "priority"] and event.data["previousAssigneeId"] == REP
    with pytest.raises(StaleVersion):
        await wf.update_task(wf.UpdateTask(id=task.id, version=1, title="Lost"), store.uow(as_user(REP), NOW))


async def test_a_task_is_completed_once_with_when_and_by_whom_and_reopened(store, rows):
    task = await create(store, rows)
    later = NOW + timedelta(hours=3)
    done = await wf.complete_task(wf.TaskRef(id=task.id), store.uow(as_user(REP), later))
    assert (done.done, done.completed_at, done.completed_by_user_id) == (True, later, REP)
    assert store.events[-1].type == "TaskCompleted" and store.events[-1].data["completedAt"] == later.isoformat()
    with pytest.raises(Conflict):
        await wf.complete_task(wf.TaskRef(id=task.id), store.uow(as_user(REP), later))
    reopened = await wf.reopen_task(wf.TaskRef(id=task.id), store.uow(as_user(REP), later))
    assert (reopened.done, reopened.completed_at, reopened.completed_by_user_id) == (False, None, None)
    assert store.events[-1].type == "TaskReopened"
    with pytest.raises(Conflict):
        await wf.reopen_task(wf.TaskRef(id=task.id), store.uow(as_user(REP), later))


async def test_a_sales_rep_does_not_change_complete_reopen_or_delete_a_colleagues_task(store, rows):
    task = await create(store, rows)  # the rep's own
    for workflow, command in (
        (wf.update_task, wf.UpdateTask(id=task.id, title="Mine now")),
        (wf.complete_task, wf.TaskRef(id=task.id)),
        (wf.reopen_task, wf.TaskRef(id=task.id)),
        (wf.delete_task, wf.TaskRef(id=task.id)),
    ):
        with pytest.raises(PermissionDenied):
            await workflow(command, store.uow(as_user(COLLEAGUE), NOW))
    assert store.all(Task)[0].version == 1 and [e.type for e in store.events] == ["TaskCreated"]
    with pytest.raises(PermissionDenied):
        await wf.complete_task(wf.TaskRef(id=task.id), store.uow(Actor(partner_id=OTHER_PARTNER), NOW))
    done = await wf.complete_task(wf.TaskRef(id=task.id), store.uow(as_user(DIRECTOR, Role.SALES_DIRECTOR), NOW))
    assert done.completed_by_user_id == DIRECTOR


async def test_the_assignee_and_a_partner_that_created_the_task_may_complete_it(store, rows):
    task = await create(store, rows, Actor(partner_id=PARTNER), assignee_id=COLLEAGUE)
    done = await wf.complete_task(wf.TaskRef(id=task.id), store.uow(Actor(partner_id=PARTNER), NOW))
    assert (done.completed_by_user_id, done.completed_by_partner_id) == (None, PARTNER)
    reopened = await wf.reopen_task(wf.TaskRef(id=task.id), store.uow(as_user(COLLEAGUE), NOW))
    assert not reopened.done


async def test_delete_removes_a_task_and_announces_what_it_was_on(store, rows):
    task = await create(store, rows, attach_to=wf.Attachment("Lead", rows["Lead"]))
    await wf.delete_task(wf.TaskRef(id=task.id), store.uow(as_user(REP), NOW))
    assert store.all(Task) == []
    assert (store.events[-1].type, store.events[-1].data["leadId"]) == ("TaskDeleted", rows["Lead"])


def test_a_task_is_overdue_from_its_due_time_while_open():
    task = Task(title="Call back", assignee_id=REP, lead_id=1, due_at=NOW)
    assert not task.is_overdue(NOW - timedelta(microseconds=1))
    assert task.is_overdue(NOW)
    assert not Task(title="Call back", assignee_id=REP, lead_id=1).is_overdue(NOW)
    done = Task(title="Call back", assignee_id=REP, lead_id=1, due_at=NOW, done=True, completed_at=NOW)
    assert not done.is_overdue(NOW + timedelta(days=1))
    with pytest.raises(ValidationError):
        Task(title="Call back", assignee_id=REP, lead_id=1, done=True)

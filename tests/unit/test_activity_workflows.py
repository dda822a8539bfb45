"""Sales activity rules with the in-memory unit of work: attached to exactly one thing, owned by a
user, completed once, announced with their type and target."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.accounts import Account
from domain.activities import SalesActivity
from domain.enums import AccountKind, ActivityType, Role, Stage
from domain.errors import Conflict, NotFound, ValidationError
from domain.leads import Lead
from domain.opportunities import Opportunity
from domain.people import Partner, User
from domain.uow import Actor
from domain.workflows import activities as wf
from tests.support.memory_uow import MemoryStore

NOW = datetime(2026, 6, 15, tzinfo=UTC)
OWNER = 1


def put(store: MemoryStore, entity):
    entity.id = next(store.ids)
    store.rows.setdefault(type(entity), {})[entity.id] = entity
    return entity


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore()
    store.rows.setdefault(User, {})[OWNER] = User(
        id=OWNER, name="Ingrid Berg", email="i@x.example", role=Role.SALES_REP
    )
    store.ids = iter(range(100, 10_000))
    return store


@pytest.fixture
def targets(store: MemoryStore) -> dict:
    account = put(store, Account(kind=AccountKind.ORGANIZATION, name="Fjord AS"))
    return {
        "account_id": account.id,
        "opportunity_id": put(
            store, Opportunity(name="Deal", account_id=account.id, owner_id=OWNER, stage=Stage.PROPOSAL, probability=50)
        ).id,
        "lead_id": put(store, Lead(last_name="Nord")).id,
        "partner_id": put(store, Partner(name="Nordic Resellers")).id,
    }


def about(targets: dict, column: str) -> wf.Target:
    """The target of the row in `targets` stored under `column`, e.g. "opportunity_id"."""
    return wf.Target(column.removesuffix("_id").title(), targets[column])


def a_call(store: MemoryStore, **values) -> SalesActivity:
    return put(
        store, SalesActivity(**{"type": ActivityType.CALL, "subject": "Intro call", "owner_id": OWNER, **values})
    )


@pytest.mark.parametrize("target", ["lead_id", "opportunity_id", "account_id", "partner_id"])
async def test_an_activity_is_logged_on_each_kind_of_target_and_announced_with_it(store, targets, target):
    activity = await wf.create_sales_activity(
        wf.CreateSalesActivity(attach_to=about(targets, target), type=ActivityType.MEETING, subject="Demo"), store.uow()
    )
    assert getattr(activity, target) == targets[target] and activity.owner_id == OWNER
    [event] = store.events
    camel = {
        "lead_id": "leadId",
        "opportunity_id": "opportunityId",
        "account_id": "accountId",
        "partner_id": "partnerId",
    }[target]
    assert (event.type, event.data["type"], event.data[camel]) == ("ActivityLogged", "MEETING", targets[target])


def test_an_activity_is_about_a_lead_an_opportunity_an_account_a_contact_or_a_partner():
    for kind in ("Lead", "Opportunity", "Account", "Contact", "Partner"):
        assert wf.Target(kind, 7).column == f"{kind.lower()}_id"
    for other in ("Quote", "lead", "Task", ""):
        with pytest.raises(ValidationError) as error:
            wf.Target(other, 7)
        assert error.value.field == "attachToId"


async def test_an_activity_about_something_missing_is_not_found(store):
    with pytest.raises(NotFound) as error:
        await wf.create_sales_activity(
            wf.CreateSalesActivity(attach_to=wf.Target("Opportunity", 999), type=ActivityType.CALL, subject="X"),
            store.uow(),
        )
    assert error.value.entity == "Opportunity"


async def test_a_partner_logging_an_activity_names_its_owner(store, targets):
    with pytest.raises(ValidationError) as error:
        await wf.create_sales_activity(
            wf.CreateSalesActivity(attach_to=about(targets, "partner_id"), type=ActivityType.CALL, subject="X"),
            store.uow(Actor(partner_id=targets["partner_id"])),
        )
    assert error.value.field == "ownerId"
    logged = await wf.create_sales_activity(
        wf.CreateSalesActivity(
            attach_to=about(targets, "partner_id"), type=ActivityType.CALL, subject="X", owner_id=OWNER
        ),
        store.uow(Actor(partner_id=targets["partner_id"])),
    )
    assert logged.owner_id == OWNER


async def test_a_done_activity_happened_now_unless_told_when(store, targets):
    done = await wf.create_sales_activity(
        wf.CreateSalesActivity(attach_to=about(targets, "account_id"), type=ActivityType.CALL, subject="X", done=True),
        store.uow(now=NOW),
    )
    assert done.occurred_at == NOW
    earlier = NOW - timedelta(days=2)
    logged = await wf.create_sales_activity(
        wf.CreateSalesActivity(
            attach_to=about(targets, "account_id"), type=ActivityType.CALL, subject="X", done=True, occurred_at=earlier
        ),
        store.uow(now=NOW),
    )
    assert logged.occurred_at == earlier


async def test_editing_an_activity_checks_its_data_owner_and_version(store, targets):
    activity = a_call(store, account_id=targets["account_id"])
    with pytest.raises(ValidationError) as error:
        await wf.update_sales_activity(wf.UpdateSalesActivity(id=activity.id, duration_minutes=-5), store.uow())
    assert error.value.field == "durationMinutes"
    with pytest.raises(NotFound):
        await wf.update_sales_activity(wf.UpdateSalesActivity(id=activity.id, owner_id=999), store.uow())
    edited = await wf.update_sales_activity(
        wf.UpdateSalesActivity(id=activity.id, version=1, subject="Follow-up", type=ActivityType.FOLLOW_UP), store.uow()
    )
    assert (edited.subject, edited.type, edited.version) == ("Follow-up", ActivityType.FOLLOW_UP, 2)
    assert store.events[-1].data == {
        "type": "FOLLOW_UP",
        "fields": ["subject", "type"],
        "accountId": targets["account_id"],
    }
    with pytest.raises(Conflict):
        await wf.update_sales_activity(wf.UpdateSalesActivity(id=activity.id, version=1, subject="Old"), store.uow())


async def test_completing_marks_an_activity_done_once(store, targets):
    activity = a_call(store, opportunity_id=targets["opportunity_id"])
    done = await wf.complete_sales_activity(
        wf.CompleteSalesActivity(id=activity.id, notes="Went well"), store.uow(now=NOW)
    )
    assert done.done and done.occurred_at == NOW and done.notes == "Went well"
    assert store.events[-1].data["completed"] is True
    with pytest.raises(Conflict, match="already done"):
        await wf.complete_sales_activity(wf.CompleteSalesActivity(id=activity.id), store.uow())


async def test_deleting_an_activity_announces_what_it_was_about(store, targets):
    activity = a_call(store, lead_id=targets["lead_id"])
    await wf.delete_sales_activity(wf.DeleteSalesActivity(id=activity.id), store.uow())
    assert store.all(SalesActivity) == []
    [event] = store.events
    assert (event.type, event.data) == ("ActivityDeleted", {"type": "CALL", "leadId": targets["lead_id"]})
    with pytest.raises(NotFound):
        await wf.delete_sales_activity(wf.DeleteSalesActivity(id=activity.id), store.uow())

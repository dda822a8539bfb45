"""Status monitor workflows on the in-memory unit of work: defining, changing, switching and deleting
monitors, without a database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from domain.base import Entity
from domain.enums import ActivityType
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from domain.monitors import ActivityState, MonitoredEntity, Rule, RuleKind, StatusMonitor
from domain.uow import Actor
from domain.workflows import monitors as wf
from persistence.mapping import from_row
from persistence.rows import to_row
from tests.support.memory_uow import MemoryStore

NOT_FOLLOWED_UP = Rule(
    kind=RuleKind.NO_ACTIVITY,
    days=183,
    activity_types=(ActivityType.CALL, ActivityType.MEETING),
    activity_state=ActivityState.DONE,
)
NO_PURCHASE = Rule(kind=RuleKind.NO_WON_OPPORTUNITY, months=3)
LATE = Rule(kind=RuleKind.OPEN_PAST_CLOSE_DATE)


async def create(store: MemoryStore, actor: Actor | None = None, **values) -> StatusMonitor:
    cmd = wf.CreateStatusMonitor(
        **{
            "name": "Not followed up in 6 months",
            "entity_type": MonitoredEntity.ACCOUNT,
            "rule": NOT_FOLLOWED_UP,
            **values,
        }
    )
    return await wf.create_status_monitor(cmd, store.uow(actor))


async def test_creating_a_monitor_stores_its_typed_rule_and_announces_it():
    store = MemoryStore()
    monitor = await create(store, description="Call them", priority=5)
    stored = store.all(StatusMonitor)
    assert [m.rule for m in stored] == [NOT_FOLLOWED_UP]
    assert (monitor.icon, monitor.colour, monitor.active, monitor.version) == ("flag", "#d9534f", True, 1)
    [event] = store.events
    assert (event.type, event.entity_type, event.entity_id) == ("StatusMonitorChanged", "StatusMonitor", monitor.id)
    assert event.data["change"] == "CREATED" and event.data["rule"]["days"] == 183
    assert event.data["entityType"] == "ACCOUNT" and event.data["active"] is True


async def test_a_rule_that_cannot_mark_the_entity_type_is_refused_on_rule_kind():
    store = MemoryStore()
    with pytest.raises(ValidationError) as refused:
        await create(store, entity_type=MonitoredEntity.ACCOUNT, rule=LATE)
    assert refused.value.field == "rule.kind"
    assert store.all(StatusMonitor) == [] and store.events == []


@pytest.mark.parametrize(
    "values, field",
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"icon": " "}, "icon"),
        ({"icon": "i" * 65}, "icon"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_invalid_texts_are_refused_on_their_field(values, field):
    store = MemoryStore()
    with pytest.raises(ValidationError) as refused:
        await create(store, **values)
    assert refused.value.field == field
    assert store.all(StatusMonitor) == []


async def test_two_monitors_cannot_share_a_name_in_any_case():
    store = MemoryStore()
    await create(store)
    with pytest.raises(Conflict, match="exists already"):
        await create(store, name="NOT FOLLOWED UP IN 6 MONTHS ")
    assert len(store.all(StatusMonitor)) == 1


async def test_partners_cannot_define_change_or_delete_monitors():
    store = MemoryStore()
    monitor = await create(store)
    partner = Actor(partner_id=10)
    with pytest.raises(PermissionDenied):
        await create(store, partner, name="Mine")
    with pytest.raises(PermissionDenied):
        await wf.update_status_monitor(wf.UpdateStatusMonitor(id=monitor.id, active=False), store.uow(partner))
    with pytest.raises(PermissionDenied):
        await wf.delete_status_monitor(wf.DeleteStatusMonitor(id=monitor.id), store.uow(partner))
    assert store.all(StatusMonitor)[0].active is True and len(store.events) == 1


async def test_update_changes_only_what_is_given_and_a_new_rule_replaces_the_old_one():
    store = MemoryStore()
    monitor = await create(store, description="Call them")
    updated = await wf.update_status_monitor(
        wf.UpdateStatusMonitor(id=monitor.id, version=1, name="No purchase in 3 months", rule=NO_PURCHASE), store.uow()
    )
    assert updated.rule == NO_PURCHASE and updated.description == "Call them" and updated.version == 2
    assert store.events[-1].data["fields"] == ["name", "rule"] and store.events[-1].data["change"] == "UPDATED"


async def test_switching_a_monitor_off_and_on_is_an_update_of_active():
    store = MemoryStore()
    monitor = await create(store)
    off = await wf.update_status_monitor(wf.UpdateStatusMonitor(id=monitor.id, active=False), store.uow())
    on = await wf.update_status_monitor(wf.UpdateStatusMonitor(id=monitor.id, active=True), store.uow())
    assert (off.active, on.active, on.version) == (False, True, 3)
    assert [e.data["active"] for e in store.events] == [True, False, True]


async def test_changing_the_entity_type_to_one_the_rule_cannot_judge_is_refused_on_rule_kind():
    store = MemoryStore()
    monitor = await create(store, rule=NO_PURCHASE)
    with pytest.raises(ValidationError) as refused:
        await wf.update_status_monitor(
            wf.UpdateStatusMonitor(id=monitor.id, entity_type=MonitoredEntity.OPPORTUNITY), store.uow()
        )
    assert refused.value.field == "rule.kind"
    together = await wf.update_status_monitor(
        wf.UpdateStatusMonitor(id=monitor.id, entity_type=MonitoredEntity.OPPORTUNITY, rule=LATE), store.uow()
    )
    assert together.entity_type is MonitoredEntity.OPPORTUNITY


async def test_an_update_cannot_clear_what_a_monitor_needs():
    store = MemoryStore()
    monitor = await create(store)
    for field, values in (
        ("active", {"active": None}),
        ("entityType", {"entity_type": None}),
        ("rule", {"rule": None}),
        ("colour", {"colour": None}),
        ("icon", {"icon": None}),
        ("priority", {"priority": None}),
        ("name", {"name": None}),
    ):
        with pytest.raises(ValidationError) as refused:
            await wf.update_status_monitor(wf.UpdateStatusMonitor(id=monitor.id, **values), store.uow())
        assert refused.value.field == field
    assert store.all(StatusMonitor)[0].version == 1


async def test_renaming_to_another_monitors_name_conflicts_but_keeping_ones_own_does_not():
    store = MemoryStore()
    first = await create(store)
    second = await create(store, name="No purchase", rule=NO_PURCHASE)
    with pytest.raises(Conflict):
        await wf.update_status_monitor(wf.UpdateStatusMonitor(id=second.id, name=first.name.upper()), store.uow())
    kept = await wf.update_status_monitor(wf.UpdateStatusMonitor(id=first.id, name=first.name), store.uow())
    assert kept.version == 1


async def test_a_stale_version_conflicts_on_update_and_delete():
    store = MemoryStore()
    monitor = await create(store)
    await wf.update_status_monitor(wf.UpdateStatusMonitor(id=monitor.id, priority=3), store.uow())
    with pytest.raises(Conflict, match="version 2, not 1"):
        await wf.update_status_monitor(wf.UpdateStatusMonitor(id=monitor.id, version=1, priority=4), store.uow())
    with pytest.raises(Conflict, match="version 2, not 1"):
        await wf.delete_status_monitor(wf.DeleteStatusMonitor(id=monitor.id, version=1), store.uow())
    assert store.all(StatusMonitor)[0].priority == 3


async def test_delete_removes_the_monitor_and_announces_it():
    store = MemoryStore()
    monitor = await create(store)
    assert await wf.delete_status_monitor(wf.DeleteStatusMonitor(id=monitor.id, version=1), store.uow()) == monitor.id
    assert store.all(StatusMonitor) == []
    assert store.events[-1].data["change"] == "DELETED" and store.events[-1].entity_id == monitor.id
    with pytest.raises(NotFound):
        await wf.delete_status_monitor(wf.DeleteStatusMonitor(id=monitor.id), store.uow())


def test_a_stored_rule_comes_back_from_its_row_as_the_same_typed_rule():
    monitor = StatusMonitor(
        id=7,
        name="Busy",
        entity_type=MonitoredEntity.CONTACT,
        rule=Rule(kind=RuleKind.TOO_MANY_ACTIVITIES, count=5, weeks=2, activity_types=(ActivityType.REQUEST,)),
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    row = to_row(monitor)
    assert row["rule"]["kind"] == "TOO_MANY_ACTIVITIES" and row["rule"]["activity_types"] == ["REQUEST"]
    assert from_row(StatusMonitor, row) == monitor


@dataclass(frozen=True)
class _Shape:
    sides: int

    def to_dict(self) -> dict:
        return {"sides": self.sides}

    @classmethod
    def from_dict(cls, data: dict) -> _Shape:
        return cls(**data)


@dataclass(kw_only=True)
class _Drawing(Entity):
    shape: _Shape | None = None


def test_from_row_rebuilds_any_optional_field_whose_type_has_from_dict_and_leaves_null_alone():
    assert from_row(_Drawing, {"id": 1, "shape": {"sides": 3}}).shape == _Shape(3)
    assert from_row(_Drawing, {"id": 2, "shape": None}).shape is None

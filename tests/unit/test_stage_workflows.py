"""The opportunity stage workflows' rules, without a database: admins only, keys and kinds validated, the order
kept 1..n, a stage in use keeps its kind, the last active stage of a kind stays, and the sales workflows follow
the catalogue (a new deal starts in the first open stage, a sale closes in the first WON-kind one)."""

from __future__ import annotations

import pytest

from domain.accounts import Account
from domain.enums import AccountKind, Role
from domain.errors import Conflict, PermissionDenied, ValidationError
from domain.people import User
from domain.stages import SEEDED, OpportunityStage, StageKind
from domain.uow import Actor
from domain.workflows import opportunities as deals
from domain.workflows import stages as wf
from tests.support.memory_uow import MemoryStore

ADMIN = Actor(user_id=1, role=Role.ADMIN)


def seeded() -> MemoryStore:
    """The six seeded stages, and an account and a user (id 1) to make deals for."""
    store = MemoryStore()
    store.rows[Account] = {1: Account(id=1, kind=AccountKind.ORGANIZATION, name="Fjord AS")}
    store.rows[User] = {1: User(id=1, name="Admin", email="admin@example.com", role=Role.ADMIN)}
    for stage in SEEDED:
        stage = OpportunityStage(**{f: getattr(stage, f) for f in ("key", "name", "position", "probability", "kind")})
        stage.id = next(store.ids)
        store.rows.setdefault(OpportunityStage, {})[stage.id] = stage
    return store


def order(store: MemoryStore) -> list[tuple[str, int]]:
    return sorted(((s.key, s.position) for s in store.all(OpportunityStage)), key=lambda s: s[1])


async def test_an_admin_adds_a_stage_at_a_place_and_the_others_move_down():
    store = seeded()
    demo = await wf.create_opportunity_stage(
        wf.CreateOpportunityStage(key="DEMO", name="Demo", probability=20, position=2), store.uow(ADMIN)
    )
    assert (demo.kind, demo.position) == (StageKind.OPEN, 2)
    assert [k for k, _ in order(store)][:3] == ["PROSPECTING", "DEMO", "QUALIFICATION"]
    assert [p for _, p in order(store)] == list(range(1, 8))
    [event] = store.events
    assert (event.entity_type, event.data) == ("OpportunityStage", {"change": "CREATED", "key": "DEMO"})


@pytest.mark.parametrize(
    ("values", "error", "field"),
    [
        ({"key": "won paid", "name": "x"}, ValidationError, "key"),
        ({"key": "DEMO", "name": "Demo"}, ValidationError, "probability"),  # an open stage names its probability
        ({"key": "WON_X", "name": "x", "kind": StageKind.WON, "probability": 90}, ValidationError, "probability"),
        ({"key": "WON", "name": "again", "kind": StageKind.WON}, Conflict, None),
        ({"key": "LATE", "name": "x", "probability": 5, "position": 9}, ValidationError, "position"),
    ],
)
async def test_a_bad_new_stage_is_refused_and_nothing_changes(values, error, field):
    store = seeded()
    with pytest.raises(error) as refused:
        await wf.create_opportunity_stage(wf.CreateOpportunityStage(**values), store.uow(ADMIN))
    assert field is None or refused.value.field == field
    assert len(store.all(OpportunityStage)) == 6 and store.events == []


async def test_only_admins_change_stages():
    store = seeded()
    with pytest.raises(PermissionDenied):
        await wf.create_opportunity_stage(
            wf.CreateOpportunityStage(key="DEMO", name="Demo", probability=5),
            store.uow(Actor(user_id=2, role=Role.SALES_DIRECTOR)),
        )


async def test_a_stage_in_use_keeps_its_kind_and_the_last_active_one_of_a_kind_stays():
    store = seeded()
    by_key = {s.key: s for s in store.all(OpportunityStage)}
    deal = await deals.create_opportunity(deals.CreateOpportunity(name="Deal", account_id=1), store.uow(ADMIN))
    assert (deal.stage, deal.probability) == ("PROSPECTING", 10)
    with pytest.raises(Conflict, match="holds 1 opportunities"):
        await wf.update_opportunity_stage(
            wf.UpdateOpportunityStage(id=by_key["PROSPECTING"].id, kind=StageKind.LOST), store.uow(ADMIN)
        )
    with pytest.raises(Conflict, match="last active WON-kind stage"):
        await wf.update_opportunity_stage(
            wf.UpdateOpportunityStage(id=by_key["WON"].id, active=False), store.uow(ADMIN)
        )
    with pytest.raises(Conflict, match="in use by 1 opportunities"):
        await wf.delete_opportunity_stage(wf.DeleteOpportunityStage(id=by_key["PROSPECTING"].id), store.uow(ADMIN))
    # Deactivating the first open stage moves where new deals start.
    await wf.update_opportunity_stage(
        wf.UpdateOpportunityStage(id=by_key["PROSPECTING"].id, active=False), store.uow(ADMIN)
    )
    second = await deals.create_opportunity(deals.CreateOpportunity(name="Next", account_id=1), store.uow(ADMIN))
    assert (second.stage, second.probability) == ("QUALIFICATION", 25)
    with pytest.raises(ValidationError, match="PROSPECTING is deactivated"):
        await deals.create_opportunity(
            deals.CreateOpportunity(name="Old", account_id=1, stage="PROSPECTING"), store.uow(ADMIN)
        )


async def test_a_reorder_lists_every_stage_once():
    store = seeded()
    keys = [k for k, _ in order(store)]
    with pytest.raises(ValidationError, match="list every opportunity stage once"):
        await wf.reorder_opportunity_stages(wf.ReorderOpportunityStages(keys=keys[:-1]), store.uow(ADMIN))
    with pytest.raises(ValidationError, match="NOPE is not an opportunity stage"):
        await wf.reorder_opportunity_stages(wf.ReorderOpportunityStages(keys=[*keys[:-1], "NOPE"]), store.uow(ADMIN))
    done = await wf.reorder_opportunity_stages(wf.ReorderOpportunityStages(keys=keys[::-1]), store.uow(ADMIN))
    assert [s.key for s in done.stages] == keys[::-1] == [k for k, _ in order(store)]

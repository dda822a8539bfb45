"""Configurable list rules with the in-memory unit of work: keys, attributes, the in-use rule, deactivation and
archiving a campaign by the statuses' `archived` flag."""

from __future__ import annotations

import pytest

from domain.activities import SalesActivity
from domain.enums import Role
from domain.errors import Conflict, PermissionDenied, ValidationError
from domain.leads import Campaign
from domain.lists import ListName, ListValue, check_key
from domain.uow import Actor
from domain.workflows import campaigns
from domain.workflows import lists as wf
from tests.support.memory_uow import MemoryStore

ADMIN = Actor(user_id=1, role=Role.ADMIN)


def values(store: MemoryStore, list_name: ListName) -> dict[str, ListValue]:
    return {v.key: v for v in store.all(ListValue) if v.list_name is list_name}


def test_keys_are_upper_snake_and_fit_their_column():
    assert check_key(ListName.ACTIVITY_TYPE, "DEMO_2") == "DEMO_2"
    for bad in ("demo", "2DEMO", "DE-MO", "", "A" * 17):
        with pytest.raises(ValidationError, match="key"):
            check_key(ListName.ACTIVITY_TYPE, bad)
    assert check_key(ListName.CONTACT_CATEGORY, "A" * 100) == "A" * 100


def test_a_value_has_only_its_lists_attribute_defaulted():
    category = ListValue(list_name=ListName.CONTACT_CATEGORY, key="GOLD", label="Gold")
    assert (category.lead_status, category.archived, category.person_name) == (True, None, None)
    with pytest.raises(ValidationError, match="personName"):
        ListValue(list_name=ListName.CAMPAIGN_STATUS, key="PAUSED", label="Paused", person_name=True)


async def test_create_update_and_delete_as_an_admin_only():
    store = MemoryStore()
    with pytest.raises(PermissionDenied):
        await wf.create_list_value(
            wf.CreateListValue(list_name=ListName.ACTIVITY_TYPE, key="DEMO", label="Demo"),
            store.uow(Actor(user_id=2, role=Role.SALES_DIRECTOR)),
        )
    made = await wf.create_list_value(
        wf.CreateListValue(list_name=ListName.ACTIVITY_TYPE, key="DEMO", label="Demo"), store.uow(ADMIN)
    )
    assert made.position == max(v.position for v in values(store, ListName.ACTIVITY_TYPE).values())
    with pytest.raises(Conflict, match="already has the key 'DEMO'"):
        await wf.create_list_value(
            wf.CreateListValue(list_name=ListName.ACTIVITY_TYPE, key="DEMO", label="Again"), store.uow(ADMIN)
        )
    store.rows.setdefault(SalesActivity, {})[1] = SalesActivity(
        id=1, type="DEMO", subject="Demo", owner_id=1, lead_id=9
    )
    with pytest.raises(Conflict, match="used by 1 activities"):
        await wf.delete_list_value(wf.DeleteListValue(id=made.id), store.uow(ADMIN))
    await wf.update_list_value(wf.UpdateListValue(id=made.id, active=False), store.uow(ADMIN))
    uow = store.uow(ADMIN)
    with pytest.raises(ValidationError, match="'DEMO' is inactive in the activity type list"):
        await wf.require_key(uow, ListName.ACTIVITY_TYPE, "DEMO", "type")
    assert (await wf.require_key(uow, ListName.ACTIVITY_TYPE, "DEMO", "type", current="DEMO")).key == "DEMO"
    del store.rows[SalesActivity][1]
    assert await wf.delete_list_value(wf.DeleteListValue(id=made.id), store.uow(ADMIN)) == made.id
    assert "DEMO" not in values(store, ListName.ACTIVITY_TYPE)
    assert [h["field"] for h in store.history] == ["created", "active", "deleted"]


async def test_archiving_moves_a_campaign_to_an_active_archived_status():
    store = MemoryStore()
    statuses = values(store, ListName.CAMPAIGN_STATUS)
    store.rows.setdefault(Campaign, {})[5] = Campaign(id=5, name="Fair", status="ACTIVE")
    await wf.create_list_value(
        wf.CreateListValue(list_name=ListName.CAMPAIGN_STATUS, key="SHELVED", label="Shelved", archived=True),
        store.uow(ADMIN),
    )
    await wf.update_list_value(wf.UpdateListValue(id=statuses["ARCHIVED"].id, active=False), store.uow(ADMIN))
    archived = await campaigns.archive_campaign(campaigns.CampaignRef(id=5), store.uow(ADMIN))
    assert archived.status == "SHELVED"
    with pytest.raises(Conflict, match="already archived"):
        await campaigns.archive_campaign(campaigns.CampaignRef(id=5), store.uow(ADMIN))
    assert (await campaigns.unarchive_campaign(campaigns.CampaignRef(id=5), store.uow(ADMIN))).status == "ACTIVE"

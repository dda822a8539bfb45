"""Idempotent ingestion on the in-memory unit of work: one outcome per caller and key, stored with the
leads or not at all, replayed for the same request and refused for another."""

from __future__ import annotations

import hashlib

import orjson
import pytest

from domain.enums import LeadStatus, Role
from domain.errors import Conflict, NotFound, ValidationError
from domain.leads import Campaign, Lead
from domain.people import Partner, User
from domain.routing import Condition, LeadField, LeadRoutingRule
from domain.uow import Actor
from domain.workflows import ingestion, lead_processor
from domain.workflows import leads as wf
from tests.support.memory_uow import MemoryStore, MemoryUnitOfWork

REP, OTHER_REP, PARTNER, CAMPAIGN = 2, 3, 10, 20
AS_REP = Actor(user_id=REP, role=Role.SALES_REP)
AS_PARTNER = Actor(partner_id=PARTNER)


class MemoryKeys:
    """An IdempotencyStore kept among the memory unit of work's rows: a key is stored only when the unit
    of work commits, as with the SQL table."""

    async def recall(self, uow: MemoryUnitOfWork, owner: str, key: str) -> ingestion.Remembered | None:
        return uow.rows.get(MemoryKeys, {}).get((owner, key))

    async def remember(self, uow: MemoryUnitOfWork, owner: str, key: str, remembered: ingestion.Remembered) -> None:
        keys = uow.rows.setdefault(MemoryKeys, {})
        if (owner, key) in keys or (owner, key) in uow.store.rows.get(MemoryKeys, {}):  # the primary key
            raise Conflict(f"the idempotency key {key!r} is being used by another request at the same time")
        keys[(owner, key)] = remembered


def put(store: MemoryStore, entity):
    store.rows.setdefault(type(entity), {})[entity.id] = entity
    return entity


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore()
    store.ids = iter(range(1000, 100_000))
    for pk in (REP, OTHER_REP):
        put(store, User(id=pk, name=f"Rep {pk}", email=f"u{pk}@example.com", role="SALES_REP"))
    put(store, Partner(id=PARTNER, name="Nordic Partners AS"))
    put(store, Campaign(id=CAMPAIGN, name="Spring webinar"))
    put(
        store,
        LeadRoutingRule(
            id=1,
            name="Webinar",
            position=1,
            conditions=[Condition(LeadField.UTM_SOURCE, ("webinar",)).to_dict()],
            user_id=OTHER_REP,
            priority=4,
        ),
    )
    return store


def keyed(*leads: wf.NewLead, key: str | None = "k-1", batch: bool = False) -> ingestion.IngestIdempotently:
    return ingestion.IngestIdempotently(
        request=lead_processor.IngestLeads(leads=list(leads), batch=batch), idempotency_key=key
    )


KEYS = MemoryKeys()


async def ingest(store: MemoryStore, cmd: ingestion.IngestIdempotently, actor: Actor = AS_REP) -> ingestion.Ingestion:
    uow = store.uow(actor)
    done = await ingestion.ingest_idempotently(cmd, uow, KEYS)
    assert uow.committed  # a replay too ends its transaction the way every workflow does
    return done


async def test_the_first_request_stores_its_leads_and_its_outcome_together(store):
    done = await ingest(store, keyed(wf.NewLead(last_name="Berg", utm_source="Webinar"), wf.NewLead(last_name="Dahl")))
    berg, dahl = done.leads
    assert not done.replayed
    assert (berg.routing_rule_id, berg.assigned_user_id, berg.priority, berg.status) == (
        1,
        OTHER_REP,
        4,
        LeadStatus.OPEN,
    )
    assert (dahl.routing_rule_id, dahl.assigned_user_id) == (None, None)
    assert [lead.id for lead in store.all(Lead)] == [berg.lead_id, dahl.lead_id]
    assert store.rows[MemoryKeys][("user:2", "k-1")].leads == done.leads


async def test_the_same_request_again_gets_the_first_outcome_and_writes_nothing(store):
    first = await ingest(store, keyed(wf.NewLead(last_name="Berg", email="berg@example.com")))
    leads, events = len(store.all(Lead)), len(store.events)
    again = await ingest(store, keyed(wf.NewLead(email="berg@example.com", last_name="Berg"), key="  k-1 "))
    assert again.replayed and again.leads == first.leads
    assert (len(store.all(Lead)), len(store.events)) == (leads, events)


async def test_a_replay_answers_what_the_processor_did_then_even_after_the_lead_changed(store):
    [first] = (await ingest(store, keyed(wf.NewLead(last_name="Berg", utm_source="webinar")))).leads
    await wf.assign_lead(wf.AssignLead(id=first.lead_id, user_id=REP), store.uow(AS_REP))
    [replayed] = (await ingest(store, keyed(wf.NewLead(last_name="Berg", utm_source="webinar")))).leads
    assert replayed == first and replayed.assigned_user_id == OTHER_REP


async def test_another_request_under_a_used_key_is_refused_and_writes_nothing(store):
    await ingest(store, keyed(wf.NewLead(last_name="Berg")))
    leads = len(store.all(Lead))
    for other in (keyed(wf.NewLead(last_name="Dahl")), keyed(wf.NewLead(last_name="Berg"), batch=True)):
        with pytest.raises(ValidationError) as error:
            await ingestion.ingest_idempotently(other, store.uow(AS_REP), KEYS)
        assert error.value.field == "idempotencyKey" and "different request" in error.value.reason
    assert len(store.all(Lead)) == leads


async def test_keys_belong_to_their_caller(store):
    mine = await ingest(store, keyed(wf.NewLead(last_name="Holm")))
    theirs = await ingest(store, keyed(wf.NewLead(last_name="Holm")), AS_PARTNER)
    assert not theirs.replayed and theirs.leads[0].lead_id != mine.leads[0].lead_id
    assert theirs.leads[0].assigned_partner_id == PARTNER  # no rule matched: the partner's own lead
    assert set(store.rows[MemoryKeys]) == {("user:2", "k-1"), ("partner:10", "k-1")}


async def test_without_a_key_every_request_runs_and_nothing_is_remembered(store):
    for _ in range(2):
        done = await ingest(store, keyed(wf.NewLead(last_name="Berg"), key=None))
        assert not done.replayed
    assert len(store.all(Lead)) == 2 and MemoryKeys not in store.rows


async def test_a_failed_ingestion_keeps_no_key_so_the_corrected_request_runs(store):
    with pytest.raises(NotFound):
        await ingestion.ingest_idempotently(
            keyed(wf.NewLead(last_name="Berg", campaign_id=999)), store.uow(AS_REP), KEYS
        )
    assert store.all(Lead) == [] and MemoryKeys not in store.rows
    done = await ingest(store, keyed(wf.NewLead(last_name="Berg", campaign_id=CAMPAIGN)))
    assert not done.replayed and len(store.all(Lead)) == 1


async def test_a_key_stored_meanwhile_by_another_transaction_is_a_conflict_and_writes_nothing(store):
    racing = store.uow(AS_REP)  # it reads before the other request commits the key
    await ingest(store, keyed(wf.NewLead(last_name="Berg")))
    with pytest.raises(Conflict):
        await ingestion.ingest_idempotently(keyed(wf.NewLead(last_name="Dahl")), racing, KEYS)
    assert not racing.committed and [lead.last_name for lead in store.all(Lead)] == ["Berg"]


@pytest.mark.parametrize("key", ["", "   ", "k" * 201, "tab\tkey", "new\nline"])
async def test_a_key_is_one_to_200_printable_characters(store, key):
    with pytest.raises(ValidationError) as error:
        await ingestion.ingest_idempotently(keyed(wf.NewLead(last_name="Berg"), key=key), store.uow(AS_REP), KEYS)
    assert error.value.field == "idempotencyKey"
    assert store.all(Lead) == []


@pytest.mark.parametrize(
    "leads",
    [
        [wf.NewLead(last_name="Berg", email="berg@example.com", company_size=40, priority=None)],
        [wf.NewLead(first_name="Åse", last_name="Øvrebø", company='Fjord & Co "AS"\n', utm_source="漢字\u2028\x01")],
        [wf.NewLead(last_name="A"), wf.NewLead(last_name="B", campaign_id=CAMPAIGN, priority=2**31 - 1)],
    ],
)
@pytest.mark.parametrize("batch", [False, True])
def test_the_fingerprint_is_the_one_keys_were_stored_with_so_far(leads, batch):
    """Keys stored before the workflow moved to the domain were hashed from orjson's bytes: a different
    hash would refuse every replay of them as another request."""
    request = lead_processor.IngestLeads(leads=leads, batch=batch)
    plain = {"batch": batch, "leads": [vars(lead) for lead in leads]}
    before = hashlib.sha256(orjson.dumps(plain, option=orjson.OPT_SORT_KEYS)).hexdigest()
    assert ingestion.fingerprint(request) == before


async def test_one_lead_through_the_mutation_s_command_shares_its_key_with_a_single_lead_request(store):
    first = await ingestion.ingest_lead(
        ingestion.IngestLead(last_name="Vik", utm_source="webinar", idempotency_key="both"), store.uow(AS_REP), KEYS
    )
    assert (first.routing_rule_id, first.replayed) == (1, False)
    again = await ingest(store, keyed(wf.NewLead(last_name="Vik", utm_source="webinar"), key="both"))
    assert again.replayed and again.leads[0].lead_id == first.lead_id
    replayed = await ingestion.ingest_lead(
        ingestion.IngestLead(last_name="Vik", utm_source="webinar", idempotency_key="both"), store.uow(AS_REP), KEYS
    )
    assert replayed == ingestion.LeadIngested(first.lead_id, 1, replayed=True)

"""Lead workflows on the in-memory unit of work: the rules of leads, the lead processor, routing
rules, splitters and campaigns, without a database."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from domain.accounts import Account, Contact, ContactType
from domain.enums import AccountKind, CampaignStatus, ContactKind, LeadStatus, Stage
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from domain.leads import LEAD_TRANSITIONS, PERSONAL_FIELDS, Campaign, Lead
from domain.money import Money
from domain.opportunities import Opportunity
from domain.people import Partner, User
from domain.routing import Condition, LeadField, LeadRoutingRule, LeadSplitter, LeadSplitterShare, next_share
from domain.uow import Actor
from domain.workflows import campaigns, lead_processor, lead_routing_rules, lead_splitters
from domain.workflows import leads as wf
from tests.support.memory_uow import MemoryStore

ADMIN, REP, OTHER_REP, PARTNER, OTHER_PARTNER, CAMPAIGN, ACCOUNT, EMPLOYEE = 1, 2, 3, 10, 11, 20, 30, 40


def put(store: MemoryStore, entity):
    store.rows.setdefault(type(entity), {})[entity.id] = entity
    return entity


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore()
    store.ids = iter(range(1000, 100_000))
    for pk, name in ((ADMIN, "Ada Admin"), (REP, "Rita Rep"), (OTHER_REP, "Otto Rep")):
        put(store, User(id=pk, name=name, email=f"u{pk}@example.com", role="SALES_REP"))
    put(store, Partner(id=PARTNER, name="Nordic Partners AS"))
    put(store, Partner(id=OTHER_PARTNER, name="Baltic Reseller AB"))
    put(store, Campaign(id=CAMPAIGN, name="Spring webinar", costs=Money(Decimal("1000"), "EUR")))
    put(store, Account(id=ACCOUNT, kind=AccountKind.ORGANIZATION, name="Fjord Freight AS"))
    put(store, ContactType(id=EMPLOYEE, name="Employee", kind=ContactKind.EMPLOYEE))
    return store


def a_lead(store: MemoryStore, pk: int = 500, **values) -> Lead:
    data = {
        "first_name": "Kari",
        "last_name": "Nordmann",
        "company": "Fjellvent AS",
        "email": "kari@fjellvent.no",
        "phone": "+47 91234567",
        "country": "NO",
        "company_size": 50,
        "campaign_id": CAMPAIGN,
        "utm_source": "linkedin",
        "assigned_user_id": REP,
        **values,
    }
    return put(store, Lead(id=pk, **data))


def event_types(store: MemoryStore) -> list[str]:
    return [e.type for e in store.events]


# --- the lead entity and its transition table ---


def test_the_transition_table_covers_every_status_and_a_qualified_lead_goes_nowhere():
    assert set(LEAD_TRANSITIONS) == set(LeadStatus)
    assert LEAD_TRANSITIONS[LeadStatus.QUALIFIED] == frozenset()
    assert LeadStatus.QUALIFIED not in LEAD_TRANSITIONS[LeadStatus.DISQUALIFIED]
    assert all(status not in allowed for status, allowed in LEAD_TRANSITIONS.items())


def test_a_lead_normalises_its_country_and_refuses_a_bad_one():
    assert Lead(last_name="Berg", country=" se ").country == "SE"
    with pytest.raises(ValidationError) as error:
        Lead(last_name="Berg", country="Sweden")
    assert error.value.field == "country"


def test_a_lead_refuses_text_longer_than_its_column():
    with pytest.raises(ValidationError) as error:
        Lead(last_name="x" * 151)
    assert error.value.field == "lastName"


# --- create, update, assign, archive ---


async def test_create_lead_assigns_it_to_the_creator_and_announces_it(store):
    lead = await wf.create_lead(
        wf.CreateLead(last_name="Berg", company="Berg AS", campaign_id=CAMPAIGN), store.uow(Actor(user_id=REP))
    )
    assert lead.assigned_user_id == REP and lead.status is LeadStatus.OPEN and lead.priority == 0
    assert event_types(store) == ["LeadCreated"]


async def test_create_lead_needs_a_name_a_company_or_an_email_and_writes_nothing_without(store):
    with pytest.raises(ValidationError) as error:
        await wf.create_lead(wf.CreateLead(phone="+47 1"), store.uow())
    assert error.value.field == "lastName"
    assert store.all(Lead) == [] and store.events == []


async def test_create_lead_with_an_unknown_campaign_is_not_found(store):
    with pytest.raises(NotFound):
        await wf.create_lead(wf.CreateLead(last_name="Berg", campaign_id=999), store.uow())


async def test_a_partner_creates_leads_for_itself_only(store):
    lead = await wf.create_lead(wf.CreateLead(last_name="Berg"), store.uow(Actor(partner_id=PARTNER)))
    assert lead.assigned_partner_id == PARTNER and lead.assigned_user_id is None
    with pytest.raises(PermissionDenied):
        await wf.create_lead(
            wf.CreateLead(last_name="Berg", assigned_user_id=REP), store.uow(Actor(partner_id=PARTNER))
        )


async def test_update_lead_changes_only_the_given_fields_and_checks_the_version(store):
    a_lead(store)
    updated = await wf.update_lead(wf.UpdateLead(id=500, version=1, phone=None, priority=4), store.uow())
    assert updated.phone is None and updated.priority == 4 and updated.email == "kari@fjellvent.no"
    assert updated.version == 2
    with pytest.raises(Conflict):
        await wf.update_lead(wf.UpdateLead(id=500, version=1, priority=1), store.uow())


async def test_update_lead_moves_between_open_and_contacting_but_not_into_the_workflow_statuses(store):
    a_lead(store)
    contacting = await wf.update_lead(wf.UpdateLead(id=500, status=LeadStatus.CONTACTING), store.uow())
    assert contacting.status is LeadStatus.CONTACTING
    with pytest.raises(ValidationError) as error:
        await wf.update_lead(wf.UpdateLead(id=500, status=LeadStatus.QUALIFIED), store.uow())
    assert error.value.field == "status" and "qualifyLead" in error.value.message


async def test_a_disqualified_lead_cannot_be_set_to_contacting_by_an_edit(store):
    a_lead(store, status=LeadStatus.DISQUALIFIED, disqualification_reason="No budget")
    with pytest.raises(Conflict) as error:
        await wf.update_lead(wf.UpdateLead(id=500, status=LeadStatus.CONTACTING), store.uow())
    assert "allowed from DISQUALIFIED: OPEN, REWORK" in error.value.message


async def test_assign_lead_moves_it_from_a_user_to_a_partner(store):
    a_lead(store)
    assigned = await wf.assign_lead(wf.AssignLead(id=500, partner_id=PARTNER), store.uow())
    assert (assigned.assigned_user_id, assigned.assigned_partner_id) == (None, PARTNER)
    with pytest.raises(ValidationError):
        await wf.assign_lead(wf.AssignLead(id=500, user_id=REP, partner_id=PARTNER), store.uow())
    with pytest.raises(NotFound):
        await wf.assign_lead(wf.AssignLead(id=500, user_id=999), store.uow())
    with pytest.raises(Conflict):
        await wf.assign_lead(wf.AssignLead(id=500, partner_id=PARTNER), store.uow())


async def test_a_partner_cannot_reassign_or_touch_leads_that_are_not_its_own(store):
    a_lead(store)
    with pytest.raises(PermissionDenied):
        await wf.assign_lead(wf.AssignLead(id=500, partner_id=PARTNER), store.uow(Actor(partner_id=PARTNER)))
    with pytest.raises(PermissionDenied):
        await wf.archive_lead(wf.LeadRef(id=500), store.uow(Actor(partner_id=PARTNER)))


async def test_an_archived_lead_must_be_unarchived_before_it_is_worked_on(store):
    a_lead(store)
    await wf.archive_lead(wf.LeadRef(id=500), store.uow())
    with pytest.raises(Conflict):
        await wf.archive_lead(wf.LeadRef(id=500), store.uow())
    with pytest.raises(Conflict):
        await wf.update_lead(wf.UpdateLead(id=500, priority=3), store.uow())
    unarchived = await wf.unarchive_lead(wf.LeadRef(id=500), store.uow())
    assert unarchived.archived is False
    with pytest.raises(Conflict):
        await wf.unarchive_lead(wf.LeadRef(id=500), store.uow())


async def test_add_lead_to_account_links_it_once(store):
    a_lead(store)
    added = await wf.add_lead_to_account(wf.AddLeadToAccount(id=500, account_id=ACCOUNT), store.uow())
    assert added.account_id == ACCOUNT
    with pytest.raises(Conflict):
        await wf.add_lead_to_account(wf.AddLeadToAccount(id=500, account_id=ACCOUNT), store.uow())
    with pytest.raises(NotFound):
        await wf.add_lead_to_account(wf.AddLeadToAccount(id=500, account_id=999), store.uow())


# --- qualify, disqualify, rework, anonymize ---


async def test_qualify_creates_an_account_a_contact_and_an_opportunity_and_links_them(store):
    a_lead(store)
    done = await wf.qualify_lead(
        wf.QualifyLead(
            id=500, create_account=True, create_contact=True, estimated_revenue=Money(Decimal("5000"), "EUR")
        ),
        store.uow(),
    )
    assert done.lead.status is LeadStatus.QUALIFIED
    assert (done.lead.account_id, done.lead.contact_id, done.lead.opportunity_id) == (
        done.account.id,
        done.contact.id,
        done.opportunity.id,
    )
    assert done.account.name == "Fjellvent AS" and done.account.kind == AccountKind.ORGANIZATION.value
    assert done.account.manager_id == REP
    assert done.contact.account_id == done.account.id and done.contact.email == "kari@fjellvent.no"
    assert done.opportunity.owner_id == REP and done.opportunity.campaign_id == CAMPAIGN
    assert done.opportunity.stage == Stage.PROSPECTING and done.opportunity.probability == 10
    assert event_types(store) == ["AccountCreated", "ContactCreated", "OpportunityCreated", "LeadQualified"]
    assert len(store.all(Opportunity)) == 1 and len(store.all(Contact)) == 1


async def test_qualify_into_the_account_the_lead_was_added_to(store):
    a_lead(store, account_id=ACCOUNT)
    done = await wf.qualify_lead(wf.QualifyLead(id=500, opportunity_name="Fleet"), store.uow())
    assert done.account.id == ACCOUNT and done.opportunity.name == "Fleet" and not done.created_account
    assert len(store.all(Account)) == 1


async def test_qualify_without_an_account_says_which_field_to_fill_and_creates_nothing(store):
    a_lead(store)
    with pytest.raises(ValidationError) as error:
        await wf.qualify_lead(wf.QualifyLead(id=500, create_contact=True), store.uow())
    assert error.value.field == "accountId"
    assert store.all(Opportunity) == [] and store.all(Contact) == [] and store.events == []
    assert store.all(Lead)[0].status is LeadStatus.OPEN


async def test_qualify_refuses_an_already_qualified_lead(store):
    a_lead(store, account_id=ACCOUNT)
    await wf.qualify_lead(wf.QualifyLead(id=500), store.uow())
    with pytest.raises(Conflict):
        await wf.qualify_lead(wf.QualifyLead(id=500), store.uow())


async def test_qualify_a_lead_without_company_makes_a_person_account(store):
    a_lead(store, company=None)
    done = await wf.qualify_lead(wf.QualifyLead(id=500, create_account=True), store.uow())
    assert done.account.kind == AccountKind.PERSON.value and done.account.name == "Kari Nordmann"


async def test_qualify_needs_an_owner_when_a_partner_qualifies_an_unowned_lead(store):
    a_lead(store, assigned_user_id=None, assigned_partner_id=PARTNER, account_id=ACCOUNT)
    with pytest.raises(ValidationError) as error:
        await wf.qualify_lead(wf.QualifyLead(id=500), store.uow(Actor(partner_id=PARTNER)))
    assert error.value.field == "ownerId"
    done = await wf.qualify_lead(wf.QualifyLead(id=500, owner_id=OTHER_REP), store.uow(Actor(partner_id=PARTNER)))
    assert done.opportunity.owner_id == OTHER_REP and done.opportunity.partner_id == PARTNER


async def test_disqualify_needs_a_reason_and_records_it(store):
    a_lead(store)
    with pytest.raises(ValidationError) as error:
        await wf.disqualify_lead(wf.DisqualifyLead(id=500, reason="  "), store.uow())
    assert error.value.field == "reason"
    done = await wf.disqualify_lead(wf.DisqualifyLead(id=500, reason="No budget"), store.uow())
    assert done.status is LeadStatus.DISQUALIFIED and done.disqualification_reason == "No budget"
    assert event_types(store) == ["LeadDisqualified"]
    with pytest.raises(Conflict):
        await wf.disqualify_lead(wf.DisqualifyLead(id=500, reason="Twice"), store.uow())


async def test_disqualify_accepts_only_the_statuses_that_take_a_lead_out(store):
    a_lead(store)
    with pytest.raises(ValidationError) as error:
        await wf.disqualify_lead(wf.DisqualifyLead(id=500, reason="x", status=LeadStatus.CONTACTING), store.uow())
    assert error.value.field == "status"


async def test_rework_puts_a_disqualified_lead_back_and_it_can_be_qualified_then(store):
    a_lead(store, status=LeadStatus.DISQUALIFIED, disqualification_reason="Not now", account_id=ACCOUNT)
    reworked = await wf.rework_lead(wf.ReworkLead(id=500, note="Call in Q3"), store.uow())
    # The note has its own field; the disqualification's reason goes with the disqualification.
    assert reworked.status is LeadStatus.REWORK and reworked.rework_note == "Call in Q3"
    assert reworked.disqualification_reason is None
    assert event_types(store) == ["LeadReworked"]
    done = await wf.qualify_lead(wf.QualifyLead(id=500), store.uow())
    assert done.lead.status is LeadStatus.QUALIFIED and done.lead.disqualification_reason is None
    assert done.lead.rework_note is None


async def test_a_qualified_lead_cannot_be_reworked_or_disqualified(store):
    a_lead(store, status=LeadStatus.QUALIFIED)
    with pytest.raises(Conflict):
        await wf.rework_lead(wf.ReworkLead(id=500), store.uow())
    with pytest.raises(Conflict):
        await wf.disqualify_lead(wf.DisqualifyLead(id=500, reason="x"), store.uow())


async def test_anonymize_wipes_personal_data_and_keeps_what_statistics_need(store):
    a_lead(
        store,
        status=LeadStatus.DISQUALIFIED,
        disqualification_reason="No budget",
        utm_medium="cpc",
        utm_campaign="spring",
    )
    wiped = await wf.anonymize_lead(wf.LeadRef(id=500), store.uow())
    assert all(getattr(wiped, name) is None for name in PERSONAL_FIELDS)
    assert wiped.anonymized and wiped.status is LeadStatus.DISQUALIFIED and wiped.campaign_id == CAMPAIGN
    assert wiped.country == "NO" and wiped.company_size == 50
    assert event_types(store) == ["LeadAnonymized"]
    assert "kari" not in repr(store.events).lower()


async def test_an_anonymized_lead_stays_anonymous(store):
    a_lead(store)
    await wf.anonymize_lead(wf.LeadRef(id=500), store.uow())
    with pytest.raises(Conflict):
        await wf.anonymize_lead(wf.LeadRef(id=500), store.uow())
    with pytest.raises(Conflict):
        await wf.update_lead(wf.UpdateLead(id=500, email="kari@fjellvent.no"), store.uow())
    with pytest.raises(Conflict):
        await wf.qualify_lead(wf.QualifyLead(id=500, create_account=True), store.uow())
    moved = await wf.update_lead(wf.UpdateLead(id=500, status=LeadStatus.CONTACTING, phone=None), store.uow())
    assert moved.status is LeadStatus.CONTACTING and moved.phone is None


# --- routing conditions and the splitter ---


def test_conditions_match_text_case_insensitively_sizes_by_range_and_never_a_missing_field():
    lead = Lead(last_name="Berg", country="no", utm_source="LinkedIn", company_size=200, campaign_id=7)
    assert Condition(LeadField.COUNTRY, ("NO", "se")).matches(lead)
    assert Condition(LeadField.UTM_SOURCE, ("linkedin",)).matches(lead)
    assert not Condition(LeadField.UTM_MEDIUM, ("cpc",)).matches(lead)
    assert Condition(LeadField.COMPANY_SIZE, min=50, max=200).matches(lead)
    assert not Condition(LeadField.COMPANY_SIZE, min=201).matches(lead)
    assert not Condition(LeadField.COMPANY_SIZE, max=10).matches(Lead(last_name="Berg"))
    assert Condition(LeadField.CAMPAIGN, (7, 8)).matches(lead)


@pytest.mark.parametrize(
    "bad",
    [
        {"field": LeadField.COMPANY_SIZE},
        {"field": LeadField.COMPANY_SIZE, "min": 10, "max": 5},
        {"field": LeadField.COUNTRY},
        {"field": LeadField.COUNTRY, "values": ("Norway",)},
        {"field": LeadField.UTM_SOURCE, "values": ("x",), "min": 1},
        {"field": LeadField.CAMPAIGN, "values": ("x",)},
    ],
)
def test_conditions_that_cannot_be_meant_are_refused(bad):
    with pytest.raises(ValidationError):
        Condition(**bad)


def test_a_rule_targets_exactly_one_seller():
    with pytest.raises(ValidationError) as error:
        LeadRoutingRule(name="Nordics", user_id=REP, partner_id=PARTNER)
    assert error.value.field == "target"
    with pytest.raises(ValidationError):
        LeadRoutingRule(name="Nordics")


def shares(*weights: int) -> list[LeadSplitterShare]:
    return [LeadSplitterShare(id=n + 1, splitter_id=1, user_id=n + 1, weight=w) for n, w in enumerate(weights)]


def test_the_splitter_is_deterministic_and_breaks_ties_by_id():
    three = shares(1, 1, 1)
    picks = []
    for _ in range(6):
        share = next_share(three)
        share.assigned += 1
        picks.append(share.id)
    assert picks == [1, 2, 3, 1, 2, 3]


@pytest.mark.parametrize("weights", [(50, 30, 20), (1, 2, 3, 4), (97, 3), (1,)])
def test_every_share_stays_within_one_lead_of_its_quota_at_every_step(weights):
    split = shares(*weights)
    total = sum(weights)
    for n in range(1, 1001):
        next_share(split).assigned += 1
        for share in split:
            assert abs(share.assigned - Decimal(share.weight * n) / total) < 1, (n, share)


@settings(max_examples=80, deadline=None)
@given(
    weights=st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=8),
    leads=st.integers(min_value=1, max_value=300),
)
@example(weights=[1, 1, 1, 9, 9], leads=14)  # where "largest deficit" drifts past one lead
def test_any_weights_realise_shares_within_one_lead_of_the_quota(weights, leads):
    split = shares(*weights)
    total = sum(weights)
    for n in range(1, leads + 1):
        next_share(split).assigned += 1
        assert all(abs(s.assigned - Decimal(s.weight * n) / total) < 1 for s in split)
    assert sum(s.assigned for s in split) == leads


# --- the lead processor ---


def rule(pk: int, position: int, conditions=(), **target):
    return LeadRoutingRule(
        id=pk, name=f"rule {pk}", position=position, conditions=[c.to_dict() for c in conditions], **target
    )


async def test_ingest_routes_by_the_first_matching_rule_in_position_order(store):
    put(store, rule(1, 2, [Condition(LeadField.COUNTRY, ("NO",))], user_id=REP, priority=3))
    put(
        store,
        rule(
            2,
            1,
            [Condition(LeadField.COUNTRY, ("NO",)), Condition(LeadField.COMPANY_SIZE, min=1000)],
            partner_id=PARTNER,
            priority=5,
        ),
    )
    put(store, rule(3, 9, [], user_id=OTHER_REP))
    done = await lead_processor.ingest_leads(
        lead_processor.IngestLeads(
            leads=[
                wf.NewLead(last_name="Small", country="no", company_size=10),
                wf.NewLead(last_name="Large", country="NO", company_size=5000),
                wf.NewLead(last_name="Swede", country="SE", priority=2),
            ]
        ),
        store.uow(Actor(user_id=ADMIN)),
    )
    small, large, swede = (d.lead for d in done)
    assert (small.assigned_user_id, small.priority, done[0].rule_id) == (REP, 3, 1)
    assert (large.assigned_partner_id, large.priority, done[1].rule_id) == (PARTNER, 5, 2)
    assert (swede.assigned_user_id, swede.priority, done[2].rule_id) == (OTHER_REP, 2, 3)
    assert all(d.lead.status is LeadStatus.OPEN for d in done)
    assert Counter(event_types(store)) == {"LeadCreated": 3, "LeadRouted": 3}


async def test_ingest_without_a_matching_rule_leaves_the_lead_unassigned(store):
    put(store, rule(1, 1, [Condition(LeadField.COUNTRY, ("DK",))], user_id=REP))
    put(store, LeadRoutingRule(id=2, name="off", position=0, active=False, user_id=OTHER_REP))
    [done] = await lead_processor.ingest_leads(
        lead_processor.IngestLeads(leads=[wf.NewLead(email="x@y.no", country="NO")]), store.uow()
    )
    assert done.rule_id is None and done.lead.assigned_user_id is None and done.lead.assigned_partner_id is None


async def test_ingest_validates_every_lead_before_writing_any_and_names_the_bad_one(store):
    with pytest.raises(ValidationError) as error:
        await lead_processor.ingest_leads(
            lead_processor.IngestLeads(
                batch=True, leads=[wf.NewLead(last_name="Fine"), wf.NewLead(last_name="Bad", email="not-an-address")]
            ),
            store.uow(),
        )
    assert error.value.field == "leads[1].email"
    assert store.all(Lead) == [] and store.events == []


async def test_ingest_refuses_an_empty_or_oversized_batch(store):
    with pytest.raises(ValidationError):
        await lead_processor.ingest_leads(lead_processor.IngestLeads(leads=[]), store.uow())
    with pytest.raises(ValidationError):
        await lead_processor.ingest_leads(
            lead_processor.IngestLeads(leads=[wf.NewLead(last_name="x")] * (lead_processor.MAX_BATCH + 1)), store.uow()
        )


async def test_ingest_runs_the_hook_in_the_transaction_before_commit(store):
    seen = []

    async def remember(results):
        seen.append(([r.lead.id for r in results], len(store.all(Lead))))

    done = await lead_processor.ingest_leads(
        lead_processor.IngestLeads(leads=[wf.NewLead(last_name="x")]), store.uow(), remember
    )
    assert seen == [([done[0].lead.id], 0)]
    assert len(store.all(Lead)) == 1


async def test_a_thousand_leads_through_a_50_30_20_splitter_land_within_one_point_of_the_weights(store):
    put(store, LeadSplitter(id=70, name="Nordic split"))
    for pk, (seller, weight) in enumerate(((REP, 50), (OTHER_REP, 30), (ADMIN, 20)), start=71):
        put(store, LeadSplitterShare(id=pk, splitter_id=70, user_id=seller, weight=weight))
    put(store, rule(1, 1, [], splitter_id=70))
    for batch in range(10):
        await lead_processor.ingest_leads(
            lead_processor.IngestLeads(leads=[wf.NewLead(last_name=f"L{batch}-{i}") for i in range(100)]), store.uow()
        )
    got = Counter(lead.assigned_user_id for lead in store.all(Lead))
    assert sum(got.values()) == 1000
    for seller, weight in ((REP, 50), (OTHER_REP, 30), (ADMIN, 20)):
        assert abs(got[seller] / 1000 * 100 - weight) <= 1
    assert {s.user_id: s.assigned for s in store.all(LeadSplitterShare)} == dict(got)
    assert store.all(LeadSplitter)[0].version == 1  # leads arriving do not change its configuration


async def test_a_splitter_without_sellers_lets_leads_fall_through_to_the_next_rule(store):
    put(store, LeadSplitter(id=70, name="Emptied"))
    put(store, rule(1, 1, [], splitter_id=70))
    put(store, rule(2, 2, [], user_id=OTHER_REP))
    [done] = await lead_processor.ingest_leads(
        lead_processor.IngestLeads(leads=[wf.NewLead(last_name="x")]), store.uow()
    )
    assert done.rule_id == 2 and done.lead.assigned_user_id == OTHER_REP


async def test_an_inactive_splitter_lets_leads_fall_through_to_the_next_rule(store):
    put(store, LeadSplitter(id=70, name="Paused", active=False))
    put(store, LeadSplitterShare(id=71, splitter_id=70, user_id=REP, weight=1))
    put(store, rule(1, 1, [], splitter_id=70))
    put(store, rule(2, 2, [], user_id=OTHER_REP))
    [done] = await lead_processor.ingest_leads(
        lead_processor.IngestLeads(leads=[wf.NewLead(last_name="x")]), store.uow()
    )
    assert done.rule_id == 2 and done.lead.assigned_user_id == OTHER_REP


# --- routing rules and splitters as entities ---


async def test_create_rule_appends_it_after_the_last_one_and_checks_its_target(store):
    put(store, rule(1, 7, [], user_id=REP))
    made = await lead_routing_rules.create_lead_routing_rule(
        lead_routing_rules.CreateRoutingRule(
            name="Big Nordics",
            target=lead_routing_rules.Target(partner_id=PARTNER),
            conditions=[Condition(LeadField.COMPANY_SIZE, min=500)],
            priority=4,
        ),
        store.uow(),
    )
    assert made.position == 8 and made.conditions == [{"field": "COMPANY_SIZE", "min": 500, "max": None}]
    assert event_types(store) == ["LeadRoutingRuleChanged"]
    with pytest.raises(ValidationError) as error:
        await lead_routing_rules.create_lead_routing_rule(
            lead_routing_rules.CreateRoutingRule(name="x", target=lead_routing_rules.Target()), store.uow()
        )
    assert error.value.field == "target"
    with pytest.raises(NotFound):
        await lead_routing_rules.create_lead_routing_rule(
            lead_routing_rules.CreateRoutingRule(name="x", target=lead_routing_rules.Target(splitter_id=5)), store.uow()
        )
    with pytest.raises(NotFound):
        await lead_routing_rules.create_lead_routing_rule(
            lead_routing_rules.CreateRoutingRule(
                name="x",
                target=lead_routing_rules.Target(user_id=REP),
                conditions=[Condition(LeadField.CAMPAIGN, (999,))],
            ),
            store.uow(),
        )


async def test_update_rule_retargets_it_and_delete_removes_it(store):
    put(store, rule(1, 1, [], user_id=REP))
    updated = await lead_routing_rules.update_lead_routing_rule(
        lead_routing_rules.UpdateRoutingRule(
            id=1, version=1, target=lead_routing_rules.Target(partner_id=PARTNER), active=False
        ),
        store.uow(),
    )
    assert (updated.user_id, updated.partner_id, updated.active, updated.version) == (None, PARTNER, False, 2)
    with pytest.raises(Conflict):
        await lead_routing_rules.delete_lead_routing_rule(
            lead_routing_rules.RoutingRuleRef(id=1, version=1), store.uow()
        )
    await lead_routing_rules.delete_lead_routing_rule(lead_routing_rules.RoutingRuleRef(id=1, version=2), store.uow())
    assert store.all(LeadRoutingRule) == []


async def test_partners_cannot_manage_routing_splitters_or_campaigns(store):
    partner = Actor(partner_id=PARTNER)
    with pytest.raises(PermissionDenied):
        await lead_routing_rules.create_lead_routing_rule(
            lead_routing_rules.CreateRoutingRule(name="x", target=lead_routing_rules.Target(user_id=REP)),
            store.uow(partner),
        )
    with pytest.raises(PermissionDenied):
        await lead_splitters.create_lead_splitter(
            lead_splitters.CreateSplitter(name="x", shares=[lead_splitters.ShareSpec(weight=1, user_id=REP)]),
            store.uow(partner),
        )
    with pytest.raises(PermissionDenied):
        await campaigns.create_campaign(campaigns.CreateCampaign(name="x"), store.uow(partner))


async def test_create_splitter_refuses_no_shares_a_seller_twice_and_a_nonpositive_weight(store):
    for bad in (
        [],
        [lead_splitters.ShareSpec(weight=1, user_id=REP), lead_splitters.ShareSpec(weight=2, user_id=REP)],
        [lead_splitters.ShareSpec(weight=0, user_id=REP)],
        [lead_splitters.ShareSpec(weight=1, user_id=REP, partner_id=PARTNER)],
    ):
        with pytest.raises(ValidationError) as error:
            await lead_splitters.create_lead_splitter(
                lead_splitters.CreateSplitter(name="Split", shares=bad), store.uow()
            )
        assert error.value.field == "shares"
    assert store.all(LeadSplitter) == []


async def test_replacing_a_splitters_shares_starts_a_new_count(store):
    made = await lead_splitters.create_lead_splitter(
        lead_splitters.CreateSplitter(
            name="Split",
            shares=[
                lead_splitters.ShareSpec(weight=50, user_id=REP),
                lead_splitters.ShareSpec(weight=50, partner_id=PARTNER),
            ],
        ),
        store.uow(),
    )
    for share in store.all(LeadSplitterShare):
        share.assigned = 10
    updated = await lead_splitters.update_lead_splitter(
        lead_splitters.UpdateSplitter(
            id=made.id,
            version=1,
            shares=[
                lead_splitters.ShareSpec(weight=1, user_id=OTHER_REP),
                lead_splitters.ShareSpec(weight=3, partner_id=PARTNER),
            ],
        ),
        store.uow(),
    )
    assert updated.version == 2
    assert [(s.user_id, s.partner_id, s.weight, s.assigned) for s in store.all(LeadSplitterShare)] == [
        (OTHER_REP, None, 1, 0),
        (None, PARTNER, 3, 0),
    ]
    with pytest.raises(Conflict):
        await lead_splitters.create_lead_splitter(
            lead_splitters.CreateSplitter(name="Split", shares=[lead_splitters.ShareSpec(weight=1, user_id=REP)]),
            store.uow(),
        )


async def test_a_splitter_in_use_by_a_rule_cannot_be_deleted(store):
    made = await lead_splitters.create_lead_splitter(
        lead_splitters.CreateSplitter(name="Split", shares=[lead_splitters.ShareSpec(weight=1, user_id=REP)]),
        store.uow(),
    )
    put(store, rule(1, 1, [], splitter_id=made.id))
    with pytest.raises(Conflict) as error:
        await lead_splitters.delete_lead_splitter(lead_splitters.SplitterRef(id=made.id), store.uow())
    assert "rule 1" in error.value.message
    del store.rows[LeadRoutingRule][1]
    await lead_splitters.delete_lead_splitter(lead_splitters.SplitterRef(id=made.id), store.uow())
    assert store.all(LeadSplitter) == [] and store.all(LeadSplitterShare) == []


# --- campaigns ---


async def test_campaigns_are_created_updated_archived_and_unarchived(store):
    made = await campaigns.create_campaign(
        campaigns.CreateCampaign(name="Autumn fair", costs=Money(Decimal("2500"), "NOK")), store.uow()
    )
    updated = await campaigns.update_campaign(campaigns.UpdateCampaign(id=made.id, version=1, costs=None), store.uow())
    assert updated.costs is None and updated.name == "Autumn fair"
    archived = await campaigns.archive_campaign(campaigns.CampaignRef(id=made.id), store.uow())
    assert archived.status == CampaignStatus.ARCHIVED.value
    with pytest.raises(Conflict):
        await campaigns.archive_campaign(campaigns.CampaignRef(id=made.id), store.uow())
    assert (
        await campaigns.unarchive_campaign(campaigns.CampaignRef(id=made.id), store.uow())
    ).status == CampaignStatus.ACTIVE.value
    assert event_types(store) == ["CampaignChanged"] * 4


async def test_a_campaign_cannot_end_before_it_starts_or_cost_less_than_nothing(store):
    from datetime import date

    with pytest.raises(ValidationError) as error:
        await campaigns.create_campaign(
            campaigns.CreateCampaign(name="x", starts_on=date(2026, 5, 1), ends_on=date(2026, 4, 1)), store.uow()
        )
    assert error.value.field == "endsOn"
    with pytest.raises(ValidationError) as error:
        await campaigns.create_campaign(
            campaigns.CreateCampaign(name="x", costs=Money(Decimal("-1"), "EUR")), store.uow()
        )
    assert error.value.field == "costs"


# --- random sequences of lead workflows keep the invariants ---

OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["contact", "qualify", "disqualify", "rework", "reopen", "anonymize", "archive", "unarchive"]),
        st.integers(min_value=0, max_value=3),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=40, deadline=None)
@given(operations=OPERATIONS)
async def test_random_lead_workflows_keep_statuses_legal_links_whole_and_campaign_counts_whole(operations):
    store = MemoryStore()
    store.ids = iter(range(1000, 100_000))
    put(store, User(id=REP, name="Rita Rep", email="rita@example.com", role="SALES_REP"))
    put(store, Campaign(id=CAMPAIGN, name="Spring webinar"))
    put(store, Account(id=ACCOUNT, kind=AccountKind.ORGANIZATION, name="Fjord Freight AS"))
    put(store, ContactType(id=EMPLOYEE, name="Employee", kind=ContactKind.EMPLOYEE))
    for n in range(4):
        a_lead(store, pk=500 + n, account_id=ACCOUNT if n % 2 else None)
    commands = {
        "contact": lambda pk: wf.update_lead(wf.UpdateLead(id=pk, status=LeadStatus.CONTACTING), store.uow()),
        "qualify": lambda pk: wf.qualify_lead(
            wf.QualifyLead(id=pk, create_contact=True, account_id=ACCOUNT), store.uow()
        ),
        "disqualify": lambda pk: wf.disqualify_lead(wf.DisqualifyLead(id=pk, reason="No budget"), store.uow()),
        "rework": lambda pk: wf.rework_lead(wf.ReworkLead(id=pk), store.uow()),
        "reopen": lambda pk: wf.update_lead(wf.UpdateLead(id=pk, status=LeadStatus.OPEN), store.uow()),
        "anonymize": lambda pk: wf.anonymize_lead(wf.LeadRef(id=pk), store.uow()),
        "archive": lambda pk: wf.archive_lead(wf.LeadRef(id=pk), store.uow()),
        "unarchive": lambda pk: wf.unarchive_lead(wf.LeadRef(id=pk), store.uow()),
    }
    for name, index in operations:
        before = {lead.id: lead for lead in store.all(Lead)}
        events = len(store.events)
        try:
            await commands[name](500 + index)
        except (Conflict, ValidationError):
            assert {lead.id: lead for lead in store.all(Lead)} == before and len(store.events) == events
            continue
        leads = store.all(Lead)
        for lead in leads:
            old = before[lead.id]
            assert lead.status is old.status or lead.status in LEAD_TRANSITIONS[old.status]
            if lead.anonymized:
                assert all(getattr(lead, field) is None for field in PERSONAL_FIELDS)
        assert len(leads) == 4 and all(lead.campaign_id == CAMPAIGN for lead in leads)
        qualified = [lead for lead in leads if lead.status is LeadStatus.QUALIFIED]
        opportunities = {o.id: o for o in store.all(Opportunity)}
        assert len(opportunities) == len(qualified)
        assert all(opportunities[lead.opportunity_id].campaign_id == CAMPAIGN for lead in qualified)

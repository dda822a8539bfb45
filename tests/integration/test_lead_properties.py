"""Random sequences of the lead workflows (hypothesis) against a real database. After every step:
the campaign's figures equal the statuses of its leads as the workflows left them (anonymization
changes no figure), and the leads the processor routed through a 5/3/2 splitter are shared within
one lead of each seller's exact quota."""

from __future__ import annotations

import itertools
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import select

from domain.enums import LeadStatus
from domain.routing import Condition, LeadField
from domain.workflows import campaigns, lead_processor, lead_routing_rules, lead_splitters
from domain.workflows import leads as lw
from persistence import reads, tables
from tests.integration.test_sales_properties import World

WEIGHTS = (5, 3, 2)
names = itertools.count(1)


@pytest.fixture(scope="module")
def world(request, tmp_path_factory):
    w = World(request, tmp_path_factory)

    async def reps() -> list[int]:
        async with w.engine.connect() as conn:
            return [
                r.id
                for r in await conn.execute(
                    select(tables.users.c.id)
                    .where(tables.users.c.role == "SALES_REP")
                    .order_by(tables.users.c.id)
                    .limit(3)
                )
            ]

    w.reps = w.run(reps())
    yield w
    w.run(w.engine.dispose())
    w.loop.close()


def test_random_lead_sequences_keep_campaign_figures_and_splitter_shares(world):
    class Leads(RuleBasedStateMachine):
        leads = Bundle("leads")

        @initialize()
        def a_campaign_routed_through_a_splitter(self):
            n = next(names)
            self.status: dict[int, LeadStatus] = {}
            self.routed: list[int] = []
            self.campaign = world.run(
                world.attempt(campaigns.create_campaign, campaigns.CreateCampaign(name=f"Property {n}"))
            ).id
            splitter = world.run(
                world.attempt(
                    lead_splitters.create_lead_splitter,
                    lead_splitters.CreateSplitter(
                        name=f"Property split {n}",
                        shares=[lead_splitters.ShareSpec(weight=w, user_id=u) for w, u in zip(WEIGHTS, world.reps)],
                    ),
                )
            )
            assert (
                world.run(
                    world.attempt(
                        lead_routing_rules.create_lead_routing_rule,
                        lead_routing_rules.CreateRoutingRule(
                            name=f"Property rule {n}",
                            position=0,
                            target=lead_routing_rules.Target(splitter_id=splitter.id),
                            conditions=[Condition(field=LeadField.CAMPAIGN, values=(self.campaign,))],
                        ),
                    )
                )
                is not None
            )

        @rule(target=leads, count=st.integers(1, 12))
        def ingest(self, count):
            done = world.run(
                world.attempt(
                    lead_processor.ingest_leads,
                    lead_processor.IngestLeads(
                        batch=True,
                        leads=[
                            lw.NewLead(last_name=f"Lead {i}", email=f"lead{i}@example.com", campaign_id=self.campaign)
                            for i in range(count)
                        ],
                    ),
                )
            )
            for ingested in done:
                self.status[ingested.lead.id] = ingested.lead.status
                self.routed.append(ingested.lead.id)
            return done[0].lead.id

        @rule(target=leads)
        def create_by_hand(self):
            lead = world.run(
                world.attempt(lw.create_lead, lw.CreateLead(last_name="By hand", campaign_id=self.campaign))
            )
            self.status[lead.id] = lead.status
            return lead.id

        @rule(lead=leads)
        def qualify(self, lead):
            if world.run(world.attempt(lw.qualify_lead, lw.QualifyLead(id=lead, account_id=world.accounts[0]))):
                self.status[lead] = LeadStatus.QUALIFIED

        @rule(lead=leads, rework=st.booleans())
        def disqualify(self, lead, rework):
            status = LeadStatus.REWORK if rework else LeadStatus.DISQUALIFIED
            if world.run(
                world.attempt(lw.disqualify_lead, lw.DisqualifyLead(id=lead, reason="Not now", status=status))
            ):
                self.status[lead] = status

        @rule(lead=leads)
        def anonymize(self, lead):
            world.run(world.attempt(lw.anonymize_lead, lw.LeadRef(id=lead)))  # changes no status

        @invariant()
        def campaign_figures_are_the_statuses_of_its_leads(self):
            async def figures() -> dict:
                async with world.engine.connect() as conn:
                    return (await reads.campaign_figures(conn, [self.campaign]))[0]["leads"]

            expected = Counter(s.value for s in self.status.values())
            assert world.run(figures()) == dict(expected)

        @invariant()
        def the_splitter_shares_within_one_lead_of_each_quota(self):
            async def assignees() -> Counter:
                async with world.engine.connect() as conn:
                    rows = await conn.execute(
                        select(tables.leads.c.assigned_user_id).where(tables.leads.c.id.in_(self.routed))
                    )
                    return Counter(r.assigned_user_id for r in rows)

            got, n = world.run(assignees()), len(self.routed)
            assert sum(got.values()) == n
            for weight, user in zip(WEIGHTS, world.reps):
                quota = Fraction(n * weight, sum(WEIGHTS))
                assert abs(got[user] - quota) < 1, (got, n)

    Leads.TestCase.settings = settings(
        max_examples=30,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    Leads.TestCase().runTest()

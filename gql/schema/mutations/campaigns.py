"""Mutations of marketing campaigns: create, change, archive and unarchive."""

from __future__ import annotations

import datetime as dt

import strawberry

from domain.workflows import campaigns
from gql.resolvers.mutation import OWN_INPUT, mutation, node_payload
from gql.schema import enums
from gql.schema.inputs import MoneyInput, described, optional, ref, update_of
from gql.schema.leads import Campaign
from gql.schema.mutations.common import RESTRICTED

CampaignPayload = node_payload(Campaign)


@strawberry.input(description="A new marketing campaign.")
class CreateCampaignInput:
    name: str = described("The campaign's name.", update="New name.")
    costs: MoneyInput | None = optional("What it costs.", update="New costs.")
    starts_on: dt.date | None = optional("First day of its period.", update="New first day.")
    ends_on: dt.date | None = optional("Last day of its period.", update="New last day.")
    status: enums.CampaignStatus = optional(  # type: ignore[valid-type]
        "Its status: a key of the campaign statuses (`settings.campaignStatuses`).", "ACTIVE", update="New status."
    )


UpdateCampaignInput = update_of(CreateCampaignInput)
CampaignRefInput = ref("Campaign", "Identifies a campaign to change, with the version you read.")
create_campaign = update_campaign = mutation(campaigns, OWN_INPUT, CampaignPayload, RESTRICTED)
archive_campaign = unarchive_campaign = mutation(campaigns, CampaignRefInput, CampaignPayload, RESTRICTED)

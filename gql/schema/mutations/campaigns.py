"""Mutations of marketing campaigns: create, change, archive and unarchive."""

from __future__ import annotations

import datetime as dt

import strawberry

from domain.workflows import campaigns
from gql.resolvers.mutation import mutation, node_payload
from gql.schema import enums
from gql.schema.inputs import MoneyInput, acts_on, changes, described, optional
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


@changes(CreateCampaignInput, "Campaign", "Changes to a campaign; fields left out stay as they are, null clears.")
class UpdateCampaignInput: ...


@acts_on("Campaign", "Identifies a campaign to change, with the version you read.")
class CampaignRefInput: ...


create_campaign = mutation(campaigns.create_campaign, CreateCampaignInput, CampaignPayload, RESTRICTED)
update_campaign = mutation(campaigns.update_campaign, UpdateCampaignInput, CampaignPayload, RESTRICTED)
archive_campaign = mutation(campaigns.archive_campaign, CampaignRefInput, CampaignPayload, RESTRICTED)
unarchive_campaign = mutation(campaigns.unarchive_campaign, CampaignRefInput, CampaignPayload, RESTRICTED)

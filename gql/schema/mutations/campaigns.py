"""Mutations of marketing campaigns: create, change, archive and unarchive."""

from __future__ import annotations

import datetime as dt

import strawberry

from domain.workflows import campaigns
from gql.resolvers.mutation import gid, mutation
from gql.schema.inputs import MoneyInput, described, keep, optional
from gql.schema.leads import Campaign
from gql.schema.mutations.leads import ERRORS, VERSION


@strawberry.type(description="The campaign as it is after the change.")
class CampaignPayload:
    campaign: Campaign = described("The campaign, with its new version.")


@strawberry.input(description="A new marketing campaign.")
class CreateCampaignInput:
    name: str = described("The campaign's name.")
    costs: MoneyInput | None = optional("What it costs.")
    starts_on: dt.date | None = optional("First day of its period.")
    ends_on: dt.date | None = optional("Last day of its period.")


@strawberry.input(description="Changes to a campaign; fields left out stay as they are, null clears.")
class UpdateCampaignInput:
    id: strawberry.ID = gid("Campaign", description="The campaign.")
    version: int | None = optional(VERSION)
    name: str | None = keep("New name.")
    costs: MoneyInput | None = keep("New costs.")
    starts_on: dt.date | None = keep("New first day.")
    ends_on: dt.date | None = keep("New last day.")


@strawberry.input(description="Identifies a campaign to change, with the version you read.")
class CampaignRefInput:
    id: strawberry.ID = gid("Campaign", description="The campaign.")
    version: int | None = optional(VERSION)


@strawberry.type
class CampaignMutations:
    @mutation(campaigns.create_campaign, CreateCampaignInput, CampaignPayload, errors=ERRORS)
    def create_campaign(self) -> None:
        """Create a marketing campaign."""

    @mutation(campaigns.update_campaign, UpdateCampaignInput, CampaignPayload, errors=ERRORS)
    def update_campaign(self) -> None:
        """Change a campaign's name, costs or period."""

    @mutation(campaigns.archive_campaign, CampaignRefInput, CampaignPayload, errors=ERRORS)
    def archive_campaign(self) -> None:
        """Archive a campaign: kept with its leads and figures, no longer in use."""

    @mutation(campaigns.unarchive_campaign, CampaignRefInput, CampaignPayload, errors=ERRORS)
    def unarchive_campaign(self) -> None:
        """Put an archived campaign back in use."""

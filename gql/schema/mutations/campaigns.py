"""Mutations of marketing campaigns: create, change, archive and unarchive."""

from __future__ import annotations

import datetime as dt

import strawberry

from domain.workflows import leads as wf
from gql.resolvers.mutation import gid, mutation
from gql.schema.inputs import MoneyInput
from gql.schema.leads import Campaign
from gql.schema.mutations.leads import ERRORS, VERSION


@strawberry.type(description="The campaign as it is after the change.")
class CampaignPayload:
    campaign: Campaign = strawberry.field(description="The campaign, with its new version.")


@strawberry.input(description="A new marketing campaign.")
class CreateCampaignInput:
    name: str = strawberry.field(description="The campaign's name.")
    costs: MoneyInput | None = strawberry.field(default=None, description="What it costs.")
    starts_on: dt.date | None = strawberry.field(default=None, description="First day of its period.")
    ends_on: dt.date | None = strawberry.field(default=None, description="Last day of its period.")


@strawberry.input(description="Changes to a campaign; fields left out stay as they are, null clears.")
class UpdateCampaignInput:
    id: strawberry.ID = gid("Campaign", description="The campaign.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    costs: MoneyInput | None = strawberry.field(default=strawberry.UNSET, description="New costs.")
    starts_on: dt.date | None = strawberry.field(default=strawberry.UNSET, description="New first day.")
    ends_on: dt.date | None = strawberry.field(default=strawberry.UNSET, description="New last day.")


@strawberry.input(description="Identifies a campaign to change, with the version you read.")
class CampaignRefInput:
    id: strawberry.ID = gid("Campaign", description="The campaign.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.type
class CampaignMutations:
    create_campaign = mutation(
        wf.create_campaign,
        CreateCampaignInput,
        CampaignPayload,
        errors=ERRORS,
        description="Create a marketing campaign.",
    )
    update_campaign = mutation(
        wf.update_campaign,
        UpdateCampaignInput,
        CampaignPayload,
        errors=ERRORS,
        description="Change a campaign's name, costs or period.",
    )
    archive_campaign = mutation(
        wf.archive_campaign,
        CampaignRefInput,
        CampaignPayload,
        errors=ERRORS,
        description="Archive a campaign: kept with its leads and figures, no longer in use.",
    )
    unarchive_campaign = mutation(
        wf.unarchive_campaign,
        CampaignRefInput,
        CampaignPayload,
        errors=ERRORS,
        description="Put an archived campaign back in use.",
    )

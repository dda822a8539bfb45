"""Mutations of opportunities: the sales process from creation to sold, lost, unlocked and upsold."""

from __future__ import annotations

import datetime as dt

import strawberry

from domain.errors import Conflict, Locked, NotFound
from domain.workflows import opportunities as wf
from gql.resolvers.mutation import Deleted, gid, mutation
from gql.schema import enums
from gql.schema.inputs import MoneyInput, described, keep, optional
from gql.schema.mutations.common import BusinessRolePayload, OpportunityPayload

VERSION = "The version you read; the change fails with a ConflictError if the object moved on since."


@strawberry.input(description="A new opportunity on an account.")
class CreateOpportunityInput:
    name: str = described("What is being sold, in a few words.")
    account_id: strawberry.ID = gid("Account", description="The account it is sold to.")
    owner_id: strawberry.ID | None = gid("User", default=None, description="The responsible user (default: you).")
    stage: enums.Stage = strawberry.field(default=enums.Stage.PROSPECTING, description="An open stage to start in.")
    estimated_revenue: MoneyInput | None = optional("Expected revenue.")
    probability: int | None = optional("Chance of winning in percent (default: the stage's usual value).")
    expected_close_date: dt.date | None = optional("Expected close date.")
    partner_id: strawberry.ID | None = gid("Partner", default=None, description="A partner who works the deal.")
    campaign_id: strawberry.ID | None = gid("Campaign", default=None, description="The campaign it came from.")


@strawberry.input(description="Changes to an opportunity; fields left out stay as they are, null clears.")
class UpdateOpportunityInput:
    id: strawberry.ID = gid("Opportunity", description="The opportunity.")
    version: int | None = optional(VERSION)
    name: str | None = keep("New name.")
    owner_id: strawberry.ID | None = gid("User", default=strawberry.UNSET, description="New owner.")
    estimated_revenue: MoneyInput | None = keep("New estimate.")
    probability: int | None = keep("New probability (0–100).")
    expected_close_date: dt.date | None = keep("New expected close date.")
    campaign_id: strawberry.ID | None = gid("Campaign", default=strawberry.UNSET, description="New campaign.")


@strawberry.input(description="Move an opportunity to another open stage.")
class ChangeOpportunityStageInput:
    id: strawberry.ID = gid("Opportunity", description="The opportunity.")
    stage: enums.Stage = described("The open stage to move to (closing is markOpportunitySold/Lost).")
    probability: int | None = optional("Probability to set (default: the stage's).")
    version: int | None = optional(VERSION)


@strawberry.input(description="Move an opportunity to another account.")
class MoveOpportunityInput:
    id: strawberry.ID = gid("Opportunity", description="The opportunity.")
    account_id: strawberry.ID = gid("Account", description="The account it moves to.")
    version: int | None = optional(VERSION)


@strawberry.input(description="Copy an opportunity with its quotes, related accounts and business roles.")
class CopyOpportunityInput:
    id: strawberry.ID = gid("Opportunity", description="The opportunity to copy.")
    name: str | None = optional("The copy's name (default: '<name> (copy)').")
    account_id: strawberry.ID | None = gid("Account", default=None, description="Another account for the copy.")


@strawberry.input(description="Identifies an opportunity to change, with the version you read.")
class OpportunityRefInput:
    id: strawberry.ID = gid("Opportunity", description="The opportunity.")
    version: int | None = optional(VERSION)


@strawberry.input(description="Relate another account to an opportunity (e.g. a reseller or the end customer).")
class RelatedAccountInput:
    opportunity_id: strawberry.ID = gid("Opportunity", description="The opportunity.")
    account_id: strawberry.ID = gid("Account", description="The related account.")


@strawberry.input(description="Give a contact a role in an opportunity (decision maker, champion …).")
class AddBusinessRoleInput:
    opportunity_id: strawberry.ID = gid("Opportunity", description="The opportunity.")
    contact_id: strawberry.ID = gid("Contact", description="The contact.")
    role: str = described("The role, in words.")


@strawberry.input(description="Remove a business role.")
class RemoveBusinessRoleInput:
    id: strawberry.ID = gid("BusinessRole", description="The business role.")


@strawberry.input(description="Assign an opportunity to a partner, or take it away (partnerId null).")
class AssignOpportunityPartnerInput:
    id: strawberry.ID = gid("Opportunity", description="The opportunity.")
    partner_id: strawberry.ID | None = gid("Partner", description="The partner, or null for none.")
    version: int | None = optional(VERSION)


@strawberry.input(description="Mark an opportunity lost.")
class MarkOpportunityLostInput:
    id: strawberry.ID = gid("Opportunity", description="The opportunity.")
    reason: str = described("Why it was lost.")
    version: int | None = optional(VERSION)


@strawberry.input(description="Start an upsell from a time-based contract.")
class CreateUpsellOpportunityInput:
    contract_id: strawberry.ID = gid("Contract", description="A TIME_BASED contract (a licence, a support period).")
    name: str | None = optional("Name (default: 'Upsell: <contract>').")
    owner_id: strawberry.ID | None = gid("User", default=None, description="Owner (default: you).")


@strawberry.type
class OpportunityMutations:
    @mutation(wf.create_opportunity, CreateOpportunityInput, OpportunityPayload, errors=(NotFound, Conflict))
    def create_opportunity(self) -> None:
        """Create an opportunity on an account."""

    @mutation(wf.update_opportunity, UpdateOpportunityInput, OpportunityPayload, errors=(NotFound, Conflict, Locked))
    def update_opportunity(self) -> None:
        """Change an opportunity's data (not its stage: see changeOpportunityStage)."""

    @mutation(
        wf.change_opportunity_stage,
        ChangeOpportunityStageInput,
        OpportunityPayload,
        errors=(NotFound, Conflict, Locked),
    )
    def change_opportunity_stage(self) -> None:
        """Move an opportunity to another open stage (or reopen a lost one)."""

    @mutation(wf.move_opportunity, MoveOpportunityInput, OpportunityPayload, errors=(NotFound, Conflict, Locked))
    def move_opportunity(self) -> None:
        """Move an opportunity, with its quotes and activities, to another account."""

    @mutation(wf.copy_opportunity, CopyOpportunityInput, OpportunityPayload, errors=(NotFound, Conflict))
    def copy_opportunity(self) -> None:
        """Copy an opportunity (as a new open one) with copies of its quotes."""

    @mutation(wf.delete_opportunity, OpportunityRefInput, Deleted("Opportunity"), errors=(NotFound, Conflict, Locked))
    def delete_opportunity(self) -> None:
        """Delete an opportunity with its quotes and activities (not a sold one)."""

    @mutation(wf.add_related_account, RelatedAccountInput, OpportunityPayload, errors=(NotFound, Conflict))
    def add_related_account(self) -> None:
        """Relate another account to an opportunity."""

    @mutation(wf.remove_related_account, RelatedAccountInput, OpportunityPayload, errors=(NotFound, Conflict))
    def remove_related_account(self) -> None:
        """Remove a related account from an opportunity."""

    @mutation(wf.add_business_role, AddBusinessRoleInput, BusinessRolePayload, errors=(NotFound, Conflict))
    def add_business_role(self) -> None:
        """Give a contact a role in an opportunity."""

    @mutation(wf.remove_business_role, RemoveBusinessRoleInput, OpportunityPayload, errors=(NotFound, Conflict))
    def remove_business_role(self) -> None:
        """Remove a business role from its opportunity."""

    @mutation(
        wf.assign_opportunity_partner, AssignOpportunityPartnerInput, OpportunityPayload, errors=(NotFound, Conflict)
    )
    def assign_opportunity_partner(self) -> None:
        """Assign an opportunity to a partner, or take it away."""

    @mutation(wf.mark_opportunity_sold, OpportunityRefInput, OpportunityPayload, errors=(NotFound, Conflict))
    def mark_opportunity_sold(self) -> None:
        """Sell an opportunity from its active quote: WON, actual revenue = the quote's total, locked, and one contract
        per sold item."""

    @mutation(wf.mark_opportunity_lost, MarkOpportunityLostInput, OpportunityPayload, errors=(NotFound, Conflict))
    def mark_opportunity_lost(self) -> None:
        """Mark an open opportunity lost, with the reason."""

    @mutation(wf.unlock_opportunity, OpportunityRefInput, OpportunityPayload, errors=(NotFound, Conflict))
    def unlock_opportunity(self) -> None:
        """Reopen a sold opportunity for edits: back to NEGOTIATION, its contracts withdrawn until it is sold again."""

    @mutation(
        wf.create_upsell_opportunity, CreateUpsellOpportunityInput, OpportunityPayload, errors=(NotFound, Conflict)
    )
    def create_upsell_opportunity(self) -> None:
        """Create an upsell opportunity from a time-based contract."""

"""Mutations of opportunities: the sales process from creation to sold, lost, unlocked and upsold."""

from __future__ import annotations

import datetime as dt

import strawberry

from domain.workflows import opportunities as wf
from gql.resolvers.mutation import OWN_INPUT, Deleted, mutation
from gql.schema import enums
from gql.schema.custom_fields import CUSTOM_FIELDS_TEXT, CUSTOM_FIELDS_UPDATE, CustomFieldValueInput, custom_input
from gql.schema.inputs import MoneyInput, acts_on, described, gid, optional, ref, update_of
from gql.schema.mutations.common import LOCKABLE, WRITE, BusinessRolePayload, OpportunityPayload


@strawberry.input(description="A new opportunity on an account.")
class CreateOpportunityInput:
    name: str = described("What is being sold, in a few words.", update="New name.")
    account_id: strawberry.ID = gid("Account", "The account it is sold to.", update=False)
    owner_id: strawberry.ID | None = gid("User", "The responsible user (default: you).", None, update="New owner.")
    stage: enums.Stage | None = optional(  # type: ignore[valid-type]
        "An active open stage to start in (default: the first active open stage, PROSPECTING as seeded).",
        update=False,
    )
    estimated_revenue: MoneyInput | None = optional("Expected revenue.", update="New estimate.")
    probability: int | None = optional(
        "Chance of winning in percent (default: the stage's usual value).", update="New probability (0–100)."
    )
    expected_close_date: dt.date | None = optional("Expected close date.", update="New expected close date.")
    partner_id: strawberry.ID | None = gid("Partner", "A partner who works the deal.", None, update=False)
    campaign_id: strawberry.ID | None = gid("Campaign", "The campaign it came from.", None, update="New campaign.")
    custom_fields: list[CustomFieldValueInput] | None = optional(CUSTOM_FIELDS_TEXT, update=CUSTOM_FIELDS_UPDATE)


@acts_on("Opportunity", "Move an opportunity to another open stage.")
class ChangeOpportunityStageInput:
    stage: enums.Stage = described(
        "The active stage to move to: an open one (closing is markOpportunitySold/Lost), or, for a closed "
        "opportunity, another stage of its kind (a sale from WON to WON_PAID stays sold and locked)."
    )
    probability: int | None = optional("Probability to set (default: the stage's).")


@acts_on("Opportunity", "Move an opportunity to another account.")
class MoveOpportunityInput:
    account_id: strawberry.ID = gid("Account", "The account it moves to.")


@acts_on(
    "Opportunity",
    "Copy an opportunity with its quotes, related accounts and business roles.",
    what="The opportunity to copy.",
    version=None,
)
class CopyOpportunityInput:
    name: str | None = optional("The copy's name (default: '<name> (copy)').")
    account_id: strawberry.ID | None = gid("Account", "Another account for the copy.", None)


@strawberry.input(description="Relate another account to an opportunity (e.g. a reseller or the end customer).")
class RelatedAccountInput:
    opportunity_id: strawberry.ID = gid("Opportunity", "The opportunity.")
    account_id: strawberry.ID = gid("Account", "The related account.")


@strawberry.input(description="Give a contact a role in an opportunity (decision maker, champion …).")
class AddBusinessRoleInput:
    opportunity_id: strawberry.ID = gid("Opportunity", "The opportunity.")
    contact_id: strawberry.ID = gid("Contact", "The contact.")
    role: str = described("The role, in words.")


@acts_on("Opportunity", "Assign an opportunity to a partner, or take it away (partnerId null).")
class AssignOpportunityPartnerInput:
    partner_id: strawberry.ID | None = gid("Partner", "The partner, or null for none.")


@acts_on("Opportunity", "Mark an opportunity lost.")
class MarkOpportunityLostInput:
    reason: str = described("Why it was lost.")
    stage: enums.Stage | None = optional(  # type: ignore[valid-type]
        "An active LOST-kind stage to close it in (default: the first one, LOST as seeded)."
    )


@strawberry.input(description="Start an upsell from a time-based contract.")
class CreateUpsellOpportunityInput:
    contract_id: strawberry.ID = gid("Contract", "A TIME_BASED contract (a licence, a support period).")
    name: str | None = optional("Name (default: 'Upsell: <contract>').")
    owner_id: strawberry.ID | None = gid("User", "Owner (default: you).", None)


UpdateOpportunityInput = update_of(CreateOpportunityInput)
OpportunityRefInput = ref("Opportunity", "Identifies an opportunity to change, with the version you read.")
RemoveBusinessRoleInput = ref("BusinessRole", "Remove a business role.", version=None)
CUSTOM = {"custom_fields": custom_input}
create_opportunity = mutation(wf, CreateOpportunityInput, OpportunityPayload, WRITE, convert=CUSTOM)
update_opportunity = mutation(wf, OWN_INPUT, OpportunityPayload, LOCKABLE, convert=CUSTOM)
change_opportunity_stage = move_opportunity = mutation(wf, OWN_INPUT, OpportunityPayload, LOCKABLE)
copy_opportunity = mutation(wf, CopyOpportunityInput, OpportunityPayload, WRITE)
delete_opportunity = mutation(wf, OpportunityRefInput, Deleted("Opportunity"), LOCKABLE)
add_related_account = remove_related_account = mutation(wf, RelatedAccountInput, OpportunityPayload, WRITE)
add_business_role = mutation(wf, AddBusinessRoleInput, BusinessRolePayload, WRITE)
remove_business_role = assign_opportunity_partner = mutation(wf, OWN_INPUT, OpportunityPayload, WRITE)
mark_opportunity_sold = mutation(wf, OpportunityRefInput, OpportunityPayload, WRITE)
mark_opportunity_lost = mutation(wf, MarkOpportunityLostInput, OpportunityPayload, WRITE)
unlock_opportunity = mutation(wf, OpportunityRefInput, OpportunityPayload, WRITE)
create_upsell_opportunity = mutation(wf, CreateUpsellOpportunityInput, OpportunityPayload, WRITE)

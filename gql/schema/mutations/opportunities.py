"""Mutations of opportunities: the sales process from creation to sold, lost, unlocked and upsold."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.workflows import opportunities as wf
from gql import ids
from gql.resolvers.mutate import node, opt_pk, pk, run
from gql.schema import enums as e
from gql.schema.errors import UserError, result
from gql.schema.inputs import MoneyInput, maybe, opt, to_money
from gql.schema.mutations.common import BusinessRolePayload, DeletedPayload, OpportunityPayload
from gql.schema.opportunities import BusinessRole, Opportunity
from persistence import tables as t

VERSION = "The version you read; the change fails with a ConflictError if the object moved on since."


async def opportunity_payload(info: Info, outcome):  # noqa: ANN001, ANN201
    if isinstance(outcome, UserError):
        return outcome
    return OpportunityPayload(opportunity=await node(info, Opportunity, t.opportunities, outcome.id))


@strawberry.input(description="A new opportunity on an account.")
class CreateOpportunityInput:
    name: str = strawberry.field(description="What is being sold, in a few words.")
    account_id: strawberry.ID = strawberry.field(description="The account it is sold to.")
    owner_id: strawberry.ID | None = strawberry.field(default=None, description="The responsible user (default: you).")
    stage: e.Stage = strawberry.field(default=e.Stage.PROSPECTING, description="An open stage to start in.")
    estimated_revenue: MoneyInput | None = strawberry.field(default=None, description="Expected revenue.")
    probability: int | None = strawberry.field(
        default=None, description="Chance of winning in percent (default: the stage's usual value)."
    )
    expected_close_date: dt.date | None = strawberry.field(default=None, description="Expected close date.")
    partner_id: strawberry.ID | None = strawberry.field(default=None, description="A partner who works the deal.")
    campaign_id: strawberry.ID | None = strawberry.field(default=None, description="The campaign it came from.")


@strawberry.input(description="Changes to an opportunity; fields left out stay as they are, null clears.")
class UpdateOpportunityInput:
    id: strawberry.ID = strawberry.field(description="The opportunity.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    owner_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="New owner.")
    estimated_revenue: MoneyInput | None = strawberry.field(default=strawberry.UNSET, description="New estimate.")
    probability: int | None = strawberry.field(default=strawberry.UNSET, description="New probability (0–100).")
    expected_close_date: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="New expected close date."
    )
    campaign_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="New campaign.")


@strawberry.input(description="Move an opportunity to another open stage.")
class ChangeOpportunityStageInput:
    id: strawberry.ID = strawberry.field(description="The opportunity.")
    stage: e.Stage = strawberry.field(description="The open stage to move to (closing is markOpportunitySold/Lost).")
    probability: int | None = strawberry.field(default=None, description="Probability to set (default: the stage's).")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Move an opportunity to another account.")
class MoveOpportunityInput:
    id: strawberry.ID = strawberry.field(description="The opportunity.")
    account_id: strawberry.ID = strawberry.field(description="The account it moves to.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Copy an opportunity with its quotes, related accounts and business roles.")
class CopyOpportunityInput:
    id: strawberry.ID = strawberry.field(description="The opportunity to copy.")
    name: str | None = strawberry.field(default=None, description="The copy's name (default: '<name> (copy)').")
    account_id: strawberry.ID | None = strawberry.field(default=None, description="Another account for the copy.")


@strawberry.input(description="Identifies an opportunity to change, with the version you read.")
class OpportunityRefInput:
    id: strawberry.ID = strawberry.field(description="The opportunity.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Relate another account to an opportunity (e.g. a reseller or the end customer).")
class RelatedAccountInput:
    opportunity_id: strawberry.ID = strawberry.field(description="The opportunity.")
    account_id: strawberry.ID = strawberry.field(description="The related account.")


@strawberry.input(description="Give a contact a role in an opportunity (decision maker, champion …).")
class AddBusinessRoleInput:
    opportunity_id: strawberry.ID = strawberry.field(description="The opportunity.")
    contact_id: strawberry.ID = strawberry.field(description="The contact.")
    role: str = strawberry.field(description="The role, in words.")


@strawberry.input(description="Remove a business role.")
class RemoveBusinessRoleInput:
    id: strawberry.ID = strawberry.field(description="The business role.")


@strawberry.input(description="Assign an opportunity to a partner, or take it away (partnerId null).")
class AssignOpportunityPartnerInput:
    id: strawberry.ID = strawberry.field(description="The opportunity.")
    partner_id: strawberry.ID | None = strawberry.field(description="The partner, or null for none.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Mark an opportunity lost.")
class MarkOpportunityLostInput:
    id: strawberry.ID = strawberry.field(description="The opportunity.")
    reason: str = strawberry.field(description="Why it was lost.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Start an upsell from a time-based contract.")
class CreateUpsellOpportunityInput:
    contract_id: strawberry.ID = strawberry.field(description="A TIME_BASED contract (a licence, a support period).")
    name: str | None = strawberry.field(default=None, description="Name (default: 'Upsell: <contract>').")
    owner_id: strawberry.ID | None = strawberry.field(default=None, description="Owner (default: you).")


CreateOpportunityResult = result("CreateOpportunityResult", OpportunityPayload)
UpdateOpportunityResult = result("UpdateOpportunityResult", OpportunityPayload)
ChangeOpportunityStageResult = result("ChangeOpportunityStageResult", OpportunityPayload)
MoveOpportunityResult = result("MoveOpportunityResult", OpportunityPayload)
CopyOpportunityResult = result("CopyOpportunityResult", OpportunityPayload)
DeleteOpportunityResult = result("DeleteOpportunityResult", DeletedPayload)
AddRelatedAccountResult = result("AddRelatedAccountResult", OpportunityPayload)
RemoveRelatedAccountResult = result("RemoveRelatedAccountResult", OpportunityPayload)
AddBusinessRoleResult = result("AddBusinessRoleResult", BusinessRolePayload)
RemoveBusinessRoleResult = result("RemoveBusinessRoleResult", OpportunityPayload)
AssignOpportunityPartnerResult = result("AssignOpportunityPartnerResult", OpportunityPayload)
MarkOpportunitySoldResult = result("MarkOpportunitySoldResult", OpportunityPayload)
MarkOpportunityLostResult = result("MarkOpportunityLostResult", OpportunityPayload)
UnlockOpportunityResult = result("UnlockOpportunityResult", OpportunityPayload)
CreateUpsellOpportunityResult = result("CreateUpsellOpportunityResult", OpportunityPayload)

INPUT = "What to do; see the input type."


def _opp(value: strawberry.ID, field: str = "id") -> int:
    return pk(value, "Opportunity", field)


@strawberry.type
class OpportunityMutations:
    @strawberry.mutation(description="Create an opportunity on an account.")
    async def create_opportunity(
        self,
        info: Info,
        input: Annotated[CreateOpportunityInput, strawberry.argument(description=INPUT)],
    ) -> CreateOpportunityResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.create_opportunity(
                wf.CreateOpportunity(
                    name=input.name,
                    account_id=pk(input.account_id, "Account", "accountId"),
                    owner_id=opt_pk(input.owner_id, "User", "ownerId"),
                    stage=input.stage.value,
                    estimated_revenue=to_money(input.estimated_revenue),
                    probability=input.probability,
                    expected_close_date=input.expected_close_date,
                    partner_id=opt_pk(input.partner_id, "Partner", "partnerId"),
                    campaign_id=opt_pk(input.campaign_id, "Campaign", "campaignId"),
                ),
                uow,
            )

        return await opportunity_payload(info, await run(info, work))

    @strawberry.mutation(description="Change an opportunity's data (not its stage: see changeOpportunityStage).")
    async def update_opportunity(
        self,
        info: Info,
        input: Annotated[UpdateOpportunityInput, strawberry.argument(description=INPUT)],
    ) -> UpdateOpportunityResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.update_opportunity(
                wf.UpdateOpportunity(
                    id=_opp(input.id),
                    version=input.version,
                    name=opt(input.name),
                    owner_id=maybe(input.owner_id, lambda v: pk(v, "User", "ownerId")),
                    estimated_revenue=to_money(input.estimated_revenue),
                    probability=opt(input.probability),
                    expected_close_date=opt(input.expected_close_date),
                    campaign_id=maybe(input.campaign_id, lambda v: pk(v, "Campaign", "campaignId")),
                ),
                uow,
            )

        return await opportunity_payload(info, await run(info, work))

    @strawberry.mutation(description="Move an opportunity to another open stage (or reopen a lost one).")
    async def change_opportunity_stage(
        self,
        info: Info,
        input: Annotated[ChangeOpportunityStageInput, strawberry.argument(description=INPUT)],
    ) -> ChangeOpportunityStageResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.change_opportunity_stage(
                wf.ChangeStage(
                    id=_opp(input.id), stage=input.stage.value, version=input.version, probability=input.probability
                ),
                uow,
            )

        return await opportunity_payload(info, await run(info, work))

    @strawberry.mutation(description="Move an opportunity, with its quotes and activities, to another account.")
    async def move_opportunity(
        self,
        info: Info,
        input: Annotated[MoveOpportunityInput, strawberry.argument(description=INPUT)],
    ) -> MoveOpportunityResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.move_opportunity(
                wf.MoveOpportunity(
                    id=_opp(input.id), account_id=pk(input.account_id, "Account", "accountId"), version=input.version
                ),
                uow,
            )

        return await opportunity_payload(info, await run(info, work))

    @strawberry.mutation(description="Copy an opportunity (as a new open one) with copies of its quotes.")
    async def copy_opportunity(
        self,
        info: Info,
        input: Annotated[CopyOpportunityInput, strawberry.argument(description=INPUT)],
    ) -> CopyOpportunityResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.copy_opportunity(
                wf.CopyOpportunity(
                    id=_opp(input.id), name=input.name, account_id=opt_pk(input.account_id, "Account", "accountId")
                ),
                uow,
            )

        return await opportunity_payload(info, await run(info, work))

    @strawberry.mutation(description="Delete an opportunity with its quotes and activities (not a sold one).")
    async def delete_opportunity(
        self,
        info: Info,
        input: Annotated[OpportunityRefInput, strawberry.argument(description=INPUT)],
    ) -> DeleteOpportunityResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.delete_opportunity(wf.DeleteOpportunity(id=_opp(input.id), version=input.version), uow)

        outcome = await run(info, work)
        if isinstance(outcome, UserError):
            return outcome
        return DeletedPayload(deleted_id=strawberry.ID(ids.encode("Opportunity", outcome)))

    @strawberry.mutation(description="Relate another account to an opportunity.")
    async def add_related_account(
        self,
        info: Info,
        input: Annotated[RelatedAccountInput, strawberry.argument(description=INPUT)],
    ) -> AddRelatedAccountResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.add_related_account(
                wf.RelatedAccount(
                    opportunity_id=_opp(input.opportunity_id, "opportunityId"),
                    account_id=pk(input.account_id, "Account", "accountId"),
                ),
                uow,
            )

        return await opportunity_payload(info, await run(info, work))

    @strawberry.mutation(description="Remove a related account from an opportunity.")
    async def remove_related_account(
        self,
        info: Info,
        input: Annotated[RelatedAccountInput, strawberry.argument(description=INPUT)],
    ) -> RemoveRelatedAccountResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.remove_related_account(
                wf.RelatedAccount(
                    opportunity_id=_opp(input.opportunity_id, "opportunityId"),
                    account_id=pk(input.account_id, "Account", "accountId"),
                ),
                uow,
            )

        return await opportunity_payload(info, await run(info, work))

    @strawberry.mutation(description="Give a contact a role in an opportunity.")
    async def add_business_role(
        self,
        info: Info,
        input: Annotated[AddBusinessRoleInput, strawberry.argument(description=INPUT)],
    ) -> AddBusinessRoleResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.add_business_role(
                wf.AddBusinessRole(
                    opportunity_id=_opp(input.opportunity_id, "opportunityId"),
                    contact_id=pk(input.contact_id, "Contact", "contactId"),
                    role=input.role,
                ),
                uow,
            )

        outcome = await run(info, work)
        if isinstance(outcome, UserError):
            return outcome
        return BusinessRolePayload(
            business_role=await node(info, BusinessRole, t.business_roles, outcome.id),
            opportunity=await node(info, Opportunity, t.opportunities, outcome.opportunity_id),
        )

    @strawberry.mutation(description="Remove a business role from its opportunity.")
    async def remove_business_role(
        self,
        info: Info,
        input: Annotated[RemoveBusinessRoleInput, strawberry.argument(description=INPUT)],
    ) -> RemoveBusinessRoleResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.remove_business_role(wf.RemoveBusinessRole(id=pk(input.id, "BusinessRole", "id")), uow)

        outcome = await run(info, work)
        if isinstance(outcome, UserError):
            return outcome
        return OpportunityPayload(opportunity=await node(info, Opportunity, t.opportunities, outcome))

    @strawberry.mutation(description="Assign an opportunity to a partner, or take it away.")
    async def assign_opportunity_partner(
        self,
        info: Info,
        input: Annotated[AssignOpportunityPartnerInput, strawberry.argument(description=INPUT)],
    ) -> AssignOpportunityPartnerResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.assign_opportunity_partner(
                wf.AssignOpportunityPartner(
                    id=_opp(input.id),
                    partner_id=opt_pk(input.partner_id, "Partner", "partnerId"),
                    version=input.version,
                ),
                uow,
            )

        return await opportunity_payload(info, await run(info, work))

    @strawberry.mutation(
        description="Sell an opportunity from its active quote: WON, actual revenue = the quote's "
        "total, locked, and one contract per sold item."
    )
    async def mark_opportunity_sold(
        self,
        info: Info,
        input: Annotated[OpportunityRefInput, strawberry.argument(description=INPUT)],
    ) -> MarkOpportunitySoldResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.mark_opportunity_sold(wf.MarkSold(id=_opp(input.id), version=input.version), uow)

        return await opportunity_payload(info, await run(info, work))

    @strawberry.mutation(description="Mark an open opportunity lost, with the reason.")
    async def mark_opportunity_lost(
        self,
        info: Info,
        input: Annotated[MarkOpportunityLostInput, strawberry.argument(description=INPUT)],
    ) -> MarkOpportunityLostResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.mark_opportunity_lost(
                wf.MarkLost(id=_opp(input.id), reason=input.reason, version=input.version), uow
            )

        return await opportunity_payload(info, await run(info, work))

    @strawberry.mutation(
        description="Reopen a sold opportunity for edits: back to NEGOTIATION, its contracts "
        "withdrawn until it is sold again."
    )
    async def unlock_opportunity(
        self,
        info: Info,
        input: Annotated[OpportunityRefInput, strawberry.argument(description=INPUT)],
    ) -> UnlockOpportunityResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.unlock_opportunity(wf.Unlock(id=_opp(input.id), version=input.version), uow)

        return await opportunity_payload(info, await run(info, work))

    @strawberry.mutation(description="Create an upsell opportunity from a time-based contract.")
    async def create_upsell_opportunity(
        self,
        info: Info,
        input: Annotated[CreateUpsellOpportunityInput, strawberry.argument(description=INPUT)],
    ) -> CreateUpsellOpportunityResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.create_upsell_opportunity(
                wf.CreateUpsell(
                    contract_id=pk(input.contract_id, "Contract", "contractId"),
                    name=input.name,
                    owner_id=opt_pk(input.owner_id, "User", "ownerId"),
                ),
                uow,
            )

        return await opportunity_payload(info, await run(info, work))

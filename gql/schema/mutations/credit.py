"""Mutations of credit shares: share a lead or an opportunity among co-workers by percentage."""

from __future__ import annotations

import strawberry

from domain.errors import PermissionDenied
from domain.workflows import credit_shares
from gql.resolvers.mutation import decode_id, mutation
from gql.schema.inputs import acts_on, described
from gql.schema.mutations.common import LOCKABLE, RESTRICTED, OpportunityPayload
from gql.schema.mutations.leads import LeadPayload


@strawberry.input(description="One user's share of the credit: the user and a whole percentage.")
class CreditShareInput:
    user_id: strawberry.ID = described("The user credited (who must be allowed to see the lead or opportunity).")
    percent: int = described("The user's share, a whole percentage from 1 to 100; the shares add up to 100.")

    def to_domain(self, where: str) -> credit_shares.ShareSpec:
        return credit_shares.ShareSpec(user_id=decode_id(self.user_id, "User", f"{where}.userId"), percent=self.percent)


@acts_on("Lead", "Share the credit for a lead among co-workers.")
class SetLeadCreditSharesInput:
    shares: list[CreditShareInput] = described(
        "Two users or more, each once, with percentages adding up to 100; empty to stop sharing."
    )


@acts_on("Opportunity", "Share the credit for an opportunity among co-workers.")
class SetOpportunityCreditSharesInput:
    shares: list[CreditShareInput] = described(
        "Two users or more, each once, with percentages adding up to 100; empty to give the owner the whole credit."
    )


set_lead_credit_shares = mutation(credit_shares, SetLeadCreditSharesInput, LeadPayload, RESTRICTED)
set_opportunity_credit_shares = mutation(
    credit_shares, SetOpportunityCreditSharesInput, OpportunityPayload, (*LOCKABLE, PermissionDenied)
)

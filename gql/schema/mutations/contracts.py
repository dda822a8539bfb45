"""Mutations of contracts: renew a time-based contract, cancel or terminate one with a date and a reason,
remove one from its sold opportunity. Their end by date is the server's (the scheduler), not a mutation."""

from __future__ import annotations

import datetime as dt

from domain.errors import Conflict, NotFound, PermissionDenied
from domain.workflows import contracts as wf
from gql.resolvers.mutation import OWN_INPUT, Deleted, mutation, node_payload
from gql.schema.contracts import Contract
from gql.schema.inputs import acts_on, described, optional

ERRORS = (NotFound, Conflict, PermissionDenied)


@acts_on("Contract", "A new period for a time-based contract.", what="The contract (TIME_BASED).")
class RenewContractInput:
    months: int | None = optional(
        "Months to add to its current end (1 to 1200). Give this or `endsOn`; neither: as long again as its "
        "current period."
    )
    ends_on: dt.date | None = optional("Its new end, after the current one. Give this or `months`.")


@acts_on("Contract", "Cancel a contract now, or terminate it as of a later date.", what="The contract.")
class CancelContractInput:
    reason: str = described("Why (required; at most 2,000 characters).")
    effective_on: dt.date | None = optional(
        "The first day without the service (default: today). Today or earlier: it is CANCELLED now; later (a "
        "time-based contract only, not after its end): it ends the day before, and becomes CANCELLED then."
    )


@acts_on("Contract", "Remove a contract from its sold opportunity.", what="The contract (ACTIVE).")
class RemoveContractInput:
    reason: str | None = optional("Why, for the record and the event.")


ContractPayload = node_payload(Contract)
renew_contract = cancel_contract = mutation(wf, OWN_INPUT, ContractPayload, ERRORS)
remove_contract = mutation(wf, RemoveContractInput, Deleted("Contract"), ERRORS)

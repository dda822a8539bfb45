"""Mutations of sales activities: log a call, meeting, task … about a lead, an opportunity, an account, a
contact or a partner, then change, complete or delete it."""

from __future__ import annotations

import datetime as dt

import strawberry

from domain.workflows import activities as wf
from gql.resolvers.mutation import OWN_INPUT, Deleted, mutation, node_payload
from gql.schema import enums
from gql.schema.inputs import acts_on, described, gid, optional, ref, update_of
from gql.schema.mutations.common import WRITE, attached_to
from gql.schema.opportunities import SalesActivity


@strawberry.input(description="A new sales activity about one lead, opportunity, account, contact or partner.")
class CreateSalesActivityInput:
    attach_to_id: strawberry.ID = described(
        "The id of the Lead, Opportunity, Account, Contact or Partner the activity is about.", update=False
    )
    type: enums.ActivityType = described("What kind of activity.", update="New kind.")
    subject: str = described("A short subject.", update="New subject.")
    owner_id: strawberry.ID | None = gid("User", "Who does it (default: you).", None, update="New owner.")
    notes: str | None = optional("Notes.")
    due_at: dt.datetime | None = optional("When it is due.")
    occurred_at: dt.datetime | None = optional("When it happened (default for a done activity: now).")
    done: bool = optional("True to log something that already happened.", False, update=False)
    duration_minutes: int | None = optional("Duration in minutes.")


@acts_on("SalesActivity", "Mark a sales activity done.", what="The activity.")
class CompleteSalesActivityInput:
    occurred_at: dt.datetime | None = optional("When (default: now).")
    notes: str | None = optional("How it went (replaces the notes if given).")


DeleteSalesActivityInput = ref("SalesActivity", "Identifies a sales activity to delete.", what="The activity.")
UpdateSalesActivityInput = update_of(CreateSalesActivityInput, what="The activity.")
SalesActivityPayload = node_payload(SalesActivity, activity="The activity.")
create_sales_activity = mutation(wf, CreateSalesActivityInput, SalesActivityPayload, WRITE, **attached_to(wf.Target))
update_sales_activity = complete_sales_activity = mutation(wf, OWN_INPUT, SalesActivityPayload, WRITE)
delete_sales_activity = mutation(wf, DeleteSalesActivityInput, Deleted("SalesActivity"), WRITE)

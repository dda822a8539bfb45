"""Mutations of sales activities: log a call, meeting, task … about a lead, an opportunity, an account, a
contact or a partner, then change, complete or delete it."""

from __future__ import annotations

import datetime as dt

import strawberry
from graphql import GraphQLError

from domain.errors import ValidationError
from domain.workflows import activities as wf
from gql import ids as global_ids
from gql.resolvers.mutation import Deleted, mutation, payload_type
from gql.schema import enums
from gql.schema.inputs import acts_on, changes, described, gid, optional
from gql.schema.mutations.common import WRITE
from gql.schema.opportunities import SalesActivity


def _target(value: strawberry.ID) -> wf.Target:
    """What the activity is about, from one global id: its type names the kind (checked by Target)."""
    try:
        return wf.Target(*global_ids.decode(str(value)))
    except GraphQLError as error:
        raise ValidationError("attachToId", error.message) from None


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


@changes(
    CreateSalesActivityInput,
    "SalesActivity",
    "Changes to a sales activity; fields left out stay as they are, null clears.",
    what="The activity.",
)
class UpdateSalesActivityInput: ...


@acts_on("SalesActivity", "Mark a sales activity done.", what="The activity.")
class CompleteSalesActivityInput:
    occurred_at: dt.datetime | None = optional("When (default: now).")
    notes: str | None = optional("How it went (replaces the notes if given).")


@acts_on("SalesActivity", "Identifies a sales activity to delete.", what="The activity.")
class DeleteSalesActivityInput: ...


SalesActivityPayload = payload_type(
    "The sales activity as it is after the change.", activity=(SalesActivity, "The activity.")
)
create_sales_activity = mutation(
    wf.create_sales_activity,
    CreateSalesActivityInput,
    SalesActivityPayload,
    WRITE,
    rename={"attach_to_id": "attach_to"},
    convert={"attach_to_id": _target},
)
update_sales_activity = mutation(wf.update_sales_activity, UpdateSalesActivityInput, SalesActivityPayload, WRITE)
complete_sales_activity = mutation(wf.complete_sales_activity, CompleteSalesActivityInput, SalesActivityPayload, WRITE)
delete_sales_activity = mutation(wf.delete_sales_activity, DeleteSalesActivityInput, Deleted("SalesActivity"), WRITE)

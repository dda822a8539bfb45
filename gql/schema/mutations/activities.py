"""Mutations of sales activities: log a call, meeting, task … about a lead, an opportunity, an account or a
partner, then change, complete or delete it."""

from __future__ import annotations

import datetime as dt

import strawberry
from graphql import GraphQLError

from domain.errors import Conflict, NotFound, ValidationError
from domain.workflows import activities as wf
from gql import ids as global_ids
from gql.resolvers.mutation import Deleted, gid, mutation
from gql.schema import enums
from gql.schema.inputs import described, keep, optional
from gql.schema.mutations.common import KEEP, VERSION
from gql.schema.opportunities import SalesActivity


def _target(value: strawberry.ID) -> wf.Target:
    """What the activity is about, from one global id: its type names the kind (checked by Target)."""
    try:
        return wf.Target(*global_ids.decode(str(value)))
    except GraphQLError as error:
        raise ValidationError("attachToId", error.message) from None


@strawberry.input(description="A new sales activity about one lead, opportunity, account or partner.")
class CreateSalesActivityInput:
    attach_to_id: strawberry.ID = described(
        "The id of the Lead, Opportunity, Account or Partner the activity is about."
    )
    type: enums.ActivityType = described("What kind of activity.")
    subject: str = described("A short subject.")
    owner_id: strawberry.ID | None = gid("User", default=None, description="Who does it (default: you).")
    notes: str | None = optional("Notes.")
    due_at: dt.datetime | None = optional("When it is due.")
    occurred_at: dt.datetime | None = optional("When it happened (default for a done activity: now).")
    done: bool = strawberry.field(default=False, description="True to log something that already happened.")
    duration_minutes: int | None = optional("Duration in minutes.")


@strawberry.input(description="Changes to a sales activity; fields left out stay as they are, null clears.")
class UpdateSalesActivityInput:
    id: strawberry.ID = gid("SalesActivity", description="The activity.")
    version: int | None = optional(VERSION)
    type: enums.ActivityType | None = keep("New kind.")
    subject: str | None = keep("New subject.")
    owner_id: strawberry.ID | None = gid("User", default=strawberry.UNSET, description="New owner.")
    notes: str | None = keep(KEEP)
    due_at: dt.datetime | None = keep(KEEP)
    occurred_at: dt.datetime | None = keep(KEEP)
    duration_minutes: int | None = keep(KEEP)


@strawberry.input(description="Mark a sales activity done.")
class CompleteSalesActivityInput:
    id: strawberry.ID = gid("SalesActivity", description="The activity.")
    occurred_at: dt.datetime | None = optional("When (default: now).")
    notes: str | None = optional("How it went (replaces the notes if given).")
    version: int | None = optional(VERSION)


@strawberry.input(description="Identifies a sales activity to delete.")
class DeleteSalesActivityInput:
    id: strawberry.ID = gid("SalesActivity", description="The activity.")
    version: int | None = optional(VERSION)


@strawberry.type(description="The sales activity as it is after the change.")
class SalesActivityPayload:
    activity: SalesActivity = described("The activity.")


@strawberry.type
class SalesActivityMutations:
    @mutation(
        wf.create_sales_activity,
        CreateSalesActivityInput,
        SalesActivityPayload,
        rename={"attach_to_id": "attach_to"},
        convert={"attach_to_id": _target},
        errors=(NotFound, Conflict),
    )
    def create_sales_activity(self) -> None:
        """Log a sales activity about a lead, an opportunity, an account or a partner."""

    @mutation(wf.update_sales_activity, UpdateSalesActivityInput, SalesActivityPayload, errors=(NotFound, Conflict))
    def update_sales_activity(self) -> None:
        """Change a sales activity (what it is about stays)."""

    @mutation(wf.complete_sales_activity, CompleteSalesActivityInput, SalesActivityPayload, errors=(NotFound, Conflict))
    def complete_sales_activity(self) -> None:
        """Mark a sales activity done."""

    @mutation(wf.delete_sales_activity, DeleteSalesActivityInput, Deleted("SalesActivity"), errors=(NotFound, Conflict))
    def delete_sales_activity(self) -> None:
        """Delete a sales activity."""

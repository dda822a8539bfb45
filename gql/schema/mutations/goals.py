"""Mutations of goals: a user's revenue and deal targets for a period."""

from __future__ import annotations

import datetime as dt

import strawberry

from domain.workflows import people as wf
from gql.resolvers.mutation import mutation, payload_type
from gql.schema.inputs import MoneyInput, described, gid, optional
from gql.schema.mutations.common import WRITE
from gql.schema.people import Goal


@strawberry.input(description="A user's targets for a period; setting it again for the same period replaces it.")
class SetGoalInput:
    user_id: strawberry.ID = gid("User", "The user.")
    period_start: dt.date = described("First day of the period.")
    period_end: dt.date = described("Last day of the period.")
    target_revenue: MoneyInput = described("The revenue to win in the period.")
    target_deals: int = optional("How many deals to win in the period.", 0)


GoalPayload = payload_type("The goal as it is after it was set.", goal=(Goal, "The goal."))
set_goal = mutation(wf, SetGoalInput, GoalPayload, WRITE)

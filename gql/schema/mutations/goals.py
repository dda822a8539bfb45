"""Mutations of goals: a user's revenue and deal targets for a period."""

from __future__ import annotations

import datetime as dt

import strawberry

from domain.errors import Conflict, NotFound
from domain.workflows import people as wf
from gql.resolvers.mutation import gid, mutation
from gql.schema.inputs import MoneyInput, described
from gql.schema.people import Goal


@strawberry.input(description="A user's targets for a period; setting it again for the same period replaces it.")
class SetGoalInput:
    user_id: strawberry.ID = gid("User", description="The user.")
    period_start: dt.date = described("First day of the period.")
    period_end: dt.date = described("Last day of the period.")
    target_revenue: MoneyInput = described("The revenue to win in the period.")
    target_deals: int = strawberry.field(default=0, description="How many deals to win in the period.")


@strawberry.type(description="The goal as it is after it was set.")
class GoalPayload:
    goal: Goal = described("The goal.")


@strawberry.type
class GoalMutations:
    @mutation(wf.set_goal, SetGoalInput, GoalPayload, errors=(NotFound, Conflict))
    def set_goal(self) -> None:
        """Set a user's goal for a period (replaces the goal of exactly that period)."""

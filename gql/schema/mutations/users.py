"""Mutations of users: an admin gives a user another role."""

from __future__ import annotations

import strawberry

from domain.errors import Conflict, NotFound, PermissionDenied
from domain.workflows import people as wf
from gql.resolvers.mutation import gid, mutation
from gql.schema import enums
from gql.schema.inputs import described, optional
from gql.schema.mutations.common import VERSION
from gql.schema.people import User


@strawberry.input(description="Give a user another role (admins only; not one's own).")
class ChangeUserRoleInput:
    id: strawberry.ID = gid("User", description="The user.")
    role: enums.Role = described("The new role.")
    version: int | None = optional(VERSION)


@strawberry.type(description="The user with the new role.")
class UserPayload:
    user: User = described("The user as it is now.")


@strawberry.type
class UserMutations:
    @mutation(wf.change_user_role, ChangeUserRoleInput, UserPayload, errors=(NotFound, Conflict, PermissionDenied))
    def change_user_role(self) -> None:
        """Give a user another role (admins only). What the user sees, and what each of the user's tokens may do,
        follow the new role from the next request on, in every server process."""

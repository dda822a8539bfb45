"""Mutations of users: an admin gives a user another role."""

from __future__ import annotations

import strawberry

from domain.errors import PermissionDenied
from domain.workflows import people as wf
from gql.resolvers.mutation import mutation, payload_type
from gql.schema import enums
from gql.schema.inputs import VERSION, described, gid, optional
from gql.schema.mutations.common import WRITE
from gql.schema.people import User


@strawberry.input(description="Give a user another role (admins only; not one's own).")
class ChangeUserRoleInput:
    id: strawberry.ID = gid("User", "The user.")
    role: enums.Role = described("The new role.")
    version: int | None = optional(VERSION)


UserPayload = payload_type("The user with the new role.", user=(User, "The user as it is now."))
change_user_role = mutation(wf, ChangeUserRoleInput, UserPayload, (*WRITE, PermissionDenied))

"""Mutations of account groups: create, rename and delete a group, and add accounts to it or remove them."""

from __future__ import annotations

import strawberry

from domain.errors import Conflict, NotFound
from domain.workflows import accounts as wf
from gql.resolvers.mutation import Deleted, gid, mutation
from gql.schema.accounts import Account, AccountGroup
from gql.schema.inputs import described, optional
from gql.schema.mutations.common import VERSION


@strawberry.input(description="A new account group.")
class CreateAccountGroupInput:
    name: str = described("The group's name (unique).")


@strawberry.input(description="A new name for an account group.")
class RenameAccountGroupInput:
    id: strawberry.ID = gid("AccountGroup", description="The group.")
    name: str = described("The new name (unique).")
    version: int | None = optional(VERSION)


@strawberry.input(description="Identifies an account group to delete (its accounts stay).")
class DeleteAccountGroupInput:
    id: strawberry.ID = gid("AccountGroup", description="The group.")
    version: int | None = optional(VERSION)


@strawberry.input(description="An account and a group it joins or leaves.")
class AccountGroupMembershipInput:
    group_id: strawberry.ID = gid("AccountGroup", description="The group.")
    account_id: strawberry.ID = gid("Account", description="The account.")


@strawberry.type(description="An account group as it is after the change.")
class AccountGroupPayload:
    group: AccountGroup = described("The group.")


@strawberry.type(description="An account that joined or left a group, and the group.")
class AccountGroupMembershipPayload:
    group: AccountGroup = described("The group.")
    account: Account = described("The account.")


@strawberry.type
class AccountGroupMutations:
    @mutation(wf.create_account_group, CreateAccountGroupInput, AccountGroupPayload, errors=(NotFound, Conflict))
    def create_account_group(self) -> None:
        """Create an account group."""

    @mutation(wf.rename_account_group, RenameAccountGroupInput, AccountGroupPayload, errors=(NotFound, Conflict))
    def rename_account_group(self) -> None:
        """Rename an account group."""

    @mutation(wf.delete_account_group, DeleteAccountGroupInput, Deleted("AccountGroup"), errors=(NotFound, Conflict))
    def delete_account_group(self) -> None:
        """Delete an account group; its accounts stay and only leave the group."""

    @mutation(
        wf.add_account_to_group, AccountGroupMembershipInput, AccountGroupMembershipPayload, errors=(NotFound, Conflict)
    )
    def add_account_to_group(self) -> None:
        """Add an account to a group."""

    @mutation(
        wf.remove_account_from_group,
        AccountGroupMembershipInput,
        AccountGroupMembershipPayload,
        errors=(NotFound, Conflict),
    )
    def remove_account_from_group(self) -> None:
        """Remove an account from a group."""

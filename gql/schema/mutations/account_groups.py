"""Mutations of account groups: create, rename and delete a group, and add accounts to it or remove them."""

from __future__ import annotations

import strawberry

from domain.workflows import accounts as wf
from gql.resolvers.mutation import OWN_INPUT, Deleted, mutation, payload_type
from gql.schema.accounts import Account, AccountGroup
from gql.schema.inputs import acts_on, described, gid, ref
from gql.schema.mutations.common import WRITE


@strawberry.input(description="A new account group.")
class CreateAccountGroupInput:
    name: str = described("The group's name (unique).")


@acts_on("AccountGroup", "A new name for an account group.", what="The group.")
class RenameAccountGroupInput:
    name: str = described("The new name (unique).")


@strawberry.input(description="An account and a group it joins or leaves.")
class AccountGroupMembershipInput:
    group_id: strawberry.ID = gid("AccountGroup", "The group.")
    account_id: strawberry.ID = gid("Account", "The account.")


DeleteAccountGroupInput = ref(
    "AccountGroup", "Identifies an account group to delete (its accounts stay).", what="The group."
)
AccountGroupPayload = payload_type("An account group as it is after the change.", group=(AccountGroup, "The group."))
AccountGroupMembershipPayload = payload_type(
    "An account that joined or left a group, and the group.",
    group=(AccountGroup, "The group."),
    account=(Account, "The account."),
)
create_account_group = rename_account_group = mutation(wf, OWN_INPUT, AccountGroupPayload, WRITE)
delete_account_group = mutation(wf, DeleteAccountGroupInput, Deleted("AccountGroup"), WRITE)
add_account_to_group = remove_account_from_group = mutation(
    wf, AccountGroupMembershipInput, AccountGroupMembershipPayload, WRITE
)

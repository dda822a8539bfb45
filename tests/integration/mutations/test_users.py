"""changeUserRole: an admin gives another user a role; nobody else may, and an admin not their own."""

from __future__ import annotations

from domain.enums import Role
from gql import ids
from gql.auth import issue_token
from persistence import tables
from tests.integration.mutations.test_accounts import events, row
from tests.integration.mutations.test_opportunities import ERRORS
from tests.integration.test_token_cache import new_user

VIEWER = "{ viewer { scopes } }"
ROLE = f"""mutation($input: ChangeUserRoleInput!) {{
  changeUserRole(input: $input) {{ __typename ... on UserPayload {{ user {{ id role version }} }} {ERRORS} }}
}}"""


async def test_an_admin_changes_a_user_s_role_and_the_user_s_token_follows_it(api, writable):
    rep = await new_user(writable.engine, Role.SALES_REP, "promoted.rep@example.com")
    token = await issue_token(writable.engine, name="rep", user_id=rep)
    assert "USERS_WRITE" not in (await api.data(VIEWER, token=token))["viewer"]["scopes"]
    changed = await api.data(ROLE, {"input": {"id": ids.encode("User", rep), "role": "SALES_DIRECTOR"}})
    user = changed["changeUserRole"]["user"]
    assert user["role"] == "SALES_DIRECTOR" and user["version"] == 2
    assert (await row(writable.engine, tables.users, rep)).role == "SALES_DIRECTOR"
    assert (await events(writable.engine, "User", rep))[-1] == (
        "UserRoleChanged",
        {"from": "SALES_REP", "to": "SALES_DIRECTOR"},
    )
    assert "USERS_WRITE" in (await api.data(VIEWER, token=token))["viewer"]["scopes"]


async def test_only_an_admin_changes_roles_and_not_their_own_and_a_stale_version_is_refused(api, writable):
    director = await new_user(writable.engine, Role.SALES_DIRECTOR, "ambitious.director@example.com")
    director_token = await issue_token(writable.engine, name="director", user_id=director)
    target = ids.encode("User", director)
    denied = await api.data(ROLE, {"input": {"id": target, "role": "ADMIN"}}, token=director_token)
    assert denied["changeUserRole"]["__typename"] == "PermissionDeniedError"
    own = ids.encode("User", writable.summary.admin_user_id)
    refused = await api.data(ROLE, {"input": {"id": own, "role": "SALES_REP"}})
    assert refused["changeUserRole"]["__typename"] == "ValidationError"
    assert refused["changeUserRole"]["field"] == "id"
    stale = await api.data(ROLE, {"input": {"id": target, "role": "SALES_REP", "version": 7}})
    assert stale["changeUserRole"]["__typename"] == "ConflictError"
    missing = await api.data(ROLE, {"input": {"id": ids.encode("User", 999_999), "role": "SALES_REP"}})
    assert missing["changeUserRole"]["__typename"] == "NotFoundError"
    assert (await row(writable.engine, tables.users, director)).role == "SALES_DIRECTOR"
    assert (await row(writable.engine, tables.users, writable.summary.admin_user_id)).role == "ADMIN"
    assert await events(writable.engine, "User", director) == []

"""API token mutations: the secret is shown once and works at once; revoking stops it at once."""

from __future__ import annotations

from gql import ids
from tests.integration.mutations.test_opportunities import ERRORS

CREATE = f"""mutation($input: CreateApiTokenInput!) {{
  createApiToken(input: $input) {{ __typename
    ... on CreatedApiTokenPayload {{ secret token {{ id name scopes isActive user {{ id }} partner {{ id }} }} }} {ERRORS} }}
}}"""
REVOKE = f"""mutation($input: RevokeApiTokenInput!) {{
  revokeApiToken(input: $input) {{ __typename ... on ApiTokenPayload {{ token {{ id isActive revokedAt }} }} {ERRORS} }}
}}"""
VIEWER = "{ viewer { user { id } partner { id } scopes } }"


async def test_a_new_token_works_at_once_and_stops_working_when_revoked(api, writable):
    created = await api.data(CREATE, {"input": {"name": "CI export", "scopes": ["ACCOUNTS_READ", "ACCOUNTS_READ"]}})
    payload = created["createApiToken"]
    assert payload["token"]["scopes"] == ["ACCOUNTS_READ"] and payload["token"]["isActive"] is True
    assert payload["secret"].startswith("sg_")
    me = await api.data(VIEWER, token=payload["secret"])
    assert me["viewer"]["user"]["id"] == ids.encode("User", writable.summary.admin_user_id)
    revoked = (await api.data(REVOKE, {"input": {"id": payload["token"]["id"]}}))["revokeApiToken"]
    assert revoked["token"]["isActive"] is False and revoked["token"]["revokedAt"] is not None
    assert (await api.post(VIEWER, token=payload["secret"])).status_code == 401
    again = (await api.data(REVOKE, {"input": {"id": payload["token"]["id"]}}))["revokeApiToken"]
    assert again["__typename"] == "ConflictError"


async def test_an_admin_creates_a_partner_token_and_a_partner_only_its_own(api, writable):
    partner = ids.encode("Partner", writable.summary.partner_id)
    for_partner = (await api.data(CREATE, {"input": {"name": "Portal", "partnerId": partner}}))["createApiToken"]
    assert for_partner["token"]["partner"] == {"id": partner} and for_partner["token"]["user"] is None
    assert (await api.data(VIEWER, token=for_partner["secret"]))["viewer"]["partner"]["id"] == partner
    refused = (
        await api.data(
            CREATE,
            {"input": {"name": "Escalate", "userId": ids.encode("User", writable.summary.admin_user_id)}},
            token=writable.partner_token,
        )
    )["createApiToken"]
    assert refused["__typename"] == "PermissionDeniedError"
    own = (await api.data(CREATE, {"input": {"name": "Mine"}}, token=writable.partner_token))["createApiToken"]
    assert own["token"]["partner"] == {"id": partner}
    admins = (await api.data(CREATE, {"input": {"name": "Admin's"}}))["createApiToken"]
    hidden = await api.data(REVOKE, {"input": {"id": admins["token"]["id"]}}, token=writable.partner_token)
    assert hidden["revokeApiToken"]["__typename"] == "NotFoundError"
    assert (await api.data(VIEWER, token=admins["secret"]))["viewer"]["user"] is not None


async def test_bad_scopes_and_past_expiry_are_refused_and_create_nothing(api, writable):
    from sqlalchemy import func, select

    from persistence import tables

    async with writable.engine.connect() as conn:
        before = (await conn.execute(select(func.count()).select_from(tables.api_tokens))).scalar_one()
    bad = await api.post(CREATE, {"input": {"name": "X", "scopes": ["ACCOUNTS_READ", "DROP TABLE"]}})
    assert bad.status_code == 400 and "Scope" in bad.json()["errors"][0]["message"]
    past = (await api.data(CREATE, {"input": {"name": "X", "expiresAt": "2020-01-01T00:00:00Z"}}))["createApiToken"]
    assert past["__typename"] == "ValidationError" and past["field"] == "expiresAt"
    both = await api.data(
        CREATE, {"input": {"name": "X", "userId": ids.encode("User", 1), "partnerId": ids.encode("Partner", 1)}}
    )
    assert both["createApiToken"]["__typename"] == "ValidationError"
    async with writable.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(tables.api_tokens))).scalar_one() == before

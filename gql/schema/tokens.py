"""API tokens as the API shows them: never the secret or its hash."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain import scopes
from gql import ids
from gql.errors import ClientError
from gql.schema.base import MAX_PAGE_SIZE, Node, described_enum, needs
from gql.schema.fields import to_one
from persistence import reads, tables
from persistence.filters import API_TOKENS, conditions

Scope = described_enum(
    scopes.Scope,
    "Scope",
    "What a token may do. Read scopes open an area's root queries and "
    "subscriptions, write scopes its mutations (nested fields come with their "
    "root field). In the README, the CLI and error messages a scope is "
    "written in lower case with a colon: `ACCOUNTS_READ` is `accounts:read`.",
    {s.name: f"`{s.value}`: {scopes.DESCRIPTIONS[s]}" for s in scopes.Scope},
)
KNOWN = frozenset(s.value for s in scopes.Scope)


@strawberry.type(
    description="A bearer token for the API. Its secret is shown once, when it is created; only a hash is stored."
)
class ApiToken(Node):
    graphql_type = "ApiToken"
    name: str = strawberry.field(description="What the token is for, to recognise it by.")
    expires_at: datetime | None = strawberry.field(description="When it stops working (null: never).")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked (null: not revoked).")
    last_used_at: datetime | None = strawberry.field(description="When it was last used.")
    trusted_documents_only: bool = strawberry.field(
        description="True when it runs only the documents registered for it (`registerTrustedDocuments`): "
        "anything else is refused with 403 `DOCUMENT_NOT_TRUSTED`. For partner portals."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    version: int = strawberry.field(description="Increases with every change.")
    user = to_one("gql.schema.people:User", tables.users, "user_id", "The user it belongs to (null for a partner's).")
    partner = to_one(
        "gql.schema.people:Partner", tables.partners, "partner_id", "The partner it belongs to (null for a user's)."
    )

    @strawberry.field(
        description="The scopes it was created with; empty: everything its owner's role allows. "
        "What it may do is these within its owner's role (`viewer.scopes` shows that)."
    )
    @needs("scopes")
    def scopes(self) -> list[Scope]:  # type: ignore[valid-type]
        return [s for s in self.__dict__["scopes"] or [] if s in KNOWN]  # a retired name allows nothing

    @strawberry.field(description="True while it can be used: not revoked and not expired.")
    @needs("revoked_at", "expires_at")
    def is_active(self) -> bool:
        from domain.base import utcnow

        expires = self.__dict__["expires_at"]
        return self.__dict__["revoked_at"] is None and (expires is None or expires > utcnow())


# The hash never leaves the database through a read.
COLUMNS = tuple(c.name for c in tables.api_tokens.c if c.name != "token_hash")


async def resolve_api_tokens(
    info: Info,
    user_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="Only the tokens of this user (admins; others see only their own)."),
    ] = None,
    partner_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="Only the tokens of this partner (admins; others see only their own)."),
    ] = None,
    revoked: Annotated[
        bool | None,
        strawberry.argument(description="True: only revoked tokens; false: only tokens not revoked; null: both."),
    ] = None,
    limit: Annotated[int, strawberry.argument(description=f"How many, newest first (1 to {MAX_PAGE_SIZE}).")] = 50,
) -> list[ApiToken]:
    """API tokens, newest first: an admin's call lists everyone's, anyone else's only their own."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ClientError(f"`limit` must be 1 to {MAX_PAGE_SIZE}, got {limit}", code="INVALID_PAGE")
    criteria = {
        "user_id": ids.decode_as(user_id, "User") if user_id is not None else None,
        "partner_id": ids.decode_as(partner_id, "Partner") if partner_id is not None else None,
        "revoked": revoked,
    }
    viewer = info.context.viewer  # whose tokens it may list: the `api_tokens` rule of persistence/visibility.py
    async with info.context.reads.connect() as conn:
        rows = await reads.all_rows(
            conn, tables.api_tokens, ["-id"], viewer, conditions(API_TOKENS, criteria, viewer), limit, COLUMNS
        )
    return ApiToken.from_rows(rows)

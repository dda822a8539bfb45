"""API tokens as the API shows them: never the secret or its hash."""
from __future__ import annotations

from datetime import datetime

import strawberry

from gql.schema.base import Node, needs
from gql.schema.fields import to_one
from persistence import tables as t


@strawberry.type(description="A bearer token for the API. Its secret is shown once, when it is created; only a hash "
                             "is stored.")
class ApiToken(Node):
    graphql_type = "ApiToken"
    name: str = strawberry.field(description="What the token is for, to recognise it by.")
    scopes: list[str] = strawberry.field(description="What the token may do, e.g. `accounts:read`; empty: everything "
                                                     "its owner may do.")
    expires_at: datetime | None = strawberry.field(description="When it stops working (null: never).")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked (null: not revoked).")
    last_used_at: datetime | None = strawberry.field(description="When it was last used.")
    trusted_documents_only: bool = strawberry.field(
        description="True when it runs only the documents registered for it (`registerTrustedDocuments`): "
                    "anything else is refused with 403 `DOCUMENT_NOT_TRUSTED`. For partner portals.")
    created_at: datetime = strawberry.field(description="When it was created.")
    version: int = strawberry.field(description="Increases with every change.")
    user = to_one("gql.schema.people:User", t.users, "user_id", "The user it belongs to (null for a partner's).")
    partner = to_one("gql.schema.people:Partner", t.partners, "partner_id",
                     "The partner it belongs to (null for a user's).")

    @strawberry.field(description="True while it can be used: not revoked and not expired.")
    @needs("revoked_at", "expires_at")
    def is_active(self) -> bool:
        from domain.base import utcnow

        expires = self.__dict__["expires_at"]
        return self.__dict__["revoked_at"] is None and (expires is None or expires > utcnow())

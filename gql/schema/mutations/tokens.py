"""Mutations of API tokens."""

from __future__ import annotations

import datetime as dt

import strawberry

# registerTrustedDocuments adds TrustedDocument rows through the unit of work, which finds an entity's
# table in persistence.mapping; persistence.trusted registers this one there when it is imported.
import persistence.trusted  # noqa: F401 - imported for that registration
from domain.workflows import tokens as wf
from gql.admission import check_trusted_document
from gql.resolvers.mutation import mutation, payload_type
from gql.schema.inputs import described, gid, optional, ref
from gql.schema.mutations.common import RESTRICTED, WRITE
from gql.schema.tokens import ApiToken, Scope


@strawberry.input(description="A new API token: for yourself, or (admins only) for another user or a partner.")
class CreateApiTokenInput:
    name: str = described("What it is for, to recognise it by.")
    scopes: list[Scope] = optional(  # type: ignore[valid-type]
        "What it may do, e.g. `[ACCOUNTS_READ]`; empty: everything its owner's role allows. Each must be within the "
        "owner's role and within the scopes of the token making the request.",
        [],
    )
    expires_at: dt.datetime | None = optional("When it stops working.")
    user_id: strawberry.ID | None = gid("User", "Its owner, a user (default: you).", None)
    partner_id: strawberry.ID | None = gid("Partner", "Its owner, a partner.", None)
    trusted_documents_only: bool = optional(
        "Let it run only the documents registered for it with `registerTrustedDocuments` (for partner portals). "
        "Default: false.",
        False,
    )


CreatedApiTokenPayload = payload_type(
    "The new token and its secret. The secret is shown only here, once: store it now.",
    token=(ApiToken, "The token's data."),
    secret=(str, "Send it as `Authorization: Bearer <secret>`. It cannot be shown again."),
)
ApiTokenPayload = payload_type("The revoked token.", token=(ApiToken, "The token, with its revocation time."))


@strawberry.input(
    description="Documents (queries, mutations, subscriptions) that a token may run when it runs "
    "only trusted documents."
)
class RegisterTrustedDocumentsInput:
    token_id: strawberry.ID = gid("ApiToken", "The token.")
    documents: list[str] = described(
        "The documents' exact texts, as the client will send them (or send their sha256 as an "
        "Automatic Persisted Query hash); each is checked against the schema. At most 200."
    )


RegisterTrustedDocumentsPayload = payload_type(
    "The token and the sha256 of each registered document, in the order given.",
    token=(ApiToken, "The token the documents are registered for."),
    hashes=(
        list[str],
        "Each document's sha256 (hex), in the order given: what an Automatic Persisted Query sends as `sha256Hash`.",
    ),
)


def _checked(documents: list[str]) -> list[str]:
    """The documents, each valid against the schema (a ValidationError on `documents[n]` otherwise)."""
    from gql.schema.schema import schema  # built from this module, so only importable once it is loaded

    for n, document in enumerate(documents):
        check_trusted_document(schema._schema, document, f"documents[{n}]")
    return documents


RevokeApiTokenInput = ref("ApiToken", "Revoke an API token: it stops working at once.", what="The token.", version=None)
create_api_token = mutation(
    wf,
    CreateApiTokenInput,
    CreatedApiTokenPayload,
    RESTRICTED,
    convert={"scopes": lambda scopes: [scope.value for scope in scopes]},
    ports=lambda context: (context.principal.scopes,),
)
revoke_api_token = mutation(wf, RevokeApiTokenInput, ApiTokenPayload, WRITE)
register_trusted_documents = mutation(
    wf, RegisterTrustedDocumentsInput, RegisterTrustedDocumentsPayload, RESTRICTED, convert={"documents": _checked}
)

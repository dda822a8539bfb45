"""Mutations of API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

import persistence.trusted  # noqa: F401 - maps TrustedDocument for the unit of work
from domain.workflows import tokens as wf
from gql.admission import check_trusted_document
from gql.resolvers.mutate import node, opt_pk, pk, run
from gql.schema.errors import UserError, result
from gql.schema.tokens import ApiToken, Scope
from persistence import tables as t

INPUT = "What to do; see the input type."
TYPES = [ApiToken]


@strawberry.input(description="A new API token: for yourself, or (admins only) for another user or a partner.")
class CreateApiTokenInput:
    name: str = strawberry.field(description="What it is for, to recognise it by.")
    scopes: list[Scope] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list,
        description="What it may do, e.g. `[ACCOUNTS_READ]`; empty: everything its owner's "
        "role allows. Each must be within the owner's role and within the scopes "
        "of the token making the request.",
    )
    expires_at: dt.datetime | None = strawberry.field(default=None, description="When it stops working.")
    user_id: strawberry.ID | None = strawberry.field(default=None, description="Its owner, a user (default: you).")
    partner_id: strawberry.ID | None = strawberry.field(default=None, description="Its owner, a partner.")
    trusted_documents_only: bool = strawberry.field(
        default=False,
        description="Let it run only the documents registered for it with "
        "`registerTrustedDocuments` (for partner portals). Default: false.",
    )


@strawberry.input(description="Revoke an API token: it stops working at once.")
class RevokeApiTokenInput:
    id: strawberry.ID = strawberry.field(description="The token.")


@strawberry.type(description="The new token and its secret. The secret is shown only here, once: store it now.")
class CreatedApiTokenPayload:
    token: ApiToken = strawberry.field(description="The token's data.")
    secret: str = strawberry.field(description="Send it as `Authorization: Bearer <secret>`. It cannot be shown again.")


@strawberry.type(description="The revoked token.")
class ApiTokenPayload:
    token: ApiToken = strawberry.field(description="The token, with its revocation time.")


@strawberry.input(
    description="Documents (queries, mutations, subscriptions) that a token may run when it runs "
    "only trusted documents."
)
class RegisterTrustedDocumentsInput:
    token_id: strawberry.ID = strawberry.field(description="The token.")
    documents: list[str] = strawberry.field(
        description="The documents' exact texts, as the client will send them (or send their sha256 as an "
        "Automatic Persisted Query hash); each is checked against the schema. At most 200."
    )


@strawberry.type(description="The token and the sha256 of each registered document, in the order given.")
class RegisterTrustedDocumentsPayload:
    token: ApiToken = strawberry.field(description="The token the documents are registered for.")
    hashes: list[str] = strawberry.field(
        description="Each document's sha256 (hex), in the order given: what an "
        "Automatic Persisted Query sends as `sha256Hash`."
    )


CreateApiTokenResult = result("CreateApiTokenResult", CreatedApiTokenPayload)
RegisterTrustedDocumentsResult = result("RegisterTrustedDocumentsResult", RegisterTrustedDocumentsPayload)
RevokeApiTokenResult = result("RevokeApiTokenResult", ApiTokenPayload)


@strawberry.type
class TokenMutations:
    @strawberry.mutation(description="Create an API token and show its secret once.")
    async def create_api_token(
        self,
        info: Info,
        input: Annotated[CreateApiTokenInput, strawberry.argument(description=INPUT)],
    ) -> CreateApiTokenResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.create_api_token(
                wf.CreateToken(
                    name=input.name,
                    scopes=[s.value for s in input.scopes],
                    expires_at=input.expires_at,
                    caller_scopes=info.context.principal.scopes,
                    user_id=opt_pk(input.user_id, "User", "userId"),
                    partner_id=opt_pk(input.partner_id, "Partner", "partnerId"),
                    trusted_documents_only=input.trusted_documents_only,
                ),
                uow,
            )

        outcome = await run(info, work)
        if isinstance(outcome, UserError):
            return outcome
        token, secret = outcome
        return CreatedApiTokenPayload(token=await node(info, ApiToken, t.api_tokens, token.id), secret=secret)

    @strawberry.mutation(description="Revoke an API token of yours (admins: anyone's); it stops working at once.")
    async def revoke_api_token(
        self,
        info: Info,
        input: Annotated[RevokeApiTokenInput, strawberry.argument(description=INPUT)],
    ) -> RevokeApiTokenResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.revoke_api_token(wf.RevokeToken(id=pk(input.id, "ApiToken", "id")), uow)

        outcome = await run(info, work)
        if isinstance(outcome, UserError):
            return outcome
        return ApiTokenPayload(token=await node(info, ApiToken, t.api_tokens, outcome.id))

    @strawberry.mutation(
        description="Register documents a token may run when it runs only trusted documents "
        "(admins only). Registering a document again changes nothing."
    )
    async def register_trusted_documents(
        self,
        info: Info,
        input: Annotated[RegisterTrustedDocumentsInput, strawberry.argument(description=INPUT)],
    ) -> RegisterTrustedDocumentsResult:
        async def work(uow):  # noqa: ANN001, ANN202
            for n, document in enumerate(input.documents):
                check_trusted_document(info.schema._schema, document, f"documents[{n}]")
            return await wf.register_trusted_documents(
                wf.RegisterDocuments(
                    token_id=pk(input.token_id, "ApiToken", "tokenId"), documents=list(input.documents)
                ),
                uow,
            )

        outcome = await run(info, work)
        if isinstance(outcome, UserError):
            return outcome
        token, hashes = outcome
        return RegisterTrustedDocumentsPayload(token=await node(info, ApiToken, t.api_tokens, token.id), hashes=hashes)

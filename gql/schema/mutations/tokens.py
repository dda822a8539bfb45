"""Mutations of API tokens."""
import datetime
from typing import Annotated, Optional

import strawberry
from strawberry.types import Info

from domain.workflows import tokens as wf
from gql.resolvers.mutate import node, opt_pk, pk, run
from gql.schema.errors import UserError, result
from gql.schema.tokens import ApiToken
from persistence import tables as t

INPUT = "What to do; see the input type."
TYPES = [ApiToken]


@strawberry.input(description="A new API token: for yourself, or (admins only) for another user or a partner.")
class CreateApiTokenInput:
    name: str = strawberry.field(description="What it is for, to recognise it by.")
    scopes: list[str] = strawberry.field(default_factory=list,
                                         description="What it may do, e.g. [\"accounts:read\"]; empty: everything.")
    expires_at: Optional[datetime.datetime] = strawberry.field(default=None, description="When it stops working.")
    user_id: Optional[strawberry.ID] = strawberry.field(default=None, description="Its owner, a user (default: you).")
    partner_id: Optional[strawberry.ID] = strawberry.field(default=None, description="Its owner, a partner.")


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


CreateApiTokenResult = result("CreateApiTokenResult", CreatedApiTokenPayload)
RevokeApiTokenResult = result("RevokeApiTokenResult", ApiTokenPayload)


@strawberry.type
class TokenMutations:
    @strawberry.mutation(description="Create an API token and show its secret once.")
    async def create_api_token(
            self, info: Info, input: Annotated[CreateApiTokenInput, strawberry.argument(description=INPUT)],
    ) -> CreateApiTokenResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.create_api_token(wf.CreateToken(
                name=input.name, scopes=list(input.scopes), expires_at=input.expires_at,
                user_id=opt_pk(input.user_id, "User", "userId"),
                partner_id=opt_pk(input.partner_id, "Partner", "partnerId")), uow)
        outcome = await run(info, work)
        if isinstance(outcome, UserError):
            return outcome
        token, secret = outcome
        return CreatedApiTokenPayload(token=await node(info, ApiToken, t.api_tokens, token.id), secret=secret)

    @strawberry.mutation(description="Revoke an API token of yours (admins: anyone's); it stops working at once.")
    async def revoke_api_token(
            self, info: Info, input: Annotated[RevokeApiTokenInput, strawberry.argument(description=INPUT)],
    ) -> RevokeApiTokenResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.revoke_api_token(wf.RevokeToken(id=pk(input.id, "ApiToken", "id")), uow)
        outcome = await run(info, work)
        if isinstance(outcome, UserError):
            return outcome
        return ApiTokenPayload(token=await node(info, ApiToken, t.api_tokens, outcome.id))

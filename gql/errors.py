from __future__ import annotations

from graphql import GraphQLError


class ClientError(GraphQLError):
    """A request the client can correct (bad id, bad page size …): shown as it is, with a code."""

    def __init__(self, message: str, code: str = "BAD_USER_INPUT", **extensions: object) -> None:
        super().__init__(message, extensions={"code": code, **extensions})

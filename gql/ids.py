"""Opaque Relay global ids: base64url of `Type:pk`."""

from __future__ import annotations

import base64
import binascii
import functools

from domain.errors import DomainError, Ref
from gql.errors import ClientError

MAX_PK = 2**31 - 1  # primary keys are 32-bit integers; a larger number names nothing


@functools.lru_cache(maxsize=200_000)
def encode(type_name: str, pk: int) -> str:
    """Cached: a large read encodes thousands of ids, mostly the same ones request after request."""
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def decode(global_id: str) -> tuple[str, int]:
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, pk = base64.urlsafe_b64decode(padded.encode("ascii")).decode().partition(":")
        number = int(pk)
    except (binascii.Error, UnicodeError, ValueError):
        raise ClientError(f"{global_id!r} is not a valid id", code="INVALID_ID") from None
    if not type_name or number <= 0 or number > MAX_PK:
        raise ClientError(f"{global_id!r} is not a valid id", code="INVALID_ID")
    return type_name, number


def decode_as(global_id: str, expected: str | tuple[str, ...]) -> int:
    type_name, pk = decode(global_id)
    allowed = (expected,) if isinstance(expected, str) else expected
    if type_name not in allowed:
        raise ClientError(
            f"{global_id!r} is the id of a {type_name}, not of a {' or '.join(allowed)}", code="INVALID_ID"
        )
    return pk


def of(reference: Ref) -> str:
    return encode(reference.entity, reference.id)


def message_of(error: DomainError) -> str:
    """The error's message with each row it names written as its global id, the only id clients know."""
    return error.render(of)

"""Bearer tokens: random secrets stored only as sha256 hashes, with expiry and revocation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, null, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.access import Principal
from domain.enums import Role
from domain.scopes import effective
from domain.tokens import ApiToken, hash_secret, new_secret
from persistence import tables
from persistence.rows import to_row
from persistence.trusted import registered_text

# The entities whose changes can change what `lookup_token` answers for a token: the token itself (revoked),
# its user (the role caps its scopes) and its partner (deleted with its tokens). A committed change to one
# of them clears every process's cache of lookups (gql/token_cache.py).
CREDENTIAL_ENTITIES = frozenset({"ApiToken", "User", "Partner"})


@dataclass(frozen=True)
class TokenLookup:
    """A valid token's caller, and what the trusted-documents check needs (gql/admission.py)."""

    principal: Principal
    trusted_documents_only: bool = False
    trusted_document: str | None = None  # the text registered for the token under the hash asked about
    expires_at: datetime | None = None


def bearer_hash(authorization: str | None) -> str | None:
    """The stored hash of the token an `Authorization: Bearer <token>` header sends, or None."""
    if not authorization:
        return None
    scheme, _, secret = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return hash_secret(secret.strip())


async def principal_for(engine: AsyncEngine, authorization: str | None) -> Principal | None:
    """The caller named by an `Authorization: Bearer <token>` header, or None when it names nobody valid."""
    found = await lookup_token(engine, authorization)
    return found.principal if found is not None else None


def _token_statement(document_sha256: str | None = None) -> Any:
    """A token's row with its user's role (and, with `document_sha256`, the document registered for it
    under that hash), for `lookup_token` and `lookup_tokens` to narrow by hash."""
    tokens, users = tables.api_tokens, tables.users
    return select(
        tokens.c.token_hash,
        tokens.c.id,
        tokens.c.user_id,
        tokens.c.partner_id,
        tokens.c.scopes,
        tokens.c.expires_at,
        tokens.c.revoked_at,
        users.c.role,
        tokens.c.trusted_documents_only,
        (registered_text(tokens.c.id, document_sha256) if document_sha256 else null()).label("trusted"),
    ).select_from(tokens.outerjoin(users, users.c.id == tokens.c.user_id))


def _lookup(row: Any, now: datetime | None) -> TokenLookup | None:
    """The caller a token's row names, or None when it is revoked or expired at `now` (default: the current time)."""
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= (now or datetime.now(UTC)):
        return None
    role = Role(row.role) if row.role else None
    # Its effective scopes: those it was created with (all, when none) within its owner's role.
    principal = Principal(
        token_id=row.id,
        user_id=row.user_id,
        partner_id=row.partner_id,
        role=role,
        scopes=effective(row.scopes or [], role, row.partner_id is not None),
    )
    return TokenLookup(principal, bool(row.trusted_documents_only), row.trusted, row.expires_at)


async def lookup_token(
    engine: AsyncEngine,
    authorization: str | None,
    document_sha256: str | None = None,
    now: datetime | None = None,
) -> TokenLookup | None:
    """Like `principal_for`; with `document_sha256`, the same one statement also reads the document
    registered for the token under that hash (trusted documents). A token expired at `now` (default: the
    current time) names nobody."""
    token_hash = bearer_hash(authorization)
    if token_hash is None:
        return None
    stmt = _token_statement(document_sha256).where(tables.api_tokens.c.token_hash == token_hash)
    async with engine.connect() as conn:
        row = (await conn.execute(stmt)).first()
    return _lookup(row, now)


async def lookup_tokens(engine: AsyncEngine, authorizations: Iterable[str]) -> dict[str, TokenLookup | None]:
    """`lookup_token` of many `Authorization` values at once, in one statement per 1,000 tokens."""
    hashes = {authorization: bearer_hash(authorization) for authorization in authorizations}
    wanted = sorted({h for h in hashes.values() if h is not None})
    rows: dict[str, Any] = {}
    async with engine.connect() as conn:
        for start in range(0, len(wanted), 1_000):
            chunk = wanted[start : start + 1_000]
            stmt = _token_statement().where(tables.api_tokens.c.token_hash.in_(chunk))
            rows.update((row.token_hash, row) for row in await conn.execute(stmt))
    now = datetime.now(UTC)
    return {a: (_lookup(rows.get(h), now) if h is not None else None) for a, h in hashes.items()}


async def issue_token(
    engine: AsyncEngine,
    *,
    name: str,
    user_id: int | None = None,
    partner_id: int | None = None,
    scopes: list[str] | None = None,
    expires_in_days: int | None = None,
    trusted_documents_only: bool = False,
) -> str:
    """Store a new token and return its secret, which is never stored and cannot be shown again."""
    async with engine.begin() as conn:
        return await store_token(
            conn,
            name=name,
            user_id=user_id,
            partner_id=partner_id,
            scopes=scopes,
            expires_in_days=expires_in_days,
            trusted_documents_only=trusted_documents_only,
        )


async def store_token(
    conn: AsyncConnection,
    *,
    name: str,
    user_id: int | None = None,
    partner_id: int | None = None,
    scopes: list[str] | None = None,
    expires_in_days: int | None = None,
    trusted_documents_only: bool = False,
) -> str:
    """`issue_token` in the caller's transaction (a new user and its first token commit together)."""
    secret = new_secret()
    expires_at = (datetime.now(UTC) + timedelta(days=expires_in_days)) if expires_in_days else None
    token = ApiToken(
        name=name,
        token_hash=hash_secret(secret),
        scopes=list(scopes or []),
        user_id=user_id,
        partner_id=partner_id,
        expires_at=expires_at,
        trusted_documents_only=trusted_documents_only,
    )
    await conn.execute(insert(tables.api_tokens).values(**to_row(token)))
    return secret

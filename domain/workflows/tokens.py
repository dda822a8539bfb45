"""API tokens: created for oneself (an admin may create them for anyone), shown once, revoked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import Conflict, NotFound, PermissionDenied, ValidationError, ref
from domain.events import DomainEvent
from domain.people import Partner, User
from domain.scopes import grantable
from domain.tokens import ApiToken, TrustedDocument, document_hash, hash_secret, new_secret
from domain.uow import UnitOfWork


@dataclass(frozen=True, kw_only=True)
class ApiTokenChanged(DomainEvent):
    """A token was created or revoked (data: change, owner; never the secret)."""

    entity_type = "ApiToken"


@dataclass(kw_only=True)
class CreateToken:
    name: str
    scopes: list[str] = field(default_factory=list)
    user_id: int | None = None
    partner_id: int | None = None
    expires_at: datetime | None = None
    trusted_documents_only: bool = False


@dataclass(frozen=True)
class CreatedToken:
    """A new token and its secret: the only time the secret exists outside the caller."""

    token: ApiToken
    secret: str


async def create_api_token(
    cmd: CreateToken, uow: UnitOfWork, caller_scopes: frozenset[str] | None = None
) -> CreatedToken:
    """Create an API token and show its secret once."""
    # Create a token. `caller_scopes`: the effective scopes of the token making the request (None: no token, e.g. the
    # CLI), since a token never creates one that may do more than itself.
    if cmd.user_id is not None and cmd.partner_id is not None:
        raise ValidationError("owner", "a token belongs to a user or a partner, not both")
    user_id, partner_id = cmd.user_id, cmd.partner_id
    if user_id is None and partner_id is None:
        user_id, partner_id = uow.actor.user_id, uow.actor.partner_id
    own = (user_id, partner_id) == (uow.actor.user_id, uow.actor.partner_id)
    if not own and not uow.actor.is_admin:
        raise PermissionDenied("only an admin creates tokens for someone else")
    if user_id is not None:
        role = (await uow.get(User, user_id)).role
    else:
        await uow.get(Partner, partner_id)
        role = None
    # Known scopes only, within the owner's role and the calling token's scopes (domain/scopes.py).
    scopes = grantable(cmd.scopes, role, partner_id is not None, caller_scopes)
    if cmd.expires_at is not None and cmd.expires_at <= uow.now:
        raise ValidationError("expiresAt", "is in the past")
    secret = new_secret()
    token = await uow.add(
        ApiToken(
            name=cmd.name,
            token_hash=hash_secret(secret),
            scopes=scopes,
            user_id=user_id,
            partner_id=partner_id,
            expires_at=cmd.expires_at,
            trusted_documents_only=cmd.trusted_documents_only,
        )
    )
    uow.record(
        ApiTokenChanged(entity_id=token.id, data={"change": "created", "userId": user_id, "partnerId": partner_id})
    )
    await uow.commit()
    return CreatedToken(token, secret)


@dataclass(kw_only=True)
class RevokeToken:
    id: int


async def revoke_api_token(cmd: RevokeToken, uow: UnitOfWork) -> ApiToken:
    """Revoke an API token of yours (admins: anyone's); it stops working at once, and someone else's token is reported
    as not found."""
    token = await uow.get(ApiToken, cmd.id)
    own = (token.user_id, token.partner_id) == (uow.actor.user_id, uow.actor.partner_id)
    if not own and not uow.actor.is_admin:
        raise NotFound("ApiToken", cmd.id)
    if token.revoked_at is not None:
        raise Conflict(f"token {ref(token)} was already revoked")
    token.revoked_at = uow.now
    revoked = await uow.update(token)
    uow.record(
        ApiTokenChanged(
            entity_id=token.id, data={"change": "revoked", "userId": token.user_id, "partnerId": token.partner_id}
        )
    )
    await uow.commit()
    return revoked


MAX_DOCUMENTS_PER_REGISTRATION = 200


@dataclass(kw_only=True)
class RegisterDocuments:
    token_id: int
    documents: list[str]


@dataclass(frozen=True)
class RegisteredDocuments:
    """The token documents were registered for, and each document's sha256 in the order given."""

    token: ApiToken
    hashes: list[str]


async def register_trusted_documents(cmd: RegisterDocuments, uow: UnitOfWork) -> RegisteredDocuments:
    """Register documents a token may run when it runs only trusted documents (admins only). Registering a document
    again changes nothing."""
    # Register documents a token may run (admins only). A document registered before is kept as it is, so registering
    # again is harmless. The caller checks the documents against the schema first.
    if not uow.actor.is_admin:
        raise PermissionDenied("only an admin registers trusted documents")
    token = await uow.get(ApiToken, cmd.token_id)
    if not cmd.documents:
        raise ValidationError("documents", "give at least one document")
    if len(cmd.documents) > MAX_DOCUMENTS_PER_REGISTRATION:
        raise ValidationError("documents", f"at most {MAX_DOCUMENTS_PER_REGISTRATION} documents at a time")
    known = {d.sha256 for d in await uow.find(TrustedDocument, token_id=token.id)}
    hashes = []
    for n, document in enumerate(cmd.documents):
        if not document.strip():
            raise ValidationError(f"documents[{n}]", "is empty")
        sha256 = document_hash(document)
        if sha256 not in known:
            await uow.add(TrustedDocument(token_id=token.id, sha256=sha256, document=document))
            known.add(sha256)
        hashes.append(sha256)
    uow.record(
        ApiTokenChanged(
            entity_id=token.id,
            data={
                "change": "documentsRegistered",
                "userId": token.user_id,
                "partnerId": token.partner_id,
                "sha256": hashes,
            },
        )
    )
    await uow.commit()
    return RegisteredDocuments(token, hashes)

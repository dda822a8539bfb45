"""Token rules on the in-memory unit of work: who may create and revoke which tokens."""

from __future__ import annotations

import pytest

from domain.enums import Role
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from domain.people import Partner, User
from domain.tokens import ApiToken, hash_secret
from domain.uow import Actor
from domain.workflows import tokens as wf
from tests.support.memory_uow import MemoryStore

ADMIN = Actor(user_id=1, role=Role.ADMIN)
REP = Actor(user_id=2, role=Role.SALES_REP)
PARTNER = Actor(partner_id=3)


@pytest.fixture
def store() -> MemoryStore:
    s = MemoryStore()
    s.rows[User] = {
        1: User(id=1, name="Admin", email="a@example.com", role=Role.ADMIN),
        2: User(id=2, name="Rep", email="r@example.com", role=Role.SALES_REP),
    }
    s.rows[Partner] = {3: Partner(id=3, name="Partner AS")}
    s.ids = iter(range(10, 1000))
    return s


async def test_the_secret_is_returned_once_and_only_its_hash_is_kept(store):
    created = await wf.create_api_token(wf.CreateToken(name="Mine"), store.uow(REP))
    token, secret = created.token, created.secret
    assert token.user_id == 2 and token.token_hash == hash_secret(secret) and secret not in repr(store.rows[ApiToken])
    assert [e.data["change"] for e in store.events] == ["created"]


async def test_only_an_admin_creates_tokens_for_someone_else(store):
    with pytest.raises(PermissionDenied):
        await wf.create_api_token(wf.CreateToken(name="X", user_id=1), store.uow(REP))
    created = await wf.create_api_token(wf.CreateToken(name="Portal", partner_id=3), store.uow(ADMIN))
    assert created.token.partner_id == 3


async def test_scopes_must_look_like_scopes(store):
    with pytest.raises(ValidationError) as error:
        await wf.create_api_token(wf.CreateToken(name="X", scopes=["leads:ingest", "all of it"]), store.uow(REP))
    assert error.value.field == "scopes[1]"


async def test_someone_elses_token_looks_like_no_token_and_revoking_twice_conflicts(store):
    token = (await wf.create_api_token(wf.CreateToken(name="Rep's"), store.uow(REP))).token
    with pytest.raises(NotFound):
        await wf.revoke_api_token(wf.RevokeToken(id=token.id), store.uow(PARTNER))
    revoked = await wf.revoke_api_token(wf.RevokeToken(id=token.id), store.uow(ADMIN))
    assert revoked.revoked_at is not None
    with pytest.raises(Conflict):
        await wf.revoke_api_token(wf.RevokeToken(id=token.id), store.uow(REP))

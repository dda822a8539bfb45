"""The cache of token lookups on its own (one process, the in-memory bus): what it keeps, for how long,
and that a lookup begun before a clearing cannot put its answer back afterwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.access import Principal
from domain.enums import Role
from gql.auth import TokenLookup
from gql.token_cache import TokenCache
from persistence.bus import EventBus

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def lookup(token_id: int = 1, expires_at: datetime | None = None) -> TokenLookup:
    principal = Principal(token_id=token_id, user_id=7, role=Role.SALES_REP, scopes=frozenset({"accounts:read"}))
    return TokenLookup(principal, expires_at=expires_at)


def test_a_kept_lookup_is_answered_until_the_cache_age_passes():
    cache = TokenCache(EventBus("memory://"), max_age=60)
    cache.put("h", lookup(), cache.generation, NOW)
    assert cache.get("h", NOW + timedelta(seconds=59)).principal.token_id == 1
    assert cache.get("h", NOW + timedelta(seconds=60)) is None
    assert len(cache) == 0  # and it is forgotten


def test_a_token_is_not_answered_from_the_cache_once_it_expires():
    cache = TokenCache(EventBus("memory://"), max_age=3600)
    cache.put("h", lookup(expires_at=NOW + timedelta(seconds=5)), cache.generation, NOW)
    assert cache.get("h", NOW + timedelta(seconds=4)) is not None
    assert cache.get("h", NOW + timedelta(seconds=5)) is None


def test_a_lookup_begun_before_a_clearing_does_not_put_its_answer_back():
    cache = TokenCache(EventBus("memory://"), max_age=60)
    generation = cache.generation  # a request reads the generation, then its SQL runs ...
    cache.clear()  # ... while a revocation commits and clears the cache
    cache.put("h", lookup(), generation, NOW)  # the answer read before the revocation
    assert cache.get("h", NOW) is None
    cache.put("h", lookup(), cache.generation, NOW)  # a lookup begun after the clearing is kept
    assert cache.get("h", NOW) is not None


def test_a_clearing_forgets_every_token():
    cache = TokenCache(EventBus("memory://"), max_age=60)
    for n in range(3):
        cache.put(f"h{n}", lookup(n), cache.generation, NOW)
    cache.clear()
    assert [cache.get(f"h{n}", NOW) for n in range(3)] == [None, None, None]


def test_the_cache_keeps_a_bounded_number_of_tokens_least_recently_used_out():
    cache = TokenCache(EventBus("memory://"), max_age=60)
    cache.SIZE = 2
    cache.put("a", lookup(1), cache.generation, NOW)
    cache.put("b", lookup(2), cache.generation, NOW)
    assert cache.get("a", NOW) is not None  # "b" is now the least recently used
    cache.put("c", lookup(3), cache.generation, NOW)
    assert len(cache) == 2 and cache.get("b", NOW) is None and cache.get("a", NOW) is not None


def test_a_cache_age_of_zero_keeps_nothing():
    cache = TokenCache(EventBus("memory://"), max_age=0)
    cache.put("h", lookup(), cache.generation, NOW)
    assert cache.get("h", NOW) is None and len(cache) == 0


def test_with_redis_nothing_is_kept_before_the_subscription_is_confirmed():
    cache = TokenCache(EventBus("redis://127.0.0.1:1/0"), max_age=60)  # never connected: no `run()`
    cache.put("h", lookup(), cache.generation, NOW)
    assert cache.get("h", NOW) is None and len(cache) == 0

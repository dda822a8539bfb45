"""The rate limit arithmetic (two token buckets refilled to a minute's worth) and the persisted
query cache, without a server."""

from __future__ import annotations

import pytest

from gql.admission import MemoryRates, PersistedQueries, take


def test_a_full_bucket_admits_a_minute_s_worth_and_then_says_how_long_to_wait():
    state = None
    for _ in range(3):
        budget, state = take(state, 100.0, 3, 0, 0)
        assert budget.admitted
    budget, unchanged = take(state, 100.0, 3, 0, 0)
    assert not budget.admitted and budget.wait_requests == pytest.approx(20.0) and unchanged is None
    budget, _ = take(state, 110.0, 3, 0, 0)
    assert budget.wait_requests == pytest.approx(10.0)
    budget, _ = take(state, 120.0, 3, 0, 0)
    assert budget.admitted


def test_a_refused_request_takes_nothing_from_either_bucket():
    budget, state = take(None, 0.0, 10, 1000, 900)
    assert budget.admitted and state == (9, 100, 0.0)
    budget, after = take(state, 0.0, 10, 1000, 900)
    assert not budget.admitted and budget.wait_requests == 0 and budget.wait_cost == pytest.approx(48.0)
    assert after is None
    budget, state = take(state, 0.0, 10, 1000, 50)
    assert budget.admitted and state == (8, 50, 0.0)


def test_a_query_costing_more_than_the_whole_budget_needs_a_full_bucket():
    budget, state = take(None, 0.0, 0, 1000, 5000)
    assert budget.admitted and state[1] == 0
    budget, _ = take(state, 30.0, 0, 1000, 5000)
    assert budget.wait_cost == pytest.approx(30.0)


def test_buckets_never_fill_beyond_a_minute_s_worth():
    _, state = take(None, 0.0, 60, 0, 0)
    _, state = take(state, 3600.0, 60, 0, 0)
    assert state[0] == 59


def test_the_persisted_query_cache_drops_the_least_recently_used_text_beyond_its_size():
    cache = PersistedQueries(max_bytes=10)
    cache.put("a", "aaaa")
    cache.put("b", "bbbb")
    assert cache.get("a") == "aaaa"  # now the most recently used
    cache.put("c", "cccc")
    assert cache.get("b") is None and cache.get("a") == "aaaa" and cache.get("c") == "cccc"
    cache.put("huge", "x" * 11)
    assert cache.get("huge") is None


async def test_per_address_buckets_in_memory_stay_bounded_and_keep_the_busy_ones(monkeypatch):
    monkeypatch.setattr(MemoryRates, "MAX_BUCKETS", 3)
    rates = MemoryRates()
    assert (await rates.take("busy", 100.0, 1, 0, 0)).admitted
    for n in range(10):  # many other addresses, one request each
        await rates.take(f"address:{n}", 100.0, 1, 0, 0)
        assert not (await rates.take("busy", 100.0, 1, 0, 0)).admitted  # still remembered: its one request is spent
    assert len(rates._buckets) == 3

"""Credit shares as a value (domain/credit.py): the checks, and the canonical text they are kept as."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import credit
from domain.credit import Share
from domain.errors import ValidationError


@pytest.mark.parametrize(
    ("shares", "reason"),
    [
        ([Share(1, 100)], "two users or more"),
        ([Share(1, 50), Share(2, 40)], "add up to 90 %"),
        ([Share(1, 50), Share(1, 50)], "each user has one share"),
        ([Share(1, 0), Share(2, 100)], "from 1 to 100"),
        ([Share(1, 101), Share(2, -1)], "from 1 to 100"),
    ],
)
def test_bad_shares_are_refused_on_the_shares_field(shares, reason):
    with pytest.raises(ValidationError) as refused:
        credit.check(shares)
    assert refused.value.field == "shares" and reason in str(refused.value)


@settings(max_examples=60)
@given(st.lists(st.integers(1, 10_000), min_size=2, max_size=6, unique=True), st.randoms())
def test_checked_shares_round_trip_through_their_text_in_user_order(users, rng):
    cuts = sorted(rng.sample(range(1, 100), len(users) - 1))
    percents = [b - a for a, b in zip([0, *cuts], [*cuts, 100])]
    shares = [Share(u, p) for u, p in zip(users, percents)]
    checked = credit.check(shares)
    assert list(checked) == sorted(shares) and sum(s.percent for s in checked) == 100
    assert credit.decode(credit.encode(checked)) == checked
    assert credit.credited(99_999, credit.encode(checked)) == checked


def test_no_shares_credit_the_owner_in_full():
    assert credit.encode([]) is None and credit.decode(None) == ()
    assert credit.credited(7, None) == (Share(7, 100),)

"""The active-quote rule, owned by the opportunity: at most one active quote, the one a sale is made
from. No database: plain entities."""

from __future__ import annotations

import pytest

from domain.errors import Conflict, ValidationError
from domain.opportunities import Opportunity
from domain.quotes import Quote

OPPORTUNITY = Opportunity(id=1, name="Fleet renewal", account_id=1, owner_id=1)


def quote(id: int, active: bool = False, opportunity_id: int = 1) -> Quote:
    return Quote(id=id, opportunity_id=opportunity_id, name=f"Quote {id}", currency="EUR", is_active=active)


def test_the_first_quote_of_an_opportunity_becomes_its_active_one():
    assert OPPORTUNITY.first_quote_is_active([])
    assert not OPPORTUNITY.first_quote_is_active([quote(1, active=True)])
    assert OPPORTUNITY.first_quote_is_active([quote(1), quote(2)])  # data from before the rule


def test_making_a_quote_active_deactivates_the_old_one_first():
    old, new = quote(1, active=True), quote(2)
    deactivated, activated = OPPORTUNITY.activate_quote(new, [old, new, quote(3)])
    assert (deactivated.id, deactivated.is_active) == (1, False)
    assert (activated.id, activated.is_active) == (2, True)
    assert old.is_active and not new.is_active  # the rule returns changed copies for the unit of work


def test_a_quote_is_made_active_alone_when_none_was():
    assert [(q.id, q.is_active) for q in OPPORTUNITY.activate_quote(quote(2), [quote(1), quote(2)])] == [(2, True)]


def test_the_active_quote_cannot_be_made_active_again():
    active = quote(1, active=True)
    with pytest.raises(Conflict, match="already the active quote"):
        OPPORTUNITY.activate_quote(active, [active])


def test_the_active_quote_cannot_be_deleted_the_others_can():
    with pytest.raises(Conflict, match="make another quote active first"):
        OPPORTUNITY.ensure_quote_deletable(quote(1, active=True))
    OPPORTUNITY.ensure_quote_deletable(quote(2))


def test_a_duplicate_beside_its_source_is_never_active():
    assert not OPPORTUNITY.copied_quote_is_active(quote(1, active=True))
    assert not OPPORTUNITY.copied_quote_is_active(quote(2))


def test_a_copied_opportunity_keeps_its_one_active_quote():
    copy = Opportunity(id=2, name="Fleet renewal (copy)", account_id=1, owner_id=1)
    assert [copy.copied_quote_is_active(q) for q in (quote(1), quote(2, active=True), quote(3))] == [
        False,
        True,
        False,
    ]


def test_a_sale_is_made_from_the_active_quote_and_needs_one():
    assert OPPORTUNITY.quote_to_sell([quote(1), quote(2, active=True)]).id == 2
    with pytest.raises(ValidationError, match="make a quote active first"):
        OPPORTUNITY.quote_to_sell([quote(1), quote(2)])


def test_quotes_of_another_opportunity_are_a_mistake_not_a_rule():
    with pytest.raises(ValueError, match="not quotes of opportunity 1"):
        OPPORTUNITY.activate_quote(quote(5, opportunity_id=2), [])

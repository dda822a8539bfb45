"""The domain's invariants and value objects, with no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from domain.accounts import Account, Contact, visible_lead_status
from domain.activities import Goal, SalesActivity
from domain.catalog import Bundle, BundleComponent, ProductUnit
from domain.contracts import Contract, add_months
from domain.enums import AccountKind, CategoryGroup, LeadStatus, Stage
from domain.errors import ValidationError
from domain.leads import Lead, cost_per_lead, return_on_investment
from domain.lists import account_names
from domain.money import Money
from domain.opportunities import Opportunity, weighted
from domain.quotes import QuoteItem, quote_total
from domain.stages import DEFAULT_CATALOG, OpportunityStage, StageCatalog, StageKind
from domain.tokens import ApiToken, hash_secret, new_secret

NOW = datetime(2026, 6, 15, tzinfo=UTC)


def test_money_rounds_half_up_to_the_currencys_minor_unit():
    assert Money(Decimal("2.345"), "EUR").rounded().amount == Decimal("2.35")
    assert Money(Decimal("2.344"), "EUR").rounded().amount == Decimal("2.34")
    assert Money(Decimal("100.5"), "JPY").rounded().amount == Decimal("101")
    assert Money(Decimal("1.0005"), "KWD").rounded().amount == Decimal("1.001")


def test_money_refuses_floats_in_disguise_bad_currencies_and_mixed_sums():
    with pytest.raises(ValidationError):
        Money(Decimal("1"), "eur")
    with pytest.raises(ValidationError):
        Money(Decimal("NaN"), "EUR")
    with pytest.raises(ValidationError):
        Money(Decimal(1), "EUR") + Money(Decimal(1), "USD")


def test_money_converts_through_the_base_currency():
    rates = {"EUR": Decimal(1), "NOK": Decimal("0.087"), "USD": Decimal("0.92")}
    assert Money(Decimal(1000), "NOK").convert("EUR", rates).rounded().amount == Decimal("87.00")
    assert Money(Decimal(100), "USD").convert("NOK", rates).rounded().amount == Decimal("1057.47")
    with pytest.raises(ValidationError, match="no exchange rate for SEK"):
        Money(Decimal(1), "SEK").convert("EUR", rates)


def test_a_person_account_takes_its_name_from_first_and_last_name():
    account = Account(kind=AccountKind.PERSON, first_name="Ingrid", last_name="Berg")
    assert account.name == "Ingrid Berg"
    # Whether a type is named by first and last name is the account type's (domain/lists.py): PERSON is.
    assert account_names(True, "ignored", "Ingrid", "Berg") == "Ingrid Berg"
    with pytest.raises(ValidationError, match="lastName"):
        account_names(True, None, "Ingrid", None)
    assert account_names(False, "Fjord AS", None, None) == "Fjord AS"


def test_an_organization_needs_a_name_and_cannot_be_private_and_global():
    with pytest.raises(ValidationError, match="name"):
        Account(kind=AccountKind.ORGANIZATION, name="  ")
    with pytest.raises(ValidationError, match="isPrivate"):
        Account(kind=AccountKind.ORGANIZATION, name="Fjord AS", is_private=True, is_global=True, created_by_id=1)
    with pytest.raises(ValidationError, match="creator"):
        Account(kind=AccountKind.ORGANIZATION, name="Fjord AS", is_private=True)


def test_a_contact_belongs_to_exactly_one_account_or_partner():
    with pytest.raises(ValidationError):
        Contact(first_name="A", last_name="B", contact_type_id=1)
    with pytest.raises(ValidationError):
        Contact(first_name="A", last_name="B", contact_type_id=1, account_id=1, partner_id=1)
    assert Contact(first_name="A", last_name="B", contact_type_id=1, partner_id=1).partner_id == 1


def test_a_contacts_lead_status_shows_only_while_its_account_is_a_prospect_with_lead_status_on():
    assert visible_lead_status(LeadStatus.CONTACTING, CategoryGroup.PROSPECT, True) is LeadStatus.CONTACTING
    assert visible_lead_status(LeadStatus.CONTACTING, CategoryGroup.PROSPECT, False) is None
    assert visible_lead_status(LeadStatus.CONTACTING, CategoryGroup.CUSTOMER, True) is None
    assert visible_lead_status(LeadStatus.CONTACTING, None, True) is None


def test_a_lead_needs_something_to_call_it_and_a_reason_to_be_disqualified():
    with pytest.raises(ValidationError):
        Lead(first_name="Only")
    with pytest.raises(ValidationError, match="reason"):
        Lead(company="Fjord AS", status=LeadStatus.DISQUALIFIED)
    with pytest.raises(ValidationError, match="assignee"):
        Lead(company="Fjord AS", assigned_user_id=1, assigned_partner_id=2)


def test_campaign_figures_cost_per_lead_and_roi():
    costs = Money(Decimal(1000), "EUR")
    assert cost_per_lead(costs, 3).amount == Decimal("333.33")
    assert cost_per_lead(costs, 0) is None
    assert return_on_investment(costs, Money(Decimal(2500), "EUR")) == Decimal("150.00")
    assert return_on_investment(None, Money(Decimal(2500), "EUR")) is None


def test_bundle_weights_must_sum_to_100_and_split_the_price_exactly():
    parts = [
        BundleComponent(unit_id=1, weight=Decimal(50)),
        BundleComponent(unit_id=2, weight=Decimal(30)),
        BundleComponent(unit_id=3, weight=Decimal(20)),
    ]
    bundle = Bundle(price_book_id=1, name="Starter", code="B1", components=parts)
    shares = bundle.split(Money(Decimal("99.99"), "EUR"))
    assert [s.amount for s in shares] == [Decimal("50.00"), Decimal("30.00"), Decimal("19.99")]
    assert sum(s.amount for s in shares) == Decimal("99.99")
    with pytest.raises(ValidationError, match="sum to 90"):
        Bundle(
            price_book_id=1,
            name="Bad",
            code="B2",
            components=parts[:2] + [BundleComponent(unit_id=3, weight=Decimal(10))],
        )


def test_a_quote_item_total_applies_the_discount_and_rounds_half_up():
    item = QuoteItem(
        quote_id=1,
        name="Licence",
        quantity=Decimal(3),
        unit_price=Decimal("19.99"),
        discount_percent=Decimal("12.5"),
        currency="EUR",
    )
    assert item.total == Decimal("52.47")  # 59.97 × 0.875 = 52.47375
    rounding = QuoteItem(
        quote_id=1, name="Rounding", quantity=Decimal(1), unit_price=Decimal("-0.47"), currency="EUR", is_rounding=True
    )
    assert quote_total([item, rounding], "EUR").amount == Decimal("52.00")
    with pytest.raises(ValidationError, match="discountPercent"):
        QuoteItem(
            quote_id=1,
            name="X",
            quantity=Decimal(1),
            unit_price=Decimal(1),
            currency="EUR",
            discount_percent=Decimal(101),
        )


def test_a_won_opportunity_records_actual_revenue_and_a_lost_one_a_reason():
    # The stage's kind decides, so a WON-kind stage an admin added asks the same as WON.
    paid = OpportunityStage(key="WON_PAID", name="Won – paid", position=7, probability=100, kind=StageKind.WON)
    catalog = StageCatalog([*DEFAULT_CATALOG, paid])
    for won in (Stage.WON, "WON_PAID"):
        with pytest.raises(ValidationError, match="actualRevenue"):
            Opportunity(name="Deal", account_id=1, owner_id=1, stage=won, closed_at=NOW).check_stage(catalog)
    with pytest.raises(ValidationError, match="lossReason"):
        Opportunity(name="Deal", account_id=1, owner_id=1, stage=Stage.LOST, closed_at=NOW).check_stage(catalog)
    with pytest.raises(ValidationError, match="probability"):
        Opportunity(name="Deal", account_id=1, owner_id=1, probability=120)
    assert weighted(Money(Decimal("1000.00"), "EUR"), 35).amount == Decimal("350.00")


def test_recurring_units_have_a_period_and_contracts_follow_it():
    with pytest.raises(ValidationError):
        ProductUnit(product_id=1, name="licence", recurring=True)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 15), 14) == date(2028, 1, 15)
    with pytest.raises(ValidationError, match="endsOn"):
        Contract(
            account_id=1,
            opportunity_id=1,
            name="Support",
            kind="TIME_BASED",
            quantity=Decimal(1),
            value=Money(Decimal(10), "EUR"),
            starts_on=date(2026, 1, 1),
        )


def test_an_activity_is_attached_to_exactly_one_thing():
    with pytest.raises(ValidationError, match="exactly one"):
        SalesActivity(type="CALL", subject="Call", owner_id=1, lead_id=1, account_id=2)
    with pytest.raises(ValidationError, match="exactly one"):
        SalesActivity(type="CALL", subject="Call", owner_id=1)
    with pytest.raises(ValidationError, match="occurredAt"):
        SalesActivity(type="CALL", subject="Call", owner_id=1, account_id=1, done=True)


def test_goals_cannot_end_before_they_start():
    with pytest.raises(ValidationError):
        Goal(
            user_id=1,
            period_start=date(2026, 2, 1),
            period_end=date(2026, 1, 1),
            target_revenue=Money(Decimal(1), "EUR"),
        )


def test_tokens_are_stored_as_hashes_and_stop_working_when_expired_or_revoked():
    secret = new_secret()
    token = ApiToken(name="portal", token_hash=hash_secret(secret), partner_id=1, expires_at=NOW + timedelta(days=1))
    assert secret not in token.token_hash and len(token.token_hash) == 64
    assert token.is_usable(NOW)
    assert not token.is_usable(NOW + timedelta(days=2))
    token.revoked_at = NOW
    assert not token.is_usable(NOW)

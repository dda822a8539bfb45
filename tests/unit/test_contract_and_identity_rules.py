"""Domain rules of issue 18 items 1 and 2, without a database: a renewal's new end, when a contract is over
or announced, CONTRACT_EXPIRING's window, and the keys an incoming lead is recognised by."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from domain.contracts import Contract, renewed_end
from domain.enums import ContractKind, ContractStatus
from domain.errors import ValidationError
from domain.identity import Identity, LeadMatchingSettings, MatchKey, company_key, email_key, phone_key
from domain.indicators import ContractFact, Facts, evaluate
from domain.money import Money
from domain.monitors import Rule, RuleKind

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)


def contract(starts: date, ends: date | None, **extra) -> Contract:
    return Contract(
        account_id=1,
        opportunity_id=1,
        name="Licence",
        kind=ContractKind.TIME_BASED if ends else ContractKind.ONE_TIME,
        quantity=Decimal(1),
        value=Money(Decimal(100), "EUR"),
        starts_on=starts,
        ends_on=ends,
        **extra,
    )


def test_a_renewal_adds_the_months_asked_or_the_same_period_again():
    yearly = contract(date(2026, 1, 31), date(2027, 1, 31))
    assert renewed_end(yearly, None, None) == date(2028, 1, 31)
    assert renewed_end(yearly, 1, None) == date(2027, 2, 28)  # the day clipped to the month's end
    odd = contract(date(2026, 1, 1), date(2026, 1, 11))  # ten days: ten more
    assert renewed_end(odd, None, None) == date(2026, 1, 21)
    assert renewed_end(yearly, None, date(2027, 6, 1)) == date(2027, 6, 1)
    for months, ends_on, field in (
        (1, date(2028, 1, 1), "months"),
        (0, None, "months"),
        (None, date(2027, 1, 1), "endsOn"),
    ):
        with pytest.raises(ValidationError) as refused:
            renewed_end(yearly, months, ends_on)
        assert refused.value.field == field


def test_a_contract_is_over_when_its_end_date_is_and_announced_days_before():
    c = contract(date(2026, 3, 1), date(2027, 3, 1))
    end = datetime(2027, 3, 2, tzinfo=UTC)
    assert not c.is_over(end - timedelta(microseconds=1)) and c.is_over(end)
    assert c.notice_at(30) == end - timedelta(days=30)
    c.expiry_noticed_for = c.ends_on
    assert c.notice_at(30) is None
    c.status = ContractStatus.CANCELLED
    assert not c.is_over(end)
    assert not contract(date(2026, 3, 1), None).is_over(end)


def test_contract_expiring_holds_from_days_before_the_end_until_the_end():
    rule = Rule(kind=RuleKind.CONTRACT_EXPIRING, days=10)
    facts = Facts(created_at=NOW - timedelta(days=400), contracts=(ContractFact(ends_on=date(2027, 3, 20)),))
    end = datetime(2027, 3, 21, tzinfo=UTC)
    before = evaluate(rule, facts, end - timedelta(days=10, microseconds=1))
    assert (before.holds, before.due_at) == (False, end - timedelta(days=10))
    within = evaluate(rule, facts, end - timedelta(days=10))
    assert (within.holds, within.due_at) == (True, end)
    assert not evaluate(rule, facts, end).holds
    with pytest.raises(ValidationError):
        Rule(kind=RuleKind.CONTRACT_EXPIRING)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Fjordkraft Logistikk AS", "fjordkraft logistikk"),
        ("Fjordkraft Logistikk A/S", "FJORDKRAFT  LOGISTIKK"),
        ("Müller & Söhne GmbH", "müller and söhne"),
        ("Acme, Inc.", "acme"),
    ],
)
def test_company_names_are_compared_without_case_punctuation_or_legal_form(one, other):
    assert company_key(one) == company_key(other)


def test_other_keys():
    assert company_key("AS") == "as"  # a legal form alone stays a name
    assert company_key("Nordic Holding AS") != company_key("Nordic AS")
    assert phone_key("+47 22 33 44 55") == phone_key("0047-22334455") == "+4722334455"
    assert phone_key("22 33 44 55") != phone_key("+47 22 33 44 55")
    assert phone_key("12-34") is None
    assert email_key(" Kari@Example.NO ") == "kari@example.no"
    off = LeadMatchingSettings(enabled=False)
    assert not Identity.of(off.keys(), "a@b.no", "+4722334455", "X AS")
    only_phone = LeadMatchingSettings(by_email=False, by_company=False).keys()
    assert only_phone == {MatchKey.PHONE}
    assert Identity.of(only_phone, "a@b.no", "+4722334455", "X AS") == Identity(None, "+4722334455", None)

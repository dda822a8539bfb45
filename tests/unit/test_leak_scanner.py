"""The side-door scanner (tests/support/leaks.py) finds each kind of hidden fact where it belongs and
stays quiet about innocent numbers, so a passing side-door test means something."""

from __future__ import annotations

from gql import ids
from tests.support import leaks


class Row:
    """A database row as the scanner reads one (`_mapping`)."""

    def __init__(self, **values: object) -> None:
        self._mapping = values
        self.__dict__.update(values)


def Account(pk: int, name: str, email: str) -> Row:
    return Row(id=pk, name=name, email=email, organization=None, vat_no=None, registration_no=None)


def Opportunity(pk: int, name: str, revenue: int) -> Row:
    return Row(
        id=pk,
        name=name,
        estimated_revenue_amount=revenue,
        estimated_revenue_currency="EUR",
        actual_revenue_amount=None,
        actual_revenue_currency=None,
    )


def secrets() -> leaks.Secrets:
    tables = {
        "accounts": [
            Account(38, "Hidden Holdings", "cfo@hidden.example"),
            Account(4, "Shown AS", "post@shown.example"),
        ],
        "opportunities": [Opportunity(7, "Secret deal", 4275)],
    }
    return leaks.secrets_for("PARTNER", tables, {"Account": {38}, "Opportunity": {7}})


def test_each_kind_of_hidden_fact_is_found_where_it_belongs():
    s = secrets()
    answer = {
        "data": {
            "a": {"id": ids.encode("Account", 38)},
            "b": {"name": "Hidden Holdings", "contact": "cfo@hidden.example"},
            "c": {"estimatedRevenue": {"amount": "4275.00", "currency": "EUR"}},
            "d": {"field": "accountId", "oldValue": 38, "newValue": 4},
            "e": {"accountId": 38},
            "f": {"message": "Opportunity 7 is locked"},
            "g": {"message": f"see {ids.encode('Account', 38)}"},
        }
    }
    found = leaks.leaks(s, answer)
    for where in (
        "a.id",
        "b.name",
        "b.contact",
        "c.estimatedRevenue",
        "d.oldValue",
        "e.accountId",
        "f.message",
        "g.message",
    ):
        assert any(f".{where}" in leak for leak in found), (where, found)
    assert leaks.raw_keys(answer["data"]["d"]) and leaks.raw_keys(answer["data"]["e"])


def test_innocent_numbers_and_the_callers_own_words_are_not_leaks():
    s = secrets()
    answer = {
        "data": {
            "version": 38,
            "position": 7,
            "totalCount": 38,
            "weightedRevenue": {"amount": "4275.00", "currency": "EUR"},
            "name": "Shown AS",
            "eventId": "38",
            "message": f"Account {ids.encode('Account', 38)} does not exist",
            "other": ids.encode("Account", 3),  # a prefix of Account 38's id is another id
        }
    }
    assert leaks.leaks(s, answer, given=(ids.encode("Account", 38),)) == []
    assert leaks.raw_keys({"version": 3, "eventId": "12", "count": 4}) == []

"""Relative range ends and `where` on relations in the criteria language (domain/criteria.py), with no database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain import criteria as dc
from domain.errors import ValidationError

NOT_CONTACTED = {"hasNot": "ACTIVITIES", "where": {"field": "OCCURRED_AT", "min": {"ago": 3, "unit": "MONTHS"}}}


def test_months_and_years_count_by_the_calendar_and_clamp_to_the_months_last_day():
    now = datetime(2026, 5, 31, 12, 0, tzinfo=UTC)
    at = dc.resolve_relative
    assert at({"ago": 3, "unit": "MONTHS"}, now) == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    assert at({"ahead": 9, "unit": "MONTHS"}, now) == datetime(2027, 2, 28, 12, 0, tzinfo=UTC)
    assert at({"ago": 1, "unit": "YEARS"}, datetime(2028, 2, 29, tzinfo=UTC)) == datetime(2027, 2, 28, tzinfo=UTC)
    assert at({"ago": 2, "unit": "WEEKS"}, now) == datetime(2026, 5, 17, 12, 0, tzinfo=UTC)
    assert at({"ahead": 0, "unit": "DAYS"}, now) == now


def test_a_relation_narrowed_by_where_is_checked_against_the_related_entity():
    tree = dc.normalise("ACCOUNT", {"and": [{"field": "CATEGORY", "in": ["A"]}, NOT_CONTACTED]})
    assert tree["and"][1] == NOT_CONTACTED
    assert dc.relative(tree) and not dc.relative({"field": "CATEGORY", "in": ["A"]})
    with pytest.raises(ValidationError) as error:
        dc.normalise("ACCOUNT", {"hasNot": "ACTIVITIES", "where": {"field": "STAGE", "in": ["WON"]}})
    assert error.value.field == "criteria.where.field"  # STAGE is an opportunity's, not an activity's
    with pytest.raises(ValidationError) as error:
        dc.normalise("ACCOUNT", {"has": "PARENT", "where": {"field": "COUNTRY", "in": ["NO"]}})
    assert error.value.field == "criteria.where"


@pytest.mark.parametrize(
    ("end", "field"),
    [
        ({"ago": 3}, "criteria.min"),
        ({"ago": 3, "ahead": 1, "unit": "DAYS"}, "criteria.min"),
        ({"ago": -1, "unit": "DAYS"}, "criteria.min.ago"),
        ({"ago": True, "unit": "DAYS"}, "criteria.min.ago"),
        ({"ago": 1, "unit": "HOURS"}, "criteria.min.unit"),
    ],
)
def test_a_bad_relative_end_is_a_validation_error_naming_its_place(end, field):
    with pytest.raises(ValidationError) as error:
        dc.normalise("ACTIVITY", {"field": "OCCURRED_AT", "min": end})
    assert error.value.field == field


def test_a_number_takes_no_relative_end():
    with pytest.raises(ValidationError):
        dc.normalise("OPPORTUNITY", {"field": "PROBABILITY", "min": {"ago": 1, "unit": "DAYS"}})

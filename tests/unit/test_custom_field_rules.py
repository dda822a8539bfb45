"""The custom field rules without a database: what a write may store (`check_values`), what a definition may
be, and the criteria language's custom field conditions."""

from __future__ import annotations

import pytest

from domain import criteria as dc
from domain.custom_fields import CustomFieldDefinition, check_new_key, check_values, from_text
from domain.errors import Ref, ValidationError

TIER = CustomFieldDefinition(entity_type="ACCOUNT", key="TIER", label="Tier", type="CHOICE", options=["GOLD", "SILVER"])
SCORE = CustomFieldDefinition(entity_type="ACCOUNT", key="SCORE", label="Score", type="NUMBER", mandatory=True)
DUE = CustomFieldDefinition(entity_type="ACCOUNT", key="DUE", label="Due", type="DATE")
VIP = CustomFieldDefinition(entity_type="ACCOUNT", key="VIP", label="VIP", type="BOOLEAN")
OLD = CustomFieldDefinition(entity_type="ACCOUNT", key="OLD", label="Old", type="STRING", active=False)
ALL = [TIER, SCORE, DUE, VIP, OLD]


def test_values_are_stored_in_their_types_and_replace_key_by_key():
    stored = check_values(ALL, {"TIER": "GOLD", "SCORE": "12.50", "DUE": "2026-06-30", "VIP": False})
    assert stored == {"TIER": "GOLD", "SCORE": 12.5, "DUE": "2026-06-30", "VIP": False}
    assert check_values(ALL, {"SCORE": 3, "DUE": None, "VIP": ""}, stored) == {"TIER": "GOLD", "SCORE": 3}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"SCORE": 1, "TIER": "PLATINUM"}, "customFields.TIER"),
        ({"SCORE": "many"}, "customFields.SCORE"),
        ({"SCORE": True}, "customFields.SCORE"),
        ({"SCORE": "1e400"}, "customFields.SCORE"),
        ({"SCORE": 1, "DUE": "30.06.2026"}, "customFields.DUE"),
        ({"SCORE": 1, "VIP": "yes"}, "customFields.VIP"),
        ({"SCORE": 1, "NOPE": "x"}, "customFields.NOPE"),
        ({"SCORE": 1, "OLD": "new"}, "customFields.OLD"),
        ({"TIER": "GOLD"}, "customFields.SCORE"),  # mandatory, on a new row
    ],
)
def test_a_value_the_field_cannot_take_is_refused_naming_the_field(values, field):
    with pytest.raises(ValidationError) as refused:
        check_values(ALL, values)
    assert refused.value.field == field


def test_a_deactivated_field_keeps_what_a_row_holds_and_takes_nothing_new():
    before = {"SCORE": 1, "OLD": "kept"}
    assert check_values(ALL, {"OLD": "kept", "VIP": True}, before) == {"SCORE": 1, "OLD": "kept", "VIP": True}
    assert check_values(ALL, {"OLD": None}, before) == {"SCORE": 1}


def test_text_values_are_read_in_their_fields_types():
    assert check_values(ALL, from_text(ALL, {"SCORE": "4", "VIP": "yes", "DUE": "2026-01-02"})) == {
        "SCORE": 4,
        "VIP": True,
        "DUE": "2026-01-02",
    }


def test_a_definition_is_checked_and_new_keys_are_upper_snake():
    with pytest.raises(ValidationError, match="options"):
        CustomFieldDefinition(entity_type="LEAD", key="X", label="X", type="CHOICE")
    with pytest.raises(ValidationError, match="options"):
        CustomFieldDefinition(entity_type="LEAD", key="X", label="X", type="NUMBER", options=["a"])
    with pytest.raises(ValidationError, match="entityType"):
        CustomFieldDefinition(entity_type="ACTIVITY", key="X", label="X", type="STRING")
    check_new_key("TIER_2")
    for bad in ("tier", "2TIER", "TIER-2", ""):
        with pytest.raises(ValidationError):
            check_new_key(bad)


def test_custom_conditions_are_normalised_and_checked_against_the_definitions():
    tree = dc.normalise(
        "ACCOUNT",
        {
            "and": [
                {"custom": "TIER", "in": ["GOLD"]},
                {"custom": "SCORE", "min": 3},
                {"custom": "DUE", "to": "2026-12-31"},
                {"custom": "VIP", "empty": True},
                {"hasNot": "CONTACTS", "where": {"custom": "NEWS", "is": True}},
            ]
        },
    )
    assert tree["and"][1] == {"custom": "SCORE", "min": "3"}
    types = {
        "ACCOUNT": {"TIER": "CHOICE", "SCORE": "NUMBER", "DUE": "DATE", "VIP": "BOOLEAN"},
        "CONTACT": {"NEWS": "BOOLEAN"},
    }
    dc.check_custom("ACCOUNT", tree, types)
    with pytest.raises(ValidationError, match="CONTACT has no custom field"):
        dc.check_custom("ACCOUNT", tree, {**types, "CONTACT": {}})
    with pytest.raises(ValidationError, match="SCORE is a NUMBER field"):
        dc.check_custom("ACCOUNT", dc.normalise("ACCOUNT", {"custom": "SCORE", "in": ["3"]}), types)
    for bad in ({"custom": "X", "min": 1, "in": ["a"]}, {"custom": "X", "is": "yes"}, {"custom": "X"}):
        with pytest.raises(ValidationError):
            dc.normalise("ACCOUNT", bad)
    with pytest.raises(ValidationError, match="no custom fields"):
        dc.normalise("ACTIVITY", {"custom": "X", "is": True})


def test_history_keeps_the_rows_a_tree_names_as_references():
    tree = dc.normalise(
        "OPPORTUNITY",
        {"and": [{"field": "ACCOUNT", "in": [3]}, {"indicators": {"anyOf": [7]}}, {"field": "STAGE", "in": ["WON"]}]},
    )
    assert dc.with_refs("OPPORTUNITY", tree) == {
        "and": [
            {"field": "ACCOUNT", "in": [Ref("Account", 3)]},
            {"indicators": {"anyOf": [Ref("StatusMonitor", 7)]}},
            {"field": "STAGE", "in": ["WON"]},
        ]
    }

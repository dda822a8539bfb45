"""Every mutation's result union lists exactly the errors its workflow can raise, read from the workflow's
source (tests/support/raises.py), plus ValidationError, which cleaning the input raises itself."""

from __future__ import annotations

import pytest

from domain.errors import ValidationError
from gql.schema.errors import ERROR_TYPES
from gql.schema.mutations import Mutation
from gql.schema.schema import schema
from tests.support.raises import raised_by

FIELDS = Mutation.__strawberry_definition__.fields


def _shown(raised: frozenset[type]) -> set[type]:
    """The error types of the union that show what the workflow raises (a subclass shows as its base)."""
    return {base for base in ERROR_TYPES for error in raised if issubclass(error, base)}


def test_every_mutation_is_a_declaration():
    handwritten = [f.python_name for f in FIELDS if getattr(f, "declaration", None) is None]
    assert handwritten == []


@pytest.mark.parametrize("field", [f for f in FIELDS if getattr(f, "declaration", None)], ids=lambda f: f.python_name)
def test_the_result_union_lists_exactly_what_the_workflow_raises(field):
    declared = field.declaration
    expected = _shown(raised_by(declared.workflow)) | {ValidationError}
    assert set(declared.errors) == expected, (
        f"{field.python_name}: declare errors={sorted(e.__name__ for e in expected - {ValidationError})}"
    )
    union = schema._schema.type_map[declared.name]
    shown = {ERROR_TYPES[e].__strawberry_definition__.name for e in expected}
    assert {t.name for t in union.types} == {declared.payload.type.__strawberry_definition__.name} | shown

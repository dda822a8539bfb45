"""Every mutation's result union lists exactly the errors its workflow can raise, read from the workflow's
source (tests/support/raises.py), plus ValidationError, which cleaning the input raises itself."""

from __future__ import annotations

import types

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


def test_a_declaration_by_module_takes_the_workflow_and_the_input_its_name_says():
    from domain.errors import Conflict, NotFound, PermissionDenied
    from domain.workflows import tasks
    from gql.resolvers.mutation import OWN_INPUT, mutation
    from gql.schema.mutations import tasks as area

    family = mutation(tasks, OWN_INPUT, area.TaskPayload, (NotFound, Conflict, PermissionDenied))
    field = family.named("reopen_task", area)
    assert field.declaration.workflow is tasks.reopen_task
    assert [a.type for a in field.arguments] == [area.ReopenTaskInput]
    with pytest.raises(TypeError, match="has no reopen_tusk"):
        family.named("reopen_tusk", area)
    with pytest.raises(TypeError, match="has no ReopenTaskInput"):
        family.named("reopen_task", types.ModuleType("empty"))


def test_a_type_made_without_a_name_takes_the_name_it_is_bound_to():
    from domain.errors import Conflict, NotFound, PermissionDenied
    from domain.workflows import tasks
    from gql.resolvers.mutation import Deleted, mutation
    from gql.schema.inputs import ref
    from gql.schema.mutations import tasks as area

    assert area.DeleteTaskInput.__strawberry_definition__.name == "DeleteTaskInput"
    unbound = ref("Task", "Identifies a task to delete.")
    with pytest.raises(TypeError, match="bind UnnamedInput to a module-level name"):
        mutation(tasks.delete_task, unbound, Deleted("Task"), (NotFound, Conflict, PermissionDenied))

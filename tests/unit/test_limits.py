"""The checks of gql/limits.py without a server: the token count before parsing agrees with the
parser's, and each check's work is bounded by the document, whatever its fragments and repeats."""

from __future__ import annotations

import pytest
from graphql import get_introspection_query, parse
from graphql.utilities import get_operation_ast

from gql.limits import LimitExceeded, Limits, Work, check_document, check_shape, coerce_page_variables, cost
from gql.limits import count_tokens as counted
from gql.schema.schema import schema

DOCUMENTS = [
    get_introspection_query(descriptions=True, specified_by_url=True, directive_is_repeatable=True),
    "{ viewer { scopes } }",
    "query Q($n: Int = -12, $f: Float = 1.5e-3, $g: Float = -0.25E+2) { accounts(first: $n) { nodes { id } } }",
    '{ a(s: "plain \\" quote \\\\ backslash \\u00e9 é", t: "") }',
    '{ a(s: """block "with" quotes \\""" escaped\n and lines \\n kept""", t: """""") }',
    '{ a(s: """lone backslashes \\\\ and \\ """) }',
    "# a comment\n{ a # another\n b } # last",
    "{ ...F ... on A { b } ... @include(if: true) { c } } fragment F on Query { d @skip(if: false) }",
    'subscription S($x: [ID!]! = ["a", "b"], $o: In = {k: [1, 2], j: {n: null, e: ENUM}}) { s(x: $x) { id } }',
    "{ a(v: $v) { b } }, , ,",
    "\ufeff{ a }",
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_token_count_before_parsing_is_the_parser_s(document):
    assert counted(document, 10**6) == parse(document).token_count


@pytest.mark.parametrize(
    "text", ['\\"""' * 8_000, '"\\' * 16_000, '"""' + "x" * 30_000, '"' * 32_000, "#" * 32_000, "-1." * 10_000]
)
def test_the_token_count_reads_text_that_does_not_lex_in_one_pass(text):
    # A backtracking pattern would take minutes on these; the count is whatever it is, and stops.
    assert 0 <= counted(text, 10**6) <= len(text)
    assert counted(text, 5) <= 5


def test_a_document_over_the_token_limit_is_refused_before_it_is_parsed():
    work = Work()
    with pytest.raises(LimitExceeded) as refused:
        check_document(schema._schema, "{ " + "a " * 2_001 + "}", Limits(), work)
    assert refused.value.code == "TOO_MANY_TOKENS" and work.parsed == 0
    distinct = "{ " + " ".join(f"a{n}" for n in range(1_998)) + " }"
    checked, errors = check_document(schema._schema, distinct, Limits(), work)
    assert work.parsed == 1 and checked is None and errors


def test_each_fragment_is_summarised_once_by_the_shape_and_the_cost():
    levels = 13
    fragments = [
        f"fragment F{n} on Account {{ name {' '.join([f'parent {{ ...F{n + 1} }}'] * 3)} }}"
        for n in range(1, levels + 1)
    ]
    query = (
        "{ accounts(first: 1) { nodes { ...F1 } } } "
        + " ".join(fragments)
        + f" fragment F{levels + 1} on Account {{ id }}"
    )
    work = Work()
    checked, errors = check_document(schema._schema, query, Limits(), work)
    assert checked is not None, errors
    operation = get_operation_ast(checked.document)
    assert operation is not None
    with pytest.raises(LimitExceeded) as deep:
        check_shape(checked.document, operation, Limits(), work)
    assert deep.value.code == "QUERY_TOO_DEEP"
    check_shape(checked.document, operation, Limits(max_depth=100), work)
    values = coerce_page_variables(schema._schema, operation, checked, None)
    assert not isinstance(values, list)
    assert cost(schema._schema, checked.document, operation, values, Limits(max_depth=100), work) == 1
    # 3^13 expansions written in 1.9 KB: each fragment summarised once by each of the 3 walks.
    assert work.fragment_expansions <= 3 * (levels + 1)
    selections = 3 + levels * 7 + 1  # as written: accounts, nodes, ...F1; name and 3 parents with a spread; id
    assert work.shape <= 2 * 2 * selections and work.cost <= selections


def test_a_fragment_s_items_are_multiplied_by_the_page_it_is_spread_under():
    query = """query($n: Int = 7) { a: accounts(first: 3) { ...Page } b: accounts(first: $n) { ...Page } }
      fragment Page on AccountConnection { nodes { quotes: opportunities(first: 2) { nodes { id } } } }"""
    checked, errors = check_document(schema._schema, query, Limits())
    assert checked is not None, errors
    operation = get_operation_ast(checked.document)
    assert operation is not None
    values = coerce_page_variables(schema._schema, operation, checked, {})
    assert not isinstance(values, list)
    # 3 accounts with 2 each, 7 accounts with 2 each.
    assert cost(schema._schema, checked.document, operation, values, Limits()) == (3 + 3 * 2) + (7 + 7 * 2)

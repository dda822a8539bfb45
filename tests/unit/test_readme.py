"""What the README tells a newcomer holds: its GraphQL documents are valid for the schema, and the
things a first reader stumbled over are said (and true)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from graphql import parse, validate

from gql.schema.schema import schema

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_graphql_example_in_the_readme_validates_against_the_schema():
    blocks = re.findall(r"```graphql\n(.*?)```", README, re.S)
    documents = [d for block in blocks for d in block.split("\n\n") if d.strip()]
    assert len(documents) >= 10
    for document in documents:
        errors = validate(schema._schema, parse(document))
        assert not errors, f"{document}\n{errors}"


def test_the_possible_types_shown_for_apollo_client_are_those_of_the_schema():
    from salesgraph.cli import possible_types

    shown = re.search(r"possibleTypes: \{\s*UserError: (\[.*?\]),", README, re.S)
    assert shown, "the README shows Apollo Client's possibleTypes for UserError"
    assert json.loads(shown.group(1)) == possible_types()["UserError"]
    assert "salesgraph possible-types" in README and "must select `edges`, not `nodes`" in README


def test_the_readme_says_where_token_comes_from_before_using_it():
    first_use = README.index("Bearer $TOKEN")
    before = README[max(0, first_use - 400) : first_use]
    assert "./sg demo" in before and "create-token" in before, before


def test_the_price_book_step_shows_product_names():
    step = README[README.index("4. A quote from a price book") : README.index("5. Sell it")]
    lookup = re.search(r"```graphql\n(query \{ priceBooks.*?)\n\n", step, re.S)
    assert lookup and "product { code name }" in lookup.group(1)
    assert "gets no contract" in README[README.index("5. Sell it") :][:400]


def test_the_readme_points_curl_users_and_browsers_to_what_they_get_from_get_graphql():
    assert "Accept: text/html" in README and "answered 400" in README
    assert "graphql?headers=" not in README and "graphql#headers=" in README

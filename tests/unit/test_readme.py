"""The GraphQL documents that the README tells users to paste into GraphiQL are valid for the schema."""

from __future__ import annotations

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

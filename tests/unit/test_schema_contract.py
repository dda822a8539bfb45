"""The committed schema.graphql is the code's schema, and GraphiQL documents everything."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

from gql.schema.schema import schema

ROOT = Path(__file__).resolve().parents[2]


def test_schema_graphql_matches_the_code():
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == schema.as_str() + "\n", (
        "schema.graphql drifted: run `salesgraph export-schema > schema.graphql`"
    )


def test_every_type_field_argument_and_enum_value_has_a_description():
    missing = []
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__") or name in ("String", "Int", "Float", "Boolean", "ID"):
            continue
        if not graphql_type.description:
            missing.append(name)
        if isinstance(graphql_type, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
            for field_name, field in graphql_type.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"{name}.{field_name}({arg_name})")
        if isinstance(graphql_type, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in graphql_type.values.items() if not value.description]
    assert missing == []


def test_the_public_contract_names_exist():
    query = schema._schema.query_type.fields
    for name in (
        "node",
        "nodes",
        "viewer",
        "accounts",
        "contacts",
        "leads",
        "opportunities",
        "contracts",
        "partners",
        "campaigns",
        "priceBooks",
        "products",
        "salesActivities",
        "users",
        "leadBoard",
    ):
        assert name in query, name
    account = schema._schema.type_map["Account"].fields
    assert {"opportunities", "contacts", "contracts", "subAccounts"} <= set(account)
    assert {"first", "after", "last", "before", "filter", "orderBy"} <= set(account["opportunities"].args)
    opportunity = schema._schema.type_map["Opportunity"].fields
    assert {"account", "quotes", "activeQuote"} <= set(opportunity)

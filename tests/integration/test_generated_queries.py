"""Generated queries with a partner token: hypothesis-graphql builds queries from the schema (every
root field, nested selections, fragments on every Node type, arguments of every kind, and ids
drawn from every row in the database, the partner's and everyone else's), and no response, whatever
its status, contains the id of a row the partner may not see."""

from __future__ import annotations

from typing import Any

import hypothesis_graphql as hg
import pytest
from graphql import (
    FieldNode,
    NameNode,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    parse,
    print_ast,
    visit,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from sqlalchemy import select

from domain import scopes as catalogue
from gql import ids
from gql.schema.schema import schema
from persistence import tables
from tests.integration.test_leak_scan import scene as scene  # the fixture
from tests.integration.test_scopes import needs_of
from tests.integration.test_visibility import world  # noqa: F401 - the fixture
from tests.support import leaks

EXAMPLES = 150
EXAMPLES_PER_ROLE = 25
# The types a partner sees only some rows of, and the table each global id names.
TABLES = {
    "Account": tables.accounts,
    "Opportunity": tables.opportunities,
    "Quote": tables.quotes,
    "QuoteItem": tables.quote_items,
    "Contract": tables.contracts,
    "Contact": tables.contacts,
    "Lead": tables.leads,
    "BusinessRole": tables.business_roles,
    "QuoteDocument": tables.quote_documents,
    "Campaign": tables.campaigns,
    "Goal": tables.goals,
    "Partner": tables.partners,
    "LeadRoutingRule": tables.lead_routing_rules,
    "LeadSplitter": tables.lead_splitters,
    "DocumentTemplate": tables.document_templates,
}


# Scopes a partner may never hold, for kinds of rows row visibility hides from partners anyway: a generated
# query that selects such rows below its root fields is refused (403) for a partner's every-scope token.
NEVER_A_PARTNER_S = {"users:read", "campaigns:read", "partners:read"}


def held_to_its_scopes(query: str, response: Any, holds: frozenset[str], never: set[str] = frozenset()) -> None:
    """A token with every scope of its owner's role is refused a generated query exactly when the query
    selects a kind of row that role may never read (and answered as before otherwise)."""
    missing = set(needs_of(query)) - holds
    assert missing <= never, f"{missing} in:\n{query}"
    assert (response.status_code == 403) == bool(missing), f"{response.status_code} {missing}:\n{query}"


def generated(global_ids: list[str], count: int) -> list[str]:
    """`count` query documents from the schema, reproducibly."""
    strategy = hg.queries(
        schema._schema,
        allow_x00=False,
        custom_scalars={
            "ID": st.sampled_from(global_ids).map(nodes.String),
            "DateTime": st.sampled_from(["2026-01-01T00:00:00Z", "2026-06-15T12:00:00Z"]).map(nodes.String),
            "Date": st.sampled_from(["2026-01-01", "2026-12-31"]).map(nodes.String),
            "Decimal": st.sampled_from(["0", "100.50"]).map(nodes.String),
            "JSON": st.just(nodes.String("{}")),
            # Keys of the configurable lists (issue 17, item 5): a built-in one and one no list has.
            **{
                name: st.sampled_from([key, "NO_SUCH_KEY"]).map(nodes.String)
                for name, key in (
                    ("ActivityType", "MEETING"),
                    ("AccountKind", "PERSON"),
                    ("CampaignStatus", "ARCHIVED"),
                    ("ProductCategory", "SOFTWARE"),
                )
            },
            # A key scalar (gql/schema/keys.py): seeded keys and one that names no stage.
            "Stage": st.sampled_from(["PROSPECTING", "NEGOTIATION", "WON", "LOST", "NO_SUCH"]).map(nodes.String),
        },
    )
    found: list[str] = []

    @given(strategy)
    @settings(
        max_examples=count, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def collect(query: str) -> None:
        found.append(query)

    collect()
    return found


PARTNER_SCOPES = frozenset(s.value for s in catalogue.PARTNER)
SCOPES_OF = {role.value: frozenset(s.value for s in scopes) for role, scopes in catalogue.ROLES.items()}
SCOPES_OF["PARTNER"] = PARTNER_SCOPES
PAGING = {"first", "last", "after", "before"}


class _Reaching(Visitor):
    """Makes a generated query reach rows: drops random paging arguments (a random `first` with a
    `last`, or a made-up cursor, is refused before anything is read) and selects `id` wherever the
    type has one, so every row in the answer can be told apart."""

    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info

    def enter_field(self, node: FieldNode, *_: Any) -> FieldNode:
        kept = tuple(a for a in node.arguments or () if a.name.value not in PAGING)
        return FieldNode(
            alias=node.alias,
            name=node.name,
            arguments=kept,
            directives=node.directives,
            selection_set=node.selection_set,
        )

    def enter_selection_set(self, node: SelectionSetNode, *_: Any) -> SelectionSetNode | None:
        parent = get_named_type(self.type_info.get_type())
        fields = getattr(parent, "fields", None)
        if not fields or "id" not in fields:
            return None
        if any(isinstance(s, FieldNode) and s.name.value == "id" and s.alias is None for s in node.selections):
            return None
        return SelectionSetNode(selections=(*node.selections, FieldNode(name=NameNode(value="id"))))


def reaching(query: str) -> str:
    type_info = TypeInfo(schema._schema)
    return print_ast(visit(parse(query), TypeInfoVisitor(type_info, _Reaching(type_info))))


def ids_in(value: Any) -> list[tuple[str, int]]:
    """Every global id anywhere in a response (any field, any depth)."""
    found: list[tuple[str, int]] = []
    if isinstance(value, dict):
        for child in value.values():
            found.extend(ids_in(child))
    elif isinstance(value, list):
        for child in value:
            found.extend(ids_in(child))
    elif isinstance(value, str) and len(value) > 4:
        try:
            kind, pk = ids.decode(value)
        except Exception:  # noqa: BLE001 - most strings are not ids
            return found
        found.append((kind, pk))
    return found


async def test_no_generated_query_shows_a_partner_a_row_it_was_not_given(api, writable, world):  # noqa: F811
    partner = world.callers["PARTNER"]
    allowed: dict[str, set[int]] = {kind: set() for kind in TABLES}
    allowed["Account"], allowed["Opportunity"] = world.accounts(partner), world.opportunities(partner)
    allowed["Quote"], allowed["Contract"] = world.quotes(partner), world.contracts(partner)
    allowed["Contact"], allowed["Lead"] = world.contacts(partner), world.leads(partner)
    allowed["Partner"] = {partner.partner_id}
    every: list[str] = []
    async with writable.engine.connect() as conn:
        for kind, table in TABLES.items():
            rows = list(await conn.execute(select(table)))
            every += [ids.encode(kind, r.id) for r in rows]
            if kind in ("QuoteItem",):
                allowed[kind] = {r.id for r in rows if r.quote_id in allowed["Quote"]}
            elif kind in ("BusinessRole", "QuoteDocument"):
                allowed[kind] = {r.id for r in rows if r.opportunity_id in allowed["Opportunity"]}
    assert any(pk not in allowed["Opportunity"] for pk in world.opportunities(world.callers["ADMIN"])), (
        "the data must hold rows the partner may not see"
    )

    shown = 0
    for query in map(reaching, generated(every, EXAMPLES)):
        response = await api.post(query, token=partner.token)
        held_to_its_scopes(query, response, PARTNER_SCOPES, NEVER_A_PARTNER_S)
        body = response.json()
        leaks = [(kind, pk) for kind, pk in ids_in(body.get("data")) if kind in allowed and pk not in allowed[kind]]
        assert not leaks, f"{leaks} in the answer to:\n{query}"
        shown += len(ids_in(body.get("data")))
    assert shown > 0, "the generated queries must reach some rows, or the test proves nothing"


@pytest.mark.parametrize("role", ["ADMIN", "SALES_DIRECTOR", "SALES_REP", "PARTNER"])
async def test_no_generated_query_tells_a_role_any_fact_of_a_hidden_row_or_any_raw_key(api, scene, role):
    """After the side-door activity (moves, parents, partner changes, business roles, routing rules):
    generated queries (ids from every table, the role's and everyone else's) get answers, whatever
    their status, with no id, raw key, name, e-mail or amount of a row the role may not see, and no
    raw database key at all (history included)."""
    caller = scene.callers[role]
    rows, hidden, secrets = await scene.truth(role)
    every = [ids.encode(kind, r.id) for kind, table in leaks.TABLE_OF.items() for r in rows[table]]
    found: list[str] = []
    for query in map(reaching, generated(every, EXAMPLES_PER_ROLE)):
        response = await api.post(query, token=caller.token)
        held_to_its_scopes(query, response, SCOPES_OF[role], NEVER_A_PARTNER_S if role == "PARTNER" else set())
        body = response.json()
        asked = tuple(leaks.TOKEN.findall(query))  # an error may repeat an id the query holds
        found += [f"{leak}\n    in the answer to: {query[:300]}" for leak in leaks.leaks(secrets, body, given=asked)]
        found += [f"raw key {key}\n    in the answer to: {query[:300]}" for key in leaks.raw_keys(body)]
    assert not found, f"{len(found)} leaks:\n" + "\n".join(found[:30])

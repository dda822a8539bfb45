"""The criteria language on the root lists: generated criteria trees (hypothesis: fields with in / notIn,
ranges, yes/no fields, relations, indicators, and/or/not groups) for accounts, contacts, opportunities,
leads and activities, asked for by every role over HTTP, return exactly the rows computed here in plain
Python from the rows themselves and the visibility rules as test_visibility.py writes them; a reference to
a hidden row matches as a missing one would. A list costs the same statements with criteria as without."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import criteria as dc
from domain.stages import DEFAULT_CATALOG
from gql import ids
from gql.app import create_app
from gql.auth import issue_token
from tests.conftest import ANCHOR, GraphQLClient, statements
from tests.integration.test_visibility import Caller, World
from tests.support.rows import table_rows

EXAMPLES = 14  # trees per entity, each asked by the four roles
ROLES = ["ADMIN", "SALES_DIRECTOR", "SALES_REP", "PARTNER"]
OPEN = {"PROSPECTING", "QUALIFICATION", "PROPOSAL", "NEGOTIATION"}
LIST = {
    "ACCOUNT": ("accounts",),
    "CONTACT": ("contacts",),
    "OPPORTUNITY": ("opportunities",),
    "LEAD": ("leads",),
    "ACTIVITY": ("salesActivities",),
}
ROWS = {
    "ACCOUNT": "accounts",
    "CONTACT": "contacts",
    "OPPORTUNITY": "opportunities",
    "LEAD": "leads",
    "ACTIVITY": "sales_activities",
}
MONITORS = [
    ("ACCOUNT", {"kind": "NO_ACTIVITY", "days": 60}),
    ("ACCOUNT", {"kind": "NO_WON_OPPORTUNITY", "months": 2}),
    ("CONTACT", {"kind": "NO_ACTIVITY", "days": 90}),
    ("OPPORTUNITY", {"kind": "OPEN_PAST_CLOSE_DATE"}),
    ("OPPORTUNITY", {"kind": "STUCK_IN_STAGE", "days": 30}),
    ("LEAD", {"kind": "TASK_OVERDUE"}),
]


class Oracle:
    """What a caller's list holds for a criteria tree, in plain Python."""

    def __init__(self, world: World, caller: Caller) -> None:
        self.w, self.c = world, caller
        rows = world.rows
        self.visible = {
            "Account": world.accounts(caller),
            "Opportunity": world.opportunities(caller),
            "Lead": world.leads(caller),
            "Contact": world.contacts(caller),
            "Quote": world.quotes(caller),
            "Contract": world.contracts(caller),
            "Task": world.tasks(caller),
            "SalesActivity": world.activities(caller),
            "Partner": {p.id for p in rows["partners"] if caller.role != "PARTNER" or p.id == caller.partner_id},
            "Campaign": {k.id for k in rows["campaigns"]} if caller.role != "PARTNER" else set(),
            "User": {u.id for u in rows["users"]},
            "ContactType": {k.id for k in rows["contact_types"]},
        }
        self.indicators = {(s.monitor_id, s.entity_type, s.entity_id) for s in rows["status_indicators"]}
        self.favourites = {f.account_id for f in rows["account_favourites"] if f.user_id == caller.user_id}
        switched_off = {x.key for x in rows["list_values"] if x.list_name == "CONTACT_CATEGORY" and not x.lead_status}
        self.shows_lead_status = {
            a.id for a in rows["accounts"] if a.category_group == "PROSPECT" and a.category not in switched_off
        }
        self.account_of_deal = {o.id: o.account_id for o in rows["opportunities"]}
        self.account_of_person = {k.id: k.account_id for k in rows["contacts"]}
        self.now = getattr(world, "now", None)

    def seen(self, kind: str, pk: Any) -> bool:
        return pk is not None and pk in self.visible[kind]

    def children(self, table: str, kind: str, fk: str, pk: int, where: Callable[[Any], bool] = lambda r: True) -> bool:
        return any(getattr(r, fk) == pk and r.id in self.visible[kind] and where(r) for r in self.w.rows[table])

    def on_timeline(self, activity: Any) -> int | None:
        """The account whose timeline shows the activity: its own, its opportunity's or its contact's."""
        if activity.account_id is not None:
            return activity.account_id
        if activity.opportunity_id is not None:
            return self.account_of_deal.get(activity.opportunity_id)
        if activity.contact_id is not None:
            return self.account_of_person.get(activity.contact_id)
        return None

    def relation(self, entity: str, name: str, row: Any, where: dict[str, Any] | None = None) -> bool:
        ch, seen = self.children, self.seen
        if where is not None:
            related = dc.RELATED_ENTITY[name].value

            def ch(table, kind, fk, pk, test=lambda r: True):
                return self.children(table, kind, fk, pk, lambda r: test(r) and self.holds(related, where, r))

        table = {
            ("ACCOUNT", "OPPORTUNITIES"): lambda: ch("opportunities", "Opportunity", "account_id", row.id),
            ("ACCOUNT", "OPEN_OPPORTUNITIES"): lambda: ch(
                "opportunities", "Opportunity", "account_id", row.id, lambda o: o.stage in OPEN
            ),
            ("ACCOUNT", "CONTACTS"): lambda: ch("contacts", "Contact", "account_id", row.id),
            ("ACCOUNT", "SUB_ACCOUNTS"): lambda: ch("accounts", "Account", "parent_id", row.id),
            ("ACCOUNT", "PARENT"): lambda: seen("Account", row.parent_id),
            ("ACCOUNT", "PARTNER"): lambda: seen("Partner", row.partner_id),
            ("ACCOUNT", "ACTIVITIES"): lambda: any(
                a.id in self.visible["SalesActivity"]
                and self.on_timeline(a) == row.id
                and (where is None or self.holds("ACTIVITY", where, a))
                for a in self.w.rows["sales_activities"]
            ),
            ("ACCOUNT", "TASKS"): lambda: ch("tasks", "Task", "account_id", row.id),
            ("CONTACT", "ACCOUNT"): lambda: seen("Account", row.account_id),
            ("CONTACT", "PARTNER"): lambda: seen("Partner", row.partner_id),
            ("CONTACT", "TASKS"): lambda: ch("tasks", "Task", "contact_id", row.id),
            ("CONTACT", "ACTIVITIES"): lambda: ch("sales_activities", "SalesActivity", "contact_id", row.id),
            ("OPPORTUNITY", "QUOTES"): lambda: ch("quotes", "Quote", "opportunity_id", row.id),
            ("OPPORTUNITY", "ACTIVE_QUOTE"): lambda: ch(
                "quotes", "Quote", "opportunity_id", row.id, lambda q: q.is_active
            ),
            ("OPPORTUNITY", "CONTRACTS"): lambda: ch("contracts", "Contract", "opportunity_id", row.id),
            ("OPPORTUNITY", "PARTNER"): lambda: seen("Partner", row.partner_id),
            ("OPPORTUNITY", "CAMPAIGN"): lambda: seen("Campaign", row.campaign_id),
            ("OPPORTUNITY", "ACTIVITIES"): lambda: ch("sales_activities", "SalesActivity", "opportunity_id", row.id),
            ("OPPORTUNITY", "TASKS"): lambda: ch("tasks", "Task", "opportunity_id", row.id),
            ("LEAD", "ASSIGNEE"): lambda: (
                seen("User", row.assigned_user_id) or seen("Partner", row.assigned_partner_id)
            ),
            ("LEAD", "OPPORTUNITY"): lambda: seen("Opportunity", row.opportunity_id),
            ("LEAD", "CAMPAIGN"): lambda: seen("Campaign", row.campaign_id),
            ("LEAD", "ACTIVITIES"): lambda: ch("sales_activities", "SalesActivity", "lead_id", row.id),
            ("LEAD", "TASKS"): lambda: ch("tasks", "Task", "lead_id", row.id),
            ("ACTIVITY", "LEAD"): lambda: seen("Lead", row.lead_id),
            ("ACTIVITY", "OPPORTUNITY"): lambda: seen("Opportunity", row.opportunity_id),
            ("ACTIVITY", "ACCOUNT"): lambda: seen("Account", row.account_id),
            ("ACTIVITY", "CONTACT"): lambda: seen("Contact", row.contact_id),
            ("ACTIVITY", "PARTNER"): lambda: seen("Partner", row.partner_id),
        }
        return table[(entity, name)]()

    def holds(self, entity: str, node: dict[str, Any], row: Any) -> bool:
        if "and" in node:
            return all(self.holds(entity, n, row) for n in node["and"])
        if "or" in node:
            return any(self.holds(entity, n, row) for n in node["or"])
        if "not" in node:
            return not self.holds(entity, node["not"], row)
        if "has" in node:
            return self.relation(entity, node["has"], row, node.get("where"))
        if "hasNot" in node:
            return not self.relation(entity, node["hasNot"], row, node.get("where"))
        if "indicators" in node:
            carries = {m for m, kind, pk in self.indicators if kind == entity and pk == row.id}
            lists = node["indicators"]
            return (
                (not lists.get("anyOf") or bool(carries & set(lists["anyOf"])))
                and set(lists.get("allOf", ())) <= carries
                and not carries & set(lists.get("noneOf", ()))
            )
        field = dc.FIELDS[dc.CriteriaEntity(entity)][node["field"]]
        if (entity, node["field"]) == ("ACCOUNT", "IS_FAVOURITE"):
            return (row.id in self.favourites) == node["is"]
        if (entity, node["field"]) == ("CONTACT", "LEAD_STATUS"):  # the status shown, or none
            shown = row.lead_status if row.account_id in self.shows_lead_status else None
            return (shown in node.get("in", ())) if "in" in node else shown not in node["notIn"]
        if (entity, node["field"]) == ("OPPORTUNITY", "STAGE_KIND"):  # its stage's kind (the seeded stages here)
            kind = DEFAULT_CATALOG.kind(row.stage)
            inside = kind is not None and kind.value in node.get("in", node.get("notIn"))
            return inside if "in" in node else not inside
        value = getattr(row, field.column)
        if field.kind == "FLAG":
            return value == node["is"]
        if field.kind == "VALUE":
            inside = value is not None and value in node.get("in", node.get("notIn"))
            if field.refers_to is not None:
                inside = inside and value in self.visible[field.refers_to]
            return inside if "in" in node else not inside
        if value is None:
            return False
        low, high = (self.moment(node.get(end), field.kind) for end in ("min", "max"))
        return (low is None or value >= low) and (high is None or value <= high)

    def moment(self, end: Any, kind: str) -> Any:
        """A range end; a relative one counted here by hand from the read's clock (calendar months)."""
        if not isinstance(end, dict):
            return end
        sign = -1 if "ago" in end else 1
        amount = sign * end.get("ago", end.get("ahead"))
        if end["unit"] in ("DAYS", "WEEKS"):
            moment = self.now + timedelta(days=amount * (7 if end["unit"] == "WEEKS" else 1))
        else:
            months = self.now.month - 1 + amount * (12 if end["unit"] == "YEARS" else 1)
            year, month = self.now.year + months // 12, months % 12 + 1
            day = min(
                self.now.day, [31, 29 if year % 4 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
            )
            moment = self.now.replace(year=year, month=month, day=day)
        return moment.date() if kind == "DATE" else moment

    def expected(self, entity: str, tree: dict[str, Any]) -> set[int]:
        kind = {
            "ACCOUNT": "Account",
            "CONTACT": "Contact",
            "OPPORTUNITY": "Opportunity",
            "LEAD": "Lead",
            "ACTIVITY": "SalesActivity",
        }[entity]
        return {r.id for r in self.w.rows[ROWS[entity]] if r.id in self.visible[kind] and self.holds(entity, tree, r)}


def as_input(entity: str, node: dict[str, Any]) -> dict[str, Any]:
    """A tree as the API's `Criteria` input (global ids; ranges by the field's kind)."""
    if "and" in node or "or" in node:
        [group] = [g for g in ("and", "or") if g in node]
        return {group: [as_input(entity, n) for n in node[group]]}
    if "not" in node:
        return {"not": as_input(entity, node["not"])}
    if "indicators" in node:
        return {"indicators": {k: [ids.encode("StatusMonitor", m) for m in v] for k, v in node["indicators"].items()}}
    if "field" not in node:
        return dict(node)
    field = dc.FIELDS[dc.CriteriaEntity(entity)][node["field"]]
    out: dict[str, Any] = {"field": node["field"]}
    if field.kind == "VALUE":
        key = "in" if "in" in node else "notIn"
        out[key] = [ids.encode(field.refers_to, v) if field.refers_to else v for v in node[key]]
    elif field.kind == "FLAG":
        out["is"] = node["is"]
    else:
        low, high = {"NUMBER": ("atLeast", "atMost"), "TIME": ("from", "to"), "DATE": ("fromDate", "toDate")}[
            field.kind
        ]
        for end, name in (("min", low), ("max", high)):
            if node.get(end) is not None:
                value = node[end]
                out[name] = value.isoformat() if isinstance(value, (date, datetime)) else str(value)
    return out


def trees(world: World, entity: str, monitors: list[int]) -> st.SearchStrategy:
    rows = world.rows[ROWS[entity]]
    target_rows = {
        "Account": "accounts",
        "Partner": "partners",
        "User": "users",
        "Campaign": "campaigns",
        "ContactType": "contact_types",
        "Lead": "leads",
        "Opportunity": "opportunities",
        "Contact": "contacts",
    }
    leaves = []
    for name, field in dc.FIELDS[dc.CriteriaEntity(entity)].items():
        if field.column not in rows[0]._fields:  # a derived field (IS_FAVOURITE): a yes/no test
            leaves.append(st.builds(lambda n, v: {"field": n, "is": v}, st.just(name), st.booleans()))
            continue
        present = sorted({getattr(r, field.column) for r in rows if getattr(r, field.column) is not None}, key=str)
        if field.kind == "VALUE":
            if field.refers_to is not None:
                pool = sorted({r.id for r in world.rows[target_rows[field.refers_to]]})
            elif (entity, name) == ("OPPORTUNITY", "STAGE_KIND"):  # kinds, not the stage keys of its column
                pool = sorted(field.values or ())
            else:
                pool = sorted(set(present) | set(field.values)) if field.values else sorted(set(present) | {"ZZ"})
            values = st.lists(st.sampled_from(pool), min_size=1, max_size=3)
            leaves.append(
                st.builds(lambda n, k, v: {"field": n, k: v}, st.just(name), st.sampled_from(["in", "notIn"]), values)
            )
        elif field.kind == "FLAG":
            leaves.append(st.builds(lambda n, v: {"field": n, "is": v}, st.just(name), st.booleans()))
        elif present:
            ends = st.one_of(st.none(), st.sampled_from(present))
            leaves.append(
                st.builds(lambda n, lo, hi: {"field": n, "min": lo, "max": hi}, st.just(name), ends, ends).filter(
                    lambda d: d["min"] is not None or d["max"] is not None
                )
            )
    relations = dc.RELATIONS[dc.CriteriaEntity(entity)]
    leaves.append(st.builds(lambda k, r: {k: r}, st.sampled_from(["has", "hasNot"]), st.sampled_from(relations)))
    if entity != "ACTIVITY" and monitors:
        some = st.lists(st.sampled_from(monitors), min_size=1, max_size=2, unique=True)
        leaves.append(
            st.builds(lambda k, m: {"indicators": {k: m}}, st.sampled_from(["anyOf", "allOf", "noneOf"]), some)
        )
    leaf = st.one_of(*leaves).map(lambda d: {k: v for k, v in d.items() if v is not None})
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda xs: {"and": xs}, st.lists(inner, min_size=1, max_size=3)),
            st.builds(lambda xs: {"or": xs}, st.lists(inner, min_size=1, max_size=3)),
            st.builds(lambda x: {"not": x}, inner),
        ),
        max_leaves=6,
    )


def generated(strategy: st.SearchStrategy, count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    @given(strategy)
    @settings(
        max_examples=count, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def collect(tree: dict[str, Any]) -> None:
        found.append(tree)

    collect()
    return found


CREATE_MONITOR = """mutation($input: CreateStatusMonitorInput!) { createStatusMonitor(input: $input) {
  __typename ... on StatusMonitorPayload { statusMonitor { id } } } }"""


@pytest.fixture(scope="module")
async def scene(writable) -> tuple[World, list[int]]:
    """The seeded rows with a few monitors' indicators, and the callers of each role."""
    app = create_app(writable.engine, dispatch=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        client = GraphQLClient(http, writable.admin_token)
        monitors = []
        for n, (entity, rule) in enumerate(MONITORS):
            data = await client.data(
                CREATE_MONITOR, {"input": {"name": f"criteria {n}", "entityType": entity, "rule": rule}}
            )
            monitors.append(ids.decode_as(data["createStatusMonitor"]["statusMonitor"]["id"], "StatusMonitor"))
    rows = await table_rows(
        writable.engine,
        "users",
        "accounts",
        "opportunities",
        "quotes",
        "contracts",
        "contacts",
        "leads",
        "sales_activities",
        "tasks",
        "partners",
        "campaigns",
        "contact_types",
        "status_indicators",
        "account_favourites",
        "list_values",
    )
    callers = {
        "ADMIN": Caller("ADMIN", writable.admin_token, user_id=writable.summary.admin_user_id),
        "PARTNER": Caller("PARTNER", writable.partner_token, partner_id=writable.summary.partner_id),
    }
    for role in ("SALES_DIRECTOR", "SALES_REP"):
        user = next(u for u in rows["users"] if u.role == role)
        callers[role] = Caller(
            role, await issue_token(writable.engine, name=f"{role} c", user_id=user.id), user_id=user.id
        )
    return World(rows, callers), monitors


def _query(entity: str) -> str:
    field = LIST[entity][0]
    return f"""query($c: Criteria) {{ {field}(first: 100, criteria: $c) {{ totalCount nodes {{ id }} }} }}"""


@pytest.mark.parametrize("entity", list(LIST))
async def test_generated_criteria_return_exactly_the_rows_computed_in_python_for_every_role(api, scene, entity):
    world, monitors = scene
    examples = generated(trees(world, entity, monitors), EXAMPLES)
    oracles = {role: Oracle(world, world.callers[role]) for role in ROLES}
    checked = 0
    for tree in examples:
        normal = dc.normalise(entity, _jsonable(tree))
        for role in ROLES:
            expected = oracles[role].expected(entity, _typed(entity, normal))
            data = await api.data(_query(entity), {"c": as_input(entity, tree)}, token=world.callers[role].token)
            page = data[LIST[entity][0]]
            got = {ids.decode(i["id"])[1] for i in page["nodes"]}
            assert page["totalCount"] == len(expected), (role, tree)
            assert got <= expected and len(got) == min(100, len(expected)), (role, tree)
            checked += bool(expected)
    assert checked  # some trees matched rows, not only empty lists


def _jsonable(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _jsonable(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_jsonable(v) for v in tree]
    if isinstance(tree, (date, datetime)):
        return tree.isoformat()
    if isinstance(tree, Decimal):
        return str(tree)
    return tree


def _typed(entity: str, node: dict[str, Any]) -> dict[str, Any]:
    """A normalised tree with its range ends as the rows' Python values, for the oracle."""
    if "and" in node or "or" in node:
        [group] = [g for g in ("and", "or") if g in node]
        return {group: [_typed(entity, n) for n in node[group]]}
    if "not" in node:
        return {"not": _typed(entity, node["not"])}
    if "field" not in node:
        return node
    field = dc.FIELDS[dc.CriteriaEntity(entity)][node["field"]]
    if field.kind not in ("NUMBER", "TIME", "DATE"):
        return node
    parse = {"NUMBER": Decimal, "TIME": datetime.fromisoformat, "DATE": date.fromisoformat}[field.kind]
    return {**node, **{end: parse(node[end]) for end in ("min", "max") if end in node}}


def readme_queries() -> list[str]:
    """The GraphQL blocks of the README's criteria section that read accounts or contacts."""
    text = (Path(__file__).parents[2] / "README.md").read_text()
    section = text[text.index("### Criteria, selections and scoped monitors") :]
    blocks = section.split("```graphql\n")[1:3]
    return [block.split("```")[0] for block in blocks]


async def test_the_worked_examples_of_the_readme(writable, scene):
    """SAINT's customers in category A not contacted in 3 months (no activity on the account's timeline in
    the last 3 months, read at a clock just after the seed's data), and SuperOffice's contacts whose lead
    status is one of Open, Contacting (the status each contact shows): the README's queries as written."""
    world, _ = scene
    world.now = ANCHOR + timedelta(days=1)
    admin = Oracle(world, world.callers["ADMIN"])
    saint, superoffice = readme_queries()
    app = create_app(writable.engine, dispatch=False, clock=lambda: world.now)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        api = GraphQLClient(http, writable.admin_token)
        data = await api.data(saint)
        customers = {
            "and": [
                {"field": "CATEGORY_GROUP", "in": ["CUSTOMER"]},
                {"field": "CATEGORY", "in": ["Key customer"]},
                {"hasNot": "ACTIVITIES", "where": {"field": "OCCURRED_AT", "min": {"ago": 3, "unit": "MONTHS"}}},
            ]
        }
        expected = admin.expected("ACCOUNT", customers)
        assert {ids.decode(n["id"])[1] for n in data["accounts"]["nodes"]} == expected
        assert data["accounts"]["totalCount"] == len(expected)
        contacted = admin.expected("ACCOUNT", {"and": customers["and"][:2]}) - expected
        assert expected and contacted  # the seed has both: the relative condition decides, not the data's edge
        data = await api.data(superoffice)
    switched_off = {x.key for x in world.rows["list_values"] if x.list_name == "CONTACT_CATEGORY" and not x.lead_status}
    prospects = {
        a.id for a in world.rows["accounts"] if a.category_group == "PROSPECT" and a.category not in switched_off
    }
    expected = {
        c.id for c in world.rows["contacts"] if c.lead_status in ("OPEN", "CONTACTING") and c.account_id in prospects
    }
    assert data["contacts"]["totalCount"] == len(expected)
    assert {n["leadStatus"] for n in data["contacts"]["nodes"]} <= {"OPEN", "CONTACTING"}
    assert admin.expected("CONTACT", {"field": "LEAD_STATUS", "in": ["OPEN", "CONTACTING"]}) == expected


async def test_criteria_and_filter_both_hold(api, scene):
    world, _ = scene
    query = """query($c: Criteria, $f: OpportunityFilter) { opportunities(first: 100, criteria: $c, filter: $f) {
      totalCount } }"""
    both = await api.data(query, {"c": {"field": "STAGE", "notIn": ["WON"]}, "f": {"status": "OPEN"}})
    expected = [o for o in world.rows["opportunities"] if o.stage in OPEN]
    assert both["opportunities"]["totalCount"] == len(expected)


async def test_a_list_costs_the_same_statements_with_criteria_as_without(api, scene):
    world, monitors = scene
    query = _query("OPPORTUNITY")
    await api.post(query)  # the token's lookup is cached from here on
    plain = await api.post(query)
    tree = {
        "or": [
            {"and": [{"field": "STAGE", "in": ["PROPOSAL", "NEGOTIATION"]}, {"hasNot": "QUOTES"}]},
            {"not": {"field": "PROBABILITY", "atLeast": "20", "atMost": "80"}},
            {
                "indicators": {
                    "anyOf": [ids.encode("StatusMonitor", monitors[3])],
                    "noneOf": [ids.encode("StatusMonitor", monitors[4])],
                }
            },
            {"field": "ACCOUNT", "in": [ids.encode("Account", a.id) for a in world.rows["accounts"][:5]]},
        ]
    }
    filtered = await api.post(query, {"c": tree})
    assert "errors" not in filtered.json(), filtered.json()
    assert statements(filtered) == statements(plain)


@pytest.mark.parametrize(
    ("criteria", "field"),
    [
        ({"field": "STAGE_KIND", "in": ["NOPE"]}, "criteria.in"),  # STAGE takes any key: stages are rows
        ({"field": "STAGE", "atLeast": "3"}, "criteria"),
        ({"field": "LEAD_STATUS", "in": ["OPEN"]}, "criteria.field"),
        ({"has": "CONTACTS"}, "criteria.has"),
        ({"field": "ACCOUNT", "in": ["not an id"]}, "criteria.in"),
        ({"and": []}, "criteria.and"),
        ({"field": "STAGE", "in": ["WON"], "has": "QUOTES"}, "criteria"),
    ],
)
async def test_a_criterion_the_entity_cannot_take_is_a_validation_error(api, scene, criteria, field):
    response = await api.post(_query("OPPORTUNITY"), {"c": criteria})
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "VALIDATION" and error["extensions"]["field"] == field, error


TARGET_ROWS = {
    "Account": "accounts",
    "Partner": "partners",
    "User": "users",
    "Campaign": "campaigns",
    "ContactType": "contact_types",
    "Lead": "leads",
    "Opportunity": "opportunities",
    "Contact": "contacts",
}


async def test_a_reference_to_a_hidden_row_matches_as_a_missing_one_for_every_role(api, scene):
    """Every reference field, `in` every row of its target table (hidden ones too) and `notIn` them: a lead
    of a campaign a partner may not see is not "in" that campaign for the partner, and is "not in" it."""
    world, _ = scene
    for entity in LIST:
        for name, field in dc.FIELDS[dc.CriteriaEntity(entity)].items():
            if field.refers_to is None:
                continue
            every = [r.id for r in world.rows[TARGET_ROWS[field.refers_to]]]
            for test in ("in", "notIn"):
                tree = {"field": name, test: every}
                for role in ROLES:
                    expected = Oracle(world, world.callers[role]).expected(entity, tree)
                    data = await api.data(
                        _query(entity), {"c": as_input(entity, tree)}, token=world.callers[role].token
                    )
                    assert data[LIST[entity][0]]["totalCount"] == len(expected), (entity, name, test, role)

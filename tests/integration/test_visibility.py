"""Who sees what: for each role (admin, sales director, sales rep, partner) and each access path
(root lists with totalCount, node/nodes, nested connections, filters, the lead board), the API shows
exactly the rows the spec's access rules allow. The expected sets are computed here from the rows
themselves, in plain Python, independently of the SQL the server uses."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from gql import ids
from gql.auth import issue_token
from persistence import tables
from tests.support.rows import table_rows

ROLES = ["ADMIN", "SALES_DIRECTOR", "SALES_REP", "PARTNER"]


@dataclass
class Caller:
    role: str
    token: str
    user_id: int | None = None
    partner_id: int | None = None


@dataclass
class World:
    """The seeded rows, and what each caller should see of them."""

    rows: dict[str, list]
    callers: dict[str, Caller]

    def team_of(self, user_id: int) -> set[int]:
        users = self.rows["users"]
        team = next(u.team_id for u in users if u.id == user_id)
        return {u.id for u in users if team is not None and u.team_id == team}

    def accounts(self, c: Caller) -> set[int]:
        opps = self.rows["opportunities"]
        seen = set()
        for a in self.rows["accounts"]:
            if c.role == "PARTNER":
                ok = not a.is_private and (
                    a.partner_id == c.partner_id
                    or any(o.account_id == a.id and o.partner_id == c.partner_id for o in opps)
                )
            else:
                hidden = a.is_private and a.created_by_id != c.user_id
                mine = self.team_of(c.user_id) if c.role == "SALES_DIRECTOR" else {c.user_id}
                ok = not hidden and (
                    c.role == "ADMIN"
                    or a.is_global
                    or a.manager_id in mine
                    or a.created_by_id in mine
                    or any(o.account_id == a.id and o.owner_id in mine for o in opps)
                )
            if ok:
                seen.add(a.id)
        return seen

    def opportunities(self, c: Caller) -> set[int]:
        accounts = {a.id: a for a in self.rows["accounts"]}
        seen = set()
        for o in self.rows["opportunities"]:
            account = accounts[o.account_id]
            if account.is_private and (c.role == "PARTNER" or account.created_by_id != c.user_id):
                continue
            if c.role == "PARTNER":
                ok = o.partner_id == c.partner_id or account.partner_id == c.partner_id
            elif c.role == "ADMIN":
                ok = True
            else:
                mine = self.team_of(c.user_id) if c.role == "SALES_DIRECTOR" else {c.user_id}
                ok = o.owner_id in mine or account.manager_id in mine
            if ok:
                seen.add(o.id)
        return seen

    def quotes(self, c: Caller) -> set[int]:
        visible = self.opportunities(c)
        return {q.id for q in self.rows["quotes"] if q.opportunity_id in visible}

    def contracts(self, c: Caller) -> set[int]:
        visible = self.opportunities(c)
        return {k.id for k in self.rows["contracts"] if k.opportunity_id in visible}

    def contacts(self, c: Caller) -> set[int]:
        visible = self.accounts(c)
        return {
            x.id
            for x in self.rows["contacts"]
            if (x.partner_id == c.partner_id if c.role == "PARTNER" else x.partner_id is not None)
            or x.account_id in visible
        }

    def activities(self, c: Caller) -> set[int]:
        leads, opportunities, accounts = self.leads(c), self.opportunities(c), self.accounts(c)
        contacts = self.contacts(c)
        seen = set()
        for x in self.rows["sales_activities"]:
            links = [x.lead_id, x.opportunity_id, x.account_id, x.partner_id, x.contact_id]
            ok = (
                (x.lead_id is None or x.lead_id in leads)
                and (x.opportunity_id is None or x.opportunity_id in opportunities)
                and (x.account_id is None or x.account_id in accounts)
                and (x.contact_id is None or x.contact_id in contacts)
                and (x.partner_id is None or c.role != "PARTNER" or x.partner_id == c.partner_id)
                and (c.role != "PARTNER" or any(link is not None for link in links))
            )
            if ok:
                seen.add(x.id)
        return seen

    def conversations(self, c: Caller) -> set[int]:
        """Like activities: every link and every contact speaking must be visible; a conversation linked to
        nothing is its owner's (a director's team's, an admin's); a partner's need an account or deal."""
        accounts, opportunities, contacts = self.accounts(c), self.opportunities(c), self.contacts(c)
        speakers: dict[int, list[int]] = {}
        for p in self.rows["conversation_participants"]:
            if p.contact_id is not None:
                speakers.setdefault(p.conversation_id, []).append(p.contact_id)
        mine = self.team_of(c.user_id) if c.role == "SALES_DIRECTOR" else {c.user_id}
        seen = set()
        for x in self.rows["conversations"]:
            links = (
                (x.account_id is None or x.account_id in accounts)
                and (x.opportunity_id is None or x.opportunity_id in opportunities)
                and (x.contact_id is None or x.contact_id in contacts)
                and all(k in contacts for k in speakers.get(x.id, []))
            )
            linked = x.account_id is not None or x.opportunity_id is not None
            if c.role == "PARTNER":
                ok = links and linked
            elif c.role == "ADMIN":
                ok = links
            else:
                ok = links and (linked or x.contact_id is not None or x.owner_id in mine)
            if ok:
                seen.add(x.id)
        return seen

    def tasks(self, c: Caller) -> set[int]:
        """A task is seen with the account, contact, opportunity or lead it is attached to."""
        accounts, contacts = self.accounts(c), self.contacts(c)
        opportunities, leads = self.opportunities(c), self.leads(c)
        return {
            t.id
            for t in self.rows["tasks"]
            if t.account_id in accounts
            or t.contact_id in contacts
            or t.opportunity_id in opportunities
            or t.lead_id in leads
        }

    def leads(self, c: Caller) -> set[int]:
        seen = set()
        for lead in self.rows["leads"]:
            if c.role == "PARTNER":
                ok = lead.assigned_partner_id == c.partner_id
            elif c.role == "ADMIN":
                ok = True
            else:
                mine = self.team_of(c.user_id) if c.role == "SALES_DIRECTOR" else {c.user_id}
                ok = lead.assigned_user_id in mine or (
                    lead.assigned_user_id is None and lead.assigned_partner_id is None
                )
            if ok:
                seen.add(lead.id)
        return seen


@pytest.fixture(scope="module")
async def world(writable) -> World:
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
        "conversations",
        "conversation_participants",
        "tasks",
    )
    callers = {
        "ADMIN": Caller("ADMIN", writable.admin_token, user_id=writable.summary.admin_user_id),
        "PARTNER": Caller("PARTNER", writable.partner_token, partner_id=writable.summary.partner_id),
    }
    for role in ("SALES_DIRECTOR", "SALES_REP"):
        user = next(u for u in rows["users"] if u.role == role)
        callers[role] = Caller(
            role, await issue_token(writable.engine, name=f"{role} tests", user_id=user.id), user_id=user.id
        )
    return World(rows, callers)


async def listed(api, field: str, token: str, extra: str = "") -> tuple[set[int], int]:
    """Every id of a root list (all pages) and its totalCount, as the caller sees it."""
    found: set[int] = set()
    after, total = None, None
    while True:
        data = (
            await api.data(
                f"""query($after: String) {{ {field}(first: 100, after: $after{extra}) {{
            totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ id }} }} }}""",
                {"after": after},
                token,
            )
        )[field]
        total = data["totalCount"]
        found |= {ids.decode(n["id"])[1] for n in data["nodes"]}
        if not data["pageInfo"]["hasNextPage"]:
            return found, total
        after = data["pageInfo"]["endCursor"]


async def by_node(api, type_name: str, pks: list[int], token: str) -> set[int]:
    """Which of these rows `nodes(ids:)` returns (the others come back null, like missing ones)."""
    seen: set[int] = set()
    for start in range(0, len(pks), 100):  # `nodes` takes at most 100 ids
        global_ids = [ids.encode(type_name, pk) for pk in pks[start : start + 100]]
        found = (await api.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": global_ids}, token))["nodes"]
        seen |= {ids.decode(n["id"])[1] for n in found if n is not None}
    return seen


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "field,type_name",
    [
        ("accounts", "Account"),
        ("opportunities", "Opportunity"),
        ("contracts", "Contract"),
        ("contacts", "Contact"),
        ("leads", "Lead"),
        ("salesActivities", "SalesActivity"),
        ("conversations", "Conversation"),
        ("tasks", "Task"),
    ],
)
async def test_root_lists_counts_and_node_show_exactly_what_the_role_may_see(api, world, role, field, type_name):
    caller = world.callers[role]
    table = {"salesActivities": "sales_activities"}.get(field, field)
    expected = getattr(world, "activities" if field == "salesActivities" else field)(caller)
    seen, total = await listed(api, field, caller.token)
    assert seen == expected and total == len(expected)
    every = [r.id for r in world.rows[table]]
    assert await by_node(api, type_name, every, caller.token) == expected


@pytest.mark.parametrize("role", ROLES)
async def test_quotes_are_seen_through_their_opportunity(api, world, role):
    caller = world.callers[role]
    every = [q.id for q in world.rows["quotes"]]
    assert await by_node(api, "Quote", every, caller.token) == world.quotes(caller)


@pytest.mark.parametrize("role", ROLES)
async def test_nested_connections_never_reach_past_what_the_role_may_see(api, world, role):
    caller = world.callers[role]
    data = (
        await api.data(
            """{ accounts(first: 100) { nodes { id
        opportunities(first: 100) { totalCount nodes { id quotes { id } contracts { id } } }
        contacts(first: 100) { totalCount nodes { id } } } } }""",
            token=caller.token,
        )
    )["accounts"]["nodes"]
    opportunities = world.opportunities(caller)
    for account in data:
        account_pk = ids.decode(account["id"])[1]
        shown = {ids.decode(o["id"])[1] for o in account["opportunities"]["nodes"]}
        expected = {o.id for o in world.rows["opportunities"] if o.account_id == account_pk} & opportunities
        assert shown == expected and account["opportunities"]["totalCount"] == len(expected)
        for o in account["opportunities"]["nodes"]:
            assert {ids.decode(q["id"])[1] for q in o["quotes"]} <= world.quotes(caller)
            assert {ids.decode(k["id"])[1] for k in o["contracts"]} <= world.contracts(caller)
        contacts = {ids.decode(c["id"])[1] for c in account["contacts"]["nodes"]}
        assert contacts <= world.contacts(caller)


@pytest.mark.parametrize("role", ROLES)
async def test_the_tasks_of_each_account_contact_opportunity_and_lead_are_those_the_role_may_see(api, world, role):
    """Nested `tasks` show every task on a row the caller sees (a task is seen with its row), and nothing
    of a row it does not see."""
    caller = world.callers[role]
    visible = world.tasks(caller)
    assert visible, "the seed gives every role some tasks, or this proves nothing"
    data = await api.data(
        """{ accounts(first: 100) { nodes { id tasks(first: 100) { totalCount nodes { id } }
             contacts(first: 10) { nodes { id tasks(first: 10) { totalCount nodes { id } } } } } }
           opportunities(first: 100) { nodes { id tasks(first: 100) { totalCount nodes { id } } } }
           leads(first: 100) { nodes { id tasks(first: 100) { totalCount nodes { id } } } } }""",
        token=caller.token,
    )
    parents = [("account_id", a) for a in data["accounts"]["nodes"]]
    parents += [("contact_id", c) for a in data["accounts"]["nodes"] for c in a["contacts"]["nodes"]]
    parents += [("opportunity_id", o) for o in data["opportunities"]["nodes"]]
    parents += [("lead_id", lead) for lead in data["leads"]["nodes"]]
    shown: set[int] = set()
    for column, parent in parents:
        parent_pk = ids.decode(parent["id"])[1]
        found = {ids.decode(t["id"])[1] for t in parent["tasks"]["nodes"]}
        expected = {t.id for t in world.rows["tasks"] if getattr(t, column) == parent_pk}
        assert found == expected and parent["tasks"]["totalCount"] == len(expected), (column, parent_pk)
        shown |= found
    assert shown <= visible


@pytest.mark.parametrize("role", ROLES)
async def test_filters_cannot_reveal_rows_of_an_account_the_role_may_not_see(api, world, role):
    caller = world.callers[role]
    hidden = [a.id for a in world.rows["accounts"] if a.id not in world.accounts(caller)]
    opportunities = world.opportunities(caller)
    for account_pk in hidden[:5]:
        data = (
            await api.data(
                """query($id: ID) { opportunities(filter: {accountId: $id}) { totalCount nodes { id } } }""",
                {"id": ids.encode("Account", account_pk)},
                caller.token,
            )
        )["opportunities"]
        expected = {o.id for o in world.rows["opportunities"] if o.account_id == account_pk} & opportunities
        assert {ids.decode(n["id"])[1] for n in data["nodes"]} == expected and data["totalCount"] == len(expected)


@pytest.mark.parametrize("role", ROLES)
async def test_the_lead_board_counts_only_the_leads_the_role_may_see(api, world, role):
    caller = world.callers[role]
    columns = (
        await api.data(
            "{ leadBoard(filter: {archived: null}, limit: 100) { status totalCount leads { id } } }", token=caller.token
        )
    )["leadBoard"]
    shown = {ids.decode(lead["id"])[1] for column in columns for lead in column["leads"]}
    expected = {lead.id for lead in world.rows["leads"] if lead.id in world.leads(caller)}
    assert shown <= expected
    assert sum(column["totalCount"] for column in columns) <= len(expected)


async def test_a_private_account_is_hidden_even_from_an_admin_unless_they_created_it(api, world):
    private = [a for a in world.rows["accounts"] if a.is_private]
    assert private, "the seed has a private account"
    for account in private:
        for role, caller in world.callers.items():
            shown = await by_node(api, "Account", [account.id], caller.token)
            assert bool(shown) == (role != "PARTNER" and account.created_by_id == caller.user_id), role


STAGE = """mutation($input: ChangeOpportunityStageInput!) { changeOpportunityStage(input: $input) {
  __typename ... on UserError { code } ... on NotFoundError { entityType } } }"""
RENAME = """mutation($input: UpdateAccountInput!) { updateAccount(input: $input) {
  __typename ... on UserError { code } } }"""


@pytest.mark.parametrize("role", ["SALES_DIRECTOR", "SALES_REP", "PARTNER"])
async def test_a_mutation_on_a_row_the_caller_may_not_see_finds_nothing_and_changes_nothing(api, writable, world, role):
    caller = world.callers[role]
    hidden_opportunity = next(
        o
        for o in world.rows["opportunities"]
        if o.id not in world.opportunities(caller) and o.stage not in ("WON", "LOST")
    )
    result = (
        await api.data(
            STAGE,
            {"input": {"id": ids.encode("Opportunity", hidden_opportunity.id), "stage": "NEGOTIATION"}},
            caller.token,
        )
    )["changeOpportunityStage"]
    assert result == {"__typename": "NotFoundError", "code": "NOT_FOUND", "entityType": "Opportunity"}
    hidden_account = next(a for a in world.rows["accounts"] if a.id not in world.accounts(caller))
    result = (
        await api.data(
            RENAME, {"input": {"id": ids.encode("Account", hidden_account.id), "name": "Mine now"}}, caller.token
        )
    )["updateAccount"]
    assert result["__typename"] == "NotFoundError"
    async with writable.engine.connect() as conn:
        stage = (
            await conn.execute(
                select(tables.opportunities.c.stage).where(tables.opportunities.c.id == hidden_opportunity.id)
            )
        ).scalar_one()
        name = (
            await conn.execute(select(tables.accounts.c.name).where(tables.accounts.c.id == hidden_account.id))
        ).scalar_one()
    assert stage == hidden_opportunity.stage and name == hidden_account.name


@pytest.mark.parametrize("role", ["SALES_REP", "PARTNER"])
async def test_a_mutation_on_a_row_the_caller_may_see_goes_through(api, world, role):
    caller = world.callers[role]
    mine = next(
        o
        for o in world.rows["opportunities"]
        if o.id in world.opportunities(caller) and o.stage not in ("WON", "LOST", "NEGOTIATION")
    )
    result = (
        await api.data(
            STAGE, {"input": {"id": ids.encode("Opportunity", mine.id), "stage": "NEGOTIATION"}}, caller.token
        )
    )["changeOpportunityStage"]
    assert result["__typename"] == "OpportunityPayload"


async def test_a_document_of_an_opportunity_the_caller_may_not_see_is_not_found(api, world):
    from tests.integration.mutations.test_documents import generate

    rep = world.callers["SALES_REP"]
    quote = next(q for q in world.rows["quotes"] if q.id not in world.quotes(rep))
    document = await generate(api, quoteId=ids.encode("Quote", quote.id))
    url = document["downloadUrl"]
    assert (
        await api.http.get(url, headers={"Authorization": f"Bearer {world.callers['ADMIN'].token}"})
    ).status_code == 200
    hidden = await api.http.get(url, headers={"Authorization": f"Bearer {rep.token}"})
    assert hidden.status_code == 404 and hidden.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_partner_neither_lists_nor_manages_the_companys_document_templates(api, writable):
    from tests.integration.mutations.test_documents import docx_base64

    upload = """mutation($input: UploadDocumentTemplateInput!) { uploadDocumentTemplate(input: $input) {
      __typename ... on UserError { code } } }"""
    made = await api.data(
        upload,
        {"input": {"name": "House style", "fileName": "house.docx", "contentBase64": docx_base64("{{ quote.name }}")}},
    )
    assert made["uploadDocumentTemplate"]["__typename"] != "PermissionDeniedError"
    assert (await api.data("{ documentTemplates { name } }"))["documentTemplates"]
    assert (await api.data("{ documentTemplates { name } }", token=writable.partner_token))["documentTemplates"] == []
    refused = await api.data(
        upload,
        {"input": {"name": "Partner style", "fileName": "p.docx", "contentBase64": docx_base64("x")}},
        writable.partner_token,
    )
    assert refused["uploadDocumentTemplate"]["__typename"] == "PermissionDeniedError"


async def test_refusing_to_delete_an_account_names_no_rows_the_caller_may_not_see(api, world):
    rep = world.callers["SALES_REP"]
    account = next(
        a
        for a in world.rows["accounts"]
        if a.id in world.accounts(rep)
        and any(o.account_id == a.id and o.id not in world.opportunities(rep) for o in world.rows["opportunities"])
    )
    result = (
        await api.data(
            """mutation($input: DeleteAccountInput!) { deleteAccount(input: $input) {
        __typename ... on UserError { message } } }""",
            {"input": {"id": ids.encode("Account", account.id)}},
            rep.token,
        )
    )["deleteAccount"]
    assert result["__typename"] == "ConflictError"
    hidden = [o.id for o in world.rows["opportunities"] if o.account_id == account.id]
    assert not any(str(pk) in result["message"].split() for pk in hidden), result["message"]


async def test_a_rep_creating_an_opportunity_for_a_colleague_gets_it_back_once(api, world):
    rep = world.callers["SALES_REP"]
    colleague = next(
        u
        for u in world.rows["users"]
        if u.role == "SALES_REP"
        and u.id != rep.user_id
        and u.team_id != next(x.team_id for x in world.rows["users"] if x.id == rep.user_id)
    )
    account = next(a for a in world.rows["accounts"] if a.is_global and not a.is_private)
    made = (
        await api.data(
            """mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) {
        __typename ... on OpportunityPayload { opportunity { id owner { id } account { id } } } } }""",
            {
                "input": {
                    "name": "For a colleague",
                    "accountId": ids.encode("Account", account.id),
                    "ownerId": ids.encode("User", colleague.id),
                }
            },
            rep.token,
        )
    )["createOpportunity"]
    assert made["opportunity"]["owner"]["id"] == ids.encode("User", colleague.id)
    # Written and shown once; afterwards it is the colleague's, out of the rep's sight.
    assert await by_node(api, "Opportunity", [ids.decode(made["opportunity"]["id"])[1]], rep.token) == set()


@pytest.mark.parametrize("role", ROLES)
async def test_has_filters_count_only_children_the_role_may_see(api, world, role):
    caller = world.callers[role]
    with_opportunities, _ = await listed(api, "accounts", caller.token, ", filter: {hasOpportunities: true}")
    visible = world.opportunities(caller)
    expected = {
        a
        for a in world.accounts(caller)
        if any(o.account_id == a and o.id in visible for o in world.rows["opportunities"])
    }
    assert with_opportunities == expected
    with_subs, _ = await listed(api, "accounts", caller.token, ", filter: {hasSubAccounts: true}")
    accounts = world.accounts(caller)
    assert with_subs == {a.parent_id for a in world.rows["accounts"] if a.id in accounts and a.parent_id in accounts}

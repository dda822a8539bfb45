"""Files, imports, partner comments and partner history over HTTP on SQLite and PostgreSQL (issue 18, items 5
and 7): `POST /attachments` (multipart/form-data) onto accounts, opportunities and price books, versions that
stay downloadable through `GET /documents/<id>`, the size and type limits (nothing stored), a hidden row or file
answered as a missing one, who may change a price book's files; CSV imports of accounts and contacts that store
every row or none and report every bad row; comments on a partner (users only) and the partner's history."""

from __future__ import annotations

from dataclasses import dataclass

import pytest_asyncio
from sqlalchemy import func, select

from domain.attachments import MAX_ATTACHMENT_BYTES
from gql import ids
from gql.auth import issue_token
from persistence import tables
from tests.conftest import GraphQLClient, statements

MISSING = 1_999_999
ERRORS = "... on UserError { code message } ... on ValidationError { field }"


@dataclass
class Callers:
    admin: str
    rep: str
    other_rep: str
    partner: str
    rep_id: int


@pytest_asyncio.fixture(loop_scope="session")
async def callers(writable) -> Callers:
    async with writable.engine.connect() as conn:
        reps = list(
            await conn.execute(
                select(tables.users.c.id).where(tables.users.c.role == "SALES_REP").order_by(tables.users.c.id)
            )
        )
    rep, other = reps[0].id, reps[1].id
    return Callers(
        admin=writable.admin_token,
        rep=await issue_token(writable.engine, name="files rep", user_id=rep),
        other_rep=await issue_token(writable.engine, name="files rep 2", user_id=other),
        partner=writable.partner_token,
        rep_id=rep,
    )


async def count(writable, table) -> int:
    async with writable.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table))).scalar_one()


async def ids_of(api: GraphQLClient, root: str, token: str) -> list[str]:
    data = await api.data(f"{{ {root}(first: 100) {{ nodes {{ id }} }} }}", token=token)
    return [n["id"] for n in data[root]["nodes"]]


async def upload(api: GraphQLClient, token: str, content: bytes, *, on: str | None = None, attachment: str | None = None,
                 name: str = "offer.pdf", media: str = "application/pdf"):  # fmt: skip
    fields = {"on": on} if on is not None else {"attachmentId": attachment}
    return await api.http.post(
        "/attachments",
        data=fields,
        files={"file": (name, content, media)},
        headers={"Authorization": f"Bearer {token}"},
    )


async def download(api: GraphQLClient, token: str, url: str):
    return await api.http.get(url, headers={"Authorization": f"Bearer {token}"})


ATTACHMENTS = """query($id: ID!) { node(id: $id) { ... on Account { attachments { id name latestVersion
  versions { id number fileName contentType size downloadUrl } } }
  ... on Opportunity { attachments { id name latestVersion versions { id number downloadUrl } } }
  ... on PriceBook { attachments { id name latestVersion versions { id number downloadUrl } } } } }"""
DELETE = f"""mutation($input: DeleteAttachmentInput!) {{ deleteAttachment(input: $input) {{
  __typename ... on DeletedPayload {{ deletedId }} {ERRORS} }} }}"""


async def test_a_file_uploaded_twice_is_one_attachment_with_two_downloadable_versions(api, writable, callers):
    account = (await ids_of(api, "accounts", callers.rep))[0]
    first = await upload(api, callers.rep, b"%PDF-1.4 first offer", on=account, name="C:\\Users\\kari\\offer.pdf")
    assert first.status_code == 201, first.text
    body = first.json()
    second = await upload(
        api, callers.rep, b"%PDF-1.4 second offer", attachment=body["attachment"]["id"], name="o2.pdf"
    )
    assert second.status_code == 201, second.text
    assert second.json()["version"]["number"] == 2 and second.json()["attachment"]["latestVersion"] == 2

    node = (await api.data(ATTACHMENTS, {"id": account}, token=callers.rep))["node"]
    [attachment] = [a for a in node["attachments"] if a["id"] == body["attachment"]["id"]]
    assert attachment["name"] == "offer.pdf" and attachment["latestVersion"] == 2
    assert [(v["number"], v["fileName"], v["size"]) for v in attachment["versions"]] == [
        (2, "o2.pdf", len(b"%PDF-1.4 second offer")),
        (1, "offer.pdf", len(b"%PDF-1.4 first offer")),
    ]
    for version, content in zip(
        attachment["versions"], (b"%PDF-1.4 second offer", b"%PDF-1.4 first offer"), strict=True
    ):
        got = await download(api, callers.rep, version["downloadUrl"])
        assert got.status_code == 200 and got.content == content
        assert got.headers["content-type"] == "application/pdf"
        assert "attachment;" in got.headers["content-disposition"]


async def test_a_file_over_the_limit_or_of_a_refused_type_is_refused_naming_the_limit_and_nothing_is_stored(
    api, writable, callers
):
    account = (await ids_of(api, "accounts", callers.rep))[0]
    before = (await count(writable, tables.attachments), await count(writable, tables.attachment_versions))
    too_big = await upload(api, callers.rep, b"x" * (MAX_ATTACHMENT_BYTES + 1), on=account)
    assert too_big.status_code == 413
    error = too_big.json()["errors"][0]
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE" and error["extensions"]["limit"] == MAX_ATTACHMENT_BYTES
    assert str(MAX_ATTACHMENT_BYTES) in error["message"]
    exe = await upload(api, callers.rep, b"MZ\x90\x00", on=account, name="tool.exe", media="application/x-msdownload")
    assert exe.status_code == 415 and "application/x-msdownload" in exe.json()["errors"][0]["message"]
    empty = await upload(api, callers.rep, b"", on=account, name="empty.txt", media="text/plain")
    assert empty.status_code == 422 and empty.json()["errors"][0]["extensions"]["field"] == "file"
    not_a_form = await api.http.post(
        "/attachments",
        content=b"{}",
        headers={"Authorization": f"Bearer {callers.rep}", "Content-Type": "application/json"},
    )
    assert not_a_form.status_code == 415
    anonymous = await api.http.post("/attachments", files={"file": ("a.txt", b"a", "text/plain")}, data={"on": account})
    assert anonymous.status_code == 401
    reader = await issue_token(writable.engine, name="reader", user_id=callers.rep_id, scopes=["accounts:read"])
    no_scope = await upload(api, reader, b"text", on=account, name="a.txt", media="text/plain")
    assert no_scope.status_code == 403 and no_scope.json()["errors"][0]["extensions"]["code"] == "INSUFFICIENT_SCOPE"
    assert "documents:write" in no_scope.json()["errors"][0]["message"]
    onto_a_lead = await upload(api, callers.rep, b"text", on=ids.encode("Lead", 1), name="a.txt", media="text/plain")
    assert onto_a_lead.status_code == 422 and onto_a_lead.json()["errors"][0]["extensions"]["field"] == "on"
    after = (await count(writable, tables.attachments), await count(writable, tables.attachment_versions))
    assert after == before


def without(body: dict, *texts: str) -> str:
    text = str(body)
    for t in texts:
        text = text.replace(t, "<id>")
    return text


async def test_a_hidden_row_or_file_is_answered_exactly_as_a_missing_one(api, writable, callers):
    every = await ids_of(api, "accounts", callers.admin)
    mine = set(await ids_of(api, "accounts", callers.rep))
    hidden = next(a for a in every if a not in mine)
    missing = ids.encode("Account", MISSING)
    # Writing onto it: 404, the same answer as for an account that does not exist.
    onto_hidden = await upload(api, callers.rep, b"secret plan", on=hidden, name="plan.txt", media="text/plain")
    onto_missing = await upload(api, callers.rep, b"secret plan", on=missing, name="plan.txt", media="text/plain")
    assert onto_hidden.status_code == onto_missing.status_code == 404
    assert without(onto_hidden.json(), hidden) == without(onto_missing.json(), missing)
    # The admin's file on it: the rep can neither download it, nor read it, nor delete it, nor add a version.
    stored = await upload(api, callers.admin, b"Confidential terms for the board", on=hidden, name="board-terms.txt",
                          media="text/plain")  # fmt: skip
    assert stored.status_code == 201, stored.text
    version, attachment = stored.json()["version"], stored.json()["attachment"]
    missing_version = f"/documents/{ids.encode('AttachmentVersion', MISSING)}"
    as_rep = await download(api, callers.rep, version["downloadUrl"])
    as_rep_missing = await download(api, callers.rep, missing_version)
    assert as_rep.status_code == as_rep_missing.status_code == 404 and as_rep.content == as_rep_missing.content
    assert b"Confidential" not in as_rep.content and b"board-terms" not in as_rep.content
    missing_attachment = ids.encode("Attachment", MISSING)
    for node_id, missing_id in (
        (attachment["id"], missing_attachment),
        (version["id"], ids.encode("AttachmentVersion", MISSING)),
    ):
        one = await api.post("query($id: ID!) { node(id: $id) { id } }", {"id": node_id}, callers.rep)
        other = await api.post("query($id: ID!) { node(id: $id) { id } }", {"id": missing_id}, callers.rep)
        assert one.json() == other.json() == {"data": {"node": None}}
    deleted = await api.post(DELETE, {"input": {"id": attachment["id"]}}, callers.rep)
    deleted_missing = await api.post(DELETE, {"input": {"id": missing_attachment}}, callers.rep)
    assert deleted.json()["data"]["deleteAttachment"]["code"] == "NOT_FOUND"
    assert without(deleted.json(), attachment["id"]) == without(deleted_missing.json(), missing_attachment)
    new_version = await upload(api, callers.rep, b"x", attachment=attachment["id"], name="x.txt", media="text/plain")
    new_version_missing = await upload(
        api, callers.rep, b"x", attachment=missing_attachment, name="x.txt", media="text/plain"
    )
    assert new_version.status_code == new_version_missing.status_code == 404
    assert without(new_version.json(), attachment["id"]) == without(new_version_missing.json(), missing_attachment)
    # The admin still downloads it; once deleted, nobody does, and its versions are gone with it.
    assert (await download(api, callers.admin, version["downloadUrl"])).content == b"Confidential terms for the board"
    gone = await api.data(DELETE, {"input": {"id": attachment["id"]}}, token=callers.admin)
    assert gone["deleteAttachment"]["deletedId"] == attachment["id"]
    assert (await download(api, callers.admin, version["downloadUrl"])).status_code == 404
    async with writable.engine.connect() as conn:
        left = await conn.execute(
            select(func.count()).where(tables.attachment_versions.c.attachment_id == ids.decode(attachment["id"])[1])
        )
        assert left.scalar_one() == 0


async def test_a_partner_attaches_to_its_opportunity_and_only_admins_change_a_price_books_files(api, writable, callers):
    opportunity = (await ids_of(api, "opportunities", callers.partner))[0]
    mine = await upload(api, callers.partner, b"partner notes", on=opportunity, name="notes.txt", media="text/plain")
    assert mine.status_code == 201, mine.text
    node = (await api.data(ATTACHMENTS, {"id": opportunity}, token=callers.partner))["node"]
    assert mine.json()["attachment"]["id"] in [a["id"] for a in node["attachments"]]
    book = (await ids_of(api, "priceBooks", callers.admin))[0]
    before = await count(writable, tables.attachments)
    refused = await upload(api, callers.rep, b"price list", on=book, name="prices.csv", media="text/csv")
    assert refused.status_code == 403 and refused.json()["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    assert await count(writable, tables.attachments) == before
    template = await upload(api, callers.admin, b"a;b\n1;2\n", on=book, name="prices.csv", media="text/csv")
    assert template.status_code == 201
    # Everyone sees the catalogue, and so its files: the rep and the partner download it.
    for token in (callers.rep, callers.partner):
        got = await download(api, token, template.json()["version"]["downloadUrl"])
        assert got.status_code == 200 and got.content == b"a;b\n1;2\n"
    attachment_id = template.json()["attachment"]["id"]
    not_yours = await api.data(DELETE, {"input": {"id": attachment_id}}, token=callers.rep)
    assert not_yours["deleteAttachment"]["code"] == "PERMISSION_DENIED"


# --- imports ---

IMPORT_ACCOUNTS = f"""mutation($input: ImportAccountsInput!) {{ importAccounts(input: $input) {{
  __typename ... on ImportAccountsPayload {{ created accounts {{ id name country email kind }} }}
  ... on ImportRejectedError {{ field moreProblems problems {{ line column message }} }} {ERRORS} }} }}"""
IMPORT_CONTACTS = f"""mutation($input: ImportContactsInput!) {{ importContacts(input: $input) {{
  __typename ... on ImportContactsPayload {{ created contacts {{ id firstName lastName email account {{ id }} }} }}
  ... on ImportRejectedError {{ problems {{ line column message }} }} {ERRORS} }} }}"""


async def test_an_account_import_stores_every_row_or_none_and_reports_every_bad_row(api, writable, callers):
    good = "name,country,email\nFjord Freight AS,no,post@fjord.example\nBergen Bolts,NO,\n"
    done = (await api.data(IMPORT_ACCOUNTS, {"input": {"csv": good}}, token=callers.rep))["importAccounts"]
    assert done["__typename"] == "ImportAccountsPayload" and done["created"] == 2
    assert [(a["name"], a["country"], a["email"]) for a in done["accounts"]] == [
        ("Fjord Freight AS", "NO", "post@fjord.example"),
        ("Bergen Bolts", "NO", None),
    ]
    assert {a["id"] for a in done["accounts"]} <= set(
        await ids_of(api, "accounts", callers.rep)
    )  # the rep created them

    before = await count(writable, tables.accounts)
    bad = (
        "kind,name,firstName,lastName,email,country\n"
        "ORGANIZATION,Good One,,,,SE\n"  # line 2: fine
        "ORGANIZATION,,,,,\n"  # line 3: no name
        "PERSON,,Kari,,kari@example.com,NO\n"  # line 4: no last name
        "ROBOT,Bad Kind,,,,\n"  # line 5: unknown kind
        "ORGANIZATION,Bad Mail,,,not-an-email,Norway\n"  # line 6: e-mail (and country, reported first)
        "ORGANIZATION,Good Two,,,,\n"  # line 7: fine
    )
    rejected = (await api.data(IMPORT_ACCOUNTS, {"input": {"csv": bad}}, token=callers.rep))["importAccounts"]
    assert (
        rejected["__typename"] == "ImportRejectedError"
        and rejected["code"] == "VALIDATION"
        and rejected["field"] == "csv"
    )
    assert [(p["line"], p["column"]) for p in rejected["problems"]] == [
        (3, "name"),
        (4, "lastName"),
        (5, "kind"),
        (6, "country"),
    ]
    assert await count(writable, tables.accounts) == before  # not even the good rows

    header = (await api.data(IMPORT_ACCOUNTS, {"input": {"csv": "name,colour\nA,red\n"}}))["importAccounts"]
    assert [(p["line"], p["column"]) for p in header["problems"]] == [(1, "colour")]
    partner = (await api.data(IMPORT_ACCOUNTS, {"input": {"csv": good}}, token=callers.partner))["importAccounts"]
    assert partner["__typename"] == "PermissionDeniedError"
    assert await count(writable, tables.accounts) == before


async def test_a_contact_import_finds_accounts_by_name_among_those_the_caller_sees(api, writable, callers):
    async with writable.engine.connect() as conn:
        accounts = {r.id: r.name for r in await conn.execute(select(tables.accounts.c.id, tables.accounts.c.name))}
    seen = {ids.decode(i)[1] for i in await ids_of(api, "accounts", callers.rep)}
    names = [n for n in accounts.values()]
    visible = next(accounts[i] for i in sorted(seen) if names.count(accounts[i]) == 1 and "," not in accounts[i])
    hidden = next(
        accounts[i]
        for i in sorted(accounts)
        if i not in seen and names.count(accounts[i]) == 1 and "," not in accounts[i]
    )
    before = await count(writable, tables.contacts)
    rows = f"account,firstName,lastName,email\n{visible},Ola,Nordmann,ola@example.com\n{hidden},Kari,Nordmann,\n"
    rejected = (await api.data(IMPORT_CONTACTS, {"input": {"csv": rows}}, token=callers.rep))["importContacts"]
    assert rejected["__typename"] == "ImportRejectedError"
    [problem] = rejected["problems"]
    assert (problem["line"], problem["column"]) == (3, "account")
    unknown = (await api.data(IMPORT_CONTACTS, {"input": {"csv": rows.replace(hidden, "No Such Account Ltd")}},
                              token=callers.rep))["importContacts"]  # fmt: skip
    assert problem["message"].replace(hidden, "<name>") == unknown["problems"][0]["message"].replace(
        "No Such Account Ltd", "<name>"
    )  # a hidden account is as unknown as a missing one
    assert await count(writable, tables.contacts) == before
    good = f"account,firstName,lastName,email\n{visible},Ola,Nordmann,ola@example.com\n{visible},Per,Hansen,\n"
    done = (await api.data(IMPORT_CONTACTS, {"input": {"csv": good}}, token=callers.rep))["importContacts"]
    assert done["created"] == 2 and [(c["firstName"], c["email"]) for c in done["contacts"]] == [
        ("Ola", "ola@example.com"),
        ("Per", None),
    ]
    assert await count(writable, tables.contacts) == before + 2


# --- partner comments and history ---

COMMENT = f"""mutation($input: AddPartnerCommentInput!) {{ addPartnerComment(input: $input) {{
  __typename ... on PartnerCommentPayload {{ comment {{ id body author {{ id }} }} partner {{ id }} }} {ERRORS} }} }}"""
DELETE_COMMENT = f"""mutation($input: DeletePartnerCommentInput!) {{ deletePartnerComment(input: $input) {{
  __typename ... on DeletedPayload {{ deletedId }} {ERRORS} }} }}"""
PARTNER = """query($id: ID!) { node(id: $id) { ... on Partner { name comments { id body }
  history(first: 50) { nodes { field oldValue newValue } } } } }"""
# What a partner may read of a partner (comments need partners:read, which a partner cannot hold).
PARTNER_AND_HISTORY = PARTNER.replace("comments { id body }\n  ", "")
UPDATE_PARTNER = f"""mutation($input: UpdatePartnerInput!) {{ updatePartner(input: $input) {{
  __typename ... on PartnerPayload {{ partner {{ name }} }} {ERRORS} }} }}"""


async def test_users_comment_on_a_partner_which_the_partner_never_reads(api, writable, callers):
    partner = ids.encode("Partner", writable.summary.partner_id)
    written = (await api.data(COMMENT, {"input": {"partnerId": partner, "body": "Slow to answer in July"}},
                              token=callers.rep))["addPartnerComment"]  # fmt: skip
    assert written["comment"]["body"] == "Slow to answer in July" and written["partner"]["id"] == partner
    read = (await api.data(PARTNER, {"id": partner}, token=callers.other_rep))["node"]
    assert [c["body"] for c in read["comments"]] == ["Slow to answer in July"]
    as_partner = await api.post(PARTNER, {"id": partner}, token=callers.partner)  # never reads them at all
    assert as_partner.status_code == 403, as_partner.text
    assert "`node(on Partner).comments` needs the scope partners:read" in as_partner.json()["errors"][0]["message"]
    refused = await api.post(COMMENT, {"input": {"partnerId": partner, "body": "I am great"}}, callers.partner)
    assert refused.status_code == 403 and refused.json()["errors"][0]["extensions"]["code"] == "INSUFFICIENT_SCOPE"
    empty = (await api.data(COMMENT, {"input": {"partnerId": partner, "body": "  "}}, token=callers.rep))[
        "addPartnerComment"
    ]
    assert (empty["code"], empty["field"]) == ("VALIDATION", "body")
    missing = await api.data(COMMENT, {"input": {"partnerId": ids.encode("Partner", MISSING), "body": "x"}})
    assert missing["addPartnerComment"]["code"] == "NOT_FOUND"
    not_theirs = await api.data(DELETE_COMMENT, {"input": {"id": written["comment"]["id"]}}, token=callers.other_rep)
    assert not_theirs["deletePartnerComment"]["code"] == "PERMISSION_DENIED"
    own = await api.data(DELETE_COMMENT, {"input": {"id": written["comment"]["id"]}}, token=callers.rep)
    assert own["deletePartnerComment"]["deletedId"] == written["comment"]["id"]
    assert (await api.data(PARTNER, {"id": partner}, token=callers.admin))["node"]["comments"] == []


async def test_a_partner_keeps_a_history_read_with_the_partner(api, writable, callers):
    other_partner = next(
        p
        for p in await ids_of(api, "partners", callers.admin)
        if p != ids.encode("Partner", writable.summary.partner_id)
    )
    before = (await api.data(PARTNER, {"id": other_partner}, token=callers.admin))["node"]
    changed = await api.data(UPDATE_PARTNER, {"input": {"id": other_partner, "name": "Renamed Reseller AS"}})
    assert changed["updatePartner"]["partner"]["name"] == "Renamed Reseller AS"
    after = (await api.data(PARTNER, {"id": other_partner}, token=callers.rep))["node"]
    assert {"field": "name", "oldValue": before["name"], "newValue": "Renamed Reseller AS"} in after["history"]["nodes"]
    # Another partner's row, history and all, is hidden from the partner: as a missing partner.
    assert "comments" not in PARTNER_AND_HISTORY
    hidden = await api.post(PARTNER_AND_HISTORY, {"id": other_partner}, callers.partner)
    assert hidden.json() == {"data": {"node": None}}


LIST_FILES = (
    """{ accounts(first: 100) { nodes { id attachments { name versions { number fileName downloadUrl } } } } }"""
)


async def test_listing_the_files_of_every_account_costs_the_same_statements_however_many_files(api, writable, callers):
    first = await api.post(LIST_FILES, None, callers.rep)  # the token is looked up once, then cached
    accounts = [n["id"] for n in first.json()["data"]["accounts"]["nodes"]]
    await upload(api, callers.rep, b"one", on=accounts[0], name="one.txt", media="text/plain")
    before = await api.post(LIST_FILES, None, callers.rep)
    for n, account in enumerate(accounts[:3]):
        made = await upload(api, callers.rep, f"file {n}".encode(), on=account, name=f"f{n}.txt", media="text/plain")
        await upload(
            api, callers.rep, b"again", attachment=made.json()["attachment"]["id"], name="g.txt", media="text/plain"
        )
    after = await api.post(LIST_FILES, None, callers.rep)
    count = lambda r: sum(len(a["versions"]) for n in r.json()["data"]["accounts"]["nodes"] for a in n["attachments"])  # noqa: E731
    assert count(after) == count(before) + 6
    assert statements(after) == statements(before) == 3  # the accounts, their attachments, the versions

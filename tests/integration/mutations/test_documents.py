"""Quote documents over HTTP: generate a document from a quote, download it, and manage templates,
with the typed errors, the database state and the outbox."""

from __future__ import annotations

import base64
import io
from decimal import Decimal

import docx
from sqlalchemy import func, insert, select

from domain.documents import format_amount
from gql import ids
from persistence import tables

ERRORS = "... on UserError { code message } ... on ValidationError { field } ... on NotFoundError { entityType }"
DOCUMENT = "document { id fileName contentType size downloadUrl opportunity { id } quote { id } template { id } }"
GENERATE = f"""mutation($input: GenerateQuoteDocumentInput!) {{
  generateQuoteDocument(input: $input) {{ __typename ... on QuoteDocumentPayload {{ downloadUrl {DOCUMENT} }} {ERRORS} }}
}}"""
UPLOAD = f"""mutation($input: UploadDocumentTemplateInput!) {{
  uploadDocumentTemplate(input: $input) {{
    __typename ... on DocumentTemplatePayload {{ template {{ id name fileName isDefault size version }} }} {ERRORS}
  }}
}}"""
SET_DEFAULT = f"""mutation($input: SetDefaultDocumentTemplateInput!) {{
  setDefaultDocumentTemplate(input: $input) {{
    __typename ... on DefaultDocumentTemplatePayload {{ template {{ id isDefault }} }} {ERRORS}
  }}
}}"""
DELETE = f"""mutation($input: DeleteDocumentTemplateInput!) {{
  deleteDocumentTemplate(input: $input) {{ __typename ... on DeletedPayload {{ deletedId }} {ERRORS} }}
}}"""
QUOTE = """query($id: ID!) { node(id: $id) { ... on Quote {
  name total { amount currency } items { name }
  opportunity { id account { name } documents { id fileName } }
} } }"""


async def rows(engine, stmt) -> list:
    async with engine.connect() as conn:
        return list(await conn.execute(stmt))


async def count(engine, table, *where) -> int:
    return (await rows(engine, select(func.count()).select_from(table).where(*where)))[0][0]


async def a_quote_with_items(writable, partner: bool = False) -> str:
    """A seeded quote with items, on an opportunity of no partner (or of the test partner)."""
    partner_id = writable.summary.partner_id if partner else None
    opps = tables.opportunities
    condition = opps.c.partner_id == partner_id if partner else opps.c.partner_id.is_(None)
    stmt = (
        select(func.min(tables.quotes.c.id))
        .join(opps, opps.c.id == tables.quotes.c.opportunity_id)
        .where(condition, tables.quotes.c.id.in_(select(tables.quote_items.c.quote_id)))
    )
    return ids.encode("Quote", (await rows(writable.engine, stmt))[0][0])


def text_of(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def docx_base64(body: str) -> str:
    document = docx.Document()
    document.add_paragraph(body)
    out = io.BytesIO()
    document.save(out)
    return base64.b64encode(out.getvalue()).decode()


async def generate(api, **input_) -> dict:
    return (await api.data(GENERATE, {"input": input_}))["generateQuoteDocument"]


async def test_generate_quote_document_stores_a_docx_with_the_account_the_items_and_the_total(api, writable):
    quote_id = await a_quote_with_items(writable)
    quote = (await api.data(QUOTE, {"id": quote_id}))["node"]
    generated = await generate(api, quoteId=quote_id)
    assert generated["__typename"] == "QuoteDocumentPayload", generated
    document = generated["document"]
    assert generated["downloadUrl"] == document["downloadUrl"] == f"/documents/{document['id']}"
    assert document["opportunity"]["id"] == quote["opportunity"]["id"] and document["quote"]["id"] == quote_id
    assert document["template"] is None and document["fileName"].endswith(".docx")
    pk = ids.decode(document["id"])[1]
    (stored,) = await rows(writable.engine, select(tables.quote_documents).where(tables.quote_documents.c.id == pk))
    assert stored.size == len(stored.content) == document["size"]
    text = text_of(stored.content)
    total = quote["total"]
    assert quote["opportunity"]["account"]["name"] in text
    for item in quote["items"]:
        assert item["name"] in text
    assert format_amount(Decimal(total["amount"]), total["currency"]) in text and total["currency"] in text
    events = await rows(
        writable.engine,
        select(tables.outbox_events.c.data).where(
            tables.outbox_events.c.type == "QuoteDocumentGenerated",
            tables.outbox_events.c.entity_id == ids.decode(quote["opportunity"]["id"])[1],
        ),
    )
    assert [e.data["documentId"] for e in events] == [pk]
    listed = (await api.data(QUOTE, {"id": quote_id}))["node"]["opportunity"]["documents"]
    assert document["id"] in [d["id"] for d in listed]
    by_id = await api.data(
        "query($id: ID!) { node(id: $id) { ... on QuoteDocument { fileName downloadUrl } } }", {"id": document["id"]}
    )
    assert by_id["node"] == {"fileName": document["fileName"], "downloadUrl": document["downloadUrl"]}


async def test_the_document_downloads_with_its_type_and_name_for_a_caller_with_a_token(api, writable):
    document = (await generate(api, quoteId=await a_quote_with_items(writable)))["document"]
    http = api.http
    response = await http.get(document["downloadUrl"], headers={"Authorization": f"Bearer {writable.admin_token}"})
    assert response.status_code == 200
    assert response.headers["content-type"] == document["contentType"]
    assert response.headers["content-disposition"].startswith(f'attachment; filename="{document["fileName"]}"')
    pk = ids.decode(document["id"])[1]
    (stored,) = await rows(
        writable.engine, select(tables.quote_documents.c.content).where(tables.quote_documents.c.id == pk)
    )
    assert response.content == stored.content
    assert (await http.get(document["downloadUrl"])).status_code == 401
    assert (await http.get(document["downloadUrl"], headers={"Authorization": "Bearer nope"})).status_code == 401
    admin = {"Authorization": f"Bearer {writable.admin_token}"}
    assert (await http.get(f"/documents/{ids.encode('QuoteDocument', 999_999)}", headers=admin)).status_code == 404
    assert (await http.get(f"/documents/{ids.encode('Quote', pk)}", headers=admin)).status_code == 404
    assert (await http.get("/documents/not-an-id", headers=admin)).status_code == 404


async def test_a_partner_downloads_only_documents_of_its_own_opportunities(api, writable):
    partner = {"Authorization": f"Bearer {writable.partner_token}"}
    foreign = (await generate(api, quoteId=await a_quote_with_items(writable)))["document"]
    assert (await api.http.get(foreign["downloadUrl"], headers=partner)).status_code == 404
    own = (await generate(api, quoteId=await a_quote_with_items(writable, partner=True)))["document"]
    assert (await api.http.get(own["downloadUrl"], headers=partner)).status_code == 200


async def test_generate_quote_document_errors_are_typed_and_write_nothing(api, writable):
    before = await count(writable.engine, tables.quote_documents)
    missing = await generate(api, quoteId=ids.encode("Quote", 999_999))
    assert missing["__typename"] == "NotFoundError" and missing["entityType"] == "Quote"
    wrong = await generate(api, quoteId=ids.encode("Opportunity", 1))
    assert wrong["__typename"] == "ValidationError" and wrong["field"] == "quoteId"
    no_template = await generate(
        api, quoteId=await a_quote_with_items(writable), templateId=ids.encode("DocumentTemplate", 999_999)
    )
    assert no_template["__typename"] == "NotFoundError" and no_template["entityType"] == "DocumentTemplate"
    opportunity = (await rows(writable.engine, select(func.min(tables.opportunities.c.id))))[0][0]
    async with writable.engine.begin() as conn:
        empty = (
            await conn.execute(
                insert(tables.quotes)
                .values(opportunity_id=opportunity, name="Empty", currency="EUR", is_active=False)
                .returning(tables.quotes.c.id)
            )
        ).scalar()
    no_items = await generate(api, quoteId=ids.encode("Quote", empty))
    assert no_items["__typename"] == "ValidationError" and no_items["field"] == "quoteId"
    assert await count(writable.engine, tables.quote_documents) == before


async def test_an_uploaded_template_is_used_by_name_and_as_the_default_and_can_be_deleted(api, writable):
    uploaded = await api.data(
        UPLOAD,
        {
            "input": {
                "name": "Short letter",
                "fileName": "short.docx",
                "contentBase64": docx_base64("To {{ account.name }}: {{ totals.total_with_currency }}"),
            }
        },
    )
    template = uploaded["uploadDocumentTemplate"]["template"]
    assert template["isDefault"] is False and template["size"] > 0
    assert (
        await count(writable.engine, tables.document_templates, tables.document_templates.c.name == "Short letter")
    ) == 1
    quote_id = await a_quote_with_items(writable)
    quote = (await api.data(QUOTE, {"id": quote_id}))["node"]
    expected = (
        f"To {quote['opportunity']['account']['name']}: "
        f"{format_amount(Decimal(quote['total']['amount']), quote['total']['currency'])} {quote['total']['currency']}"
    )

    named = (await generate(api, quoteId=quote_id, templateId=template["id"]))["document"]
    assert named["template"] == {"id": template["id"]}
    made_default = (await api.data(SET_DEFAULT, {"input": {"id": template["id"]}}))["setDefaultDocumentTemplate"]
    assert made_default["template"] == {"id": template["id"], "isDefault": True}
    by_default = (await generate(api, quoteId=quote_id))["document"]
    assert by_default["template"] == {"id": template["id"]}
    for document in (named, by_default):
        (stored,) = await rows(
            writable.engine,
            select(tables.quote_documents.c.content).where(
                tables.quote_documents.c.id == ids.decode(document["id"])[1]
            ),
        )
        assert text_of(stored.content) == expected

    listed = await api.data("{ documentTemplates { id isDefault } }")
    assert {"id": template["id"], "isDefault": True} in listed["documentTemplates"]
    stale = (await api.data(DELETE, {"input": {"id": template["id"], "version": 1}}))["deleteDocumentTemplate"]
    assert stale["__typename"] == "ConflictError"
    deleted = (await api.data(DELETE, {"input": {"id": template["id"]}}))["deleteDocumentTemplate"]
    assert deleted == {"__typename": "DeletedPayload", "deletedId": template["id"]}
    (kept,) = await rows(
        writable.engine,
        select(tables.quote_documents.c.template_id).where(tables.quote_documents.c.id == ids.decode(named["id"])[1]),
    )
    assert kept.template_id is None
    built_in = (await api.data(SET_DEFAULT, {"input": {"id": None}}))["setDefaultDocumentTemplate"]
    assert built_in == {"__typename": "DefaultDocumentTemplatePayload", "template": None}
    changes = await rows(
        writable.engine,
        select(tables.outbox_events.c.data)
        .where(tables.outbox_events.c.type == "DocumentTemplateChanged")
        .order_by(tables.outbox_events.c.id),
    )
    assert [c.data["change"] for c in changes][-4:] == ["uploaded", "default", "deleted", "default"]


async def test_a_template_that_is_not_a_readable_docx_template_is_refused(api, writable):
    before = await count(writable.engine, tables.document_templates)
    bad_base64 = await api.data(UPLOAD, {"input": {"name": "X", "fileName": "x.docx", "contentBase64": "%%%"}})
    assert bad_base64["uploadDocumentTemplate"]["field"] == "contentBase64"
    not_docx = await api.data(
        UPLOAD,
        {"input": {"name": "X", "fileName": "x.docx", "contentBase64": base64.b64encode(b"plain text").decode()}},
    )
    assert not_docx["uploadDocumentTemplate"]["__typename"] == "ValidationError"
    assert not_docx["uploadDocumentTemplate"]["field"] == "contentBase64"
    unknown = await api.data(
        UPLOAD, {"input": {"name": "X", "fileName": "x.docx", "contentBase64": docx_base64("{{ customer.name }}")}}
    )
    assert "customer" in unknown["uploadDocumentTemplate"]["message"]
    wrong_name = await api.data(
        UPLOAD, {"input": {"name": "X", "fileName": "x.pdf", "contentBase64": docx_base64("{{ account.name }}")}}
    )
    assert wrong_name["uploadDocumentTemplate"]["field"] == "fileName"
    assert await count(writable.engine, tables.document_templates) == before

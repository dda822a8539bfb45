"""Quote documents: the tokens built from a quote, the docxtpl engine, and the workflows that generate
documents and manage templates (memory unit of work, no database)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import docx
import pytest

from domain.accounts import Account, Contact
from domain.catalog import Product
from domain.documents import (
    DocumentTemplate,
    QuoteDocument,
    document_file_name,
    format_amount,
    quote_tokens,
    totals_tokens,
)
from domain.errors import Conflict, NotFound, ValidationError
from domain.opportunities import BusinessRole, Opportunity
from domain.people import User
from domain.quotes import Quote, QuoteItem
from domain.workflows import documents as wf
from persistence.documents import DocxTemplateEngine
from tests.support.memory_uow import MemoryStore


def put(store: MemoryStore, entity):
    entity.id = next(store.ids)
    store.rows.setdefault(type(entity), {})[entity.id] = entity
    return entity


def item(
    quote_id: int,
    name: str,
    quantity: str,
    price: str,
    discount: str = "0",
    position: int = 0,
    currency: str = "EUR",
    **extra,
) -> QuoteItem:
    return QuoteItem(
        quote_id=quote_id,
        name=name,
        quantity=Decimal(quantity),
        unit_price=Decimal(price),
        discount_percent=Decimal(discount),
        currency=currency,
        position=position,
        **extra,
    )


def sale(store: MemoryStore, account_name: str = "Fjord Logistics AS") -> dict:
    user = put(store, User(name="Sara Seller", email="sara@example.com", role="SALES_REP"))
    account = put(
        store,
        Account(
            kind="ORGANIZATION", name=account_name, street="Kaigata 5", postal_code="5016", city="Bergen", country="NO"
        ),
    )
    other = put(store, Account(kind="ORGANIZATION", name="Someone Else"))
    first = put(store, Contact(first_name="Ola", last_name="First", contact_type_id=1, account_id=account.id))
    buyer = put(
        store,
        Contact(
            first_name="Kari", last_name="Buyer", contact_type_id=1, account_id=account.id, email="kari@fjord.example"
        ),
    )
    stranger = put(store, Contact(first_name="Nils", last_name="Stranger", contact_type_id=1, account_id=other.id))
    opportunity = put(store, Opportunity(name="Fleet tracking", account_id=account.id, owner_id=user.id))
    quote = put(
        store,
        Quote(
            opportunity_id=opportunity.id,
            name="Fleet tracking v2",
            currency="EUR",
            valid_from=date(2026, 6, 1),
            valid_until=date(2026, 6, 30),
        ),
    )
    product = put(store, Product(name="Tracker", code="HW-TRACK", category="HARDWARE"))
    items = [
        put(store, item(quote.id, "Tracker unit", "10", "149.90", "10", 0, product_id=product.id, unit_name="piece")),
        put(store, item(quote.id, "Installation", "1.5", "800", position=1, unit_name="day")),
        put(store, item(quote.id, "Rounding", "1", "-0.10", position=2, is_rounding=True)),
    ]
    return {
        "account": account,
        "first": first,
        "buyer": buyer,
        "stranger": stranger,
        "opportunity": opportunity,
        "quote": quote,
        "items": items,
        "product": product,
        "user": user,
    }


def text_of(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def custom_template(body: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(body)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


ENGINE = DocxTemplateEngine()


# --- tokens ---


def test_amounts_are_shown_with_the_currencys_minor_units_and_thousands_separators():
    assert format_amount(Decimal("12345.005"), "EUR") == "12,345.01"
    assert format_amount(Decimal("1234.5"), "JPY") == "1,235"
    assert format_amount(Decimal("1.2345"), "KWD") == "1.235"


def test_totals_show_the_gross_sum_the_discounts_the_rounding_and_what_is_paid():
    store = MemoryStore()
    items = sale(store)["items"]
    totals = totals_tokens(items, "EUR")
    assert totals == {
        "subtotal": "2,699.00",
        "discount": "149.90",
        "net": "2,549.10",
        "rounding": "-0.10",
        "total": "2,549.00",
        "total_with_currency": "2,549.00 EUR",
        "currency": "EUR",
    }


def test_the_tokens_hold_the_account_address_the_contact_the_quote_and_every_item_in_order():
    store = MemoryStore()
    s = sale(store)
    tokens = quote_tokens(
        account=s["account"],
        contact=s["buyer"],
        opportunity=s["opportunity"],
        quote=s["quote"],
        items=list(reversed(s["items"])),
        products={s["product"].id: s["product"]},
        seller=s["user"],
        today=date(2026, 6, 15),
    )
    assert tokens["account"]["address_lines"] == ["Kaigata 5", "5016 Bergen", "NO"]
    assert tokens["account"]["address"] == "Kaigata 5, 5016 Bergen, NO"
    assert tokens["contact"]["name"] == "Kari Buyer" and tokens["quote"]["valid_until"] == "2026-06-30"
    assert [(i["number"], i["name"], i["quantity"], i["total"]) for i in tokens["items"]] == [
        (1, "Tracker unit", "10", "1,349.10"),
        (2, "Installation", "1.5", "1,200.00"),
        (3, "Rounding", "1", "-0.10"),
    ]
    assert tokens["items"][0]["product_code"] == "HW-TRACK" and tokens["items"][0]["discount_percent"] == "10"
    assert tokens["items"][1]["discount_percent"] == "" and tokens["date"] == "2026-06-15"


def test_without_a_contact_the_contact_tokens_are_empty_not_missing():
    store = MemoryStore()
    s = sale(store)
    tokens = quote_tokens(
        account=s["account"],
        contact=None,
        opportunity=s["opportunity"],
        quote=s["quote"],
        items=s["items"],
        products={},
        seller=None,
        today=date(2026, 6, 15),
    )
    assert tokens["contact"]["name"] == "" and tokens["seller"]["name"] == ""


def test_a_document_file_name_is_a_safe_slug_of_the_quote_and_the_day():
    quote = Quote(id=7, opportunity_id=1, name='Ålesund / Fjord: "v2"', currency="EUR")
    assert document_file_name(quote, date(2026, 6, 15)) == "Alesund-Fjord-v2-2026-06-15.docx"
    assert (
        document_file_name(Quote(id=7, opportunity_id=1, name="???", currency="EUR"), date(2026, 6, 15))
        == "quote-2026-06-15.docx"  # a name with no letters: no database key in the file name either
    )


# --- generating documents ---


async def test_generating_renders_the_built_in_template_and_stores_the_document_with_the_opportunity():
    store = MemoryStore()
    s = sale(store)
    document = await wf.generate_quote_document(wf.GenerateQuoteDocument(quote_id=s["quote"].id), store.uow(), ENGINE)
    stored = store.all(QuoteDocument)
    assert [d.id for d in stored] == [document.id] and stored[0].opportunity_id == s["opportunity"].id
    assert stored[0].template_id is None and stored[0].size == len(stored[0].content) > 0
    assert stored[0].file_name == "Fleet-tracking-v2-2026-06-15.docx"
    text = text_of(stored[0].content)
    for expected in (
        "Fjord Logistics AS",
        "Kaigata 5, 5016 Bergen, NO",
        "Fleet tracking v2",
        "Tracker unit",
        "Installation",
        "1,349.10",
        "1,200.00",
        "2,549.00",
        "EUR",
        "2026-06-30",
        "Ola First",
    ):
        assert expected in text, expected
    assert "{{" not in text and "{%" not in text
    assert [(e.type, e.entity_id, e.data["documentId"]) for e in store.events] == [
        ("QuoteDocumentGenerated", s["opportunity"].id, document.id)
    ]


async def test_the_contact_is_the_one_named_else_the_first_business_roles_contact():
    store = MemoryStore()
    s = sale(store)
    put(store, BusinessRole(opportunity_id=s["opportunity"].id, contact_id=s["buyer"].id, role="Decision maker"))
    await wf.generate_quote_document(wf.GenerateQuoteDocument(quote_id=s["quote"].id), store.uow(), ENGINE)
    assert "Kari Buyer kari@fjord.example" in text_of(store.all(QuoteDocument)[0].content)
    await wf.generate_quote_document(
        wf.GenerateQuoteDocument(quote_id=s["quote"].id, contact_id=s["first"].id), store.uow(), ENGINE
    )
    assert "Ola First" in text_of(store.all(QuoteDocument)[1].content)


async def test_a_contact_of_another_account_is_refused():
    store = MemoryStore()
    s = sale(store)
    with pytest.raises(ValidationError) as wrong:
        await wf.generate_quote_document(
            wf.GenerateQuoteDocument(quote_id=s["quote"].id, contact_id=s["stranger"].id), store.uow(), ENGINE
        )
    assert wrong.value.field == "contactId" and store.all(QuoteDocument) == [] and store.events == []


async def test_a_quote_without_items_has_no_document():
    store = MemoryStore()
    s = sale(store)
    empty = put(store, Quote(opportunity_id=s["opportunity"].id, name="Empty", currency="EUR"))
    with pytest.raises(ValidationError) as no_items:
        await wf.generate_quote_document(wf.GenerateQuoteDocument(quote_id=empty.id), store.uow(), ENGINE)
    assert no_items.value.field == "quoteId"
    with pytest.raises(NotFound):
        await wf.generate_quote_document(wf.GenerateQuoteDocument(quote_id=999), store.uow(), ENGINE)


async def test_the_default_template_is_used_unless_another_is_named():
    store = MemoryStore()
    s = sale(store)
    default = put(
        store,
        DocumentTemplate(
            name="Short",
            file_name="short.docx",
            is_default=True,
            content=custom_template("Dear {{ contact.first_name }}: {{ totals.total }}"),
        ),
    )
    other = put(
        store, DocumentTemplate(name="Other", file_name="other.docx", content=custom_template("For {{ account.name }}"))
    )
    await wf.generate_quote_document(wf.GenerateQuoteDocument(quote_id=s["quote"].id), store.uow(), ENGINE)
    await wf.generate_quote_document(
        wf.GenerateQuoteDocument(quote_id=s["quote"].id, template_id=other.id), store.uow(), ENGINE
    )
    first, second = store.all(QuoteDocument)
    assert (first.template_id, text_of(first.content)) == (default.id, "Dear Ola: 2,549.00")
    assert (second.template_id, text_of(second.content)) == (other.id, "For Fjord Logistics AS")
    with pytest.raises(NotFound):
        await wf.generate_quote_document(
            wf.GenerateQuoteDocument(quote_id=s["quote"].id, template_id=999), store.uow(), ENGINE
        )


async def test_characters_that_mean_something_in_xml_are_shown_as_text():
    store = MemoryStore()
    s = sale(store, account_name="Smith & Sons <Nordic>")
    await wf.generate_quote_document(wf.GenerateQuoteDocument(quote_id=s["quote"].id), store.uow(), ENGINE)
    assert "Smith & Sons <Nordic>" in text_of(store.all(QuoteDocument)[0].content)


# --- templates ---


async def test_an_uploaded_template_is_checked_stored_and_can_become_the_default():
    store = MemoryStore()
    first = await wf.upload_document_template(
        wf.UploadDocumentTemplate(
            name="Plain", file_name="plain.docx", content=custom_template("{{ account.name }}"), is_default=True
        ),
        store.uow(),
        ENGINE,
    )
    second = await wf.upload_document_template(
        wf.UploadDocumentTemplate(
            name="Fancy", file_name="fancy.docx", content=ENGINE.default_template(), is_default=True
        ),
        store.uow(),
        ENGINE,
    )
    defaults = [t.id for t in store.all(DocumentTemplate) if t.is_default]
    assert defaults == [second.id] and first.id != second.id
    assert [e.data["change"] for e in store.events] == ["uploaded", "uploaded"]


@pytest.mark.parametrize(
    ("content", "file_name", "field", "words"),
    [
        (b"not a zip at all", "t.docx", "contentBase64", "ZIP"),
        (b"PK\x05\x06" + b"\x00" * 18, "t.docx", "contentBase64", "readable"),
        (custom_template("{{ account.name "), "t.docx", "contentBase64", "parse"),
        (custom_template("{{ customer.name }}"), "t.docx", "contentBase64", "unknown tokens customer"),
        (custom_template("{{ account.nmae }}"), "t.docx", "contentBase64", "nmae"),
        (custom_template("{{ account.__class__.__mro__ }}"), "t.docx", "contentBase64", "cannot be filled in"),
        (custom_template("{{ account.name }}"), "template.pdf", "fileName", ".docx"),
        (b"", "t.docx", "contentBase64", "empty"),
    ],
)
async def test_a_template_that_cannot_be_rendered_is_refused_with_the_reason(content, file_name, field, words):
    store = MemoryStore()
    with pytest.raises(ValidationError) as bad:
        await wf.upload_document_template(
            wf.UploadDocumentTemplate(name="Bad", file_name=file_name, content=content), store.uow(), ENGINE
        )
    assert bad.value.field == field and words in bad.value.reason, bad.value.reason
    assert store.all(DocumentTemplate) == [] and store.events == []


async def test_template_names_are_unique():
    store = MemoryStore()
    put(store, DocumentTemplate(name="Plain", file_name="plain.docx", content=custom_template("x")))
    with pytest.raises(ValidationError) as twice:
        await wf.upload_document_template(
            wf.UploadDocumentTemplate(name="Plain", file_name="p.docx", content=custom_template("y")),
            store.uow(),
            ENGINE,
        )
    assert twice.value.field == "name"


async def test_setting_the_default_moves_it_and_none_goes_back_to_the_built_in_template():
    store = MemoryStore()
    a = put(store, DocumentTemplate(name="A", file_name="a.docx", content=custom_template("a"), is_default=True))
    b = put(store, DocumentTemplate(name="B", file_name="b.docx", content=custom_template("b")))
    await wf.set_default_document_template(wf.SetDefaultDocumentTemplate(id=b.id), store.uow())
    assert [t.name for t in store.all(DocumentTemplate) if t.is_default] == ["B"]
    assert await wf.set_default_document_template(wf.SetDefaultDocumentTemplate(id=None), store.uow()) is None
    assert [t for t in store.all(DocumentTemplate) if t.is_default] == [] and a.id


async def test_a_deleted_template_is_gone_and_a_stale_version_is_refused():
    store = MemoryStore()
    a = put(store, DocumentTemplate(name="A", file_name="a.docx", content=custom_template("a")))
    with pytest.raises(Conflict):
        await wf.delete_document_template(wf.DeleteDocumentTemplate(id=a.id, version=3), store.uow())
    await wf.delete_document_template(wf.DeleteDocumentTemplate(id=a.id, version=1), store.uow())
    assert store.all(DocumentTemplate) == [] and store.events[-1].data == {"change": "deleted", "name": "A"}

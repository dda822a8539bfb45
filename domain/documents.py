"""Quote documents: templates, the documents rendered from them, and the tokens a template can use,
built from plain domain data (no I/O, no template library)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from domain.accounts import Account, Contact
from domain.base import Entity, required
from domain.catalog import Product
from domain.errors import ValidationError
from domain.money import minor_units
from domain.opportunities import Opportunity
from domain.people import User
from domain.quotes import Quote, QuoteItem, quote_total

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MAX_TEMPLATE_BYTES = 5 * 1024 * 1024


@dataclass(kw_only=True)
class DocumentTemplate(Entity):
    """A Word (.docx) template with Jinja tokens such as `{{ account.name }}`; one may be the default."""

    name: str
    file_name: str
    content: bytes
    is_default: bool = False

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        self.file_name = required(self.file_name, "fileName")
        if len(self.name) > 200:
            raise ValidationError("name", "is at most 200 characters long")
        if len(self.file_name) > 300:
            raise ValidationError("fileName", "is at most 300 characters long")
        if not self.file_name.lower().endswith(".docx"):
            raise ValidationError("fileName", "a template is a Word document ending in .docx")
        if not self.content:
            raise ValidationError("contentBase64", "the template is empty")
        if len(self.content) > MAX_TEMPLATE_BYTES:
            raise ValidationError("contentBase64", f"a template is at most {MAX_TEMPLATE_BYTES // (1024 * 1024)} MiB")


@dataclass(kw_only=True)
class QuoteDocument(Entity):
    """A document rendered from a quote, stored with the opportunity."""

    opportunity_id: int
    quote_id: int | None
    file_name: str
    content: bytes
    content_type: str = DOCX
    size: int = 0
    template_id: int | None = None
    created_by_id: int | None = None

    def __post_init__(self) -> None:
        self.file_name = required(self.file_name, "fileName")
        self.size = len(self.content)


def format_amount(amount: Decimal, currency: str) -> str:
    """An amount with thousands separators and the currency's minor units, half-up: 12,345.50."""
    places = minor_units(currency)
    rounded = Decimal(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{rounded:,.{places}f}"


def format_number(value: Decimal) -> str:
    """A quantity or percentage without trailing zeros: 2, 1.5, 12.25."""
    text = f"{Decimal(value):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _date(value: date | None) -> str:
    return value.isoformat() if value else ""


def account_tokens(account: Account) -> dict[str, Any]:
    city_line = " ".join(p for p in (account.postal_code, account.city) if p)
    lines = [line for line in (account.street, city_line, account.country) if line]
    return {
        "name": account.name or "",
        "organization": _text(account.organization),
        "email": _text(account.email),
        "phone": _text(account.phone),
        "street": _text(account.street),
        "postal_code": _text(account.postal_code),
        "city": _text(account.city),
        "postal_city": city_line,
        "country": _text(account.country),
        "registration_no": _text(account.registration_no),
        "vat_no": _text(account.vat_no),
        "address": ", ".join(lines),
        "address_lines": lines,
    }


def contact_tokens(contact: Contact | None) -> dict[str, Any]:
    if contact is None:
        return {"name": "", "first_name": "", "last_name": "", "title": "", "email": "", "phone": ""}
    return {
        "name": f"{contact.first_name} {contact.last_name}",
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "title": _text(contact.title),
        "email": _text(contact.email),
        "phone": _text(contact.phone),
    }


def item_tokens(items: list[QuoteItem], products: dict[int, Product]) -> list[dict[str, Any]]:
    rows = []
    for number, item in enumerate(sorted(items, key=lambda i: (i.position, i.id or 0)), start=1):
        product = products.get(item.product_id) if item.product_id else None
        rows.append(
            {
                "number": number,
                "name": item.name,
                "product_code": product.code if product else "",
                "description": _text(product.description) if product else "",
                "unit": _text(item.unit_name),
                "quantity": format_number(item.quantity),
                "unit_price": format_amount(item.unit_price, item.currency),
                "discount_percent": format_number(item.discount_percent) if item.discount_percent else "",
                "total": format_amount(item.total, item.currency),
                "currency": item.currency,
                "is_rounding": item.is_rounding,
            }
        )
    return rows


def totals_tokens(items: list[QuoteItem], currency: str) -> dict[str, str]:
    """Before discounts, the discounts, the rounding and the total the customer pays (as on the quote)."""
    sold = [i for i in items if not i.is_rounding]
    gross = sum((i.quantity * i.unit_price for i in sold), Decimal(0))
    net = sum((i.total for i in sold), Decimal(0))
    rounding = sum((i.total for i in items if i.is_rounding), Decimal(0))
    total = quote_total(items, currency).amount
    return {
        "subtotal": format_amount(gross, currency),
        "discount": format_amount(gross - net, currency),
        "net": format_amount(net, currency),
        "rounding": format_amount(rounding, currency),
        "total": format_amount(total, currency),
        "total_with_currency": f"{format_amount(total, currency)} {currency}",
        "currency": currency,
    }


def quote_tokens(
    *,
    account: Account,
    contact: Contact | None,
    opportunity: Opportunity,
    quote: Quote,
    items: list[QuoteItem],
    products: dict[int, Product],
    seller: User | None,
    today: date,
) -> dict[str, Any]:
    """Everything a quote template can show. Templates use Jinja syntax, e.g. `{{ account.name }}`,
    `{%tr for item in items %} … {{ item.total }} … {%tr endfor %}`, `{{ totals.total_with_currency }}`."""
    return {
        "account": account_tokens(account),
        "contact": contact_tokens(contact),
        "opportunity": {"name": opportunity.name},
        "quote": {
            "name": quote.name,
            "currency": quote.currency,
            "brand": _text(quote.brand),
            "product_version": _text(quote.product_version),
            "valid_from": _date(quote.valid_from),
            "valid_until": _date(quote.valid_until),
        },
        "seller": {"name": seller.name if seller else "", "email": seller.email if seller else ""},
        "items": item_tokens(items, products),
        "totals": totals_tokens(items, quote.currency),
        "currency": quote.currency,
        "date": today.isoformat(),
    }


def document_file_name(quote: Quote, today: date) -> str:
    """A safe file name from the quote's name and the day: `Quote-Fleet-renewal-2026-06-15.docx`."""
    ascii_name = unicodedata.normalize("NFKD", quote.name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-")[:80] or "quote"
    return f"{slug}-{today.isoformat()}.docx"


def sample_tokens() -> dict[str, Any]:
    """Tokens for a made-up quote, to try a template before it is accepted."""
    account = Account(
        kind="ORGANIZATION",
        name="Sample Customer AS",
        street="Storgata 1",
        postal_code="0155",
        city="Oslo",
        country="NO",
        vat_no="NO999999999MVA",
    )
    contact = Contact(
        first_name="Kari", last_name="Nordmann", contact_type_id=1, account_id=1, email="kari@example.com"
    )
    opportunity = Opportunity(name="Sample deal", account_id=1, owner_id=1)
    quote = Quote(
        id=1,
        opportunity_id=1,
        name="Sample quote",
        currency="EUR",
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 1, 31),
    )
    items = [
        QuoteItem(
            id=1,
            quote_id=1,
            name="Sample product",
            quantity=Decimal(2),
            unit_price=Decimal("100"),
            currency="EUR",
            discount_percent=Decimal(10),
            product_id=1,
            unit_name="piece",
        ),
        QuoteItem(
            id=2,
            quote_id=1,
            name="Rounding",
            quantity=Decimal(1),
            unit_price=Decimal(0),
            currency="EUR",
            position=1,
            is_rounding=True,
        ),
    ]
    product = Product(id=1, name="Sample product", code="SAMPLE-1", category="OTHER")
    seller = User(name="Sam Seller", email="sam@example.com", role="SALES_REP")
    return quote_tokens(
        account=account,
        contact=contact,
        opportunity=opportunity,
        quote=quote,
        items=items,
        products={1: product},
        seller=seller,
        today=date(2026, 1, 1),
    )


TOKEN_NAMES = frozenset(sample_tokens())

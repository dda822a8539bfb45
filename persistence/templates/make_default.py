"""Writes the built-in quote template, quote.docx, next to this file. Run it again after changing it:

    .venv/bin/python -m persistence.templates.make_default

The template uses docxtpl's Jinja tokens (see domain/documents.py, quote_tokens); `{%tr … %}` rows
repeat a table row per item."""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

TARGET = Path(__file__).with_name("quote.docx")
COLUMNS = [
    ("#", "{{ item.number }}"),
    ("Item", "{{ item.name }}"),
    ("Code", "{{ item.product_code }}"),
    ("Unit", "{{ item.unit }}"),
    ("Quantity", "{{ item.quantity }}"),
    ("Unit price", "{{ item.unit_price }}"),
    ("Discount %", "{{ item.discount_percent }}"),
    ("Total", "{{ item.total }}"),
]


def build() -> Document:
    document = Document()
    document.core_properties.title = "Quote"
    document.core_properties.author = "Salesgraph"
    document.add_heading("Quote {{ quote.name }}", level=1)
    document.add_paragraph("Date: {{ date }}    Valid from {{ quote.valid_from }} until {{ quote.valid_until }}")

    document.add_heading("Customer", level=2)
    document.add_paragraph("{{ account.name }}")
    document.add_paragraph(
        "{% for line in account.address_lines %}{{ line }}{% if not loop.last %}, {% endif %}{% endfor %}"
    )
    document.add_paragraph("VAT no. {{ account.vat_no }}")
    document.add_paragraph("Attn. {{ contact.name }} {{ contact.email }}")

    document.add_heading("Offer: {{ opportunity.name }}", level=2)
    table = document.add_table(rows=4, cols=len(COLUMNS))
    table.style = "Table Grid"
    for cell, (title, _) in zip(table.rows[0].cells, COLUMNS):
        cell.text = title
        for run in cell.paragraphs[0].runs:
            run.bold = True
    table.rows[1].cells[0].text = "{%tr for item in items %}"
    for cell, (_, token) in zip(table.rows[2].cells, COLUMNS):
        cell.text = token
    table.rows[3].cells[0].text = "{%tr endfor %}"

    for label, token in [
        ("Subtotal", "{{ totals.subtotal }}"),
        ("Discount", "{{ totals.discount }}"),
        ("Rounding", "{{ totals.rounding }}"),
        ("Total ({{ currency }})", "{{ totals.total }}"),
    ]:
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        run = paragraph.add_run(f"{label}: {token}")
        run.bold = label.startswith("Total")
        run.font.size = Pt(12 if run.bold else 10)

    document.add_paragraph("All prices in {{ currency }}.")
    document.add_paragraph("{{ seller.name }} {{ seller.email }}")
    return document


def main() -> None:
    build().save(TARGET)
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()

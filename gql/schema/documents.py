from __future__ import annotations

from datetime import datetime

import strawberry

from gql import ids
from gql.schema.base import Node, needs
from gql.schema.fields import to_one
from persistence import tables


def download_url(pk: int) -> str:
    return f"/documents/{ids.encode('QuoteDocument', pk)}"


@strawberry.type(
    description="A document generated from a quote, stored with its opportunity. Download it with "
    "`GET <downloadUrl>` and the same `Authorization: Bearer` header as for /graphql."
)
class QuoteDocument(Node):
    graphql_type = "QuoteDocument"
    file_name: str = strawberry.field(description="The file's name, e.g. Fleet-renewal-2026-06-15.docx.")
    content_type: str = strawberry.field(description="The file's media type (a Word document).")
    size: int = strawberry.field(description="The file's size in bytes.")
    created_at: datetime = strawberry.field(description="When it was generated.")
    opportunity = to_one(
        "gql.schema.opportunities:Opportunity",
        tables.opportunities,
        "opportunity_id",
        "The opportunity it is stored with.",
    )
    quote = to_one(
        "gql.schema.quotes:Quote",
        tables.quotes,
        "quote_id",
        "The quote it was generated from (null once that quote is deleted).",
    )
    template = to_one(
        "gql.schema.documents:DocumentTemplate",
        tables.document_templates,
        "template_id",
        "The template used (null for the built-in template, or once the template is deleted).",
    )
    created_by = to_one("gql.schema.people:User", tables.users, "created_by_id", "Who generated it.")

    @strawberry.field(description="Where to download the file: a path on this server, e.g. /documents/<id>.")
    @needs("id")
    def download_url(self) -> str:
        return download_url(self.pk)


@strawberry.type(
    description="A Word (.docx) template for quote documents, with Jinja tokens such as "
    "`{{ account.name }}`, `{%tr for item in items %}` … `{{ item.total }}` … "
    "`{%tr endfor %}` and `{{ totals.total_with_currency }}`."
)
class DocumentTemplate(Node):
    graphql_type = "DocumentTemplate"
    name: str = strawberry.field(description="The template's name (unique).")
    file_name: str = strawberry.field(description="The name of the uploaded file.")
    is_default: bool = strawberry.field(description="True for the template used when none is chosen.")
    created_at: datetime = strawberry.field(description="When it was uploaded.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    version: int = strawberry.field(description="Increases with every change; send it back to change it safely.")

    @strawberry.field(description="The template file's size in bytes.")
    @needs("content")
    def size(self) -> int:
        return len(self.__dict__["content"])

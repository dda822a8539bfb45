"""Mutations of quote documents: generate one from a quote, and manage the Word templates."""

from __future__ import annotations

import base64
import binascii

import strawberry

from domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from domain.workflows import documents as wf
from gql.resolvers.mutation import Deleted, gid, mutation
from gql.schema import documents
from gql.schema.documents import DocumentTemplate, QuoteDocument
from gql.schema.inputs import described, optional
from persistence.documents import DocxTemplateEngine

VERSION = "The version you read; the change fails with a ConflictError if the object moved on since."


@strawberry.type(description="The generated document.")
class QuoteDocumentPayload:
    document: QuoteDocument = described("The document, stored with the quote's opportunity.")

    @described("Where to download it (GET, with your Bearer token).")
    def download_url(self) -> str:
        return documents.download_url(self.document.pk)


@strawberry.type(description="The template as it is after the change.")
class DocumentTemplatePayload:
    template: DocumentTemplate = described("The template.")


@strawberry.type(description="Which template is now the default.")
class DefaultDocumentTemplatePayload:
    template: DocumentTemplate | None = described("The default template; null when the built-in template is used.")


@strawberry.input(description="Generate a Word document from a quote.")
class GenerateQuoteDocumentInput:
    quote_id: strawberry.ID = gid("Quote", description="The quote (it needs at least one item).")
    template_id: strawberry.ID | None = gid(
        "DocumentTemplate",
        default=None,
        description="The template (default: the default template, else the built-in one).",
    )
    contact_id: strawberry.ID | None = gid(
        "Contact",
        default=None,
        description="The contact to address (default: the first business role's contact, else the "
        "account's first contact).",
    )


@strawberry.input(description="A new Word template for quote documents (admins only once access rules land).")
class UploadDocumentTemplateInput:
    name: str = described("The template's name (unique).")
    file_name: str = described("The file's name, ending in .docx.")
    content_base64: str = described(
        "The .docx file, base64-encoded. It is checked: it must open, "
        "its tokens must parse and be known, and it must render."
    )
    is_default: bool = strawberry.field(default=False, description="True to use it when no template is chosen.")


@strawberry.input(description="Choose the template used when none is named.")
class SetDefaultDocumentTemplateInput:
    id: strawberry.ID | None = gid("DocumentTemplate", description="The template, or null for the built-in template.")


@strawberry.input(description="Identifies a template to delete, with the version you read.")
class DeleteDocumentTemplateInput:
    id: strawberry.ID = gid("DocumentTemplate", description="The template.")
    version: int | None = optional(VERSION)


def _decoded(text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("contentBase64", "is not valid base64") from None


@strawberry.type
class DocumentMutations:
    @mutation(
        wf.generate_quote_document,
        GenerateQuoteDocumentInput,
        QuoteDocumentPayload,
        ports=lambda context: (DocxTemplateEngine(),),
        errors=(NotFound, Conflict),
    )
    def generate_quote_document(self) -> None:
        """Render a quote into a Word template (tokens: account name and address, contact, quote name and dates, each
        item, totals, currency) and store the document with the opportunity; download it from `downloadUrl`."""

    @mutation(
        wf.upload_document_template,
        UploadDocumentTemplateInput,
        DocumentTemplatePayload,
        rename={"content_base64": "content"},
        convert={"content_base64": _decoded},
        ports=lambda context: (DocxTemplateEngine(),),
        errors=(NotFound, Conflict, PermissionDenied),
    )
    def upload_document_template(self) -> None:
        """Upload a Word (.docx) template for quote documents; it is checked before it is stored."""

    @mutation(
        wf.set_default_document_template,
        SetDefaultDocumentTemplateInput,
        DefaultDocumentTemplatePayload,
        errors=(NotFound, Conflict, PermissionDenied),
    )
    def set_default_document_template(self) -> None:
        """Make a template the default for quote documents (null: the built-in one)."""

    @mutation(
        wf.delete_document_template,
        DeleteDocumentTemplateInput,
        Deleted("DocumentTemplate"),
        errors=(NotFound, Conflict, PermissionDenied),
    )
    def delete_document_template(self) -> None:
        """Delete a template; documents made from it are kept."""

"""Mutations of quote documents: generate one from a quote, and manage the Word templates."""

from __future__ import annotations

import base64
import binascii

import strawberry

from domain.errors import ValidationError
from domain.workflows import documents as wf
from gql.resolvers.mutation import Deleted, mutation, payload_type
from gql.schema import documents
from gql.schema.documents import DocumentTemplate, QuoteDocument
from gql.schema.inputs import described, gid, optional, ref
from gql.schema.mutations.common import RESTRICTED, WRITE
from persistence.documents import DocxTemplateEngine


@strawberry.type(description="The generated document.")
class QuoteDocumentPayload:
    document: QuoteDocument = described("The document, stored with the quote's opportunity.")

    @described("Where to download it (GET, with your Bearer token).")
    def download_url(self) -> str:
        return documents.download_url(self.document.pk)


DocumentTemplatePayload = payload_type(
    "The template as it is after the change.", template=(DocumentTemplate, "The template.")
)
DefaultDocumentTemplatePayload = payload_type(
    "Which template is now the default.",
    template=(DocumentTemplate | None, "The default template; null when the built-in template is used."),
)


@strawberry.input(description="Generate a Word document from a quote.")
class GenerateQuoteDocumentInput:
    quote_id: strawberry.ID = gid("Quote", "The quote (it needs at least one item).")
    template_id: strawberry.ID | None = gid(
        "DocumentTemplate", "The template (default: the default template, else the built-in one).", None
    )
    contact_id: strawberry.ID | None = gid(
        "Contact",
        "The contact to address (default: the first business role's contact, else the account's first contact).",
        None,
    )


@strawberry.input(description="A new Word template for quote documents (admins only once access rules land).")
class UploadDocumentTemplateInput:
    name: str = described("The template's name (unique).")
    file_name: str = described("The file's name, ending in .docx.")
    content_base64: str = described(
        "The .docx file, base64-encoded. It is checked: it must open, "
        "its tokens must parse and be known, and it must render."
    )
    is_default: bool = optional("True to use it when no template is chosen.", False)


@strawberry.input(description="Choose the template used when none is named.")
class SetDefaultDocumentTemplateInput:
    id: strawberry.ID | None = gid("DocumentTemplate", "The template, or null for the built-in template.")


def _decoded(text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("contentBase64", "is not valid base64") from None


DeleteDocumentTemplateInput = ref(
    "DocumentTemplate", "Identifies a template to delete, with the version you read.", what="The template."
)
generate_quote_document = mutation(
    wf, GenerateQuoteDocumentInput, QuoteDocumentPayload, WRITE, ports=lambda context: (DocxTemplateEngine(),)
)
upload_document_template = mutation(
    wf,
    UploadDocumentTemplateInput,
    DocumentTemplatePayload,
    RESTRICTED,
    rename={"content_base64": "content"},
    convert={"content_base64": _decoded},
    ports=lambda context: (DocxTemplateEngine(),),
)
set_default_document_template = mutation(
    wf, SetDefaultDocumentTemplateInput, DefaultDocumentTemplatePayload, RESTRICTED
)
delete_document_template = mutation(wf, DeleteDocumentTemplateInput, Deleted("DocumentTemplate"), RESTRICTED)

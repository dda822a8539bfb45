"""Mutations of quote documents: generate one from a quote, and manage the Word templates."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain import errors as d
from domain.workflows import documents as wf
from gql import ids
from gql.resolvers.mutate import node, opt_pk, pk, run
from gql.schema.documents import DocumentTemplate, QuoteDocument, download_url
from gql.schema.errors import UserError, result
from gql.schema.mutations.common import DeletedPayload
from persistence import tables as t
from persistence.documents import DocxTemplateEngine

VERSION = "The version you read; the change fails with a ConflictError if the object moved on since."
INPUT = "What to do; see the input type."


@strawberry.type(description="The generated document.")
class QuoteDocumentPayload:
    document: QuoteDocument = strawberry.field(description="The document, stored with the quote's opportunity.")
    download_url: str = strawberry.field(description="Where to download it (GET, with your Bearer token).")


@strawberry.type(description="The template as it is after the change.")
class DocumentTemplatePayload:
    template: DocumentTemplate = strawberry.field(description="The template.")


@strawberry.type(description="Which template is now the default.")
class DefaultDocumentTemplatePayload:
    template: DocumentTemplate | None = strawberry.field(
        description="The default template; null when the built-in template is used."
    )


@strawberry.input(description="Generate a Word document from a quote.")
class GenerateQuoteDocumentInput:
    quote_id: strawberry.ID = strawberry.field(description="The quote (it needs at least one item).")
    template_id: strawberry.ID | None = strawberry.field(
        default=None, description="The template (default: the default template, else the built-in one)."
    )
    contact_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The contact to address (default: the first business role's contact, else the "
        "account's first contact).",
    )


@strawberry.input(description="A new Word template for quote documents (admins only once access rules land).")
class UploadDocumentTemplateInput:
    name: str = strawberry.field(description="The template's name (unique).")
    file_name: str = strawberry.field(description="The file's name, ending in .docx.")
    content_base64: str = strawberry.field(
        description="The .docx file, base64-encoded. It is checked: it must open, "
        "its tokens must parse and be known, and it must render."
    )
    is_default: bool = strawberry.field(default=False, description="True to use it when no template is chosen.")


@strawberry.input(description="Choose the template used when none is named.")
class SetDefaultDocumentTemplateInput:
    id: strawberry.ID | None = strawberry.field(description="The template, or null for the built-in template.")


@strawberry.input(description="Identifies a template to delete, with the version you read.")
class DeleteDocumentTemplateInput:
    id: strawberry.ID = strawberry.field(description="The template.")
    version: int | None = strawberry.field(default=None, description=VERSION)


GenerateQuoteDocumentResult = result("GenerateQuoteDocumentResult", QuoteDocumentPayload)
UploadDocumentTemplateResult = result("UploadDocumentTemplateResult", DocumentTemplatePayload)
SetDefaultDocumentTemplateResult = result("SetDefaultDocumentTemplateResult", DefaultDocumentTemplatePayload)
DeleteDocumentTemplateResult = result("DeleteDocumentTemplateResult", DeletedPayload)


def _decoded(text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise d.ValidationError("contentBase64", "is not valid base64") from None


async def _template(info: Info, outcome):  # noqa: ANN001, ANN202
    if isinstance(outcome, UserError):
        return outcome
    return DocumentTemplatePayload(template=await node(info, DocumentTemplate, t.document_templates, outcome.id))


@strawberry.type
class DocumentMutations:
    @strawberry.mutation(
        description="Render a quote into a Word template (tokens: account name and address, "
        "contact, quote name and dates, each item, totals, currency) and store the "
        "document with the opportunity; download it from `downloadUrl`."
    )
    async def generate_quote_document(
        self,
        info: Info,
        input: Annotated[GenerateQuoteDocumentInput, strawberry.argument(description=INPUT)],
    ) -> GenerateQuoteDocumentResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.generate_quote_document(
                wf.GenerateQuoteDocument(
                    quote_id=pk(input.quote_id, "Quote", "quoteId"),
                    template_id=opt_pk(input.template_id, "DocumentTemplate", "templateId"),
                    contact_id=opt_pk(input.contact_id, "Contact", "contactId"),
                ),
                uow,
                DocxTemplateEngine(),
            )

        outcome = await run(info, work)
        if isinstance(outcome, UserError):
            return outcome
        return QuoteDocumentPayload(
            document=await node(info, QuoteDocument, t.quote_documents, outcome.id),
            download_url=download_url(outcome.id),
        )

    @strawberry.mutation(
        description="Upload a Word (.docx) template for quote documents; it is checked before it is stored."
    )
    async def upload_document_template(
        self,
        info: Info,
        input: Annotated[UploadDocumentTemplateInput, strawberry.argument(description=INPUT)],
    ) -> UploadDocumentTemplateResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.upload_document_template(
                wf.UploadDocumentTemplate(
                    name=input.name,
                    file_name=input.file_name,
                    content=_decoded(input.content_base64),
                    is_default=input.is_default,
                ),
                uow,
                DocxTemplateEngine(),
            )

        return await _template(info, await run(info, work))

    @strawberry.mutation(description="Make a template the default for quote documents (null: the built-in one).")
    async def set_default_document_template(
        self,
        info: Info,
        input: Annotated[SetDefaultDocumentTemplateInput, strawberry.argument(description=INPUT)],
    ) -> SetDefaultDocumentTemplateResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.set_default_document_template(
                wf.SetDefaultDocumentTemplate(id=opt_pk(input.id, "DocumentTemplate", "id")), uow
            )

        outcome = await run(info, work)
        if isinstance(outcome, UserError):
            return outcome
        return DefaultDocumentTemplatePayload(
            template=await node(info, DocumentTemplate, t.document_templates, outcome.id if outcome else None)
        )

    @strawberry.mutation(description="Delete a template; documents made from it are kept.")
    async def delete_document_template(
        self,
        info: Info,
        input: Annotated[DeleteDocumentTemplateInput, strawberry.argument(description=INPUT)],
    ) -> DeleteDocumentTemplateResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.delete_document_template(
                wf.DeleteDocumentTemplate(id=pk(input.id, "DocumentTemplate", "id"), version=input.version), uow
            )

        outcome = await run(info, work)
        if isinstance(outcome, UserError):
            return outcome
        return DeletedPayload(deleted_id=strawberry.ID(ids.encode("DocumentTemplate", outcome)))

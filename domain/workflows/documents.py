"""Quote-document workflows: generate a document from a quote and a template, and manage templates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from domain.accounts import Account, Contact
from domain.catalog import Product
from domain.commands import apply, expect_version
from domain.documents import DocumentTemplate, QuoteDocument, document_file_name, quote_tokens
from domain.errors import NotFound, PermissionDenied, ValidationError, raises
from domain.events import DomainEvent, OpportunityEvent
from domain.opportunities import BusinessRole, Opportunity
from domain.people import User
from domain.quotes import Quote, QuoteItem
from domain.uow import UnitOfWork


@dataclass(frozen=True, kw_only=True)
class QuoteDocumentGenerated(OpportunityEvent):
    """A document was generated from a quote of the opportunity (data: quoteId, documentId, templateId)."""


@dataclass(frozen=True, kw_only=True)
class DocumentTemplateEvent(DomainEvent):
    entity_type: ClassVar[str] = "DocumentTemplate"


@dataclass(frozen=True, kw_only=True)
class DocumentTemplateChanged(DocumentTemplateEvent):
    """A template was uploaded, made the default or deleted (data: change, name)."""


class TemplateEngine(Protocol):
    """Renders Word templates (implemented with docxtpl in persistence/documents.py)."""

    def default_template(self) -> bytes:
        """The template shipped with the product, used when none is chosen or made the default."""

    @raises(ValidationError)
    async def check(self, content: bytes) -> None:
        """Raise ValidationError('contentBase64', …) unless `content` is a template the engine can render."""

    @raises(ValidationError)
    async def render(self, template: bytes, tokens: dict[str, Any]) -> bytes:
        """The document; ValidationError('templateId', …) when the template cannot be rendered."""


@dataclass(kw_only=True)
class GenerateQuoteDocument:
    quote_id: int
    template_id: int | None = None
    contact_id: int | None = None


async def _contact_for(uow: UnitOfWork, opportunity: Opportunity, contact_id: int | None) -> Contact | None:
    """The named contact (of the account), else the first business role's contact the caller may see,
    else the account's first."""
    if contact_id is not None:
        contact = await uow.get(Contact, contact_id)
        if contact.account_id != opportunity.account_id:
            raise ValidationError("contactId", "the contact does not belong to the opportunity's account")
        return contact
    for role in await uow.find(BusinessRole, opportunity_id=opportunity.id):
        try:
            contact = await uow.get(Contact, role.contact_id)
        except NotFound:
            continue  # a contact the caller may not see is left out of what the document shows it
        if contact.account_id == opportunity.account_id:
            return contact
    contacts = await uow.find(Contact, account_id=opportunity.account_id)
    return contacts[0] if contacts else None


async def _template_for(uow: UnitOfWork, engine: TemplateEngine, template_id: int | None) -> tuple[int | None, bytes]:
    if template_id is not None:
        template = await uow.get(DocumentTemplate, template_id)
        return template.id, template.content
    defaults = await uow.find(DocumentTemplate, is_default=True)
    if defaults:
        return defaults[0].id, defaults[0].content
    return None, engine.default_template()


async def generate_quote_document(cmd: GenerateQuoteDocument, uow: UnitOfWork, engine: TemplateEngine) -> QuoteDocument:
    """Render a quote into a Word template (tokens: account name and address, contact, quote name and dates, each item,
    totals, currency) and store the document with the opportunity; download it from `downloadUrl`."""
    quote = await uow.get(Quote, cmd.quote_id)
    opportunity = await uow.get(Opportunity, quote.opportunity_id)
    account = await uow.get(Account, opportunity.account_id)
    items = await uow.find(QuoteItem, order_by="position", quote_id=quote.id)
    if not items:
        raise ValidationError("quoteId", "the quote has no items; add some before generating its document")
    contact = await _contact_for(uow, opportunity, cmd.contact_id)
    template_id, template = await _template_for(uow, engine, cmd.template_id)
    products = {}
    for product_id in sorted({i.product_id for i in items if i.product_id}):
        products[product_id] = await uow.get(Product, product_id)
    try:
        seller = await uow.get(User, opportunity.owner_id)
    except NotFound:
        seller = None
    today = uow.now.date()
    tokens = quote_tokens(
        account=account,
        contact=contact,
        opportunity=opportunity,
        quote=quote,
        items=items,
        products=products,
        seller=seller,
        today=today,
    )
    content = await engine.render(template, tokens)
    document = await uow.add(
        QuoteDocument(
            opportunity_id=opportunity.id,
            quote_id=quote.id,
            template_id=template_id,
            file_name=document_file_name(quote, today),
            content=content,
            created_by_id=uow.actor.user_id,
        )
    )
    uow.record(
        QuoteDocumentGenerated(
            entity_id=opportunity.id,
            data={
                "quoteId": quote.id,
                "documentId": document.id,
                "templateId": template_id,
                "fileName": document.file_name,
                "size": document.size,
            },
        )
    )
    await uow.commit()
    return document


@dataclass(kw_only=True)
class UploadDocumentTemplate:
    name: str
    file_name: str
    content: bytes
    is_default: bool = False


async def _unset_defaults(uow: UnitOfWork, keep: int | None) -> None:
    for other in await uow.find(DocumentTemplate, is_default=True):
        if other.id != keep:
            await uow.update(apply(other, {"is_default": False}))


def _staff_only(uow: UnitOfWork) -> None:
    """Templates are the company's own: partners use them (through the default) but do not manage them."""
    if uow.actor.partner_id is not None:
        raise PermissionDenied("partners cannot manage document templates; ask your contact at the company")


async def upload_document_template(
    cmd: UploadDocumentTemplate, uow: UnitOfWork, engine: TemplateEngine
) -> DocumentTemplate:
    """Upload a Word (.docx) template for quote documents; it is checked before it is stored."""
    _staff_only(uow)
    template = DocumentTemplate(name=cmd.name, file_name=cmd.file_name, content=cmd.content, is_default=cmd.is_default)
    if await uow.find(DocumentTemplate, name=template.name):
        raise ValidationError("name", f"a template named {template.name!r} exists; choose another name")
    await engine.check(template.content)
    if template.is_default:
        await _unset_defaults(uow, None)
    template = await uow.add(template)
    uow.record(
        DocumentTemplateChanged(
            entity_id=template.id,
            data={
                "change": "uploaded",
                "name": template.name,
                "isDefault": template.is_default,
                "size": len(template.content),
            },
        )
    )
    await uow.commit()
    return template


@dataclass(kw_only=True)
class SetDefaultDocumentTemplate:
    id: int | None


async def set_default_document_template(cmd: SetDefaultDocumentTemplate, uow: UnitOfWork) -> DocumentTemplate | None:
    """Make a template the default for quote documents (null: the built-in one)."""
    _staff_only(uow)
    template = await uow.get(DocumentTemplate, cmd.id) if cmd.id is not None else None
    await _unset_defaults(uow, template.id if template else None)
    if template is not None and not template.is_default:
        template = await uow.update(apply(template, {"is_default": True}))
    uow.record(
        DocumentTemplateChanged(
            entity_id=template.id if template else 0,
            data={"change": "default", "name": template.name if template else None},
        )
    )
    await uow.commit()
    return template


@dataclass(kw_only=True)
class DeleteDocumentTemplate:
    id: int
    version: int | None = None


async def delete_document_template(cmd: DeleteDocumentTemplate, uow: UnitOfWork) -> int:
    """Delete a template; documents made from it keep their content (and lose the link)."""
    _staff_only(uow)
    template = await uow.get(DocumentTemplate, cmd.id)
    expect_version(template, cmd.version)
    await uow.delete(template)
    uow.record(DocumentTemplateChanged(entity_id=template.id, data={"change": "deleted", "name": template.name}))
    await uow.commit()
    return template.id

"""Attachment workflows: upload a file onto an account, an opportunity or a price book (or a new version of an
attachment), and delete an attachment with all its versions. Whoever may see the row may attach files to it;
a price book's files are the catalogue's, changed by admins only. Each records an event (uploaded, a new
version, deleted) that whoever may see the row is told of."""

from __future__ import annotations

from dataclasses import dataclass

from domain.accounts import Account
from domain.attachments import Attachment, AttachmentVersion, check_file
from domain.catalog import PriceBook
from domain.errors import PermissionDenied
from domain.events import AttachmentDeleted, AttachmentEvent, AttachmentUploaded, AttachmentVersionAdded
from domain.opportunities import Opportunity
from domain.uow import UnitOfWork

ATTACHABLE: dict[str, tuple[type, str]] = {
    "Account": (Account, "account_id"),
    "Opportunity": (Opportunity, "opportunity_id"),
    "PriceBook": (PriceBook, "price_book_id"),
}


@dataclass(kw_only=True)
class UploadAttachment:
    """A file for a new attachment on `on_kind`/`on_id`, or a new version of `attachment_id` (one of the two)."""

    file_name: str
    content_type: str
    content: bytes
    on_kind: str | None = None
    on_id: int | None = None
    attachment_id: int | None = None


@dataclass(kw_only=True)
class DeleteAttachment:
    id: int


ON_KEYS = {"account_id": "accountId", "opportunity_id": "opportunityId", "price_book_id": "priceBookId"}


def _record(
    uow: UnitOfWork, event: type[AttachmentEvent], attachment: Attachment, version: AttachmentVersion | None = None
) -> None:
    data: dict = {"name": attachment.name, "version": attachment.latest_version}
    data.update({key: getattr(attachment, column) for column, key in ON_KEYS.items() if getattr(attachment, column)})
    if version is not None:
        data.update(fileName=version.file_name, contentType=version.content_type, size=len(version.content))
    uow.record(event(entity_id=attachment.id, data=data))


def _ensure_may_change(uow: UnitOfWork, attachment: Attachment) -> None:
    if attachment.price_book_id is not None and not uow.actor.is_admin:
        raise PermissionDenied("only admins change a price book's files, as the rest of the catalogue")


async def upload_attachment(cmd: UploadAttachment, uow: UnitOfWork) -> AttachmentVersion:
    """Store an uploaded file: a new attachment on the row, or the next version of an attachment (its older
    versions stay downloadable). The row must be one the caller may see."""
    file_name, _ = check_file(cmd.file_name, cmd.content_type, len(cmd.content))  # a bad file reads nothing
    actor = uow.actor
    if cmd.attachment_id is not None:
        await uow.lock(Attachment, cmd.attachment_id)  # two uploads at once get versions n and n + 1
        attachment = await uow.get(Attachment, cmd.attachment_id)
        _ensure_may_change(uow, attachment)
        attachment.latest_version += 1
        attachment = await uow.update(attachment)
    else:
        kind, column = ATTACHABLE[cmd.on_kind or ""]
        row = await uow.get(kind, cmd.on_id or 0)
        attachment = Attachment(
            name=file_name,
            latest_version=1,
            created_by_user_id=actor.user_id,
            created_by_partner_id=actor.partner_id,
            **{column: row.id},
        )
        _ensure_may_change(uow, attachment)
        attachment = await uow.add(attachment)
    version = await uow.add(
        AttachmentVersion(
            attachment_id=attachment.id,
            number=attachment.latest_version,
            file_name=cmd.file_name,
            content_type=cmd.content_type,
            content=cmd.content,
            created_by_user_id=actor.user_id,
            created_by_partner_id=actor.partner_id,
        )
    )
    _record(uow, AttachmentUploaded if version.number == 1 else AttachmentVersionAdded, attachment, version)
    await uow.commit()
    return version


async def delete_attachment(cmd: DeleteAttachment, uow: UnitOfWork) -> int:
    """Delete an attachment and every version of it. Admins only for a price book's files."""
    attachment = await uow.get(Attachment, cmd.id)
    _ensure_may_change(uow, attachment)
    await uow.delete(attachment)  # its versions go with it (ON DELETE CASCADE), unread
    _record(uow, AttachmentDeleted, attachment)
    await uow.commit()
    return cmd.id
